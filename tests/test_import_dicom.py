"""DICOM import on synthetic studies written with pydicom: grouping, classification,
ordering, and no PHI in any output byte."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

pydicom = pytest.importorskip("pydicom")
from pydicom.dataset import FileDataset, FileMetaDataset  # noqa: E402
from pydicom.uid import ExplicitVRLittleEndian, generate_uid  # noqa: E402

from cardiolens.cli import main  # noqa: E402
from cardiolens.data.dataset import read_dataset  # noqa: E402
from cardiolens.data.validate import validate_dataset  # noqa: E402
from cardiolens.data.volumes import SeriesVolume  # noqa: E402

from helpers import read_all  # noqa: E402

PHI = {"PatientName": "DOE^JANE", "PatientID": "MRN7730441", "PatientBirthDate": "19610412",
       "StudyDate": "20240117", "InstitutionName": "St Example General Hospital",
       "ReferringPhysicianName": "HOUSE^GREGORY", "AccessionNumber": "ACC99812"}
SAX = [1, 0, 0, 0, 1, 0]        # axial-like planes stacked along z for the test


def write_image(path: Path, study: str, series: str, number: int, description: str,
                z: float, frame: int, value: float, trigger: float | None = None,
                inversion: float | None = None, orientation: list[int] = SAX) -> None:
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
    ds.InstanceNumber = frame + 1
    ds.ImageOrientationPatient = orientation
    ds.ImagePositionPatient = [0.0, 0.0, z]
    ds.PixelSpacing, ds.SliceThickness = [1.5, 1.5], 8.0
    if trigger is not None:
        ds.TriggerTime = trigger
    if inversion is not None:
        ds.InversionTime = inversion
    ds.Rows, ds.Columns = 16, 16
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    pixels = (np.arange(256, dtype=np.uint16).reshape(16, 16) + int(value))
    ds.PixelData = pixels.tobytes()
    ds.save_as(str(path), enforce_file_format=True)


def make_study(root: Path) -> None:
    study = generate_uid()
    cine, lge, lax, loc = (generate_uid() for _ in range(4))
    n = 0
    for s, z in enumerate([16.0, 0.0, 8.0]):                 # written out of order
        for f in (3, 0, 2, 1, 4):
            n += 1
            write_image(root / f"IM{n:04d}", study, cine, 5, "cine_sax retro", z, f,
                        value=1000 * s + 10 * f, trigger=40.0 * f)
        n += 1
        write_image(root / f"IM{n:04d}", study, lge, 9, "PSIR SA", z, 0, value=500 * s,
                    inversion=300.0)
    for f in range(5):
        n += 1
        write_image(root / f"IM{n:04d}", study, lax, 6, "cine 4ch", 0.0, f, value=10 * f,
                    trigger=40.0 * f, orientation=[1, 0, 0, 0, 0, -1])
    write_image(root / "IM9999", study, loc, 1, "localizer", 0.0, 0, value=0)
    (root / "DICOMDIR.txt").write_text("not dicom")


def _all_bytes(folder: Path) -> bytes:
    chunks = []
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            chunks.append(gzip.decompress(data) if path.suffix == ".gz" else data)
    return b"".join(chunks)


def test_dicom_import_classifies_orders_and_leaks_no_phi(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "dicom"
    src.mkdir()
    make_study(src)
    out, salt = tmp_path / "out", tmp_path / "private" / "salt"
    assert main(["import", "dicom", str(src), str(out), "--salt-file", str(salt),
                 "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "series 1 not classified" in err and "not readable DICOM" in err
    assert validate_dataset(out) == []
    ds = read_dataset(out)
    (study,) = ds.studies.values()
    assert set(study.series) == {"cine_sax", "cine_4ch", "lge_sax"}
    cine = SeriesVolume.open(out, study.series["cine_sax"])
    assert (cine.info.slices, cine.info.frames) == (3, 5)
    frames = read_all(cine)                                  # (H, W, slices, frames)
    corner = frames[0, 0]                                     # value 1000*s_index + 10*f
    order = [int(v) // 1000 for v in corner[:, 0]]
    assert order == [1, 2, 0]                                 # z = 0, 8, 16
    assert [int(v) % 1000 for v in corner[0]] == [0, 10, 20, 30, 40]   # by trigger time
    blob = _all_bytes(out)
    for text in PHI.values():
        for variant in {text, text.replace("^", " "), text.split("^")[0]}:
            assert variant.encode() not in blob, variant
    first = study.study_id
    again = tmp_path / "again"
    assert main(["import", "dicom", str(src), str(again), "--salt-file", str(salt),
                 "--quiet"]) == 0
    assert set(read_dataset(again).studies) == {first}        # same salt, same id
    assert main(["import", "dicom", str(src), str(tmp_path / "x"), "--salt-file",
                 str(tmp_path / "x" / "salt"), "--quiet"]) == 1
    assert "outside the dataset" in capsys.readouterr().err
