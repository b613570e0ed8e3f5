"""Bring an imported short-axis series into the canonical frame (docs/geometry.md).

Evidence, in order: the NIfTI affine (qform/sform) when it is a real oblique cardiac plane;
otherwise the segmentation (LV/RV layout for the in-plane rotation, the cavity-area profile
for base and apex, the RV's anterior offset for the mirror); what neither decides is reported
(``Orientation.unresolved``) or, with no evidence at all, the case is refused.
"""

from __future__ import annotations

import numpy as np

from cardiolens.data.orientation import (
    Orientation,
    OrientationError,
    base_to_apex_reversed,
    from_affine,
    from_segmentation,
    slice_order_only,
)
from cardiolens.importers.cardiac_geometry import Labels, rv_layout, septum_angle
from cardiolens.importers.case_error import CaseError

MIRROR_DEPENDENT = ("lge_walls", "lge_territories", "t2_edema_walls", "cine_thickened_walls")


def _layout(seg: np.ndarray, labels: Labels) -> tuple[list[float], list[float]]:
    septum, offset = [], []
    for z in range(seg.shape[2]):
        found = rv_layout(seg[:, :, z], labels)
        if found is not None:
            septum.append(found[0])
            offset.append(found[1])
    return septum, offset


def _cross_check(orientation: Orientation, seg: np.ndarray, labels: Labels) -> Orientation:
    """Geometry decided; note (and lower confidence) where the segmentation disagrees."""
    moved = orientation.apply(seg)
    notes = list(orientation.notes)
    angles = [a for z in range(moved.shape[2])
              if (a := septum_angle(moved[:, :, z], labels)) is not None]
    if angles:
        rad = np.radians(angles)
        mean = float(np.degrees(np.arctan2(np.sin(rad).mean(), np.cos(rad).mean()))) % 360
        if abs((mean - 90.0 + 180.0) % 360.0 - 180.0) > 60.0:
            notes.append(f"segmentation puts the septum at {mean:.0f} degrees after the "
                         "geometry transform (expected 90): check the affine")
    try:
        if base_to_apex_reversed(moved == labels.lv):
            notes.append("cavity-area profile says apex first after the geometry transform: "
                         "check the affine")
    except OrientationError:
        pass
    if len(notes) == len(orientation.notes):
        return orientation
    return Orientation(orientation.in_plane, orientation.reverse_slices, orientation.evidence,
                       "low", tuple(notes), orientation.unresolved)


def orient_short_axis(affine: np.ndarray | None, seg: np.ndarray | None,
                      labels: Labels | None) -> Orientation:
    """The transform for a short-axis series (H, W, slices) and its segmentation.

    ``labels.rv`` may be 0 for schemes without an RV label. Raises CaseError with the reasons
    when neither geometry nor segmentation decides the slice order.
    """
    reasons = []
    if affine is not None:
        try:
            orientation = from_affine(affine, "sax", seg.shape[2] if seg is not None else 2)
        except OrientationError as exc:
            reasons.append(str(exc))
        else:
            if seg is not None and labels is not None and labels.rv:
                return _cross_check(orientation, seg, labels)
            return orientation
    else:
        reasons.append("no affine (qform and sform unset)")
    if seg is None or labels is None:
        raise CaseError(f"orientation undecided: {'; '.join(reasons)}; no segmentation")
    lv = seg == labels.lv
    try:
        if labels.rv:
            septum, offset = _layout(seg, labels)
            orientation = from_segmentation(lv, seg == labels.rv, septum, offset)
        else:
            orientation = slice_order_only(lv, "no RV label")
    except OrientationError as exc:
        raise CaseError(f"orientation undecided: {'; '.join(reasons)}; segmentation: {exc}"
                        ) from None
    return Orientation(orientation.in_plane, orientation.reverse_slices, orientation.evidence,
                       orientation.confidence, (f"geometry not used: {reasons[0]}",
                                                *orientation.notes), orientation.unresolved)

