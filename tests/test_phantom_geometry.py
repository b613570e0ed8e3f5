"""The phantom's written affines follow the canonical frame (docs/geometry.md) and place
the drawn heart where the pixels show it."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from cardiolens.data.dataset import read_dataset
from cardiolens.data.orientation import APEX_RAS, SEPTUM_RAS, from_affine
from cardiolens.data.validate import validate_dataset
from cardiolens.errors import CardiolensError
from cardiolens.phantom.cohort import (
    cohort_params,
    generate_cohort,
    orientation_record,
    sample_params,
)
from cardiolens.phantom.params import DIAGNOSES
from cardiolens.phantom.sequences import LAX_ANGLE, Renderer
from cardiolens.phantom.thorax import HeartFrame


@pytest.fixture(scope="module")
def small_cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("geometry") / "cohort"
    return generate_cohort(root, studies=3, seed=5, progress=False, workers=1)


def _unit_columns(affine: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cols = [affine[:3, i] / np.linalg.norm(affine[:3, i]) for i in range(3)]
    return cols[0], cols[1], cols[2]


def test_written_affines_follow_the_canonical_frame(small_cohort: Path) -> None:
    data = read_dataset(small_cohort)
    assert len(data.studies) == 3
    for sid, study in data.studies.items():
        scan = cohort_params(5, int(sid[1:]), 3).scan
        assert scan is not None
        apex = np.asarray(scan.apex)
        for name, info in study.series.items():
            image = nib.load(str(small_cohort / info.path))
            affine = image.affine
            assert np.allclose(image.header.get_sform(), affine)
            c_i, c_j, c_k = _unit_columns(affine)
            assert np.linalg.det(affine[:3, :3]) > 0, (sid, name)
            if name.endswith("_sax"):
                assert c_k @ apex > 0.99, (sid, name)               # slices base to apex
                assert c_j @ SEPTUM_RAS < 0, (sid, name)            # septum on the left
            else:
                assert c_i @ apex < -0.9, (sid, name)               # apex at the top
            view = name.split("_")[1]
            found = from_affine(affine, view, slices=info.slices)
            assert found.in_plane.name == "identity" and not found.reverse_slices, (sid, name)
            assert found.confidence == "high", (sid, name, found.notes)


def test_every_series_records_its_orientation_as_an_importer_would(small_cohort: Path) -> None:
    assert validate_dataset(small_cohort) == []
    records = [json.loads(line) for line in (small_cohort / "studies.jsonl").open()]
    for record in records:
        for name, raw in record["series"].items():
            image = nib.load(str(small_cohort / raw["path"]))
            expected = from_affine(image.affine, name.split("_")[1], raw["slices"]).to_json()
            assert raw["orientation"] == expected, (record["study_id"], name)
            assert (raw["orientation"]["evidence"], raw["orientation"]["in_plane"],
                    raw["orientation"]["reversed_slices"]) == ("geometry", "identity", False)
    study = read_dataset(small_cohort).studies[records[0]["study_id"]]
    assert study.series["cine_sax"].orientation == records[0]["series"]["cine_sax"][
        "orientation"]


def test_a_non_canonical_phantom_affine_is_refused() -> None:
    renderer = Renderer(sample_params(5, 0, "normal"))
    good = renderer.affine("cine_sax")
    assert orientation_record(good, "cine_sax", 10)["in_plane"] == "identity"
    flipped = good.copy()
    flipped[:3, 1] *= -1                        # columns run the other way: septum right
    with pytest.raises(CardiolensError, match="non-canonical"):
        orientation_record(flipped, "cine_sax", 10)


@pytest.mark.parametrize("diagnosis", DIAGNOSES[:3])
def test_affine_maps_the_drawn_lv_axis_and_walls(diagnosis: str) -> None:
    p = sample_params(3, 1, diagnosis)
    renderer = Renderer(p)
    assert p.scan is not None
    frame = HeartFrame.of(p.scan)
    affine = renderer.affine("cine_sax")
    n = p.acq.n_slices
    cy, cx = p.acq.centre
    for k in range(n - 1):        # LV centre of slice k lies on the long axis at its depth
        point = affine @ np.array([cy, cx, k, 1.0])
        assert np.allclose(point[:3], renderer.model.slice_u[k] * frame.a, atol=1e-3)
    c_i, c_j, _ = _unit_columns(affine)
    assert c_j @ frame.direction(90.0) < -0.9          # septum (and RV) on the image left
    assert frame.direction(90.0) @ SEPTUM_RAS > 0.9      # ... towards the patient's right
    assert frame.a @ APEX_RAS > 0.9
    for view, psi in LAX_ANGLE.items():
        lax = renderer.affine(f"cine_{view}")
        c_i, c_j, _ = _unit_columns(lax)
        assert c_i @ frame.a < -0.9, view                  # apex up
        assert c_j @ frame.direction(psi) > 0.9, view      # the table's wall on the right


def test_field_of_view_and_heart_share_are_clinical() -> None:
    for index, diagnosis in enumerate(DIAGNOSES):
        p = sample_params(11, index, diagnosis)
        assert p.scan is not None
        fov_w, fov_h = p.scan.cols * p.acq.pixel_mm, p.scan.rows * p.acq.pixel_mm
        assert 290.0 <= fov_w <= 410.0 and 0.7 * fov_w <= fov_h <= fov_w, (fov_w, fov_h)
        assert 1.3 <= p.acq.pixel_mm <= 2.0
        heart_area = np.pi * (p.heart.r_endo + 10.0) ** 2
        assert heart_area / (fov_w * fov_h) < 0.12
