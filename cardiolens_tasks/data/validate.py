"""``cardiolens validate``: every problem of a dataset folder in one pass.

Each problem is one line ``<file>[:<line>]: <reason>``. Nothing here raises on bad input:
a check that fails unexpectedly becomes a problem for its file and the pass goes on.
Volumes are opened header-first (size guard before any voxel), then scanned in slabs so
memory stays bounded by one slab, not by the dataset.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from cardiolens.data.dataset import (
    CARD_FILE,
    ITEMS_FILE,
    STUDIES_FILE,
    Item,
    SeriesInfo,
    item_from_json,
    iter_jsonl,
    read_card,
    study_from_json,
)
from cardiolens.data.taxonomy import Taxonomy, load_taxonomy
from cardiolens.data.volumes import F32_MAX, SeriesVolume, resolve_inside
from cardiolens.errors import CardiolensError

SLAB_BYTES = 64 * 1024**2


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.reason}"


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
    return text[:160]


def _lines(path: Path, problems: list[Problem]) -> Iterator[tuple[int, Any]]:
    """Parsed JSONL lines; unreadable files and malformed lines become problems."""
    if not path.is_file():
        problems.append(Problem(str(path), None, "file is missing"))
        return
    try:
        for number, raw in iter_jsonl(path):
            if isinstance(raw, ValueError):
                problems.append(Problem(str(path), number, str(raw)))
            else:
                yield number, raw
    except (OSError, UnicodeError) as exc:
        problems.append(Problem(str(path), None, f"cannot read ({_short(exc)})"))


def _check_card(root: Path, taxonomy: Taxonomy, problems: list[Problem]) -> None:
    path = root / CARD_FILE
    try:
        card = read_card(path)
    except ValueError as exc:
        problems.append(Problem(str(path), None, str(exc)))
        return
    if card.taxonomy_version not in taxonomy.dataset_versions:
        problems.append(Problem(str(path), None, f"taxonomy_version {card.taxonomy_version!r} "
                                                 f"differs from this package's "
                                                 f"{taxonomy.version!r} (reads datasets of "
                                                 f"{', '.join(taxonomy.dataset_versions)})"))


def _check_studies(root: Path, taxonomy: Taxonomy,
                   problems: list[Problem]) -> dict[str, dict[str, SeriesInfo]]:
    path = root / STUDIES_FILE
    studies: dict[str, dict[str, SeriesInfo]] = {}
    for number, raw in _lines(path, problems):
        try:
            study = study_from_json(raw)
        except ValueError as exc:
            problems.append(Problem(str(path), number, str(exc)))
            continue
        if study.study_id in studies:
            problems.append(Problem(str(path), number, f"duplicate study_id {study.study_id!r}"))
            continue
        series = {}
        for key, info in study.series.items():
            if key not in taxonomy.series_keys:
                problems.append(Problem(str(path), number, f"unknown series key {key!r} "
                                                           "(expected <sequence>_<view>)"))
                continue
            try:
                resolve_inside(root, info.path)
            except CardiolensError as exc:
                problems.append(Problem(str(path), number, f"series {key!r}: {exc}"))
                continue
            series[key] = info
        studies[study.study_id] = series
    return studies


def _answer_problem(item: Item, taxonomy: Taxonomy) -> str | None:
    """Why an item's subtask, level or answer is invalid, or None."""
    subtask = taxonomy.subtasks.get(item.subtask)
    if subtask is None:
        return f"unknown subtask {item.subtask!r}"
    if item.level != subtask.level:
        return f"level {item.level!r} does not match subtask level {subtask.level!r}"
    if subtask.answer_type == "report":
        if not isinstance(item.reference, str) or not item.reference.strip():
            return "report item needs a non-empty 'reference'"
        return None
    options = item.options if item.options is not None else list(subtask.options)
    if subtask.answer_type == "single":
        if not isinstance(item.answer, str):
            return "answer must be one option text (a string)"
        if item.answer not in options:
            return f"answer {item.answer!r} is not among the options"
        return None
    if not isinstance(item.answer, list) or not item.answer:
        return "answer must be a non-empty list of option texts"
    if len(set(item.answer)) != len(item.answer):
        return "answer repeats an option"
    outside = [a for a in item.answer if a not in options]
    if outside:
        return f"answers {outside} are not among the options"
    return None


def _check_items(root: Path, study_ids: set[str], taxonomy: Taxonomy,
                 problems: list[Problem]) -> None:
    path = root / ITEMS_FILE
    seen: set[str] = set()
    for number, raw in _lines(path, problems):
        try:
            item = item_from_json(raw)
        except ValueError as exc:
            problems.append(Problem(str(path), number, str(exc)))
            continue
        if item.item_id in seen:
            problems.append(Problem(str(path), number, f"duplicate item_id {item.item_id!r}"))
        seen.add(item.item_id)
        if item.study_id not in study_ids:
            problems.append(Problem(str(path), number, f"study {item.study_id!r} is missing "
                                                       f"from {STUDIES_FILE}"))
        reason = _answer_problem(item, taxonomy)
        if reason:
            problems.append(Problem(str(path), number, reason))


def _scan_voxels(volume: SeriesVolume) -> str | None:
    """Read every voxel slab by slab; the reason the data is unusable, or None."""
    finite = 0
    lo, hi = np.inf, -np.inf
    for slab in volume.iter_slabs(SLAB_BYTES):
        good = slab[np.isfinite(slab)]
        finite += good.size
        if good.size:
            lo, hi = min(lo, float(good.min())), max(hi, float(good.max()))
    if finite == 0:
        return "volume holds only NaN/Inf"
    if hi > F32_MAX or lo < -F32_MAX:
        return (f"values reach {hi if hi > F32_MAX else lo:g}, beyond the float32 range that "
                f"rendering uses; rescale the volume")
    if lo == hi:
        return f"volume has zero variance (every voxel is {lo:g})"
    return None


def _check_volume(root: Path, info: SeriesInfo, read_voxels: bool) -> str | None:
    """Why the series' volume is unusable (without the file name), or None."""
    prefix = f"{root / info.path}: "
    try:
        volume = SeriesVolume.open(root, info)
        return _scan_voxels(volume) if read_voxels else None
    except CardiolensError as exc:
        message = str(exc)
        return message[len(prefix):] if message.startswith(prefix) else message
    except Exception as exc:  # truncated gzip, zlib errors, short reads: one line, go on
        return f"truncated or corrupt ({_short(exc)})"


def _check_volumes(root: Path, studies: dict[str, dict[str, SeriesInfo]],
                   problems: list[Problem], progress: bool) -> None:
    """Each distinct volume file: header and shape per series, voxels once per file."""
    scanned: set[Path] = set()
    for study_id, series in tqdm(studies.items(), desc="checking volumes", unit="study",
                                 disable=not progress):
        for key, info in series.items():
            resolved = (root / info.path).resolve()
            reason = _check_volume(root, info, read_voxels=resolved not in scanned)
            scanned.add(resolved)
            if reason:
                problems.append(Problem(str(root / info.path), None,
                                        f"{reason} (study {study_id}, series {key})"))


def validate_dataset(root: Path, progress: bool = False) -> list[Problem]:
    """Every problem of the dataset at ``root``; an empty list means valid."""
    root = Path(root)
    if not root.is_dir():
        return [Problem(str(root), None, "not a dataset folder")]
    taxonomy = load_taxonomy()
    problems: list[Problem] = []
    _check_card(root, taxonomy, problems)
    studies = _check_studies(root, taxonomy, problems)
    _check_items(root, set(studies), taxonomy, problems)
    _check_volumes(root, studies, problems, progress)
    return problems
