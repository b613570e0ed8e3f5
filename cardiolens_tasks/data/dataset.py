"""The CardioLens dataset format: reader and writer (see README, "Dataset format").

A dataset is a folder with ``cardiolens.json`` (the card), ``studies.jsonl``, ``items.jsonl``
and NIfTI volumes referenced by relative paths. :func:`read_dataset` is strict and stops at
the first problem (tasks use it after ``cardiolens validate`` or on trusted data);
:mod:`cardiolens.data.validate` reports every problem in one pass.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cardiolens.data.atomic import atomic_file, staged_folder, write_text_atomic
from cardiolens.errors import DatasetError

FORMAT_VERSION = 1
CARD_FILE = "cardiolens.json"
STUDIES_FILE = "studies.jsonl"
ITEMS_FILE = "items.jsonl"
SLICE_ORDERS = ("base_to_apex", "apex_to_base")
PACKINGS = ("slice-major", "frame-major")
CARD_FIELDS = (
    "format_version", "name", "description", "taxonomy_version", "license", "source",
    "canary", "created_by",
)


@dataclass(frozen=True)
class SeriesInfo:
    """One series of a study: where its volume is and how Z is packed."""

    path: str
    slices: int
    frames: int
    slice_order: str = "base_to_apex"
    packing: str = "slice-major"
    ed_frame: int | None = None
    es_frame: int | None = None
    orientation: dict[str, Any] | None = None
    """How an importer reached the canonical frame (docs/geometry.md): evidence, transform,
    confidence, notes; the phantom writes the record of an already-canonical series. Absent
    in older datasets."""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "slices": self.slices, "frames": self.frames}
        if self.slice_order != "base_to_apex":
            out["slice_order"] = self.slice_order
        if self.packing != "slice-major":
            out["packing"] = self.packing
        if self.ed_frame is not None:
            out["ed_frame"] = self.ed_frame
        if self.es_frame is not None:
            out["es_frame"] = self.es_frame
        if self.orientation is not None:
            out["orientation"] = self.orientation
        return out


@dataclass(frozen=True)
class Study:
    study_id: str
    series: dict[str, SeriesInfo]
    meta: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "study_id": self.study_id,
            "series": {k: v.to_json() for k, v in self.series.items()},
            "meta": self.meta,
        }


@dataclass(frozen=True)
class Item:
    """One QA item. ``answer`` holds option texts (a list for multi-label subtasks)."""

    item_id: str
    study_id: str
    level: str
    subtask: str
    answer: str | list[str] | None = None
    reference: str | None = None
    question: str | None = None
    options: list[str] | None = None
    findings: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "item_id": self.item_id, "study_id": self.study_id, "level": self.level,
            "subtask": self.subtask,
        }
        for key in ("answer", "reference", "question", "options", "findings"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        out.update(self.extra)
        return out


@dataclass(frozen=True)
class DatasetCard:
    name: str
    description: str
    taxonomy_version: str
    license: str
    source: str
    canary: str
    created_by: str
    format_version: int = FORMAT_VERSION

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in CARD_FIELDS}


@dataclass(frozen=True)
class Dataset:
    root: Path
    card: DatasetCard
    studies: dict[str, Study]
    items: list[Item]


# ---------------------------------------------------------------------------- parsing


def series_from_json(raw: Any) -> SeriesInfo:
    """Parse one ``series`` entry; raises ValueError with a short reason."""
    if not isinstance(raw, dict):
        raise ValueError("series entry is not an object")
    path = raw.get("path")
    if not isinstance(path, str) or not path:
        raise ValueError("series has no 'path'")
    slices, frames = raw.get("slices"), raw.get("frames")
    for name, value in (("slices", slices), ("frames", frames)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"'{name}' must be a positive integer")
    assert isinstance(slices, int) and isinstance(frames, int)
    slice_order = raw.get("slice_order", "base_to_apex")
    if slice_order not in SLICE_ORDERS:
        raise ValueError(f"slice_order {slice_order!r} is not one of {SLICE_ORDERS}")
    packing = raw.get("packing", "slice-major")
    if packing not in PACKINGS:
        raise ValueError(f"packing {packing!r} is not one of {PACKINGS}")
    phases: dict[str, int | None] = {}
    for name in ("ed_frame", "es_frame"):
        value = raw.get(name)
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < frames
        ):
            raise ValueError(f"'{name}' must be a frame index in [0, {frames})")
        phases[name] = value
    orientation = raw.get("orientation")
    if orientation is not None and not isinstance(orientation, dict):
        raise ValueError("'orientation' must be an object")
    return SeriesInfo(path, slices, frames, slice_order, packing,
                      phases["ed_frame"], phases["es_frame"], orientation)


def study_from_json(raw: Any) -> Study:
    if not isinstance(raw, dict):
        raise ValueError("line is not a JSON object")
    study_id = raw.get("study_id")
    if not isinstance(study_id, str) or not study_id:
        raise ValueError("missing 'study_id'")
    series_raw = raw.get("series")
    if not isinstance(series_raw, dict):
        raise ValueError("missing 'series' object")
    series = {}
    for key, entry in series_raw.items():
        try:
            series[key] = series_from_json(entry)
        except ValueError as exc:
            raise ValueError(f"series {key!r}: {exc}") from None
    meta = raw.get("meta", {})
    if not isinstance(meta, dict):
        raise ValueError("'meta' must be an object")
    return Study(study_id, series, meta)


_ITEM_KEYS = ("item_id", "study_id", "level", "subtask", "answer", "reference", "question",
              "options", "findings")


def item_from_json(raw: Any) -> Item:
    if not isinstance(raw, dict):
        raise ValueError("line is not a JSON object")
    for key in ("item_id", "study_id", "level", "subtask"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise ValueError(f"missing '{key}'")
    answer = raw.get("answer")
    if answer is not None and not (
        isinstance(answer, str) or (isinstance(answer, list) and all(isinstance(a, str)
                                                                      for a in answer))
    ):
        raise ValueError("'answer' must be a string or a list of strings")
    options = raw.get("options")
    if options is not None and not (
        isinstance(options, list) and all(isinstance(o, str) for o in options)
    ):
        raise ValueError("'options' must be a list of strings")
    for key in ("reference", "question"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise ValueError(f"'{key}' must be a string")
    findings = raw.get("findings")
    if findings is not None and not isinstance(findings, dict):
        raise ValueError("'findings' must be an object")
    extra = {k: v for k, v in raw.items() if k not in _ITEM_KEYS}
    return Item(raw["item_id"], raw["study_id"], raw["level"], raw["subtask"], answer,
                raw.get("reference"), raw.get("question"), options, findings, extra)


def card_from_json(raw: Any) -> DatasetCard:
    if not isinstance(raw, dict):
        raise ValueError("card is not a JSON object")
    missing = [k for k in CARD_FIELDS if k not in raw]
    if missing:
        raise ValueError(f"missing fields {missing}")
    if raw["format_version"] != FORMAT_VERSION:
        raise ValueError(f"format_version {raw['format_version']!r} is not {FORMAT_VERSION}")
    return DatasetCard(**{k: raw[k] for k in CARD_FIELDS})


UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def text_lines(path: Path) -> Iterator[tuple[int, str | ValueError]]:
    """``(line_number, text)`` for each line of a UTF-8 file; a line that is not UTF-8
    comes back as a ValueError naming the byte (the other lines are still read). A UTF-8
    byte-order mark is accepted; a UTF-16 file raises UnicodeError (no line is readable)."""
    with path.open("rb") as handle:
        for number, data in enumerate(handle, start=1):
            if number == 1:
                if data.startswith(UTF16_BOMS):
                    raise UnicodeError("UTF-16 text; save it as UTF-8")
                data = data.removeprefix(b"\xef\xbb\xbf")
            try:
                yield number, data.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield number, ValueError(
                    f"not UTF-8 text (byte 0x{data[exc.start]:02x} at column {exc.start + 1}); "
                    "save the file as UTF-8")


def iter_jsonl(path: Path) -> Iterator[tuple[int, Any]]:
    """Yield ``(line_number, parsed)`` for each non-blank line; a line that is not UTF-8 or
    not JSON yields a ValueError in its place (:func:`text_lines`)."""
    for number, line in text_lines(path):
        if isinstance(line, ValueError):
            yield number, line
            continue
        if not line.strip():
            continue
        try:
            yield number, json.loads(line.rstrip("\r\n"))
        except json.JSONDecodeError as exc:
            yield number, ValueError(f"malformed JSON ({exc.msg}: column {exc.colno})")
        except RecursionError:      # "[[[[..." deeper than Python's stack
            yield number, ValueError("malformed JSON (nested too deeply)")


def read_dataset(root: str | Path, on_problem: Callable[[str], None] | None = None) -> Dataset:
    """Read a dataset folder.

    Strict by default: raises :class:`DatasetError` naming the file (and line) at the first
    problem. With ``on_problem``, a bad study or item line is reported there as one line
    (``<file>:<line>: <reason>``) and skipped, and items of skipped studies are dropped, so
    one broken record never stops a run. A missing or unreadable card or file still raises.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root}: not a dataset folder")

    def problem(message: str) -> None:
        if on_problem is None:
            raise DatasetError(message)
        on_problem(message)

    card_path = root / CARD_FILE
    try:
        card = read_card(card_path)
    except ValueError as exc:
        raise DatasetError(f"{card_path}: {exc}") from None
    studies: dict[str, Study] = {}
    for number, raw in _read_lines(root / STUDIES_FILE):
        where = f"{root / STUDIES_FILE}:{number}"
        try:
            if isinstance(raw, ValueError):
                raise raw
            study = study_from_json(raw)
        except ValueError as exc:
            problem(f"{where}: {exc}")
            continue
        if study.study_id in studies:
            problem(f"{where}: duplicate study_id")
            continue
        studies[study.study_id] = study
    items: list[Item] = []
    seen: set[str] = set()
    orphans: dict[str, list[int]] = {}
    for number, raw in _read_lines(root / ITEMS_FILE):
        where = f"{root / ITEMS_FILE}:{number}"
        try:
            if isinstance(raw, ValueError):
                raise raw
            item = item_from_json(raw)
        except ValueError as exc:
            problem(f"{where}: {exc}")
            continue
        if item.item_id in seen:
            problem(f"{where}: duplicate item_id")
            continue
        if item.study_id not in studies:
            if on_problem is None:
                problem(f"{where}: study {item.study_id!r} missing")
            orphans.setdefault(item.study_id, []).append(number)
            continue
        seen.add(item.item_id)
        items.append(item)
    for study_id, numbers in orphans.items():     # one line per study, not per item
        lines = f"line {numbers[0]}" if len(numbers) == 1 else f"lines {numbers[0]}-{numbers[-1]}"
        problem(f"{root / ITEMS_FILE}:{numbers[0]}: study {study_id!r} missing; its "
                f"{len(numbers)} item(s) skipped ({lines})")
    return Dataset(root, card, studies, items)


