"""Bring an imported short-axis series into the canonical frame (docs/geometry.md).

Evidence, in order: the NIfTI affine (qform/sform) when it is a real oblique cardiac plane,
with the in-plane rotation taken from the septum when a segmentation with an RV is given;
otherwise the segmentation (LV/RV layout for the in-plane rotation, the cavity-area profile
for base and apex, the RV's anterior offset for the mirror); what neither decides is reported
(``Orientation.unresolved``) or, with no evidence at all, the case is refused.
"""

from __future__ import annotations

import numpy as np

from cardiolens.data.orientation import (
    ALL_IN_PLANE,
    Orientation,
    OrientationError,
    base_to_apex_reversed,
    from_affine,
    from_segmentation,
    slice_order_only,
)
from cardiolens.importers.cardiac_geometry import Labels, rv_layout
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


def _rotation_from_septum(orientation: Orientation, seg: np.ndarray, labels: Labels
                          ) -> Orientation:
    """Geometry decided; the segmentation's septum (when drawn) sets the in-plane rotation.

    Geometry keeps the mirror (the parity of the transform) and the slice order: of the four
    transforms with the geometry's parity, the one that puts the septum centre closest to 90
    degrees (image left) is taken. A rotation differing from the geometry's own choice, or a
    cavity profile saying apex first, is noted and lowers the confidence ("check the affine").
    """
    septum, _ = _layout(seg, labels)
    notes = list(orientation.notes)
    chosen = orientation.in_plane
    evidence, confidence = orientation.evidence, orientation.confidence
    if septum:
        rad = np.radians(septum)
        mean = float(np.degrees(np.arctan2(np.sin(rad).mean(), np.cos(rad).mean()))) % 360
        same_parity = [t for t in ALL_IN_PLANE if t.mirrors == orientation.in_plane.mirrors]
        chosen = min(same_parity, key=lambda t: abs(_signed(t.angle(mean) - 90.0)))
        evidence = "geometry+segmentation"
        notes.append(f"rotation from the segmentation's septum (at {mean:.0f} degrees in the "
                     "stored array); mirror and slice order from the geometry")
        if chosen != orientation.in_plane:
            geometric = orientation.in_plane.angle(mean)
            notes.append(f"the geometry alone puts the septum at {geometric:.0f} degrees "
                         "(expected 90): check the affine")
            confidence = "medium" if abs(_signed(geometric - 90.0)) <= 90.0 else "low"
    try:
        if base_to_apex_reversed(orientation.apply(seg) == labels.lv):
            notes.append("cavity-area profile says apex first after the geometry transform: "
                         "check the affine")
            confidence = "low"
    except OrientationError:
        pass
    return Orientation(chosen, orientation.reverse_slices, evidence, confidence, tuple(notes),
                       orientation.unresolved)


def _signed(delta: float) -> float:
    return (delta + 180.0) % 360.0 - 180.0


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
                return _rotation_from_septum(orientation, seg, labels)
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

