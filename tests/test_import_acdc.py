"""ACDC importer on synthetic cases that mimic the real layout (made here, no real data)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from cardiolens.cli import main
from cardiolens.data.dataset import read_dataset
from cardiolens.data.orientation import IDENTITY, InPlane
from cardiolens.data.validate import validate_dataset
from cardiolens.data.volumes import SeriesVolume
from cardiolens.importers.cardiac_geometry import Labels, sector_thickness, septum_angle

SIZE, SLICES, FRAMES, ED, ES = 80, 6, 10, 1, 5
SPACING = (1.5, 1.5, 10.0)


def _slice(lv_radius: float, wall_px: float, septal_extra: float = 0.0) -> np.ndarray:
    """Canonical frame: LV cavity disc (3), myocardial ring (2), RV (1) on the image left
    with its outflow part reaching anterior (up), as in real hearts."""
    rows, cols = np.mgrid[:SIZE, :SIZE]
    r = np.hypot(rows - 40, cols - 46)
    angle = np.degrees(np.arctan2(-(cols - 46), -(rows - 40))) % 360   # 90 = image-left
    septal = np.clip(1 - np.abs(angle - 90) / 60, 0, 1) * septal_extra
    outer = lv_radius + wall_px + septal
    seg = np.zeros((SIZE, SIZE), np.int16)
    rv = (np.hypot(rows - 40, cols - (46 - outer - 4)) < 9) & (r >= outer)
    rv |= (np.hypot(rows - (40 - outer), cols - (46 - outer)) < 6) & (r >= outer + 2)
    seg[rv] = 1
    seg[(r >= lv_radius) & (r < outer)] = 2
    seg[r < lv_radius] = 3
    return seg


def _volume(lv_radius: float, wall_px: float, septal_extra: float) -> np.ndarray:
    return np.stack([_slice(lv_radius * (1 - 0.08 * z), wall_px, septal_extra)
                     for z in range(SLICES)], axis=2)


def _save(path: Path, data: np.ndarray) -> None:
    nib.save(nib.Nifti1Image(data, np.diag([*SPACING, 1.0])), str(path))


def make_case(root: Path, name: str, group: str, lv_ed: float, lv_es: float,
              wall_px: float = 5.0, septal_extra: float = 0.0,
              skip: str = "", stored: InPlane = IDENTITY, apex_first: bool = False) -> None:
    """An ACDC case with placeholder (axis-aligned) affines, its arrays transformed from the
    canonical frame by ``stored`` (and apex first when asked)."""
    def store(data: np.ndarray) -> np.ndarray:
        data = stored.apply(data)
        return np.ascontiguousarray(data[:, :, ::-1] if apex_first else data)

    case = root / name
    case.mkdir(parents=True)
    info = f"ED: {ED}\nES: {ES}\nGroup: {group}\nHeight: 175.0\nNbFrame: {FRAMES}\nWeight: 75.0\n"
    (case / "Info.cfg").write_text(info)
    radii = np.interp(range(FRAMES), [0, ES - 1, FRAMES - 1], [lv_ed, lv_es, lv_ed])
    cine = np.stack([_volume(r, wall_px, septal_extra) * 100 + 50 for r in radii], axis=3)
    _save(case / f"{name}_4d.nii.gz", store(cine.astype(np.int16)))
    for frame, radius in ((ED, lv_ed), (ES, lv_es)):
        if skip == f"frame{frame}":
            continue
        _save(case / f"{name}_frame{frame:02d}_gt.nii.gz",
              store(_volume(radius, wall_px, septal_extra).astype(np.uint8)))


@pytest.fixture()
def acdc(tmp_path: Path) -> Path:
    src = tmp_path / "ACDC" / "training"
    make_case(src, "patient001", "NOR", lv_ed=19, lv_es=12)
    make_case(src, "patient002", "DCM", lv_ed=30, lv_es=28, wall_px=3)
    make_case(src, "patient003", "HCM", lv_ed=14, lv_es=7, wall_px=6, septal_extra=8)
    make_case(src, "patient004", "MINF", lv_ed=20, lv_es=17)
    make_case(src, "patient005", "RV", lv_ed=16, lv_es=10)
    testing = tmp_path / "ACDC" / "testing"                # RV above the LV, apex first
    make_case(testing, "patient103", "HCM", lv_ed=14, lv_es=7, wall_px=6, septal_extra=8,
              stored=InPlane(transpose=True), apex_first=True)
    make_case(testing, "patient104", "NOR", lv_ed=19, lv_es=12,
              stored=InPlane(True, True, False))
    make_case(src, "patient006", "XYZ", lv_ed=16, lv_es=10)
    make_case(src, "patient007", "NOR", lv_ed=16, lv_es=10, skip=f"frame{ES}")
    return src.parent


def test_acdc_folder_imports_validates_and_maps_groups(
        acdc: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "imported"
    assert main(["import", "acdc", str(acdc), str(out), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "patient006: unknown Group 'XYZ'" in err
    assert f"patient007: patient007_frame{ES:02d}_gt.nii.gz is missing" in err
    assert "Traceback" not in err
    assert validate_dataset(out) == []
    answers = {i.item_id: i.answer for i in read_dataset(out).items}
    expected = {"patient001": ("Normal", None),
                "patient002": ("Non-ischemic cardiomyopathy", "Dilated cardiomyopathy"),
                "patient003": ("Non-ischemic cardiomyopathy", "Hypertrophic cardiomyopathy"),
                "patient004": ("Ischemic cardiomyopathy", None),
                "patient005": ("Non-ischemic cardiomyopathy", "Other non-ischemic")}
    for case, (etiology, subtype) in expected.items():
        assert answers[f"acdc-{case}/diagnosis_etiology"] == etiology
        assert answers.get(f"acdc-{case}/diagnosis_nicm_subtype") == subtype
    assert not any("patient006" in k or "patient007" in k for k in answers)
    # segmentation-derived Level-1 items follow the drawn geometry
    assert answers["acdc-patient002/cine_lv_size"] == "Dilated"
    assert answers["acdc-patient002/cine_lv_function"] == "Severely reduced (< 30%)"
    assert answers["acdc-patient001/cine_lv_function"] == "Normal (EF >= 50%)"
    assert answers["acdc-patient003/cine_wall_thickness"] == "Thickened"
    assert answers["acdc-patient003/cine_thickened_walls"] == ["Septal"]
    assert answers["acdc-patient001/cine_wall_thickness"] == "Normal"
    assert answers["acdc-patient001/cine_lv_size"] == "Normal"
    # cases stored rotated, mirrored and apex first come out canonical, as the segmentation
    # shows: same items as the canonical case, the same voxels, and the record says how
    assert answers["acdc-patient103/cine_thickened_walls"] == ["Septal"]
    ds = read_dataset(out)
    for case in ("patient001", "patient103", "patient104"):
        info = ds.studies[f"acdc-{case}"].series["cine_sax"]
        record = info.orientation or {}
        assert record["evidence"] == "segmentation" and "unresolved" not in record
        volume = SeriesVolume.open(out, info).read_frames([(0, info.ed_frame or 0)])[0]
        radius = {"patient001": 19, "patient103": 14, "patient104": 19}[case]
        wall, extra = (6, 8) if case == "patient103" else (5, 0)
        expected = _volume(radius, wall, extra)[:, :, 0] * 100 + 50
        np.testing.assert_array_equal(volume, expected)
    record = ds.studies["acdc-patient103"].series["cine_sax"].orientation or {}
    assert (record["in_plane"], record["reversed_slices"]) == ("transpose", True)
    assert "axis-aligned" in record["notes"][0]
    assert "patient103: cine_sax: orientation from segmentation (low confidence" in err


def test_sectors_are_placed_from_the_rv_insertion_points() -> None:
    seg = _slice(12, 5, septal_extra=8)
    labels = Labels(lv=3, myo=2, rv=1)
    assert septum_angle(seg, labels) == pytest.approx(90, abs=12)
    walls = sector_thickness(seg, labels, (1.0, 1.0))
    septal = min(walls["Anteroseptal"], walls["Inferoseptal"])
    assert septal > max(walls["Anterior"], walls["Inferior"], walls["Inferolateral"]) + 2


@pytest.mark.parametrize("breaker, reason", [
    (lambda c: (c / "Info.cfg").unlink(), "Info.cfg is missing"),
    (lambda c: (c / "Info.cfg").write_text("ED: 1\nES: 5\nGroup: NOR\n"), "no NbFrame"),
    (lambda c: (c / "Info.cfg").write_text("ED: 1\nES: 99\nGroup: NOR\nNbFrame: 10\n"),
     "outside 1..10"),
    (lambda c: (c / "patient001_4d.nii.gz").write_bytes(b"junk"), "unreadable"),
])
def test_broken_cases_are_reported_and_skipped(tmp_path: Path, breaker: Callable[[Path], object],
                                               reason: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "src"
    make_case(src, "patient001", "NOR", lv_ed=17, lv_es=11)
    make_case(src, "patient002", "NOR", lv_ed=17, lv_es=11)
    breaker(src / "patient001")
    assert main(["import", "acdc", str(src), str(tmp_path / "out"), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert reason in err and "imported 1 case(s)" in err
