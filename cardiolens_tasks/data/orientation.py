"""The canonical frame (docs/geometry.md): which of the 8 in-plane transforms and which slice
order bring a stored series there, decided from patient geometry or from a segmentation.

Patient directions are RAS+ (NIfTI); DICOM's LPS+ is converted by :func:`dicom_affine`.
An :class:`Orientation` holds the transform (transpose, then flip rows, then flip columns,
then optionally reverse the slices) and the record written to ``studies.jsonl``: the evidence
(``geometry`` or ``segmentation``), a confidence and notes. What cannot be decided raises
:class:`OrientationError` with the reason; nothing is guessed.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

APEX_RAS = np.array([-0.6, 0.5, -0.6]) / np.linalg.norm([-0.6, 0.5, -0.6])
SEPTUM_RAS = np.array([1.0, 1.0, 0.0]) / math.sqrt(2.0)   # LV -> RV: patient right-anterior
VIEWS = ("sax", "4ch", "3ch", "2ch")
LAX_RIGHT_WALL_DEG = {"4ch": 300.0, "3ch": 240.0, "2ch": 0.0}  # wall on a long axis' right

MIN_AXIS_COS = 0.65       # short-axis slice normal within ~49 degrees of the nominal LV axis
MAX_LAX_COS = 0.75        # long-axis plane normal at least ~41 degrees off the nominal axis
AXIS_ALIGNED = 0.999      # an affine column this close to a patient axis is not oblique
MIN_PROFILE_RATIO = 1.15  # basal vs apical mean cavity area needed to tell base from apex
MIRROR_MARGIN_DEG = 10.0  # anterior offset of the RV centroid needed to resolve the mirror
HIGH_MAX_OFF_DEG = 30.0   # rows within this of the target: "high" (15 from the 45 boundary)


class OrientationError(Exception):
    """The canonical frame cannot be reached from the evidence; the message says why."""


@dataclass(frozen=True)
class InPlane:
    """One of the 8 dihedral in-plane transforms of array axes (0, 1)."""

    transpose: bool = False
    flip_rows: bool = False
    flip_cols: bool = False

    @property
    def name(self) -> str:
        steps = [n for n, on in (("transpose", self.transpose), ("flip_rows", self.flip_rows),
                                 ("flip_cols", self.flip_cols)) if on]
        return "+".join(steps) or "identity"

    @property
    def mirrors(self) -> bool:
        return (self.transpose + self.flip_rows + self.flip_cols) % 2 == 1

    def apply(self, data: np.ndarray) -> np.ndarray:
        if self.transpose:
            data = np.swapaxes(data, 0, 1)
        if self.flip_rows:
            data = data[::-1]
        if self.flip_cols:
            data = data[:, ::-1]
        return data

    def directions(self, c_i: np.ndarray, c_j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Patient directions of the new row and column axes."""
        if self.transpose:
            c_i, c_j = c_j, c_i
        return (-c_i if self.flip_rows else c_i), (-c_j if self.flip_cols else c_j)

    def angle(self, theta_deg: float) -> float:
        """Where a display angle (0 = up, counter-clockwise towards image-left) goes."""
        if self.transpose:
            theta_deg = 90.0 - theta_deg
        if self.flip_rows:
            theta_deg = 180.0 - theta_deg
        if self.flip_cols:
            theta_deg = -theta_deg
        return theta_deg % 360.0

    def spacing(self, spacing: tuple[float, float, float]) -> tuple[float, float, float]:
        return (spacing[1], spacing[0], spacing[2]) if self.transpose else spacing


IDENTITY = InPlane()
ALL_IN_PLANE = tuple(InPlane(*flags) for flags in itertools.product((False, True), repeat=3))


@dataclass(frozen=True)
class Orientation:
    """How a stored series reaches the canonical frame, and the evidence for it."""

    in_plane: InPlane
    reverse_slices: bool
    evidence: str
    confidence: str
    notes: tuple[str, ...] = field(default_factory=tuple)
    unresolved: tuple[str, ...] = ()

    @property
    def mirror_resolved(self) -> bool:
        return not self.unresolved

    def apply(self, data: np.ndarray) -> np.ndarray:
        """Transform an (H, W, slices, ...) array; returns a contiguous copy."""
        data = self.in_plane.apply(data)
        if self.reverse_slices:
            data = data[:, :, ::-1]
        return np.ascontiguousarray(data)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"evidence": self.evidence, "in_plane": self.in_plane.name,
                               "reversed_slices": self.reverse_slices,
                               "confidence": self.confidence}
        if self.unresolved:
            out["unresolved"] = list(self.unresolved)
        if self.notes:
            out["notes"] = list(self.notes)
        return out


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 1e-9 else np.zeros(3)


def _deg(cos: float) -> float:
    return math.degrees(math.acos(max(-1.0, min(1.0, cos))))


