"""DICOM header values that cannot be read (an IS "1A", a DS "abc", a wrong number of
values): one line naming the file, the tag and the value; only the series that needs the
image is skipped, never assembled with a gap, and the rest of the study imports."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pydicom = pytest.importorskip("pydicom")
from pydicom.datadict import tag_for_keyword  # noqa: E402
from pydicom.dataelem import RawDataElement  # noqa: E402
from pydicom.tag import Tag  # noqa: E402
from pydicom.uid import generate_uid  # noqa: E402
from test_import_dicom import AXES, file_no, make_study, write_image  # noqa: E402

from cardiolens.cli import main  # noqa: E402
from cardiolens.data.dataset import read_dataset  # noqa: E402
from cardiolens.data.orientation import IDENTITY  # noqa: E402


def store_raw(path: Path, keyword: str, vr: str, raw: bytes) -> None:
    """Store ``keyword`` as the raw bytes ``raw``, as a scanner would write them."""
    ds = pydicom.dcmread(path)
    tag = Tag(tag_for_keyword(keyword))
    ds._dict[tag] = RawDataElement(tag, vr, len(raw), raw, 0, False, True)
    ds.save_as(str(path))


def run(src: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[list[str], Path]:
    out = tmp_path / "out"
    assert main(["import", "dicom", str(src), str(out), "--salt-file",
                 str(tmp_path / "salt"), "--quiet"]) == 0
    return capsys.readouterr().err.splitlines(), out


def by_echo(folder: Path, low: float, high: float) -> list[Path]:
    return [p for p in sorted(folder.glob("IM*"))
            if low < float(pydicom.dcmread(p).EchoTime) < high]


def by_inversion(folder: Path, ti: float) -> list[Path]:
    return [p for p in sorted(folder.glob("IM*"))
            if float(getattr(pydicom.dcmread(p), "InversionTime", 0) or 0) == ti]


def test_a_bad_instance_number_skips_its_series_not_the_study(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """One T2 image with InstanceNumber "1A": the T2 series (3 slices, one of them that
    image) cannot be assembled without a gap and is skipped with one line naming the file,
    the tag and the value; the cine, LGE and perfusion of the same study import."""
    src = tmp_path / "dicom"
    src.mkdir()
    make_study(src, IDENTITY, True)
    bad = by_echo(src, 60, 70)[1]
    store_raw(bad, "InstanceNumber", "IS", b"1A")
    lines, out = run(src, tmp_path, capsys)
    (line,) = [x for x in lines if "InstanceNumber" in x]
    assert (f"{file_no(src, bad)}: InstanceNumber (0020,0013) "
            "value (2 characters: letters, digits) is not an integer "
            "(IS)") in line
    assert "series 7 skipped" in line
    (record,) = read_dataset(out).studies.values()
    assert {"cine_sax", "lge_sax", "perf_sax"} <= set(record.series)
    assert "t2_sax" not in record.series


def test_a_bad_pixel_spacing_skips_its_series_and_names_the_value(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """PixelSpacing "abc\\1.5" (DS) in one LGE image and an ImagePositionPatient with two
    values in one cine image: both series skipped, the T2 and perfusion import."""
    src = tmp_path / "dicom"
    src.mkdir()
    make_study(src, IDENTITY, True)
    lge = by_inversion(src, 300.0)[0]
    store_raw(lge, "PixelSpacing", "DS", b"abc\\1.5")
    cine = [p for p in sorted(src.glob("IM*")) if float(getattr(
        pydicom.dcmread(p), "TriggerTime", 0) or 0) > 0 and p not in by_inversion(src, 100.0)]
    store_raw(cine[0], "ImagePositionPatient", "DS", b"1\\2")
    lines, out = run(src, tmp_path, capsys)
    (spacing,) = [x for x in lines if "PixelSpacing" in x]
    assert (f"{file_no(src, lge)}: PixelSpacing (0028,0030) "
            "value (7 characters: letters, digits, backslashes, signs or points) is not a "
            "decimal "
            "number (DS)") in spacing and "series 9 skipped" in spacing
    (position,) = [x for x in lines if "ImagePositionPatient" in x]
    assert (f"{file_no(src, cine[0])}: ImagePositionPatient (0020,0032) "
            "value (3 characters: digits, backslashes) has 2 "
            "values, not 3") in position
    (record,) = read_dataset(out).studies.values()
    assert {"t2_sax", "perf_sax"} <= set(record.series)
    assert "lge_sax" not in record.series and "cine_sax" not in record.series


def test_a_bad_slice_of_a_stack_stored_one_series_per_slice_is_not_left_out(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Each LGE slice is its own series; the middle one has a bad InstanceNumber. Joining
    the other two would make a stack with a hidden 16 mm gap: no lge_sax is imported."""
    src = tmp_path / "dicom"
    src.mkdir()
    make_study(src, IDENTITY, True, per_slice_series=True)
    middle = by_inversion(src, 300.0)[1]
    store_raw(middle, "InstanceNumber", "IS", b"x")
    lines, out = run(src, tmp_path, capsys)
    assert any(f"{file_no(src, middle)}: InstanceNumber (0020,0013) "
               "value (1 character: letters)" in x for x in lines)
    assert any("not joined" in x for x in lines)
    (record,) = read_dataset(out).studies.values()
    assert "lge_sax" not in record.series
    assert {"cine_sax", "t2_sax"} <= set(record.series)


