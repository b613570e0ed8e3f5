"""MyoPS importer on synthetic co-registered C0 / DE / T2 stacks with MyoPS labels."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from test_import_acdc import SIZE, _slice

from cardiolens.cli import main
from cardiolens.data.dataset import read_dataset
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


def make_case(root: Path, name: str, labels: np.ndarray, drop: str = "") -> None:
    root.mkdir(parents=True, exist_ok=True)
    affine = np.diag([1.5, 1.5, 10.0, 1.0])
    for code in ("C0", "DE", "T2"):
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
    out = tmp_path / "out"
    assert main(["import", "myops", str(src), str(out), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "myops_training_103_T2.nii.gz is missing" in err
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
    assert "myops-myops_training_103/lge_presence" not in answers
