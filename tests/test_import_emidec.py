"""EMIDEC importer on synthetic LGE cases in the EMIDEC layout."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from cardiolens.cli import main
from cardiolens.data.dataset import read_dataset
from cardiolens.data.validate import validate_dataset

SIZE, SLICES = 64, 7


def _labels(scar_slices: range, scar_depth: float) -> np.ndarray:
    """Cavity (1), myocardium (2), subendocardial infarct (3) of ``scar_depth`` of the wall
    in the lateral quadrant on ``scar_slices``."""
    rows, cols = np.mgrid[:SIZE, :SIZE]
    r = np.hypot(rows - 32, cols - 32)
    out = np.zeros((SIZE, SIZE, SLICES), np.int16)
    for z in range(SLICES):
        cavity = 12 - z
        seg = np.zeros((SIZE, SIZE), np.int16)
        seg[(r >= cavity) & (r < cavity + 6)] = 2
        seg[r < cavity] = 1
        if z in scar_slices:
            seg[(r >= cavity) & (r < cavity + 6 * scar_depth) & (cols > 36)] = 3
        out[:, :, z] = seg
    return out


def make_case(root: Path, name: str, scar_slices: range, depth: float) -> None:
    for folder in ("Images", "Contours"):
        (root / name / folder).mkdir(parents=True)
    seg = _labels(scar_slices, depth)
    affine = np.diag([1.5, 1.5, 10.0, 1.0])
    image = (seg * 300 + 100).astype(np.int16)
    nib.save(nib.Nifti1Image(image, affine), str(root / name / "Images" / f"{name}.nii.gz"))
    nib.save(nib.Nifti1Image(seg.astype(np.uint8), affine),
             str(root / name / "Contours" / f"{name}.nii.gz"))


def test_emidec_cases_give_lge_items(tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "emidec"
    make_case(src, "Case_N001", range(0), 0.0)
    make_case(src, "Case_P002", range(0, 2), 0.4)        # basal, subendocardial, 26-50%
    make_case(src, "Case_P003", range(2, 5), 1.0)        # mid, transmural, > 75%
    make_case(src, "Case_P004", range(0), 0.0)           # P without infarct: skipped
    out = tmp_path / "out"
    assert main(["import", "emidec", str(src), str(out), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "Case_P004: P case without infarct label" in err
    # placeholder affines and no RV label: base/apex from the cavity profile, the in-plane
    # frame reported unresolved (never guessed), on the console and in studies.jsonl
    assert "Case_P002: lge_sax: orientation from segmentation (low confidence" in err
    assert "UNRESOLVED rotation, mirror" in err
    record = read_dataset(out).studies["emidec-Case_P002"].series["lge_sax"].orientation
    assert record is not None and record["unresolved"] == ["rotation", "mirror"]
    assert validate_dataset(out) == []
    answers = {i.item_id: i.answer for i in read_dataset(out).items}
    assert answers["emidec-Case_N001/lge_presence"] == "No"
    assert "emidec-Case_N001/diagnosis_etiology" not in answers
    assert answers["emidec-Case_P002/lge_levels"] == ["Basal segment"]
    assert answers["emidec-Case_P002/lge_layer"] == ["Subendocardial"]
    assert answers["emidec-Case_P002/lge_transmurality"] == "26-50%"
    assert answers["emidec-Case_P003/lge_layer"] == ["Transmural"]
    assert answers["emidec-Case_P003/lge_transmurality"] == "> 75%"
    assert answers["emidec-Case_P003/diagnosis_etiology"] == "Ischemic cardiomyopathy"