def dicom_affine(orientation: list[float], position: list[float],
                 pixel_spacing: tuple[float, float], slice_step: np.ndarray | None
                 ) -> np.ndarray:
    """RAS+ affine of a DICOM stack stored as (rows, columns, slices).

    ``orientation`` is ImageOrientationPatient (row direction, then column direction, LPS),
    ``slice_step`` the LPS vector from one stored slice to the next (None: one slice, the
    plane normal is used).
    """
    row_dir = np.asarray(orientation[:3], float)
    col_dir = np.asarray(orientation[3:6], float)
    step = np.cross(row_dir, col_dir) if slice_step is None else np.asarray(slice_step, float)
    lps = np.eye(4)
    lps[:3, 0] = col_dir * pixel_spacing[0]      # array axis 0: down the rows
    lps[:3, 1] = row_dir * pixel_spacing[1]      # array axis 1: along a row
    lps[:3, 2] = step
    lps[:3, 3] = np.asarray(position, float)
    return np.diag([-1.0, -1.0, 1.0, 1.0]) @ lps


def check_oblique(affine: np.ndarray, view: str) -> None:
    """Raise when an affine cannot be a cardiac plane's real geometry (placeholder)."""
    m = np.asarray(affine, float)[:3, :3]
    cols = [_unit(m[:, a]) for a in range(3)]
    if any(not c.any() for c in cols[:2]):
        raise OrientationError("affine has a zero in-plane axis")
    if all(float(np.max(np.abs(c))) > AXIS_ALIGNED for c in cols[:2]):
        raise OrientationError("affine is axis-aligned (a placeholder: cardiac planes are "
                               "oblique)")
    normal = _unit(np.cross(cols[0], cols[1]))
    cos = abs(float(normal @ APEX_RAS))
    if view == "sax" and cos < MIN_AXIS_COS:
        raise OrientationError(f"slice normal is {_deg(cos):.0f} degrees off the expected LV "
                               "long axis: not a short-axis plane by its geometry")
    if view != "sax" and cos > MAX_LAX_COS:
        raise OrientationError(f"plane normal is only {_deg(cos):.0f} degrees off the "
                               "expected LV long axis: not a long-axis plane by its geometry")


