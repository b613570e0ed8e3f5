"""``cardiolens show``: a contact sheet PNG of one study, a labelled row per series.

Slices, phases and dynamics are numbered from 1, as in the prompts' captions (tile
``s5 mid`` is the prompts' "slice 5 of N (mid)"). Cine shows every slice at end-diastole
and end-systole (long axis: ED and ES), static series every slice, perfusion four
dynamics per slice. Windowing is per series (0.5th to 99.5th percentile of the frames
shown), so relative brightness across slices survives.

Every tile is marked with the canonical frame (docs/geometry.md) so a user can check the
orientation at a glance: short axis "A" (anterior) at the top, "P" at the bottom, "S"
(septum, RV side) on the left, "L" (lateral) on the right; long axis "apex" at the top and
the walls of the view on the sides. Where the import left the mirror or the rotation
unresolved (``orientation.unresolved`` in ``studies.jsonl``) the marks carry a "?".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from cardiolens.data.anatomy import slice_levels
from cardiolens.data.dataset import Dataset, SeriesInfo, read_dataset
from cardiolens.data.volumes import FrameRef, SeriesVolume
from cardiolens.errors import CardiolensError

TILE = 96
LABEL_WIDTH = 110
CAPTION = 12
TITLE = 22
SERIES_ORDER = ("cine_sax", "cine_4ch", "cine_3ch", "cine_2ch", "lge_sax", "lge_4ch",
                "lge_3ch", "lge_2ch", "t2_sax", "t2_4ch", "t2_3ch", "t2_2ch", "perf_sax")
PERF_POINTS = (0.1, 0.3, 0.5, 0.8)


@dataclass(frozen=True)
class Row:
    label: str
    refs: list[FrameRef]
    captions: list[str]


def _slice_name(info: SeriesInfo, key: str, s: int) -> str:
    if key.endswith("_sax") and info.slices > 1:
        return f"s{s + 1} {slice_levels(info.slices)[s].lower()}"
    return f"s{s + 1}" if info.slices > 1 else ""


def plan_rows(key: str, info: SeriesInfo) -> list[Row]:
    """Which frames a series shows, grouped into labelled rows."""
    slices = range(info.slices)
    if info.frames == 1:
        return [Row(key, [(s, 0) for s in slices], [_slice_name(info, key, s) for s in slices])]
    if key.startswith("perf"):
        dyn = sorted({min(info.frames - 1, int(p * info.frames)) for p in PERF_POINTS})
        refs = [(s, f) for s in slices for f in dyn]
        return [Row(f"{key} dynamics", refs,
                    [f"{_slice_name(info, key, s)} d{f + 1}".strip() for s, f in refs])]
    ed = info.ed_frame or 0
    es = info.es_frame if info.es_frame is not None else round(0.35 * info.frames)
    if info.slices == 1:
        return [Row(f"{key} ED/ES", [(0, ed), (0, es)], [f"ED f{ed + 1}", f"ES f{es + 1}"])]
    return [Row(f"{key} ED", [(s, ed) for s in slices],
                [_slice_name(info, key, s) for s in slices]),
            Row(f"{key} ES", [(s, es) for s in slices],
                [_slice_name(info, key, s) for s in slices])]


LAX_SIDES = {"4ch": ("S", "L"), "3ch": ("AS", "IL"), "2ch": ("Inf", "Ant")}


def orientation_marks(key: str, record: dict[str, Any] | None
                      ) -> dict[str, str]:
    """Letters for the tile edges (top, bottom, left, right) of a series in the canonical
    frame; "?" where the import recorded the mirror or rotation as unresolved."""
    unresolved = set((record or {}).get("unresolved", []))
    view = key.rsplit("_", 1)[-1]
    if view == "sax":
        if "rotation" in unresolved:
            return {"top": "?", "bottom": "?", "left": "?", "right": "?"}
        mark = "?" if "mirror" in unresolved else ""
        return {"top": f"A{mark}", "bottom": f"P{mark}", "left": "S", "right": "L"}
    if view in LAX_SIDES:
        left, right = LAX_SIDES[view]
        return {"top": "apex", "bottom": "", "left": left, "right": right}
    return {}


def _mark(draw: ImageDraw.ImageDraw, x: int, y: int, marks: dict[str, str],
          font: Any) -> None:
    for edge, text in marks.items():
        if not text:
            continue
        width = int(draw.textlength(text, font=font))
        px, py = {"top": (x + (TILE - width) // 2, y + 1),
                  "bottom": (x + (TILE - width) // 2, y + TILE - 11),
                  "left": (x + 2, y + TILE // 2 - 5),
                  "right": (x + TILE - width - 2, y + TILE // 2 - 5)}[edge]
        draw.rectangle((px - 1, py, px + width, py + 10), fill=0)
        draw.text((px, py - 1), text, fill=255, font=font)


def _to_tile(frame: np.ndarray, lo: float, hi: float) -> Image.Image:
    scaled = np.clip((frame - lo) / max(hi - lo, 1e-6) * 255.0, 0, 255).astype(np.uint8)
    image = Image.fromarray(scaled, mode="L")
    image.thumbnail((TILE, TILE), Image.Resampling.LANCZOS)
    canvas = Image.new("L", (TILE, TILE))
    canvas.paste(image, ((TILE - image.width) // 2, (TILE - image.height) // 2))
    return canvas


def _series_rows(dataset: Dataset, key: str, info: SeriesInfo
                 ) -> list[tuple[str, list[Image.Image], list[str]]] | str:
    """Tiles per row, or why the series cannot be read (``<file>: <reason>``)."""
    rows = plan_rows(key, info)
    try:
        volume = SeriesVolume.open(dataset.root, info)
        refs = [ref for row in rows for ref in row.refs]
        frames = volume.read_frames(refs)
    except CardiolensError as exc:
        return str(exc)
    finite = frames[np.isfinite(frames)]
    if finite.size == 0:
        return f"{volume.path}: no finite voxels in the frames shown"
    lo, hi = (float(v) for v in np.percentile(finite, [0.5, 99.5]))
    out: list[tuple[str, list[Image.Image], list[str]]] = []
    start = 0
    for row in rows:
        tiles = [_to_tile(np.nan_to_num(frames[i]), lo, hi)
                 for i in range(start, start + len(row.refs))]
        start += len(row.refs)
        out.append((row.label, tiles, row.captions))
    return out


def _title(dataset: Dataset, study_id: str) -> str:
    answers = {i.subtask: i.answer for i in dataset.items if i.study_id == study_id}
    parts = [str(answers[k]) for k in ("diagnosis_etiology", "diagnosis_nicm_subtype")
             if isinstance(answers.get(k), str)]
    return f"{study_id} - {' / '.join(parts)}" if parts else study_id


def write_contact_sheet(dataset_root: Path, study_id: str, out: Path,
                        on_problem: Callable[[str], None] | None = None) -> tuple[int, int]:
    """Write the contact sheet of ``study_id`` to the PNG file ``out``.

    Args:
        dataset_root: the dataset folder.
        study_id: the study to show.
        out: the PNG file to write (its folder must exist).
        on_problem: given one line (``<file>[:<line>]: <reason>``) for each series that
            cannot be read (its row on the sheet says why; the other series are shown) and
            for each malformed record of ``studies.jsonl`` / ``items.jsonl`` (skipped).
            Without it a malformed record stops with :class:`DatasetError`.

    Returns:
        The number of the study's series, and how many of them could not be read.
    """
    if out.suffix.lower() != ".png":
        raise CardiolensError(f"{out}: the contact sheet is written as PNG (use a .png name)")
    folder = out.parent
    if not folder.is_dir():
        reason = "not a folder" if folder.exists() else "no such folder (create it first)"
        raise CardiolensError(f"{folder}: {reason}")
    dataset = read_dataset(dataset_root, on_problem=on_problem)
    study = dataset.studies.get(study_id)
    if study is None:
        known = ", ".join(list(dataset.studies)[:3])
        raise CardiolensError(f"{dataset_root}: no study {study_id!r} "
                              f"({len(dataset.studies)} studies; e.g. {known})")
    keys = [k for k in SERIES_ORDER if k in study.series]
    keys += sorted(k for k in study.series if k not in SERIES_ORDER)
    rows: list[tuple[str, list[Image.Image] | str, list[str], dict[str, str]]] = []
    unreadable = 0
    for key in keys:
        marks = orientation_marks(key, study.series[key].orientation)
        series_rows = _series_rows(dataset, key, study.series[key])
        if isinstance(series_rows, str):        # the row says why; the console line too
            unreadable += 1
            rows.append((key, f"unreadable: {series_rows}", [], marks))
            if on_problem is not None:
                on_problem(f"{series_rows} (series {key}; its row says unreadable)")
            continue
        rows += [(label, tiles, captions, marks) for label, tiles, captions in series_rows]
    width = LABEL_WIDTH + TILE * max((len(t) for _, t, _, _ in rows if isinstance(t, list)),
                                     default=4)
    height = TITLE + len(rows) * (TILE + CAPTION)
    sheet = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()
    draw.text((4, 4), _title(dataset, study_id), fill=255, font=font)
    for r, (label, tiles, captions, marks) in enumerate(rows):
        y = TITLE + r * (TILE + CAPTION)
        draw.text((4, y + TILE // 2 - 6), label, fill=255, font=font)
        if isinstance(tiles, str):
            draw.text((LABEL_WIDTH, y + TILE // 2 - 6), tiles[:120], fill=200, font=font)
            continue
        for c, (tile, caption) in enumerate(zip(tiles, captions, strict=True)):
            x = LABEL_WIDTH + c * TILE
            sheet.paste(tile, (x, y))
            _mark(draw, x, y, marks, font)
            draw.text((x + 2, y + TILE), caption, fill=180, font=font)
    sheet.save(out, format="PNG", optimize=True)
    return len(keys), unreadable
