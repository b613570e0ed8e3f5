"""DICOM import on synthetic studies with real (oblique) geometry written with pydicom:
classification from the physics, both stack directions, every in-plane storage coming out
canonical, single-slice perfusion, unclassified series with their facts, compressed pixel
data, and no PHI in any output byte."""

from __future__ import annotations

import gzip
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

pydicom = pytest.importorskip("pydicom")
from pydicom.dataset import FileDataset, FileMetaDataset  # noqa: E402
from pydicom.encaps import encapsulate  # noqa: E402
from pydicom.uid import (  # noqa: E402
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    RLELossless,
    generate_uid,
)
from test_orientation import canonical_axes  # noqa: E402

from cardiolens.cli import main  # noqa: E402
from cardiolens.data.dataset import read_dataset  # noqa: E402
from cardiolens.data.orientation import IDENTITY, InPlane  # noqa: E402
from cardiolens.data.validate import validate_dataset  # noqa: E402
from cardiolens.data.volumes import SeriesVolume  # noqa: E402

from helpers import read_all  # noqa: E402

PHI = {"PatientName": "DOE^JANE", "PatientID": "MRN7730441", "PatientBirthDate": "19610412",
       "StudyDate": "20240117", "InstitutionName": "St Example General Hospital",
       "ReferringPhysicianName": "HOUSE^GREGORY", "AccessionNumber": "ACC99812"}
LPS = np.array([-1.0, -1.0, 1.0])
AXES = canonical_axes(np.array([1.0, 0.3, 0.2]), 20.0, 15.0)     # RAS: c_i, c_j, LV axis
CANONICAL = (np.arange(256).reshape(16, 16) * 3).astype(np.uint16)  # asymmetric pattern
# 4CH (docs/geometry.md): apex at row 0, the anterolateral wall (display angle 300 in the
# short axis: 0.5 up - 0.87 left = -0.5 c_i + 0.87 c_j) on the right, inferoseptal on the left
LAX_I = -AXES[:, 2]
LAX_J = -0.5 * AXES[:, 0] + np.sqrt(0.75) * AXES[:, 1]


def write_image(path: Path, study: str, series: str, number: int, description: str,
                plane: tuple[np.ndarray, np.ndarray], position: np.ndarray, value: int,
                stored: InPlane = IDENTITY, instance: int = 1, trigger: float | None = None,
                inversion: float | None = None, echo: float = 1.5,
                acquired: float | None = None, syntax: str = ExplicitVRLittleEndian,
                image_type: tuple[str, ...] = ("ORIGINAL", "PRIMARY", "M", "NONE"),
                drop: tuple[str, ...] = ()) -> None:
    """One image of a canonical-frame plane (RAS row/column axes ``plane``), stored after
    the in-plane transform ``stored`` with the matching ImageOrientationPatient."""
    c_i, c_j = stored.directions(*plane)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.4"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    for key, text in PHI.items():
        setattr(ds, key, text)
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.Modality, ds.SeriesNumber, ds.SeriesDescription = "MR", number, description
    ds.InstanceNumber = instance
    ds.ImageType = list(image_type)
    ds.ImageOrientationPatient = [float(v) for v in (*(c_j * LPS), *(c_i * LPS))]
    ds.ImagePositionPatient = [float(v) for v in position * LPS]
    ds.PixelSpacing, ds.SliceThickness = [1.5, 1.5], 8.0
    ds.EchoTime, ds.RepetitionTime = echo, 3.2
    if trigger is not None:
        ds.TriggerTime = trigger
    if inversion is not None:
        ds.InversionTime = inversion
    if acquired is not None:
        ds.AcquisitionTime = f"{12 + int(acquired // 3600):02d}{int(acquired % 3600 // 60):02d}" \
                             f"{acquired % 60:09.6f}"
    ds.Rows, ds.Columns = 16, 16
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    pixels = np.ascontiguousarray(stored.apply(CANONICAL + np.uint16(value)))
    ds.PixelData = pixels.tobytes()
    if syntax == RLELossless:
        ds.compress(RLELossless, pixels)
    elif syntax == JPEG2000Lossless:
        ds.file_meta.TransferSyntaxUID = JPEG2000Lossless
        ds.PixelData = encapsulate([b"\xff\x4f\xff\x51 not a codestream"])
    for tag in drop:
        delattr(ds, tag)
    ds.save_as(str(path), enforce_file_format=True)


