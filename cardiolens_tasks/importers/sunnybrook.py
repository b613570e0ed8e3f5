"""Sunnybrook Cardiac Data expert contours on a study imported by ``cardiolens import dicom``.

The Sunnybrook set (CC0) gives, per short-axis location, the LV endocardial contour at end
diastole and end systole and the epicardial contour at end diastole, as text files of
``x y`` pixel coordinates (x = column, y = row) named after the DICOM image they belong to:
``IM-0001-NNNN-icontour-manual.txt`` (``o`` for the epicardium) for the file ``<NNNN>.dcm``.
Each contoured image is found in the imported volume by its pixels (the importer only
reorders slices and applies one in-plane transform), the contour is filled in the original
pixel grid (pixel centres inside) and carried to the stored frame by the same transform.
The diastolic and systolic frames are the two contoured frames, the larger total cavity
being end diastole. The measurements give the items a short-axis cine segmentation supports
(:mod:`cardiolens.importers.measured_items`) except those that need the RV (see
:data:`SUBTASKS`).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from cardiolens.data.dataset import read_dataset, write_dataset
from cardiolens.data.orientation import ALL_IN_PLANE, InPlane
from cardiolens.data.volumes import SeriesVolume
from cardiolens.errors import CardiolensError
from cardiolens.importers.cardiac_geometry import Labels, Measurements, measure
from cardiolens.importers.measured_items import measured_items

CONTOUR = re.compile(r"IM-\d+-(?P<number>\d{4})-(?P<kind>[io])contour-manual\.txt$")
LABELS = Labels(lv=3, myo=2, rv=1)
SUBTASKS = ("cine_lv_size", "cine_lv_function", "diagnosis_etiology", "diagnosis_nicm_subtype")
"""What the contours answer. Without RV contours there is no RV status, and no septum to
place the wall sectors by, so no wall thickness items either."""


@dataclass(frozen=True)
class Contoured:
    """Label volumes (H, W, slices) in the stored frame and the contoured frame indices."""

    ed: np.ndarray
    es: np.ndarray
    ed_frame: int
    es_frame: int
    slices: tuple[int, ...]
    measurements: Measurements


def read_contour(path: Path) -> np.ndarray:
    """The (N, 2) ``x y`` points of one contour file; one-line error when malformed."""
    try:
        points = np.loadtxt(path, ndmin=2)
    except (OSError, ValueError) as exc:
        raise CardiolensError(f"{path}: not a contour file ({exc})") from None
    if points.shape[1] != 2 or len(points) < 3 or not np.isfinite(points).all():
        raise CardiolensError(f"{path}: expected at least 3 'x y' lines")
    return points


def fill_contour(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Pixels whose centre (row, col) = (y, x) lies inside the polygon (even-odd rule)."""
    rows, cols = np.mgrid[:shape[0], :shape[1]].astype(float)
    inside = np.zeros(shape, bool)
    x0, y0 = points[:, 0], points[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    for ax, ay, bx, by in zip(x0, y0, x1, y1, strict=True):
        if ay == by:
            continue
        crosses = (ay > rows) != (by > rows)
        at = ax + (rows - ay) * (bx - ax) / (by - ay)
        inside ^= crosses & (cols < at)
    return inside


def _dicom_pixels(path: Path) -> np.ndarray:
    import pydicom

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")        # the set's UIDs use a non-conformant root
            return np.asarray(pydicom.dcmread(path).pixel_array, np.float32)
    except Exception as exc:          # pydicom raises many types for bad files
        raise CardiolensError(f"{path}: unreadable DICOM image ({type(exc).__name__})") from None


def _locate(stored: np.ndarray, pixels: np.ndarray, transform: InPlane) -> tuple[int, int]:
    """(slice, frame) of the stored image equal to ``pixels`` after ``transform``."""
    moved = transform.apply(pixels)
    if moved.shape != stored.shape[2:]:
        return -1, -1
    diff = np.abs(stored - moved[None, None]).reshape(*stored.shape[:2], -1).max(axis=2)
    s, f = np.unravel_index(int(np.argmin(diff)), diff.shape)
    return (int(s), int(f)) if diff[s, f] <= 1e-3 * max(float(np.abs(moved).max()), 1.0) \
        else (-1, -1)


def contoured_study(root: Path, study_id: str, dicom_dir: Path,
                    contour_dir: Path) -> Contoured:
    """Rasterise every contour of ``contour_dir`` into the stored cine of ``study_id``."""
    info = read_dataset(root).studies[study_id].series.get("cine_sax")
    if info is None:
        raise CardiolensError(f"{root}: study {study_id} has no short-axis cine")
    volume = SeriesVolume.open(root, info)
    stored, slope, inter = volume.read_all_stored()
    stored = stored.astype(np.float32) * slope + inter            # (slices, frames, H, W)
    name = (info.orientation or {}).get("in_plane", "identity")
    (transform,) = [t for t in ALL_IN_PLANE if t.name == name]
    files = sorted(p for p in contour_dir.rglob("*.txt") if CONTOUR.search(p.name))
    if not files:
        raise CardiolensError(f"{contour_dir}: no Sunnybrook contour files")
    h, w = stored.shape[2:]
    masks: dict[tuple[str, int, int], np.ndarray] = {}
    for path in files:
        match = CONTOUR.search(path.name)
        assert match is not None
        image = dicom_dir / f"{int(match['number'])}.dcm"
        if not image.is_file():
            raise CardiolensError(f"{path}: its image {image.name} is not in {dicom_dir}")
        pixels = _dicom_pixels(image)
        where = _locate(stored, pixels, transform)
        if where[0] < 0:
            raise CardiolensError(f"{path}: image {image.name} is not in the imported cine")
        masks[(match["kind"], *where)] = transform.apply(
            fill_contour(read_contour(path), pixels.shape))
    frames = sorted({f for _, _, f in masks})
    if len(frames) != 2:
        raise CardiolensError(f"{contour_dir}: contours on {len(frames)} phases, expected 2")
    area = {f: sum(int(m.sum()) for (k, _, g), m in masks.items() if k == "i" and g == f)
            for f in frames}
    ed_frame, es_frame = sorted(frames, key=lambda f: -area[f])
    slices = tuple(sorted({s for _, s, _ in masks}))
    seg = {f: np.zeros((h, w, stored.shape[0]), np.int16) for f in frames}
    for kind in ("o", "i"):                          # the cavity is drawn over the wall
        for (k, s, f), mask in masks.items():
            if k == kind:
                seg[f][:, :, s][mask] = LABELS.lv if kind == "i" else LABELS.myo
    m = measure(seg[ed_frame], seg[es_frame], LABELS, volume.spacing, None)
    return Contoured(seg[ed_frame], seg[es_frame], ed_frame, es_frame, slices, m)


def add_contour_items(root: Path, study_id: str, dicom_dir: Path, contour_dir: Path,
                      etiology: str, subtype: str | None = None) -> Contoured:
    """Set the study's ED/ES frames and write the items the expert contours answer."""
    c = contoured_study(root, study_id, dicom_dir, contour_dir)
    dataset = read_dataset(root)
    study = dataset.studies[study_id]
    series = dict(study.series)
    series["cine_sax"] = replace(series["cine_sax"], ed_frame=c.ed_frame, es_frame=c.es_frame)
    studies = [replace(study, series=series) if s.study_id == study_id else s
               for s in dataset.studies.values()]
    items = [i for i in dataset.items if i.study_id != study_id]
    items += [i for i in measured_items(study_id, c.measurements, etiology, subtype)
              if i.subtask in SUBTASKS]
    write_dataset(root, dataset.card, studies, items)
    return c