def sax_display_axes(normal: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(apex normal, image-left, image-up) patient directions of a short-axis plane.

    The plane normal is oriented towards the apex (``n . APEX_RAS > 0``); image-left is the
    nominal septal direction SEPTUM_RAS projected on the plane; image-up = left x n, so the
    display (rows down, columns right, normal towards the viewer) is seen from the apex.
    """
    n = _unit(np.asarray(normal, float))
    n = n if float(n @ APEX_RAS) >= 0 else -n
    left = _unit(SEPTUM_RAS - (SEPTUM_RAS @ n) * n)
    return n, left, np.cross(left, n)


def wall_direction(angle_deg: float, left: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Patient direction of a display angle (0 = up, counter-clockwise towards image-left)."""
    t = math.radians(angle_deg)
    return math.cos(t) * up + math.sin(t) * left


def from_affine(affine: np.ndarray, view: str, slices: int = 1) -> Orientation:
    """The transform that makes a series canonical, from its RAS+ affine.

    Short axis (docs/geometry.md): the nominal septal direction SEPTUM_RAS, projected on the
    plane, towards the image left; up = left x apex normal (seen from the apex, frame
    right-handed with the slice axis pointing to the apex); slices base to apex.
    Long axis: the apex (projected) towards row 0; on the image right the wall named in
    docs/geometry.md (4CH anterolateral, 3CH inferolateral, 2CH anterior), its direction
    taken from the nominal short-axis frame of APEX_RAS.
    """
    if view not in VIEWS:
        raise ValueError(f"unknown view {view!r}")
    check_oblique(affine, view)
    m = np.asarray(affine, float)[:3, :3]
    c_i, c_j, c_k = (_unit(m[:, a]) for a in range(3))
    normal = _unit(np.cross(c_i, c_j))
    notes: list[str] = []
    if view == "sax":
        along = float(c_k @ APEX_RAS) if slices > 1 else float(normal @ APEX_RAS)
        reverse = slices > 1 and along < 0
        apex_normal, left, up = sax_display_axes(normal)
        target_i, target_j = -up, -left
        projected = float(np.linalg.norm(SEPTUM_RAS - (SEPTUM_RAS @ apex_normal)
                                         * apex_normal))
    else:
        reverse = False
        towards_apex = _unit(APEX_RAS - (APEX_RAS @ normal) * normal)
        target_i = -towards_apex
        _, left0, up0 = sax_display_axes(APEX_RAS)
        side = wall_direction(LAX_RIGHT_WALL_DEG[view], left0, up0)
        target_j = np.cross(normal, target_i)
        if float(target_j @ side) < 0:
            target_j = -target_j
        projected = abs(float(target_j @ side))
    best = max(ALL_IN_PLANE, key=lambda t: _score(t, c_i, c_j, target_i, target_j))
    new_i, _ = best.directions(c_i, c_j)
    off = _deg(float(new_i @ target_i))
    confidence = "high" if off < HIGH_MAX_OFF_DEG and projected > 0.4 else "medium"
    if confidence != "high":
        notes.append(f"image rows are {off:.0f} degrees off the target direction (a 90-degree "
                     f"step is ambiguous at 45); reference direction projects at "
                     f"{projected:.2f} on the plane")
    return Orientation(best, reverse, "geometry", confidence, tuple(notes))


def _score(t: InPlane, c_i: np.ndarray, c_j: np.ndarray, target_i: np.ndarray,
           target_j: np.ndarray) -> float:
    new_i, new_j = t.directions(c_i, c_j)
    return float(new_i @ target_i + new_j @ target_j)


# ------------------------------------------------------------------ segmentation fallback


def _circular_mean(angles: list[float]) -> float:
    rad = np.radians(angles)
    return math.degrees(math.atan2(float(np.sin(rad).mean()), float(np.cos(rad).mean()))) % 360


def _signed(delta: float) -> float:
    return (delta + 180.0) % 360.0 - 180.0


def base_to_apex_reversed(cavity: np.ndarray) -> bool:
    """Whether a stack runs apex first, from the LV cavity-area profile (H, W, slices).

    The base has the larger cavity: the mean area of the first third of the filled slices is
    compared with the last third; a ratio under MIN_PROFILE_RATIO either way is undecided.
    """
    areas = cavity.reshape(-1, cavity.shape[2]).sum(axis=0).astype(float)
    filled = np.flatnonzero(areas)
    if len(filled) < 2:
        raise OrientationError("LV cavity in fewer than 2 slices: the cavity-area profile "
                               "does not tell base from apex")
    third = max(1, len(filled) // 3)
    first, last = areas[filled[:third]].mean(), areas[filled[-third:]].mean()
    if max(first, last) < MIN_PROFILE_RATIO * min(first, last):
        raise OrientationError(f"cavity area is similar at both ends ({first:.0f} vs "
                               f"{last:.0f} pixels): base and apex undecided")
    return bool(last > first)


def from_segmentation(lv: np.ndarray, rv: np.ndarray, septum_deg: list[float],
                      rv_offset_deg: list[float]) -> Orientation:
    """The transform from a short-axis segmentation (H, W, slices).

    Args:
        lv: LV cavity mask (base/apex from its area profile).
        rv: RV mask (only checked for presence).
        septum_deg: per slice with both ventricles, the display angle of the septum centre
            (between the RV insertion points) in the stored array.
        rv_offset_deg: per such slice, the RV centroid's angle minus the septum angle.

    The rotation puts the septum at 90 degrees (image left). Mirror: across short-axis
    slices the RV lies anterior of the insertion-point bisector (the RV outflow tract is
    anterior), so the parity whose RV centroid sits at least MIRROR_MARGIN_DEG towards
    anterior (smaller angle) is chosen with confidence "low"; otherwise the mirror is
    reported unresolved (``unresolved`` holds "mirror") and anterior/inferior may be swapped.
    """
    if not rv.any() or not septum_deg:
        raise OrientationError("no RV label next to the LV: the in-plane rotation cannot be "
                               "told from the segmentation")
    reverse = base_to_apex_reversed(lv)
    septum = _circular_mean(septum_deg)
    offset = float(np.median(rv_offset_deg)) if rv_offset_deg else 0.0
    candidates = sorted(ALL_IN_PLANE, key=lambda t: abs(_signed(t.angle(septum) - 90.0)))[:2]
    notes = [f"septum at {septum:.0f} degrees in the stored array"]
    chosen: InPlane | None = None
    for t in candidates:
        moved = _signed(t.angle(septum + offset) - t.angle(septum))
        if moved <= -MIRROR_MARGIN_DEG:
            chosen = t
    if chosen is None:
        notes.append(f"RV centroid {abs(offset):.0f} degrees from the septum centre: mirror "
                     "(anterior/inferior) unresolved")
        return Orientation(candidates[0], reverse, "segmentation", "low", tuple(notes),
                           ("mirror",))
    notes.append(f"mirror from the RV centroid {abs(offset):.0f} degrees anterior of the "
                 "septum centre")
    return Orientation(chosen, reverse, "segmentation", "low", tuple(notes))


def slice_order_only(lv: np.ndarray, reason: str) -> Orientation:
    """Base/apex from the cavity profile when nothing tells the in-plane rotation (no RV
    label, no geometry): the in-plane frame is reported unresolved, never guessed."""
    reverse = base_to_apex_reversed(lv)
    return Orientation(InPlane(), reverse, "segmentation", "low",
                       (f"in-plane rotation and mirror unresolved: {reason}",),
                       ("rotation", "mirror"))
