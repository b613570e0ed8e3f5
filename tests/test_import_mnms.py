"""M&Ms-1 importer on synthetic cases in the M&Ms layout (labels 1 LV, 2 MYO, 3 RV)."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from test_import_acdc import FRAMES, SPACING, _volume

from cardiolens.cli import main
from cardiolens.data.dataset import read_dataset
from cardiolens.data.validate import validate_dataset

ED, ES = 0, 4
ACDC_TO_MNMS = np.array([0, 3, 2, 1], np.uint8)   # ACDC 1 RV / 3 LV -> M&Ms 3 RV / 1 LV


def make_case(root: Path, code: str, lv_ed: float, lv_es: float, wall_px: float = 5.0,
              septal_extra: float = 0.0, missing_gt: bool = False) -> None:
    case = root / code
    case.mkdir(parents=True)
    radii = np.interp(range(FRAMES), [ED, ES, FRAMES - 1], [lv_ed, lv_es, lv_ed])
    segs = [ACDC_TO_MNMS[_volume(r, wall_px, septal_extra)] for r in radii]
    cine = np.stack([s.astype(np.int16) * 100 + 50 for s in segs], axis=3)
    labels = np.zeros_like(cine, dtype=np.uint8)
    labels[..., ED], labels[..., ES] = segs[ED], segs[ES]
    affine = np.diag([*SPACING, 1.0])
    nib.save(nib.Nifti1Image(cine, affine), str(case / f"{code}_sa.nii.gz"))
    if not missing_gt:
        nib.save(nib.Nifti1Image(labels, affine), str(case / f"{code}_sa_gt.nii.gz"))


@pytest.fixture()
def mnms(tmp_path: Path) -> Path:
    src = tmp_path / "MnM" / "Training" / "Labeled"
    make_case(src, "A0S9V9", lv_ed=19, lv_es=12)
    make_case(src, "A1D0Q7", lv_ed=14, lv_es=7, wall_px=6, septal_extra=8)
    make_case(src, "A1E9Q1", lv_ed=30, lv_es=28, wall_px=3)
    make_case(src, "A2C0I1", lv_ed=19, lv_es=12)
    make_case(src, "A3B7E5", lv_ed=19, lv_es=12, missing_gt=True)
    make_case(src, "A4B5C6", lv_ed=19, lv_es=12)
    (tmp_path / "MnM" / "info.csv").write_text(
        "External code,VendorName,Vendor,Centre,ED,ES,Age,Pathology,Sex,Height,Weight\n"
        f"A0S9V9,Siemens,A,1,{ED},{ES},50,NOR,M,175,75\n"
        f"A1D0Q7,Philips,B,2,{ED},{ES},40,HCM,F,165,60\n"
        f"A1E9Q1,GE,C,3,{ED},{ES},60,DCM,M,180,80\n"
        f"A2C0I1,Canon,D,4,{ED},{ES},30,AHS,M,185,80\n"
        f"A3B7E5,Siemens,A,1,{ED},{ES},55,IHD,M,170,70\n")
    return tmp_path / "MnM"


def test_mnms_folder_imports_with_the_pathology_mapping(
        mnms: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["import", "mnms", str(mnms), str(out), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "A2C0I1: athlete's heart has no CardioLens diagnosis" in err
    assert "A3B7E5: A3B7E5_sa_gt.nii.gz is missing" in err
    assert "A4B5C6: not in the dataset CSV" in err
    assert "imported 3 case(s)" in err
    assert validate_dataset(out) == []
    answers = {i.item_id: i.answer for i in read_dataset(out).items}
    assert answers["mnms-A0S9V9/diagnosis_etiology"] == "Normal"
    assert answers["mnms-A1D0Q7/diagnosis_nicm_subtype"] == "Hypertrophic cardiomyopathy"
    assert answers["mnms-A1D0Q7/cine_thickened_walls"] == ["Septal"]
    assert answers["mnms-A1E9Q1/diagnosis_nicm_subtype"] == "Dilated cardiomyopathy"
    assert answers["mnms-A1E9Q1/cine_lv_size"] == "Dilated"


def test_missing_csv_is_one_clear_line(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    make_case(tmp_path / "src", "A0S9V9", lv_ed=19, lv_es=12)
    assert main(["import", "mnms", str(tmp_path / "src"), str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "no M&Ms CSV" in err and "Traceback" not in err
