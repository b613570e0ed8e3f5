"""The real CC0 sample (tests/data/sunnybrook, see its README): `import dicom` classifies the
cine, stores it base to apex and in the canonical display, and the EF and LV size that the
importers' geometry derives from the expert contours match a hand computation."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

pydicom = pytest.importorskip("pydicom")

from cardiolens.cli import main  # noqa: E402
from cardiolens.data.dataset import read_dataset  # noqa: E402
from cardiolens.data.findings import ef_band  # noqa: E402
from cardiolens.data.orientation import ALL_IN_PLANE  # noqa: E402
from cardiolens.data.volumes import SeriesVolume  # noqa: E402
from cardiolens.importers.cardiac_geometry import Labels, lv_size, measure  # noqa: E402
from cardiolens.importers.sunnybrook import fill_contour  # noqa: E402

from helpers import read_all  # noqa: E402

DATA = Path(__file__).parent / "data" / "sunnybrook"
LOCATIONS = range(3, 12)          # acquisition locations with contours, 1-based
ES_PHASE, ED_PHASE = 8, 19        # the contoured phases (trigger ~290 ms and ~720 ms)
PIXEL_MM, SLICE_MM = 1.367188, 10.0


def file_number(location: int, phase: int) -> int:
    return (location - 1) * 20 + phase


def original(n: int) -> tuple[np.ndarray, object]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(DATA / "dicom" / f"{n}.dcm")
    return ds.pixel_array.astype(np.float32), ds


def contour(n: int, kind: str) -> np.ndarray:
    """Expert contour points (x = column, y = row) of file ``n``."""
    return np.loadtxt(DATA / "contours" / f"IM-0001-{n:04d}-{kind}contour-manual.txt")


def shoelace(points: np.ndarray) -> float:
    x, y = points[:, 0], points[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))


def raster(points: np.ndarray) -> np.ndarray:
    """The contour filled on the 256 x 256 image grid (the importer's own rasteriser)."""
    return fill_contour(points, (256, 256))


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    tmp = tmp_path_factory.mktemp("sunnybrook")
    out = tmp / "out"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["import", "dicom", str(DATA / "dicom"), str(out), "--salt-file",
                     str(tmp / "salt"), "--quiet"]) == 0
    (study_id,) = read_dataset(out).studies
    return out, study_id


def test_the_series_is_classified_as_a_short_axis_cine(imported: tuple[Path, str]) -> None:
    out, study_id = imported
    study = read_dataset(out).studies[study_id]
    assert set(study.series) == {"cine_sax"}
    info = study.series["cine_sax"]
    assert (info.slices, info.frames) == (9, 2)
    record = info.orientation or {}
    # SeriesDescription is empty: the trigger times (two phases ~430 ms apart) decide cine,
    # and a stack of 9 locations whose normal is near the LV axis decides the short axis
    assert "phases per location" in record["series_kind"]
    assert record["evidence"] == "geometry" and record["confidence"] == "high"


def test_base_to_apex_and_display_orientation(imported: tuple[Path, str]) -> None:
    """Hand check of the slice order: ImagePositionPatient (LPS) of location 3 is
    (169.4+..., ...) and moves with the location number towards +x (patient left), -y
    (anterior) and -z (inferior), i.e. towards the apex, so location 3 is the base and the
    stored slice 0 must be location 3. The stored pixels are the original ones under one of
    the 8 in-plane transforms, the one the record names."""
    out, study_id = imported
    info = read_dataset(out).studies[study_id].series["cine_sax"]
    first = np.array([float(v) for v in original(file_number(3, ED_PHASE))[1]
                      .ImagePositionPatient])
    last = np.array([float(v) for v in original(file_number(11, ED_PHASE))[1]
                     .ImagePositionPatient])
    step = last - first
    assert step[0] > 0 and step[1] < 0 and step[2] < 0           # left, anterior, inferior
    stored = read_all(SeriesVolume.open(out, info))              # (H, W, 9, 2)
    (transform,) = [t for t in ALL_IN_PLANE if t.name == (info.orientation or {})["in_plane"]]
    for s, location in enumerate(LOCATIONS):                      # slice 0 = location 3
        for f, phase in enumerate((ES_PHASE, ED_PHASE)):          # by trigger time
            pixels, _ = original(file_number(location, phase))
            np.testing.assert_allclose(stored[:, :, s, f], transform.apply(pixels))
    # the cavity shrinks towards the apex in the stored order (expert contours)
    areas = [raster(contour(file_number(loc, ED_PHASE), "i")).sum() for loc in LOCATIONS]
    stored_areas = [int(transform.apply(raster(contour(file_number(loc, ED_PHASE), "i")))
                        .sum()) for loc in LOCATIONS]
    assert stored_areas == areas and np.corrcoef(range(9), areas)[0, 1] < -0.5
    # display, from the anatomy: the RV blood pool is the bright (SSFP) tissue right outside
    # the expert epicardial contour; the brightest 60-degree sector of a ring 3-15 px outside
    # it must be centred on the image left (90 degrees, the septum) at the basal to mid
    # slices. (Raw files: the RV lies at 180 degrees, the bottom.)
    for s in (1, 2, 3, 4):
        n = file_number(LOCATIONS[s], ED_PHASE)
        assert abs(rv_angle(stored[:, :, s, 1], transform.apply(raster(contour(n, "o"))))
                   - 90.0) <= 30.0, s
        assert abs(rv_angle(original(n)[0], raster(contour(n, "o"))) - 180.0) <= 30.0
    # patient geometry agrees: the patient's right-anterior direction (LV -> RV) lands on
    # the image left and the superior direction (the anterior wall's side) in the top half
    iop = [float(v) for v in original(file_number(6, ED_PHASE))[1].ImageOrientationPatient]
    down = np.array(iop[3:]) * [-1.0, -1.0, 1.0]                  # RAS, original rows
    right = np.array(iop[:3]) * [-1.0, -1.0, 1.0]                 # RAS, original columns
    new_down, new_right = transform.directions(down, right)
    right_anterior = np.array([1.0, 1.0, 0.0]) / np.sqrt(2.0)
    angle = np.degrees(np.arctan2(-(right_anterior @ new_right), -(right_anterior @ new_down)))
    assert abs(angle % 360 - 90.0) < 30.0
    assert new_down @ [0.0, 0.0, 1.0] < -0.5
    # seen from the apex, not mirrored: rows x columns points to the apex (the stack's step)
    assert np.cross(new_down, new_right) @ (step * [-1.0, -1.0, 1.0]) > 0