def test_a_bad_label_value_keeps_its_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A SeriesNumber "1A" is only a label: reported and treated as absent, and the series
    still imports."""
    src = tmp_path / "dicom"
    src.mkdir()
    study, t2 = generate_uid(), generate_uid()
    sax = (AXES[:, 0], AXES[:, 1])
    for s in range(3):
        write_image(src / f"T{s}", study, t2, 4, "", sax, s * 8.0 * AXES[:, 2], 100 * s,
                    echo=65.0)
    store_raw(src / "T1", "SeriesNumber", "IS", b"1A")
    lines, out = run(src, tmp_path, capsys)
    (line,) = [x for x in lines if "SeriesNumber" in x]
    assert (f"{file_no(src, src / 'T1')}: SeriesNumber (0020,0011) "
            "value (2 characters: letters, digits) is not an "
            "integer (IS)") in line
    assert "treated as absent" in line
    (record,) = read_dataset(out).studies.values()
    assert record.series["t2_sax"].slices == 3
    assert np.isfinite(record.series["t2_sax"].slices)


def test_a_truncated_image_skips_its_series_with_the_reason_not_a_decoder_hint(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An uncompressed image cut short: its series is skipped naming the file and the
    reason (nothing to install), and the rest of the study imports."""
    src = tmp_path / "dicom"
    src.mkdir()
    make_study(src, IDENTITY, True)
    cut = by_inversion(src, 300.0)[1]
    cut.write_bytes(cut.read_bytes()[:-200])
    lines, out = run(src, tmp_path, capsys)
    (line,) = [x for x in lines if f"{file_no(src, cut)}: " in x]
    assert "series 9: " in line and "pixel data unreadable (" in line
    assert line.endswith("the file is truncated or damaged") and "install" not in line
    (record,) = read_dataset(out).studies.values()
    assert {"cine_sax", "t2_sax", "perf_sax"} <= set(record.series)
    assert "lge_sax" not in record.series


def test_a_bad_time_is_a_bad_value_only_where_it_is_read(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A ContentTime "zz" beside a good AcquisitionTime is never read: nothing skipped. An
    AcquisitionTime "zz" orders the perfusion dynamics: the perfusion series is skipped."""
    src = tmp_path / "dicom"
    src.mkdir()
    make_study(src, IDENTITY, True)
    perf = by_inversion(src, 100.0)
    store_raw(perf[0], "ContentTime", "TM", b"zz")
    store_raw(perf[3], "AcquisitionTime", "TM", b"12x0")
    lines, out = run(src, tmp_path, capsys)
    assert not any("ContentTime" in x for x in lines)
    (line,) = [x for x in lines if "AcquisitionTime" in x]
    assert (f"{file_no(src, perf[3])}: AcquisitionTime (0008,0032) "
            "value (4 characters: letters, digits) is not a "
            "time") in line
    (record,) = read_dataset(out).studies.values()
    assert "perf_sax" not in record.series and "cine_sax" in record.series


def test_a_bad_value_is_printed_only_with_show_paths(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A name typed into InstanceNumber: by default the line gives the value's length and
    kinds of characters, not its text (stderr may be pasted into a ticket); with
    --show-paths the value itself."""
    src = tmp_path / "dicom"
    src.mkdir()
    make_study(src, IDENTITY, True)
    bad = by_echo(src, 60, 70)[1]
    store_raw(bad, "InstanceNumber", "IS", b"Zyxwvut 9981")
    for show in (False, True):
        out = tmp_path / f"out{show}"
        assert main(["import", "dicom", str(src), str(out), "--salt-file",
                     str(tmp_path / "salt"), "--quiet", *(["--show-paths"] if show else [])]) == 0
        err = capsys.readouterr().err
        (line,) = [x for x in err.splitlines() if "InstanceNumber" in x]
        if show:
            assert "InstanceNumber (0020,0013) value 'Zyxwvut 9981' is not an integer" in line
        else:
            assert "Zyxwvut" not in err and "9981" not in err
            assert ("InstanceNumber (0020,0013) value (12 characters: letters, digits, spaces) "
                    "is not an integer (IS)") in line