def read_card(path: Path) -> DatasetCard:
    """The dataset card at ``path``; ValueError gives the reason in a few words (missing,
    a folder, not UTF-8, not JSON, wrong fields)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ValueError("file is missing (every CardioLens dataset folder has one; see "
                         "docs/data-format.md)") from None
    except IsADirectoryError:
        raise ValueError("is a folder, not a file") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset "
                         f"{exc.start}); save the file as UTF-8") from None
    except OSError as exc:
        raise ValueError(f"cannot read ({exc.strerror or exc.__class__.__name__})") from None
    if not text.strip():
        raise ValueError("file is empty")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"malformed JSON ({exc.msg}: line {exc.lineno} column "
                         f"{exc.colno})") from None
    except RecursionError:
        raise ValueError("malformed JSON (nested too deeply)") from None
    return card_from_json(raw)


def _read_lines(path: Path) -> Iterator[tuple[int, Any]]:
    """Parsed lines; a malformed line comes back as a ValueError in its place."""
    try:
        yield from iter_jsonl(path)
    except UnicodeError as exc:
        raise DatasetError(f"{path}: cannot read ({exc})") from None
    except FileNotFoundError:
        raise DatasetError(f"{path}: file is missing") from None
    except IsADirectoryError:
        raise DatasetError(f"{path}: is a folder, not a file") from None
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror or exc.__class__.__name__})"
                           ) from None


# ---------------------------------------------------------------------------- writing


def _dump(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(", ", ": "))


def write_card(root: Path, card: DatasetCard) -> None:
    text = json.dumps(card.to_json(), ensure_ascii=False, indent=2) + "\n"
    write_text_atomic(root / CARD_FILE, text)


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    """Write one JSON object per line, atomically (an interrupt keeps the old file)."""
    with atomic_file(path) as tmp, tmp.open("w", encoding="utf-8", newline="\n") as handle:
        for row in rows:
            handle.write(_dump(row) + "\n")


def check_replaceable(out: Path, overwrite: bool) -> None:
    """Refuse to overwrite a non-empty folder unless asked, and then only a dataset."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        if not overwrite:
            raise DatasetError(f"{out}: already exists and is not empty (use --force)")
        if not (out / CARD_FILE).is_file():
            raise DatasetError(f"{out}: not a CardioLens dataset; refusing to replace it")


@contextmanager
def staged_dataset(out: Path, overwrite: bool = False) -> Iterator[Path]:
    """A folder to build a whole dataset in; it replaces ``out`` only on success, so a
    failed, empty or interrupted build leaves the old dataset in place."""
    check_replaceable(Path(out), overwrite)
    with staged_folder(Path(out)) as stage:
        yield stage


def write_dataset(root: str | Path, card: DatasetCard, studies: Iterable[Study],
                  items: Iterable[Item]) -> None:
    """Write the card and the two JSONL files (volumes are written separately)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    write_card(root, card)
    write_jsonl(root / STUDIES_FILE, (s.to_json() for s in studies))
    write_jsonl(root / ITEMS_FILE, (i.to_json() for i in items))
