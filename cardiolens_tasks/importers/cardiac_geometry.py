"""Measurements from short-axis cardiac segmentations (LV cavity, myocardium, RV).

Geometry, documented because importers label items with it:

- **Volumes** are voxel counts times the voxel volume (mm^3 -> ml); EF = (EDV - ESV) / EDV.
- **Sectors** follow the project's angle convention (0 = anterior, counter-clockwise towards
  the septum). In each slice the LV centre is the cavity centroid; the RV insertion points
  are the angular ends of the myocardium that touches the RV, and the septum is centred
  between them (falling back to the RV centroid direction). Segmentations are put in the
  canonical frame first (``importers/reorient.py``, docs/geometry.md: anterior wall up, RV on
  the image left, base to apex), so counter-clockwise from anterior runs towards the septum.
- **Wall thickness** of a 60-degree sector at end-diastole is its myocardial area divided
  by the arc length at the sector's mean myocardial radius.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cardiolens.data.anatomy import WALL6_TO_4, WALLS4, WALLS6
from cardiolens.data.cutoffs import (
    LV_EDV_DILATED,
    LV_EDV_INDEX_DILATED,
    LV_EDV_INDEX_SMALL,
    LV_EDV_SMALL,
    RV_EDV_DILATED,
    RV_EDV_INDEX_DILATED,
    RV_EF_REDUCED,
    THICKENED_MM,
    THINNED_MM,
)
from cardiolens.data.masks import dilate4
from cardiolens.data.vocabulary import LV_SIZE, RV_STATUS, WALL_THICKNESS


@dataclass(frozen=True)
class Labels:
    """Label values of one segmentation scheme."""

    lv: int
    myo: int
    rv: int


@dataclass(frozen=True)
class Measurements:
    lv_edv_ml: float
    lv_esv_ml: float
    rv_edv_ml: float
    rv_esv_ml: float
    wall_mm: dict[str, float]          # max ED thickness per 6-wall sector
    mean_wall_mm: float
    bsa_m2: float | None

    @property
    def lv_ef(self) -> float:
        return 100.0 * (self.lv_edv_ml - self.lv_esv_ml) / self.lv_edv_ml

    @property
    def rv_ef(self) -> float:
        return 100.0 * (self.rv_edv_ml - self.rv_esv_ml) / max(self.rv_edv_ml, 1e-6)


def bsa_mosteller(height_cm: float | None, weight_kg: float | None) -> float | None:
    if not height_cm or not weight_kg:
        return None
    return math.sqrt(height_cm * weight_kg / 3600.0)


def volume_ml(mask: np.ndarray, voxel_mm3: float) -> float:
    return float(mask.sum()) * voxel_mm3 / 1000.0


def _angles(rows: np.ndarray, cols: np.ndarray, centre: tuple[float, float]) -> np.ndarray:
    """Display angle (degrees, 0 = up, counter-clockwise towards image-left)."""
    dr, dc = rows - centre[0], cols - centre[1]
    return np.degrees(np.arctan2(-dc, -dr)) % 360.0


def _circular_span(angles: np.ndarray) -> tuple[float, float]:
    """Start and end of the smallest arc containing all ``angles`` (degrees)."""
    ordered = np.sort(angles % 360.0)
    gaps = np.diff(np.concatenate([ordered, ordered[:1] + 360.0]))
    k = int(np.argmax(gaps))
    return float(ordered[(k + 1) % len(ordered)]), float(ordered[k])


def septum_angle(seg: np.ndarray, labels: Labels) -> float | None:
    """Display angle of the septum centre in one slice, from the RV insertion points."""
    lv = np.argwhere(seg == labels.lv)
    if lv.size == 0:
        return None
    centre = (float(lv[:, 0].mean()), float(lv[:, 1].mean()))
    rv = seg == labels.rv
    if not rv.any():
        return None
    contact = np.argwhere((seg == labels.myo) & dilate4(rv))
    if len(contact) >= 2:
        start, end = _circular_span(_angles(contact[:, 0], contact[:, 1], centre))
        span = (end - start) % 360.0
        return (start + span / 2.0) % 360.0
    rv_pts = np.argwhere(rv)
    return float(_angles(np.array([rv_pts[:, 0].mean()]), np.array([rv_pts[:, 1].mean()]),
                         centre)[0])


def rv_layout(seg: np.ndarray, labels: Labels) -> tuple[float, float] | None:
    """(septum angle, RV centroid angle minus septum angle) in one slice, display degrees;
    None without both ventricles. Orientation evidence for :mod:`cardiolens.data.orientation`."""
    septum = septum_angle(seg, labels)
    lv, rv = np.argwhere(seg == labels.lv), np.argwhere(seg == labels.rv)
    if septum is None or lv.size == 0 or rv.size == 0:
        return None
    d = rv.mean(axis=0) - lv.mean(axis=0)
    rv_angle = math.degrees(math.atan2(-d[1], -d[0])) % 360.0
    return septum, (rv_angle - septum + 180.0) % 360.0 - 180.0


def _myo_angles(seg: np.ndarray, labels: Labels) -> tuple[np.ndarray, np.ndarray,
                                                          tuple[float, float]] | None:
    """Myocardium pixels and their angles with the septum centre rotated to 90 degrees."""
    septum = septum_angle(seg, labels)
    lv = np.argwhere(seg == labels.lv)
    myo = np.argwhere(seg == labels.myo)
    if septum is None or lv.size == 0 or len(myo) < 12:
        return None
    centre = (float(lv[:, 0].mean()), float(lv[:, 1].mean()))
    theta = (_angles(myo[:, 0], myo[:, 1], centre) - septum + 90.0) % 360.0
    return myo, theta, centre


def _wall_index(theta: np.ndarray) -> np.ndarray:
    return (((theta + 30.0) % 360.0) // 60.0).astype(int)


def wall_map(seg: np.ndarray, labels: Labels) -> np.ndarray:
    """Per pixel: index into WALLS6 for myocardium pixels, -1 elsewhere (or unplaceable)."""
    out = np.full(seg.shape, -1, int)
    placed = _myo_angles(seg, labels)
    if placed is not None:
        myo, theta, _ = placed
        out[myo[:, 0], myo[:, 1]] = _wall_index(theta)
    return out


def sector_thickness(seg: np.ndarray, labels: Labels, spacing: tuple[float, float]
                     ) -> dict[str, float]:
    """Thickness (mm) of each 6-wall sector in one ED slice; empty when not measurable."""
    placed = _myo_angles(seg, labels)
    if placed is None:
        return {}
    myo, theta, centre = placed
    radius_mm = np.hypot((myo[:, 0] - centre[0]) * spacing[0],
                         (myo[:, 1] - centre[1]) * spacing[1])
    index = _wall_index(theta)
    pixel_mm2 = spacing[0] * spacing[1]
    out: dict[str, float] = {}
    for k, wall in enumerate(WALLS6):
        inside = index == k
        if inside.sum() < 2:
            continue
        mid_radius = float(radius_mm[inside].mean())
        out[wall] = float(inside.sum()) * pixel_mm2 / (mid_radius * math.radians(60.0))
    return out


def measure(ed: np.ndarray, es: np.ndarray, labels: Labels,
            spacing: tuple[float, float, float], bsa: float | None) -> Measurements:
    """Volumes, EF and ED wall thickness from ED and ES label volumes (H, W, slices)."""
    voxel = spacing[0] * spacing[1] * spacing[2]
    walls: dict[str, list[float]] = {}
    for z in range(ed.shape[2]):
        for wall, mm in sector_thickness(ed[:, :, z], labels, spacing[:2]).items():
            walls.setdefault(wall, []).append(mm)
    wall_mm = {wall: max(values) for wall, values in walls.items()}
    all_values = [v for values in walls.values() for v in values]
    return Measurements(
        lv_edv_ml=volume_ml(ed == labels.lv, voxel), lv_esv_ml=volume_ml(es == labels.lv, voxel),
        rv_edv_ml=volume_ml(ed == labels.rv, voxel), rv_esv_ml=volume_ml(es == labels.rv, voxel),
        wall_mm=wall_mm, mean_wall_mm=float(np.mean(all_values)) if all_values else float("nan"),
        bsa_m2=bsa)


def lv_size(m: Measurements) -> str:
    """The cine_lv_size option: indexed EDV when the BSA is known, else absolute EDV
    (cut-offs in :mod:`cardiolens.data.cutoffs`)."""
    if m.bsa_m2:
        index = m.lv_edv_ml / m.bsa_m2
        return (LV_SIZE.dilated if index > LV_EDV_INDEX_DILATED else LV_SIZE.small
                if index < LV_EDV_INDEX_SMALL else LV_SIZE.normal)
    return (LV_SIZE.dilated if m.lv_edv_ml > LV_EDV_DILATED else LV_SIZE.small
            if m.lv_edv_ml < LV_EDV_SMALL else LV_SIZE.normal)


def wall_thickness(m: Measurements) -> str:
    """The cine_wall_thickness option: thickened by the thickest sector, thinned by the mean."""
    if m.wall_mm and max(m.wall_mm.values()) >= THICKENED_MM:
        return WALL_THICKNESS.thickened
    if m.mean_wall_mm < THINNED_MM:
        return WALL_THICKNESS.thinned
    return WALL_THICKNESS.normal


def thickened_walls(m: Measurements) -> list[str]:
    """4-wall names of the sectors at or over the thickening threshold."""
    walls = {WALL6_TO_4[w] for w, mm in m.wall_mm.items() if mm >= THICKENED_MM}
    return [w for w in WALLS4 if w in walls]


def rv_status(m: Measurements) -> str:
    dilated = (m.rv_edv_ml / m.bsa_m2 > RV_EDV_INDEX_DILATED if m.bsa_m2
               else m.rv_edv_ml > RV_EDV_DILATED)
    reduced = m.rv_ef < RV_EF_REDUCED
    if dilated and reduced:
        return RV_STATUS.dilated_reduced_function
    return (RV_STATUS.dilated if dilated else RV_STATUS.reduced_function if reduced
            else RV_STATUS.normal)
