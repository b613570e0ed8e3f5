"""M&Ms-2 importer on synthetic cases in the M&Ms-2 layout."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from test_import_acdc import FRAMES, SPACING, _volume
from test_import_mnms import ACDC_TO_MNMS

from cardiolens.cli import main
from cardiolens.data.dataset import read_dataset
from cardiolens.data.orientation import APEX_RAS, InPlane
from cardiolens.data.validate import validate_dataset
from cardiolens.data.volumes import SeriesVolume

ED, ES = 0, 4


def four_chamber_affine(stored: InPlane) -> np.ndarray:
    """Oblique 4CH geometry of a canonical LA image (apex up, patient left on the right)
    after the array transform ``stored``."""
    left = np.array([-1.0, 0.0, 0.0])
    lateral = left - (left @ APEX_RAS) * APEX_RAS
    c_i, c_j = -APEX_RAS * 1.3, lateral / np.linalg.norm(lateral) * 1.3
    new_i, new_j = stored.directions(c_i, c_j)
    affine = np.eye(4)
    affine[:3, 0], affine[:3, 1] = new_i, new_j
    affine[:3, 2] = np.cross(new_i, new_j) / 1.3 * 6.0
    return affine


def make_case(root: Path, code: str, lv_ed: float, lv_es: float, wall_px: float = 5.0,
              septal_extra: float = 0.0, la: str = "oblique") -> None:
    """``la``: "oblique" (real 4CH geometry, stored transposed), "placeholder" (axis-aligned
    affine) or "none" (no long-axis file, as in part of M&Ms-2)."""
    case = root / code
    case.mkdir(parents=True)
    radii = np.interp(range(FRAMES), [ED, ES, FRAMES - 1], [lv_ed, lv_es, lv_ed])
    segs = [ACDC_TO_MNMS[_volume(r, wall_px, septal_extra)] for r in radii]
    cine = np.stack([s.astype(np.int16) * 100 + 7 * f for f, s in enumerate(segs)], axis=3)
    affine = np.diag([*SPACING, 1.0])

    def save(name: str, data: np.ndarray) -> None:
        nib.save(nib.Nifti1Image(data, affine), str(case / f"{code}_{name}.nii.gz"))

    save("SA_CINE", cine)
    for label, frame in (("ED", ED), ("ES", ES)):
        save(f"SA_{label}", cine[..., frame])
        save(f"SA_{label}_gt", segs[frame].astype(np.uint8))
    if la == "placeholder":
        save("LA_CINE", cine[:, :, 2:3, :])
    elif la == "oblique":
        stored = InPlane(transpose=True, flip_cols=True)
        nib.save(nib.Nifti1Image(np.ascontiguousarray(stored.apply(cine[:, :, 2:3, :])),
                                 four_chamber_affine(stored)),
                 str(case / f"{code}_LA_CINE.nii.gz"))


def test_mnms2_imports_sa_and_la_with_the_disease_mapping(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "MnM2" / "dataset"
    make_case(src, "001", lv_ed=19, lv_es=12, la="none")
    make_case(src, "002", lv_ed=30, lv_es=28, wall_px=3)
    make_case(src, "003", lv_ed=14, lv_es=7, wall_px=6, septal_extra=8, la="placeholder")
    make_case(src, "004", lv_ed=19, lv_es=12)
    (tmp_path / "MnM2" / "dataset_information.csv").write_text(
        "SUBJECT_CODE,DISEASE,SEX,AGE\n1,NOR,M,50\n2,LV,F,60\n3,HC,M,40\n4,FALL,F,20\n")
    out = tmp_path / "out"
    assert main(["import", "mnms2", str(tmp_path / "MnM2"), str(out), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "004: disease FALL has no CardioLens diagnosis" in err
    assert "003: LA_CINE orientation undecided: affine is axis-aligned" in err
    assert "short axis imported without it" in err
    assert validate_dataset(out) == []
    ds = read_dataset(out)
    study = ds.studies["mnms2-002"]
    assert set(study.series) == {"cine_sax", "cine_4ch"}
    assert set(ds.studies["mnms2-001"].series) == {"cine_sax"}
    assert set(ds.studies["mnms2-003"].series) == {"cine_sax"}
    lax = study.series["cine_4ch"]
    assert (lax.orientation or {})["evidence"] == "geometry"
    frames = SeriesVolume.open(out, lax).read_frames([(0, 0), (0, 3)])
    canonical = ACDC_TO_MNMS[_volume(30, 3, 0)][:, :, 2].astype(np.int16) * 100
    np.testing.assert_array_equal(frames[0], canonical)
    assert (study.series["cine_sax"].ed_frame, study.series["cine_sax"].es_frame) == (ED, ES)
    answers = {i.item_id: i.answer for i in ds.items}
    assert answers["mnms2-002/diagnosis_nicm_subtype"] == "Dilated cardiomyopathy"
    assert answers["mnms2-003/cine_thickened_walls"] == ["Septal"]
    assert answers["mnms2-001/diagnosis_etiology"] == "Normal"
