"""The canonical frame from geometry and from segmentations: every stored orientation of a
synthetic series (8 in-plane transforms x 2 slice orders x oblique affines) comes back
canonical, and what the evidence cannot decide is refused or reported, never guessed."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from cardiolens.data.orientation import (
    ALL_IN_PLANE,
    APEX_RAS,
    IDENTITY,
    InPlane,
    OrientationError,
    dicom_affine,
    from_affine,
    from_segmentation,
)
from cardiolens.importers.cardiac_geometry import Labels
from cardiolens.importers.case_error import CaseError
from cardiolens.importers.reorient import orient_short_axis


def _rotation(axis: np.ndarray, degrees: float) -> np.ndarray:
    axis = axis / np.linalg.norm(axis)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    t = np.radians(degrees)
    return np.eye(3) + np.sin(t) * k + (1 - np.cos(t)) * k @ k


RIGHT_ANTERIOR = np.array([1.0, 1.0, 0.0]) / np.sqrt(2.0)     # LV -> RV, RAS
SUNNYBROOK_AXIS = np.array([-0.67193, 0.66646, -0.32301])    # tests/data/sunnybrook normal


def axes_around(axis: np.ndarray, spin: float) -> np.ndarray:
    """Columns c_i, c_j, c_k of the standard display around the LV axis ``axis``: the
    patient's right-anterior direction (LV -> RV) projected to image-left, seen from the apex
    (c_i x c_j = c_k towards the apex), turned by ``spin`` degrees (under 45)."""
    axis = axis / np.linalg.norm(axis)
    left = RIGHT_ANTERIOR - (RIGHT_ANTERIOR @ axis) * axis
    left /= np.linalg.norm(left)
    c_j = _rotation(axis, spin) @ -left
    c_i = np.cross(c_j, axis)
    return np.stack([c_i, c_j, axis], axis=1)


def canonical_axes(tilt_axis: np.ndarray, tilt: float, spin: float) -> np.ndarray:
    """The standard display (:func:`axes_around`) around the nominal LV axis tilted by
    ``tilt`` degrees about ``tilt_axis``."""
    return axes_around(_rotation(tilt_axis, tilt) @ APEX_RAS, spin)


def display_angle(direction: np.ndarray, c_i: np.ndarray, c_j: np.ndarray) -> float:
    """Display angle (0 = up, counter-clockwise towards image-left) of a patient direction
    in an image whose rows / columns run along c_i / c_j."""
    return float(np.degrees(np.arctan2(-(direction @ c_j), -(direction @ c_i)))) % 360.0


def stored(axes: np.ndarray, t: InPlane, reverse: bool, spacing: tuple[float, float, float]
           ) -> np.ndarray:
    """Affine of a canonical series after transform ``t`` (and slice reversal)."""
    c_i, c_j = axes[:, 0] * spacing[0], axes[:, 1] * spacing[1]
    new_i, new_j = t.directions(c_i, c_j)
    affine = np.eye(4)
    affine[:3, 0], affine[:3, 1] = new_i, new_j
    affine[:3, 2] = -axes[:, 2] * spacing[2] if reverse else axes[:, 2] * spacing[2]
    affine[:3, 3] = [12.0, -40.0, 30.0]
    return affine


CASES = list(itertools.product(ALL_IN_PLANE, (False, True),
                               ((np.array([1.0, 0.3, 0.2]), 20.0, 15.0),
                                (np.array([0.1, 1.0, -0.5]), -25.0, -35.0),
                                (np.array([0.0, 0.0, 1.0]), 10.0, 40.0))))


@pytest.mark.parametrize(("t", "reverse", "oblique"), CASES)
def test_every_stored_orientation_comes_back_canonical(
        t: InPlane, reverse: bool, oblique: tuple[np.ndarray, float, float]) -> None:
    rng = np.random.default_rng(0)
    canonical = rng.normal(size=(6, 9, 4, 2))          # non-square, asymmetric
    spacing = (1.2, 1.7, 8.0)
    data = t.apply(canonical)
    if reverse:
        data = data[:, :, ::-1]
    affine = stored(canonical_axes(*oblique), t, reverse,
                    t.spacing((spacing[0], spacing[1], spacing[2])))
    found = from_affine(affine, "sax", slices=4)
    assert found.evidence == "geometry"
    assert found.reverse_slices == reverse
    np.testing.assert_array_equal(found.apply(data), canonical)
    assert found.in_plane.spacing(t.spacing(spacing)) == spacing
    record = found.to_json()
    assert record["evidence"] == "geometry" and record["reversed_slices"] == reverse


def test_canonical_frame_is_right_handed_with_the_septum_left() -> None:
    axes = canonical_axes(np.array([1.0, 0.3, 0.2]), 20.0, 15.0)
    assert np.linalg.det(axes) > 0
    assert axes[:, 1] @ RIGHT_ANTERIOR < 0                     # RV (right-anterior) left
    assert axes[:, 1] @ np.array([-1.0, 0.0, 0.0]) > 0         # lateral (patient left) right
    assert axes[:, 0] @ np.array([0.0, 0.0, 1.0]) < 0          # anterior wall faces up-ish
    assert axes[:, 2] @ APEX_RAS > 0


@pytest.mark.parametrize("axis", [APEX_RAS, SUNNYBROOK_AXIS], ids=["nominal", "sunnybrook"])
@pytest.mark.parametrize("spin", [-20.0, 0.0, 25.0])
@pytest.mark.parametrize("t", ALL_IN_PLANE)
def test_rv_lands_on_the_image_left(axis: np.ndarray, spin: float, t: InPlane) -> None:
    """A series whose canonical display has the RV (patient right-anterior of the LV) on
    the image left, stored under each transform, comes back with the RV direction at 90
    degrees (+- the acquisition's spin) and high confidence. The former anterior-up rule put
    it at ~0 (top) for these axes."""
    axes = axes_around(axis, spin)
    affine = np.eye(4)
    affine[:3, 0], affine[:3, 1] = t.directions(axes[:, 0], axes[:, 1])
    affine[:3, 2] = axes[:, 2] * 8.0
    found = from_affine(affine, "sax", slices=6)
    assert found.confidence == "high" and not found.reverse_slices
    new_i, new_j = found.in_plane.directions(affine[:3, 0], affine[:3, 1])
    rv = display_angle(RIGHT_ANTERIOR, new_i, new_j)
    assert abs(rv - 90.0) <= abs(spin) + 1.0, rv
    assert np.linalg.det(np.stack([new_i, new_j, axes[:, 2]], axis=1)) > 0  # not mirrored


def test_confidence_is_medium_near_a_snap_boundary() -> None:
    """Rows 40 degrees off the target: a 90-degree step is nearly ambiguous."""
    axes = axes_around(APEX_RAS, 40.0)
    affine = np.eye(4)
    affine[:3, 0], affine[:3, 1], affine[:3, 2] = axes[:, 0], axes[:, 1], axes[:, 2]
    found = from_affine(affine, "sax", slices=2)
    assert found.confidence == "medium" and "40 degrees off" in found.notes[0]


@pytest.mark.parametrize("t", ALL_IN_PLANE)
def test_long_axis_views_come_back_apex_up(t: InPlane) -> None:
    """A 4CH plane containing the LV axis: apex at row 0, the patient's left on the right."""
    axis = APEX_RAS
    lateral = np.array([-1.0, 0.0, 0.0]) - (APEX_RAS @ [-1.0, 0.0, 0.0]) * APEX_RAS
    lateral /= np.linalg.norm(lateral)
    c_i, c_j = -axis, lateral
    canonical = np.random.default_rng(1).normal(size=(7, 5, 1, 3))
    new_i, new_j = t.directions(c_i, c_j)
    affine = np.eye(4)
    affine[:3, 0], affine[:3, 1], affine[:3, 2] = new_i, new_j, np.cross(new_i, new_j)
    found = from_affine(affine, "4ch")
    np.testing.assert_array_equal(found.apply(t.apply(canonical)), canonical)


@pytest.mark.parametrize(("view", "right_wall"), [("4ch", 300.0), ("3ch", 240.0),
                                                 ("2ch", 0.0)])
@pytest.mark.parametrize("t", ALL_IN_PLANE)
def test_each_long_axis_view_shows_its_walls(view: str, right_wall: float, t: InPlane) -> None:
    """docs/geometry.md: apex at row 0 and the view's right wall (anterolateral, inferolateral,
    anterior; its short-axis display direction) on the image right."""
    axes = axes_around(APEX_RAS, 0.0)
    a = np.radians(right_wall)
    c_i, c_j = -axes[:, 2], np.cos(a) * -axes[:, 0] + np.sin(a) * -axes[:, 1]
    canonical = np.random.default_rng(2).normal(size=(7, 5, 1, 3))
    new_i, new_j = t.directions(c_i, c_j)
    affine = np.eye(4)
    affine[:3, 0], affine[:3, 1], affine[:3, 2] = new_i, new_j, np.cross(new_i, new_j)
    found = from_affine(affine, view)
    assert found.confidence == "high"
    np.testing.assert_array_equal(found.apply(t.apply(canonical)), canonical)


def test_placeholder_and_non_cardiac_affines_are_refused() -> None:
    with pytest.raises(OrientationError, match="axis-aligned"):
        from_affine(np.diag([1.5, 1.5, 10.0, 1.0]), "sax", 8)
    permuted = np.eye(4)
    permuted[:3, :3] = [[0, -1.25, 0], [1.25, 0, 0], [0, 0, 8]]
    with pytest.raises(OrientationError, match="axis-aligned"):
        from_affine(permuted, "sax", 8)
    axial = _oblique_axial()
    assert abs(np.cross(axial[:3, 0], axial[:3, 1]) @ APEX_RAS) < 0.6
    with pytest.raises(OrientationError, match="long axis"):
        from_affine(axial, "sax", 8)


def _oblique_axial() -> np.ndarray:
    """An axial plane tilted by 8 degrees: its normal is over 49 degrees off the LV axis."""
    affine = np.eye(4)
    rot = _rotation(np.array([1.0, 1.0, 0.0]), -8)
    affine[:3, 0], affine[:3, 1] = rot @ [0, -1.0, 0], rot @ [-1.0, 0, 0]
    affine[:3, 2] = np.cross(affine[:3, 0], affine[:3, 1])
    return affine


@pytest.mark.parametrize("reverse", [False, True])
def test_dicom_stack_direction_sets_slice_order(reverse: bool) -> None:
    """The same oblique short-axis stack written in both directions along its normal."""
    axes = canonical_axes(np.array([1.0, 0.3, 0.2]), 20.0, 15.0)
    lps = np.diag([-1.0, -1.0, 1.0])
    col_dir, row_dir, normal = lps @ axes[:, 0], lps @ axes[:, 1], lps @ axes[:, 2]
    step = -normal * 10 if reverse else normal * 10
    affine = dicom_affine([*row_dir, *col_dir], [0.0, 0.0, 0.0], (1.4, 1.4), step)
    found = from_affine(affine, "sax", 6)
    assert found.reverse_slices == reverse
    assert found.in_plane == InPlane()


def test_segmentation_without_rv_or_profile_is_refused_not_guessed() -> None:
    lv = np.zeros((20, 20, 5), bool)
    lv[8:12, 8:12, :] = True                            # same area everywhere
    rv = np.zeros_like(lv)
    with pytest.raises(OrientationError, match="RV"):
        from_segmentation(lv, rv, [], [])
    rv[8:12, 2:5, :] = True
    with pytest.raises(OrientationError, match="base and apex undecided"):
        from_segmentation(lv, rv, [90.0] * 5, [-20.0] * 5)


def test_segmentation_reports_an_unresolved_mirror() -> None:
    lv = np.zeros((20, 20, 5), bool)
    for z in range(5):
        lv[5:15 - z, 5:15 - z, z] = True
    rv = lv.copy()
    found = from_segmentation(lv, rv, [180.0] * 5, [0.0] * 5)
    assert found.unresolved == ("mirror",)
    assert found.to_json()["unresolved"] == ["mirror"]
    assert found.in_plane.angle(180.0) == pytest.approx(90.0)
    resolved = from_segmentation(lv, rv, [180.0] * 5, [-25.0] * 5)
    assert resolved.unresolved == ()
    assert resolved.in_plane.angle(180.0 - 25.0) == pytest.approx(65.0)


def test_no_geometry_and_no_segmentation_is_a_clear_refusal() -> None:
    with pytest.raises(CaseError, match=r"orientation undecided: no affine .*no segmentation"):
        orient_short_axis(None, None, None)
    labels = Labels(lv=3, myo=2, rv=1)
    seg = np.zeros((20, 20, 5), np.int16)
    for z in range(5):
        seg[5:15 - z, 5:15 - z, z] = labels.lv                   # no RV drawn
    with pytest.raises(CaseError, match=r"axis-aligned.*segmentation: no RV label"):
        orient_short_axis(np.diag([1.5, 1.5, 10.0, 1.0]), seg, labels)


@pytest.mark.parametrize(("spin", "confidence"), [(20.0, "high"), (60.0, "medium")])
@pytest.mark.parametrize("t", [IDENTITY, InPlane(True, False, True), InPlane(False, True, False)])
def test_segmentation_sets_the_rotation_geometry_the_mirror(spin: float, confidence: str,
                                                           t: InPlane) -> None:
    """A heart whose septum is ``spin`` degrees off the nominal direction: with a
    segmentation the septum still ends on the image left (the rotation comes from it), the
    slice order and mirror from the geometry; a rotation the geometry alone would not have
    chosen is flagged."""
    from test_import_acdc import _volume

    canonical = _volume(12.0, 5.0, 0.0)                       # septum at 90, base first
    axes = axes_around(APEX_RAS, spin)
    affine = np.eye(4)
    affine[:3, 0], affine[:3, 1] = t.directions(axes[:, 0], axes[:, 1])
    affine[:3, 2] = -axes[:, 2] * 10.0                        # stored apex first
    stored_seg = np.ascontiguousarray(t.apply(canonical)[:, :, ::-1])
    found = orient_short_axis(affine, stored_seg, Labels(lv=3, myo=2, rv=1))
    np.testing.assert_array_equal(found.apply(stored_seg), canonical)
    assert found.evidence == "geometry+segmentation" and found.reverse_slices
    assert found.confidence == confidence
    assert ("check the affine" in " ".join(found.notes)) == (confidence != "high")