def rv_angle(image: np.ndarray, epicardium: np.ndarray) -> float:
    """Display angle (0 up, counter-clockwise towards image-left) of the brightest 60-degree
    sector of the ring 3-15 px outside the epicardial mask (the RV blood pool)."""
    rows, cols = np.nonzero(epicardium)
    r0, c0 = rows.mean(), cols.mean()
    radius = np.sqrt(epicardium.sum() / np.pi)
    rr, cc = np.mgrid[:image.shape[0], :image.shape[1]]
    dist = np.hypot(rr - r0, cc - c0)
    angle = np.degrees(np.arctan2(-(cc - c0), -(rr - r0))) % 360
    ring = (dist > radius + 3) & (dist < radius + 15)
    centres = np.arange(0, 360, 15)
    means = [image[ring & (np.abs((angle - t + 180) % 360 - 180) < 30)].mean()
             for t in centres]
    return float(centres[int(np.argmax(means))])


def test_ef_and_lv_size_from_the_expert_contours(imported: tuple[Path, str]) -> None:
    """Hand computation: shoelace area of each endocardial contour (pixels^2) x 1.367188^2
    mm^2 x 10 mm slices, summed over the 9 contoured locations:
    ED areas 1046 1339 1490 1419 1499 1265 975 781 421 px -> EDV 191.3 ml;
    ES areas 539 790 910 1107 1186 1040 921 721 344 px -> ESV 141.3 ml; EF 26.2 %.
    The importers' geometry (voxel counts of the rasterised contours in the stored frame,
    cardiac_geometry.measure) must agree within rasterisation error, and so must the
    bands (EF < 30 %: severely reduced; EDV 80-210 ml without BSA: normal size)."""
    out, study_id = imported
    info = read_dataset(out).studies[study_id].series["cine_sax"]
    volume = SeriesVolume.open(out, info)
    (transform,) = [t for t in ALL_IN_PLANE if t.name == (info.orientation or {})["in_plane"]]
    labels = Labels(lv=3, myo=2, rv=1)
    ed = np.zeros((256, 256, 9), np.int16)
    es = np.zeros((256, 256, 9), np.int16)
    hand_ed = hand_es = 0.0
    for s, location in enumerate(LOCATIONS):
        n_ed, n_es = file_number(location, ED_PHASE), file_number(location, ES_PHASE)
        ed[:, :, s][transform.apply(raster(contour(n_ed, "o")))] = labels.myo
        ed[:, :, s][transform.apply(raster(contour(n_ed, "i")))] = labels.lv
        es[:, :, s][transform.apply(raster(contour(n_es, "i")))] = labels.lv
        hand_ed += shoelace(contour(n_ed, "i"))
        hand_es += shoelace(contour(n_es, "i"))
    mm3 = PIXEL_MM * PIXEL_MM * SLICE_MM
    hand_edv, hand_esv = hand_ed * mm3 / 1000, hand_es * mm3 / 1000
    assert hand_edv == pytest.approx(191.3, abs=0.1)
    assert hand_esv == pytest.approx(141.3, abs=0.1)
    assert volume.spacing == pytest.approx((PIXEL_MM, PIXEL_MM, SLICE_MM), abs=1e-3)
    m = measure(ed, es, labels, volume.spacing, None)
    assert m.lv_edv_ml == pytest.approx(hand_edv, rel=0.04)
    assert m.lv_esv_ml == pytest.approx(hand_esv, rel=0.04)
    hand_ef = 100 * (hand_edv - hand_esv) / hand_edv
    assert m.lv_ef == pytest.approx(hand_ef, abs=1.5)
    assert ef_band(m.lv_ef) == ef_band(hand_ef) == "Severely reduced (< 30%)"
    assert lv_size(m) == "Normal"
