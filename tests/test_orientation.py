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


def canonical_axes(tilt_axis: np.ndarray, tilt: float, spin: float) -> np.ndarray:
    """Columns c_i, c_j, c_k of a canonical short-axis frame around an oblique LV axis.

    ``spin`` turns the image up-vector off the projected anterior direction (a real
    acquisition is never exactly aligned), staying under 45 degrees."""
    axis = _rotation(tilt_axis, tilt) @ APEX_RAS
    up = np.array([0.0, 1.0, 0.0]) - axis[1] * axis
    up /= np.linalg.norm(up)
    c_i = _rotation(axis, spin) @ -up
    c_j = np.cross(axis, c_i)
    return np.stack([c_i, c_j, axis], axis=1)


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


def test_canonical_frame_is_right_handed_with_anterior_up() -> None:
    axes = canonical_axes(np.array([1.0, 0.3, 0.2]), 20.0, 15.0)
    assert np.linalg.det(axes) > 0
    assert axes[:, 0] @ np.array([0.0, 1.0, 0.0]) < 0          # anterior towards row 0
    assert axes[:, 1] @ np.array([-1.0, 0.0, 0.0]) > 0         # lateral (patient left) right
    assert axes[:, 2] @ APEX_RAS > 0


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