def make_study(root: Path, stored: InPlane, base_first: bool,
               per_slice_series: bool = False) -> None:
    """Cine SAX (3 locations x 5 phases), LGE and T2 stacks, a single-slice perfusion, an
    unlabelled 4CH cine and a localizer; descriptions empty (physics decides). With
    ``per_slice_series`` each cine and LGE slice is its own series, as many scanners write."""
    study = generate_uid()
    cine, lge, t2, perf, lax, loc, scout = (generate_uid() for _ in range(7))
    cine_uids = [generate_uid() for _ in range(3)] if per_slice_series else [cine] * 3
    lge_uids = [generate_uid() for _ in range(3)] if per_slice_series else [lge] * 3
    sax = (AXES[:, 0], AXES[:, 1])
    n = 0

    def name() -> Path:
        nonlocal n
        n += 1
        return root / f"IM{n:04d}"

    locations = [0, 1, 2] if base_first else [2, 1, 0]        # anatomical index, 0 = base
    for s in locations:
        where = np.array([10.0, -20.0, 30.0]) + s * 8.0 * AXES[:, 2]
        for f in (3, 0, 2, 1, 4):
            write_image(name(), study, cine_uids[s], 5 + 20 * s, "", sax, where,
                        1000 * s + 10 * f, stored, trigger=40.0 + 150.0 * f)
        write_image(name(), study, lge_uids[s], 9 + 20 * s, "", sax, where, 500 * s, stored,
                    inversion=300.0)
        write_image(name(), study, t2, 7, "", sax, where, 300 * s, stored, echo=65.0)
    middle = np.array([10.0, -20.0, 30.0]) + 8.0 * AXES[:, 2]
    for d in (5, 1, 7, 0, 2, 6, 4, 3, *range(8, 16)):
        write_image(name(), study, perf, 11, "", sax, middle, 20 * d, stored, instance=d + 1,
                    trigger=120.0, inversion=100.0, acquired=30.0 + 1.1 * d)
    for f in range(5):
        write_image(name(), study, lax, 6, "", (LAX_I, LAX_J), middle, 10 * f,
                    InPlane(transpose=True), trigger=40.0 + 150.0 * f)
    for k in range(8):                                         # TI scout: not a series
        write_image(name(), study, scout, 8, "", sax, middle, 0, stored, instance=k + 1,
                    trigger=400.0, inversion=100.0 + 50 * k, acquired=50.0 + k)
    write_image(name(), study, loc, 1, "", (np.array([0.0, -1.0, 0.0]),
                                            np.array([-1.0, 0.0, 0.0])), middle, 0)
    (root / "DICOMDIR.txt").write_text("not dicom")


def file_no(src: Path, path: Path) -> str:
    """How the console names ``path`` by default: its number among the files under SRC."""
    from cardiolens.importers.dicom import source_files

    return f"file {source_files(src).index(path) + 1}"


def _all_bytes(folder: Path) -> bytes:
    chunks = []
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            chunks.append(gzip.decompress(data) if path.suffix == ".gz" else data)
    return b"".join(chunks)


@pytest.mark.parametrize(("stored", "base_first"), [
    (IDENTITY, True), (IDENTITY, False), (InPlane(True, False, True), True),
    (InPlane(False, True, False), False), (InPlane(True, False, False), True)])
