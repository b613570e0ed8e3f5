"""MyoPS importer on synthetic co-registered C0 / DE / T2 stacks with MyoPS labels."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from test_import_acdc import SIZE, _slice

from cardiolens.cli import main
from cardiolens.data.dataset import read_dataset
from cardiolens.data.orientation import IDENTITY, InPlane
from cardiolens.data.validate import validate_dataset

SLICES = 7


def _labels(scar_slices: range, edema_slices: range) -> np.ndarray:
    """ACDC-style slices relabelled (RV 600, myocardium 200, LV 500); subendocardial scar
    (2221) in the inferolateral wall, edema (1220) across that wall, on the given slices."""
    rows, cols = np.mgrid[:SIZE, :SIZE]
    out = np.zeros((SIZE, SIZE, SLICES), np.int32)
    for z in range(SLICES):
        acdc = _slice(16 - z, 5)
        seg = np.choose(acdc, [0, 600, 200, 500]).astype(np.int32)
        angle = np.degrees(np.arctan2(-(cols - 46), -(rows - 40))) % 360
        quadrant = (angle > 220) & (angle < 260) & (seg == 200)   # inferolateral
        if z in edema_slices:
            seg[quadrant] = 1220
        if z in scar_slices:
            seg[quadrant & (np.hypot(rows - 40, cols - 46) < 16 - z + 3)] = 2221
        out[:, :, z] = seg
    return out


def scatter(labels: np.ndarray, count: int, seed: int = 3) -> np.ndarray:
    """Scattered single scar voxels (2221) over the myocardium of every slice: label noise."""
    out = labels.copy()
    myo = np.argwhere(out == 200)
    picks = myo[np.random.default_rng(seed).choice(len(myo), count, replace=False)]
    out[picks[:, 0], picks[:, 1], picks[:, 2]] = 2221
    return out


def make_case(root: Path, name: str, labels: np.ndarray, drop: str = "",
              codes: tuple[str, ...] = ("C0", "DE", "T2"), stored: InPlane = IDENTITY,
              apex_first: bool = False) -> None:
    """A case with placeholder affines; arrays transformed from the canonical frame by
    ``stored`` (and apex first when asked), as real MyoPS files are."""
    root.mkdir(parents=True, exist_ok=True)
    affine = np.diag([1.5, 1.5, 10.0, 1.0])
    labels = np.ascontiguousarray(stored.apply(labels)[:, :, ::-1 if apex_first else 1])
    for code in codes:
        if code != drop:
            image = (np.isin(labels, (2221,)) * 500 + (labels > 0) * 100).astype(np.int16)
            nib.save(nib.Nifti1Image(image, affine), str(root / f"{name}_{code}.nii.gz"))
    nib.save(nib.Nifti1Image(labels.astype(np.int16), affine),
             str(root / "gd" / f"{name}_gd.nii.gz") if (root / "gd").is_dir() else
             str(root / f"{name}_gd.nii.gz"))


def test_myops_cases_give_lge_edema_and_cross_items(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "myops"
    make_case(src, "myops_training_101", _labels(range(0, 3), range(0, 4)))
    make_case(src, "myops_training_102", _labels(range(0), range(0)))
    make_case(src, "myops_training_103", _labels(range(0, 2), range(0, 2)), drop="T2")
    make_case(src, "myopspp_104", scatter(_labels(range(0, 3), range(0, 4)), 60),
              codes=("C0", "LGE", "T2"), stored=InPlane(True, False, True), apex_first=True)
    make_case(src, "myops_training_105", scatter(_labels(range(0), range(0)), 40))
    make_case(src, "myops_training_106", _labels(range(0), range(0)), codes=("C0", "T2"))
    out = tmp_path / "out"
    assert main(["import", "myops", str(src), str(out), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "myops_training_106_DE.nii.gz (or myops_training_106_LGE.nii.gz) is missing" in err
    assert validate_dataset(out) == []
    answers = {i.item_id: i.answer for i in read_dataset(out).items}
    case = "myops-myops_training_101"
    assert answers[f"{case}/lge_presence"] == "Yes"
    assert answers[f"{case}/lge_walls"] == ["Inferolateral"]
    assert answers[f"{case}/lge_territories"] == ["LCx"]
    assert answers[f"{case}/lge_layer"] == ["Subendocardial"]
    assert answers[f"{case}/lge_levels"] == ["Basal segment", "Mid segment"]
    assert answers[f"{case}/t2_edema_walls"] == ["Inferolateral"]
    assert answers[f"{case}/t2_edema_levels"] == ["Basal", "Mid"]
    assert answers[f"{case}/cross_lge_t2"] == "LGE and edema in the same region"
    assert answers["myops-myops_training_102/lge_presence"] == "No"
    assert answers["myops-myops_training_102/cross_lge_t2"] == "Neither"
    # a missing T2 leaves that series out; the case imports
    ds = read_dataset(out)
    assert set(ds.studies["myops-myops_training_103"].series) == {"cine_sax", "lge_sax"}
    # ... and with it every T2 item: the labels alone would ask about an image not shown
    no_t2 = {k.split("/")[1] for k in answers if k.startswith("myops-myops_training_103/")}
    assert "lge_presence" in no_t2
    assert not {"t2_edema_presence", "t2_edema_levels", "t2_edema_walls", "cross_lge_t2"} & no_t2
    # MyoPS++ names the LGE _LGE; stored mirrored and apex first, with label noise in every
    # wall and level: the same sites as the clean canonical case
    plus = "myops-myopspp_104"
    assert set(ds.studies[plus].series) == {"cine_sax", "lge_sax", "t2_sax"}
    for subtask in ("lge_walls", "lge_territories", "lge_levels", "t2_edema_walls",
                    "t2_edema_levels", "cross_lge_t2"):
        assert answers[f"{plus}/{subtask}"] == answers[f"{case}/{subtask}"], subtask
    # noise alone is no finding
    assert answers["myops-myops_training_105/lge_presence"] == "No"
    assert answers["myops-myops_training_105/cross_lge_t2"] == "Neither"


def test_an_unreadable_optional_image_is_left_out_and_the_case_imports(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A truncated _T2 is left out with one line, as a missing one is (no T2 items); a
    truncated LGE, which the case needs, skips the case; the other cases import."""
    src = tmp_path / "myops"
    make_case(src, "myops_training_101", _labels(range(0, 3), range(0, 4)))
    make_case(src, "myops_training_102", _labels(range(0, 3), range(0, 4)))
    make_case(src, "myops_training_103", _labels(range(0, 3), range(0, 4)))
    for name, code in (("myops_training_101", "T2"), ("myops_training_102", "DE")):
        path = src / f"{name}_{code}.nii.gz"
        path.write_bytes(path.read_bytes()[:200])
    out = tmp_path / "out"
    assert main(["import", "myops", str(src), str(out), "--quiet"]) == 0
    err = capsys.readouterr().err.splitlines()
    (t2,) = [x for x in err if "myops_training_101_T2.nii.gz" in x]
    assert "unreadable" in t2 and t2.endswith("case imported without myops_training_101_T2")
    assert any("myops_training_102_DE.nii.gz: unreadable" in x for x in err)
    ds = read_dataset(out)
    assert set(ds.studies) == {"myops-myops_training_101", "myops-myops_training_103"}
    assert set(ds.studies["myops-myops_training_101"].series) == {"cine_sax", "lge_sax"}
    subtasks = {i.subtask for i in ds.items if i.study_id == "myops-myops_training_101"}
    assert "lge_presence" in subtasks and not {s for s in subtasks if s.startswith("t2_")}