def test_dicom_import_is_canonical_from_both_stack_directions(
        tmp_path: Path, stored: InPlane, base_first: bool,
        capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "dicom"
    src.mkdir()
    make_study(src, stored, base_first)
    out, salt = tmp_path / "out", tmp_path / "private" / "salt"
    assert main(["import", "dicom", str(src), str(out), "--salt-file", str(salt),
                 "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "series 1 not classified" in err and "1 location(s) x 1 image(s), TE 1.5 ms" in err
    assert "not readable DICOM" in err
    assert "series 8 not classified" in err and "inversion times vary" in err
    assert validate_dataset(out) == []
    (study,) = read_dataset(out).studies.values()
    assert set(study.series) == {"cine_sax", "lge_sax", "t2_sax", "perf_sax", "cine_4ch"}
    cine = SeriesVolume.open(out, study.series["cine_sax"])
    assert (cine.info.slices, cine.info.frames) == (3, 5)
    frames = read_all(cine)                                   # (H, W, slices, frames)
    for s in range(3):
        for f in range(5):                                     # base first, by trigger time
            np.testing.assert_array_equal(frames[:, :, s, f], CANONICAL + 1000 * s + 10 * f)
    for key, step in (("lge_sax", 500), ("t2_sax", 300)):
        stack = read_all(SeriesVolume.open(out, study.series[key]))
        np.testing.assert_array_equal(stack[:, :, 2, 0], CANONICAL + 2 * step)
    perf = read_all(SeriesVolume.open(out, study.series["perf_sax"]))
    assert perf.shape[2:] == (1, 16)
    np.testing.assert_array_equal(perf[:, :, 0, 7], CANONICAL + 140)  # by acquisition time
    lax = read_all(SeriesVolume.open(out, study.series["cine_4ch"]))
    np.testing.assert_array_equal(lax[:, :, 0, 3], CANONICAL + 30)
    records = {k: v.orientation or {} for k, v in study.series.items()}
    assert records["cine_sax"]["evidence"] == "geometry"
    # positions are sorted along row x column: towards the base for a canonical image, so
    # the stack is reversed unless the stored image is mirrored (its normal points apex-ward)
    assert records["cine_sax"]["reversed_slices"] is not stored.mirrors
    assert "trigger" not in records["perf_sax"]["series_kind"]
    assert "saturation delay 100 ms" in records["perf_sax"]["series_kind"]
    assert "inversion time 300 ms" in records["lge_sax"]["series_kind"]
    assert "echo time 65 ms" in records["t2_sax"]["series_kind"]
    assert "direction in the short-axis frame" in records["cine_4ch"]["series_kind"]


def test_one_series_per_slice_is_joined_into_a_stack(tmp_path: Path) -> None:
    src = tmp_path / "dicom"
    src.mkdir()
    make_study(src, InPlane(False, True, False), base_first=False, per_slice_series=True)
    out = tmp_path / "out"
    assert main(["import", "dicom", str(src), str(out), "--salt-file",
                 str(tmp_path / "salt"), "--quiet"]) == 0
    (study,) = read_dataset(out).studies.values()
    assert set(study.series) == {"cine_sax", "lge_sax", "t2_sax", "perf_sax", "cine_4ch"}
    cine = read_all(SeriesVolume.open(out, study.series["cine_sax"]))
    assert cine.shape[2:] == (3, 5)
    for s in range(3):
        np.testing.assert_array_equal(cine[:, :, s, 2], CANONICAL + 1000 * s + 20)
    lge = read_all(SeriesVolume.open(out, study.series["lge_sax"]))
    np.testing.assert_array_equal(lge[:, :, 1, 0], CANONICAL + 500)


def test_single_slice_perfusion_alone_is_imported(tmp_path: Path) -> None:
    src = tmp_path / "dicom"
    src.mkdir()
    study, series = generate_uid(), generate_uid()
    sax = (AXES[:, 0], AXES[:, 1])
    for d in range(30):
        write_image(src / f"P{d:02d}", study, series, 3, "", sax, np.zeros(3), 5 * d,
                    trigger=200.0, acquired=10.0 + 1.0 * d)
    out = tmp_path / "out"
    assert main(["import", "dicom", str(src), str(out), "--salt-file",
                 str(tmp_path / "salt"), "--quiet"]) == 0
    (record,) = read_dataset(out).studies.values()
    assert set(record.series) == {"perf_sax"}
    assert "30 dynamics at 1 location(s) over 29 s" in (record.series["perf_sax"].orientation
                                                          or {})["series_kind"]


def test_single_slice_cine_without_a_stack(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """A lone short-axis cine slice is a short axis by its normal; a lone unlabelled
    long-axis cine cannot say which view it is and is listed, not guessed."""
    src = tmp_path / "dicom"
    src.mkdir()
    study, sax_uid, lax_uid = generate_uid(), generate_uid(), generate_uid()
    for f in range(6):
        write_image(src / f"S{f}", study, sax_uid, 2, "", (AXES[:, 0], AXES[:, 1]),
                    np.zeros(3), 10 * f, instance=f + 1, trigger=30.0 + 60 * f)
        write_image(src / f"L{f}", study, lax_uid, 3, "", (LAX_I, LAX_J), np.zeros(3),
                    10 * f, instance=f + 1, trigger=30.0 + 60 * f)
    out = tmp_path / "out"
    assert main(["import", "dicom", str(src), str(out), "--salt-file",
                 str(tmp_path / "salt"), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "series 3 not classified" in err and "cine, but view: no short-axis stack" in err
    (record,) = read_dataset(out).studies.values()
    assert set(record.series) == {"cine_sax"}


def test_psir_magnitude_and_phase_keep_the_magnitude(tmp_path: Path) -> None:
    src = tmp_path / "dicom"
    src.mkdir()
    study, series = generate_uid(), generate_uid()
    sax = (AXES[:, 0], AXES[:, 1])
    for s in range(3):
        where = s * 8.0 * AXES[:, 2]
        write_image(src / f"M{s}", study, series, 12, "", sax, where, 100 * s, instance=2 * s,
                    inversion=320.0)
        write_image(src / f"P{s}", study, series, 12, "", sax, where, 4000, instance=2 * s + 1,
                    inversion=320.0, image_type=("ORIGINAL", "PRIMARY", "P", "NONE"))
    out = tmp_path / "out"
    assert main(["import", "dicom", str(src), str(out), "--salt-file",
                 str(tmp_path / "salt"), "--quiet"]) == 0
    (record,) = read_dataset(out).studies.values()
    lge = read_all(SeriesVolume.open(out, record.series["lge_sax"]))
    assert lge.shape[2:] == (3, 1)
    np.testing.assert_array_equal(lge[:, :, 2, 0], CANONICAL + 200)


def test_perfusion_with_varying_trigger_times_is_still_perfusion(tmp_path: Path) -> None:
    """40 dynamics over 60 s at 3 locations, trigger times drifting with the heart rate."""
    src = tmp_path / "dicom"
    src.mkdir()
    study, series = generate_uid(), generate_uid()
    sax = (AXES[:, 0], AXES[:, 1])
    for s in range(3):
        for d in range(40):
            write_image(src / f"P{s}_{d:02d}", study, series, 3, "", sax,
                        s * 12.0 * AXES[:, 2], d, instance=40 * s + d + 1,
                        trigger=100.0 + 200.0 * s + 5.0 * d, acquired=10.0 + 1.5 * d)
    out = tmp_path / "out"
    assert main(["import", "dicom", str(src), str(out), "--salt-file",
                 str(tmp_path / "salt"), "--quiet"]) == 0
    (record,) = read_dataset(out).studies.values()
    assert set(record.series) == {"perf_sax"}
    assert record.series["perf_sax"].slices == 3 and record.series["perf_sax"].frames == 40


def test_compressed_pixel_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """RLE decodes with pydicom alone; an undecodable JPEG 2000 series is one line naming the
    transfer syntax and the package, and the other series still import."""
    src = tmp_path / "dicom"
    src.mkdir()
    study, rle, j2k = generate_uid(), generate_uid(), generate_uid()
    sax = (AXES[:, 0], AXES[:, 1])
    for s in range(3):
        where = s * 8.0 * AXES[:, 2]
        write_image(src / f"R{s}", study, rle, 4, "", sax, where, 100 * s, inversion=280.0,
                    syntax=RLELossless)
        for f in range(3):
            write_image(src / f"J{s}{f}", study, j2k, 5, "", sax, where, 0, instance=f + 1,
                        trigger=30.0 + 200 * f, syntax=JPEG2000Lossless)
    out = tmp_path / "out"
    assert main(["import", "dicom", str(src), str(out), "--salt-file",
                 str(tmp_path / "salt"), "--quiet"]) == 0
    err = capsys.readouterr().err
    (line,) = [x for x in err.splitlines() if "JPEG 2000" in x]
    assert "1.2.840.10008.1.2.4.90" in line and "pylibjpeg-openjpeg" in line
    assert "Traceback" not in err
    (record,) = read_dataset(out).studies.values()
    assert set(record.series) == {"lge_sax"}
    lge = read_all(SeriesVolume.open(out, record.series["lge_sax"]))
    np.testing.assert_array_equal(lge[:, :, 1, 0], CANONICAL + 100)


def test_dicom_import_leaks_no_phi_and_keeps_ids(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "dicom"
    src.mkdir()
    make_study(src, IDENTITY, True)
    out, salt = tmp_path / "out", tmp_path / "private" / "salt"
    assert main(["import", "dicom", str(src), str(out), "--salt-file", str(salt),
                 "--quiet"]) == 0
    blob = _all_bytes(out)
    for text in PHI.values():
        for variant in {text, text.replace("^", " "), text.split("^")[0]}:
            assert variant.encode() not in blob, variant
    (first,) = read_dataset(out).studies
    again = tmp_path / "again"
    assert main(["import", "dicom", str(src), str(again), "--salt-file", str(salt),
                 "--quiet"]) == 0
    assert set(read_dataset(again).studies) == {first}        # same salt, same id
    assert main(["import", "dicom", str(src), str(tmp_path / "x"), "--salt-file",
                 str(tmp_path / "x" / "salt"), "--quiet"]) == 1
    assert "outside the dataset" in capsys.readouterr().err


def _run(src: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, Path]:
    out = tmp_path / "out"
    assert main(["import", "dicom", str(src), str(out), "--salt-file",
                 str(tmp_path / "salt"), "--quiet"]) == 0
    return capsys.readouterr().err, out


def test_a_kind_falls_back_to_the_next_series_when_the_largest_fails(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two T2 series: the larger (9 images, 2-2-2-3 per slice) cannot be stacked; the
    3-slice one is imported instead of losing t2_sax."""
    src = tmp_path / "dicom"
    src.mkdir()
    study, good, bad = generate_uid(), generate_uid(), generate_uid()
    sax = (AXES[:, 0], AXES[:, 1])
    for s in range(3):
        write_image(src / f"G{s}", study, good, 4, "", sax, s * 8.0 * AXES[:, 2], 100 * s,
                    echo=65.0)
    for k, s in enumerate((0, 0, 1, 1, 2, 2, 3, 3, 3)):
        write_image(src / f"B{k}", study, bad, 5, "", sax, s * 8.0 * AXES[:, 2], 7,
                    instance=k + 1, echo=65.0)
    err, out = _run(src, tmp_path, capsys)
    (line,) = [x for x in err.splitlines() if "unequal frames" in x]
    assert re.search(r"series 5: unequal frames per slice \[2, 3\]: slice at -?24 mm has 3 "
                     r"\(files 7-9\), the others 2; not assembled", line)   # B6-B8
    assert line.endswith("; trying the next t2_sax")
    (record,) = read_dataset(out).studies.values()
    t2 = read_all(SeriesVolume.open(out, record.series["t2_sax"]))
    assert t2.shape[2:] == (3, 1)
    np.testing.assert_array_equal(t2[:, :, 2, 0], CANONICAL + 200)


def test_a_slice_repeated_in_one_series_keeps_the_latest(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A cine stack whose middle slice was acquired twice in the same series (10 images
    there, 5 elsewhere), with uneven slice gaps (8 and 12 mm)."""
    src = tmp_path / "dicom"
    src.mkdir()
    study, cine = generate_uid(), generate_uid()
    sax = (AXES[:, 0], AXES[:, 1])
    n = 0
    for s, depth, repeat in ((0, 0.0, 0), (1, 8.0, 0), (1, 8.0, 1), (2, 20.0, 0)):
        for f in range(5):
            n += 1
            write_image(src / f"C{n:02d}", study, cine, 3, "", sax, depth * AXES[:, 2],
                        1000 * s + 10 * f + 500 * repeat, instance=n,
                        trigger=40.0 + 150.0 * f, acquired=10.0 * n)
    err, out = _run(src, tmp_path, capsys)
    assert "series 3: slice at" in err and "acquired 2 times; kept the latest" in err
    assert "series 3: uneven slice gaps 8-12 mm; stored with the median 10 mm" in err
    (record,) = read_dataset(out).studies.values()
    frames = read_all(SeriesVolume.open(out, record.series["cine_sax"]))
    assert frames.shape[2:] == (3, 5)
    np.testing.assert_array_equal(frames[:, :, 1, 2], CANONICAL + 1000 + 20 + 500)


def test_series_without_geometry_are_listed_with_their_facts(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "dicom"
    src.mkdir()
    study, lge, flat = generate_uid(), generate_uid(), generate_uid()
    sax = (AXES[:, 0], AXES[:, 1])
    for s in range(3):
        write_image(src / f"L{s}", study, lge, 4, "", sax, s * 8.0 * AXES[:, 2], 0,
                    inversion=300.0)
        write_image(src / f"F{s}", study, flat, 9, "scout", sax, s * 8.0 * AXES[:, 2], 0,
                    inversion=280.0, drop=("PixelSpacing",))
    err, out = _run(src, tmp_path, capsys)
    assert "not readable DICOM" not in err
    (line,) = [x for x in err.splitlines() if "series 9" in x]
    assert ("series 9 not classified; skipped (3 file(s) without PixelSpacing: no geometry; "
            "TE 1.5 ms, TI 280 ms") in line
    (record,) = read_dataset(out).studies.values()
    assert set(record.series) == {"lge_sax"}



def _malformed(path: Path, field: str) -> None:
    """Store ``field`` of the file as the raw bytes "1A" (IS), as a scanner would write them."""
    from pydicom import dcmread
    from pydicom.dataelem import RawDataElement

    ds = dcmread(path)
    tag = ds[field].tag
    ds._dict[tag] = RawDataElement(tag, "IS", 2, b"1A", 0, False, True)
    ds.save_as(str(path))


def test_malformed_header_values_skip_their_series_and_keep_the_rest(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A value pydicom reads but cannot convert (IS "1A"): a malformed SeriesNumber (a
    label) is reported and its file kept, a study whose only series has malformed
    InstanceNumbers is skipped, and the good study is imported. pydicom's own warning (it
    names no file and repeats what the importer says) does not reach the user. More cases:
    tests/test_import_dicom_bad_values.py."""
    src = tmp_path / "dicom"
    src.mkdir()
    make_study(src, IDENTITY, True)
    sax = (AXES[:, 0], AXES[:, 1])
    broken_study, t2 = generate_uid(), generate_uid()
    for s in range(3):
        write_image(src / f"X{s}", broken_study, t2, 4, "", sax, s * 8.0 * AXES[:, 2], 7,
                    echo=65.0)
    write_image(src / "Y", generate_uid(), generate_uid(), 3, "", sax, AXES[:, 2], 7)
    for path, field in ((src / "X0", "InstanceNumber"), (src / "X1", "InstanceNumber"),
                        (src / "X2", "InstanceNumber"), (src / "Y", "SeriesNumber")):
        _malformed(path, field)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        err, out = _run(src, tmp_path, capsys)
    assert [str(w.message) for w in caught] == []
    assert "Invalid value for VR" not in err
    assert (f"SRC: 1 file(s) are not readable DICOM images "
            f"({file_no(src, src / 'DICOMDIR.txt')}); ignored") in err
    assert (f"{file_no(src, src / 'Y')}: SeriesNumber (0020,0011) "
            "value (2 characters: letters, digits) is not an "
            "integer (IS); treated as absent") in err
    (line,) = [x for x in err.splitlines() if "series 4 skipped" in x]
    assert (f"{file_no(src, src / 'X0')}: InstanceNumber (0020,0013) "
            "value (2 characters: letters, digits)") in line
    assert "(and 2 more file(s) with bad values)" in line
    (record,) = read_dataset(out).studies.values()
    assert {"cine_sax", "lge_sax", "t2_sax"} <= set(record.series)


def test_a_study_that_fails_part_way_leaves_no_volume_behind(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The failing study's cine, LGE and perfusion are written before an unexpected error
    in its T2 (a value error no check foresaw) stops it: none of its files may stay in the
    dataset, and the other study imports."""
    import cardiolens.importers.dicom as dicom

    src = tmp_path / "dicom"
    (src / "good").mkdir(parents=True)
    (src / "bad").mkdir()
    make_study(src / "good", IDENTITY, True)
    make_study(src / "bad", IDENTITY, True)
    stack = dicom.stack

    def failing(series, kind):  # type: ignore[no-untyped-def]
        if kind.sequence == "t2" and series.files[0][0].parent.name == "bad":
            raise ValueError("unforeseen")
        return stack(series, kind)

    monkeypatch.setattr(dicom, "stack", failing)
    err, out = _run(src, tmp_path, capsys)
    (line,) = [x for x in err.splitlines() if "malformed DICOM header value" in x]
    assert "unforeseen" in line and line.endswith("study skipped")
    (record,) = read_dataset(out).studies.values()
    assert record.study_id not in line
    files = {p.relative_to(out).as_posix() for p in (out / "volumes").rglob("*")
             if p.is_file()}
    assert files == {info.path for info in record.series.values()}
    assert [p.name for p in (out / "volumes").iterdir()] == [record.study_id]
