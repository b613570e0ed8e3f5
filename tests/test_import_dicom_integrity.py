"""No silently wrong study: a single-slice cine does not replace the stack, duplicates and
repeated acquisitions keep one whole acquisition, a stack with mixed spacing, an odd
orientation or a missing slice is refused with one line naming the files, mapping keywords
in the exam's ProtocolName do not outrank a cine's timing, and the console shows no path
or header text unless asked (--show-paths)."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pydicom = pytest.importorskip("pydicom")
from pydicom.uid import generate_uid  # noqa: E402
from test_import_dicom import AXES, CANONICAL, LAX_I, LAX_J, LPS, file_no, write_image  # noqa: E402

from cardiolens.cli import main  # noqa: E402
from cardiolens.data.dataset import read_dataset  # noqa: E402
from cardiolens.data.volumes import SeriesVolume  # noqa: E402

from helpers import read_all  # noqa: E402

SAX = (AXES[:, 0], AXES[:, 1])


def edit(path: Path, **fields: Any) -> None:
    """Set header fields, bad ones included (pydicom's warning on writing them silenced)."""
    ds = pydicom.dcmread(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for key, value in fields.items():
            setattr(ds, key, value)
        ds.save_as(str(path))


def cine(folder: Path, study: str, uid: str, number: int, slices: int = 3, phases: int = 5,
         prefix: str = "C", depths: list[float] | None = None, description: str = "",
         first_instance: int = 1) -> dict[int, list[Path]]:
    """A cine stack, slice s at depth 8 s mm (or ``depths``), pixel value 1000 s + 10 f."""
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[int, list[Path]] = {}
    n = first_instance - 1
    for s in range(slices):
        depth = depths[s] if depths else 8.0 * s
        for f in range(phases):
            n += 1
            path = folder / f"{prefix}{n:03d}"
            write_image(path, study, uid, number, description, SAX, depth * AXES[:, 2],
                        1000 * s + 10 * f, instance=n, trigger=40.0 + 150.0 * f)
            files.setdefault(s, []).append(path)
    return files


def run(src: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        *extra: str) -> tuple[list[str], Path]:
    out = tmp_path / "out"
    shutil.rmtree(out, ignore_errors=True)
    code = main(["import", "dicom", str(src), str(out), "--salt-file",
                 str(tmp_path / "salt"), "--quiet", *extra])
    lines = capsys.readouterr().err.splitlines()
    assert code in (0, 1), lines
    return lines, out


def only(lines: list[str], text: str) -> str:
    (line,) = [x for x in lines if text in x]
    return line


def stored(out: Path, key: str = "cine_sax") -> np.ndarray:
    (record,) = read_dataset(out).studies.values()
    return read_all(SeriesVolume.open(out, record.series[key]))


def realtime_cine(folder: Path, study: str, number: int) -> None:
    """A one-slice real-time cine of 40 images at 20 per second, at the stack's second
    slice (8 mm), numbered ``number``."""
    realtime = generate_uid()
    for k in range(40):
        write_image(folder / f"R{k:03d}", study, realtime, number, "", SAX, 8.0 * AXES[:, 2], 7,
                    instance=k + 1, trigger=40.0 + 50.0 * (k % 16), acquired=10.0 + 0.05 * k)


def slice_by_slice(folder: Path, slices: int, per_slice: bool) -> dict[int, list[Path]]:
    """A cine stack of ``slices`` slices 8 mm apart written slice by slice: one series, or
    with ``per_slice`` one series per slice (numbers 3, 4, ...); each slice's files."""
    study = generate_uid()
    uids = [generate_uid() for _ in range(slices)] if per_slice else [generate_uid()] * slices
    return {s: cine(folder, study, uids[s], 3 + (s if per_slice else 0), slices=1,
                    depths=[8.0 * s], prefix=f"S{s}_")[0] for s in range(slices)}


@pytest.mark.parametrize(("number", "expected"), [
    (9, "series 9 (1 location(s) x 40 image(s)) is a second cine_sax; kept series 3 "
        "(3 location(s) x 15 image(s)): most slice locations"),
    (3, "series 3 (2nd) (1 location(s) x 40 image(s)) is a second cine_sax; kept series "
        "3 (1st) (3 location(s) x 15 image(s))"),
])
def test_a_single_slice_real_time_cine_does_not_replace_the_stack(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], number: int, expected: str) -> None:
    """A 3-slice stack (15 images) and a one-slice real-time cine of 40 images at 20 per
    second in the same plane family: the stack is kept, and the line says why. Numbered
    alike (both series 3), the line tells them apart as "series 3 (1st)" and "series 3
    (2nd)" (in the order of their first file), not "series 3" twice."""
    src = tmp_path / "dicom"
    study = generate_uid()
    cine(src, study, generate_uid(), 3)
    realtime_cine(src, study, number)
    lines, out = run(src, tmp_path, capsys)
    assert expected in only(lines, "is a second cine_sax")
    assert stored(out).shape[2:] == (3, 5)


def test_exact_duplicates_are_dropped_with_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two files copied (same SOPInstanceUID) and one image written again with a new UID
    but the same position, trigger time and pixels: one line each kind, the stack whole."""
    src = tmp_path / "dicom"
    study, uid = generate_uid(), generate_uid()
    files = cine(src, study, uid, 3)
    shutil.copy(files[1][2], src / "copy_a")
    shutil.copy(files[2][0], src / "copy_b")
    write_image(src / "Z_again", study, uid, 3, "", SAX, 8.0 * AXES[:, 2], 1000 + 30,
                instance=99, trigger=40.0 + 450.0)
    lines, out = run(src, tmp_path, capsys)
    same_uid = only(lines, "same SOPInstanceUID")
    assert ("2 file(s) repeat an image read before (same SOPInstanceUID: one image exported "
            f"twice): {file_names_of(src, [src / 'copy_a', src / 'copy_b'])}; dropped"
            ) in same_uid
    same_pixels = only(lines, "same position, time and pixels")
    assert "series 3: 1 file(s) repeat another image" in same_pixels
    assert file_no(src, src / "Z_again") in same_pixels
    frames = stored(out)
    assert frames.shape[2:] == (3, 5)
    for s in range(3):
        for f in range(5):
            np.testing.assert_array_equal(frames[:, :, s, f], CANONICAL + 1000 * s + 10 * f)


@pytest.mark.parametrize("numbered", [True, False])
def test_a_slice_acquired_twice_keeps_one_whole_acquisition(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], numbered: bool) -> None:
    """The middle slice acquired again, its phases sharing one AcquisitionTime with the
    first acquisition's and reusing its InstanceNumbers (a sort on time and instance would
    interleave the two). With AcquisitionNumber 1 and 2 the second is kept whole, phases
    1..5 in trigger order; without it the two cannot be told apart: refused, one line."""
    src = tmp_path / "dicom"
    study, uid = generate_uid(), generate_uid()
    files = cine(src, study, uid, 3)
    for path in (p for paths in files.values() for p in paths):
        edit(path, AcquisitionTime="120000", **({"AcquisitionNumber": 1} if numbered else {}))
    for f in range(5):
        path = src / f"Repeat{f}"
        write_image(path, study, uid, 3, "", SAX, 8.0 * AXES[:, 2], 1000 + 10 * f + 500,
                    instance=6 + f, trigger=40.0 + 150.0 * f)
        edit(path, AcquisitionTime="120000", **({"AcquisitionNumber": 2} if numbered else {}))
    lines, out = run(src, tmp_path, capsys)
    if numbered:
        line = only(lines, "acquired 2 times")
        assert "kept the latest acquisition (files" in line and "dropped files" in line
        frames = stored(out)
        assert frames.shape[2:] == (3, 5)
        for f in range(5):
            np.testing.assert_array_equal(frames[:, :, 1, f], CANONICAL + 1000 + 10 * f + 500)
    else:
        line = only(lines, "cannot be told apart")
        assert "series 3: slice at" in line and "acquired 2 times (files" in line
        assert not (out / "studies.jsonl").exists()


@pytest.mark.parametrize(("field", "value", "what"), [
    ("PixelSpacing", [1.8, 1.8], "PixelSpacing differs within the stack: 1.5 x 1.5 mm in "
                                 "10 file(s), 1.8 x 1.8 mm in files"),
])
def test_a_stack_with_mixed_spacing_is_refused_naming_the_files(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], field: str, value: Any,
        what: str) -> None:
    """One slice re-planned with another PixelSpacing (or thickness): the first file's value
    would be stored for all; the stack is refused with one line naming that slice's files,
    whether the slices are one series or one series each (joined)."""
    for per_slice in (False, True):
        src = tmp_path / f"dicom{per_slice}"
        files = slice_by_slice(src, 3, per_slice)
        for path in files[2]:
            edit(path, **{field: value})
        lines, out = run(src, tmp_path, capsys)
        line = only(lines, "differs within the stack")
        assert what in line and file_names_of(src, files[2]) in line
        assert line.endswith(f"not assembled (one {field} is stored per stack)")
        assert not (out / "studies.jsonl").exists()


@pytest.mark.parametrize(("field", "values"), [
    ("PixelSpacing", (["1.367188", "1.367188"], ["1.3671875", "1.3671875"],
                      ["1.367198", "1.367198"])),
    ("PixelSpacing", (["0.78125", "0.78125"], ["0.7813", "0.7813"], ["0.78125", "0.78125"])),
    ("SliceThickness", ("10", "9.99999", "10.0001")),
])
def test_float_noise_in_spacing_is_one_value(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], field: str,
        values: tuple[Any, ...]) -> None:
    """Values that differ by float noise (rounding in the export) are one value: the stack
    is stored, at the first file's value."""
    src = tmp_path / "dicom"
    files = cine(src, generate_uid(), generate_uid(), 3, slices=3)
    for s, paths in files.items():
        for path in paths:
            edit(path, **{field: values[s]})
    lines, out = run(src, tmp_path, capsys)
    assert not [x for x in lines if "differs within" in x], lines
    assert stored(out).shape[2:] == (3, 5)


def test_slice_thickness_is_checked_only_for_a_single_slice(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A stack's slice spacing comes from the positions, so a slice with another
    SliceThickness is stored; a one-slice cine whose frames differ in SliceThickness (the
    value stored as its spacing) is refused, naming the files."""
    src = tmp_path / "stack"
    files = cine(src, generate_uid(), generate_uid(), 3, slices=3)
    for path in files[2]:
        edit(path, SliceThickness=6.0)
    lines, out = run(src, tmp_path, capsys)
    assert not [x for x in lines if "differs within" in x], lines
    assert stored(out).shape[2:] == (3, 5)
    src = tmp_path / "single"
    (paths,) = cine(src, generate_uid(), generate_uid(), 3, slices=1, phases=6).values()
    for path in paths[3:]:
        edit(path, SliceThickness=6.0)
    lines, out = run(src, tmp_path, capsys)
    line = only(lines, "differs within the stack")
    assert "SliceThickness differs within the stack: 8 mm in 3 file(s), 6 mm in files" in line
    assert line.endswith("not assembled (one SliceThickness is stored per stack)")


def test_positions_jittered_across_a_rounding_boundary_are_one_slice(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The middle slice at 8.05 mm, its frames alternately 1e-4 mm above and below (float
    noise in the export): one slice of five frames, not two slices of two and three."""
    src = tmp_path / "dicom"
    files = cine(src, generate_uid(), generate_uid(), 3, slices=3, depths=[0.05, 8.05, 16.05])
    for f, path in enumerate(files[1]):
        depth = 8.05 + (1e-4 if f % 2 else -1e-4)
        edit(path, ImagePositionPatient=[f"{v:.6f}" for v in depth * AXES[:, 2] * LPS])
    lines, out = run(src, tmp_path, capsys)
    assert not [x for x in lines if "unequal frames" in x], lines
    frames = stored(out)
    assert frames.shape[2:] == (3, 5)
    for f in range(5):
        np.testing.assert_array_equal(frames[:, :, 1, f], CANONICAL + 1000 + 10 * f)


def file_names_of(src: Path, paths: list[Path]) -> str:
    numbers = [int(file_no(src, p)[5:]) for p in paths]
    return f"files {numbers[0]}-{numbers[-1]}"


def test_a_slice_with_a_disagreeing_orientation_refuses_the_stack(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The last slice's row direction flipped in its headers (pixels unchanged): stored
    without it the stack would lose a slice silently; refused, the files named. The same
    with one series per slice: the slices are not joined."""
    for per_slice in (False, True):
        src = tmp_path / f"dicom{per_slice}"
        files = slice_by_slice(src, 4, per_slice)
        for path in files[3]:
            iop = [float(v) for v in pydicom.dcmread(path).ImageOrientationPatient]
            edit(path, ImageOrientationPatient=[-iop[0], -iop[1], -iop[2], *iop[3:]])
        lines, out = run(src, tmp_path, capsys)
        if per_slice:
            line = only(lines, "not joined into a stack")
            assert "series 6 (" in line and "ImageOrientationPatient that disagrees" in line
        else:
            line = only(lines, "have an ImageOrientationPatient")
            assert f"series 3: {file_names_of(src, files[3])} (5 of 20)" in line
            assert "180 degrees (rows)" in line and "not assembled" in line
        assert not any("mixes 2 orientations" in x for x in lines)
        assert not (out / "studies.jsonl").exists()


def test_slices_one_series_each_with_orientation_noise_are_joined(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """One series per slice, the last slice's orientation turned 2e-4 rad in its plane (float
    noise: one ImageOrientationPatient value crosses a 0.01 rounding boundary, 0.43507 to
    0.43494): the slices are joined into one stack, not refused as disagreeing."""
    src = tmp_path / "dicom"
    study = generate_uid()
    files: dict[int, list[Path]] = {}
    for s in range(3):
        files |= {s: cine(src, study, generate_uid(), 3 + s, slices=1, depths=[8.0 * s],
                          prefix=f"S{s}_")[0]}
    turn = 2e-4
    for path in files[2]:
        iop = np.asarray([float(v) for v in pydicom.dcmread(path).ImageOrientationPatient])
        row = iop[:3] * np.cos(turn) + iop[3:] * np.sin(turn)
        column = iop[3:] * np.cos(turn) - iop[:3] * np.sin(turn)
        assert round(column[1], 2) != round(iop[4], 2)        # the case the test is about
        edit(path, ImageOrientationPatient=[f"{v:.7f}" for v in (*row, *column)])
    lines, out = run(src, tmp_path, capsys)
    assert not [x for x in lines if "not joined" in x or "disagree" in x], lines
    frames = stored(out)
    assert frames.shape[2:] == (3, 5)


@pytest.mark.parametrize(("last", "refused"), [(28.8, False), (31.2, True)])
def test_a_gap_short_of_a_missing_slice_is_stored_as_uneven(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], last: float, refused: bool) -> None:
    """Gaps 8, 8 and 12.8 mm (1.6 times the median: the last slice planned further out) are
    stored with the median and the uneven-gaps line; 15.2 mm (1.9 times, at or above 1.8) is
    refused as a missing slice."""
    src = tmp_path / "dicom"
    cine(src, generate_uid(), generate_uid(), 3, slices=4, depths=[0.0, 8.0, 16.0, last])
    lines, out = run(src, tmp_path, capsys)
    if refused:
        line = only(lines, "a slice is missing")
        assert "15.2 mm between" in line and "1.9 times the usual 8 mm; not assembled" in line
        assert not (out / "studies.jsonl").exists()
    else:
        assert not [x for x in lines if "a slice is missing" in x], lines
        assert "series 3: uneven slice gaps 8-12.8 mm; stored with the median 8 mm" in only(
            lines, "uneven slice gaps")
        assert stored(out).shape[2:] == (4, 5)


def test_a_missing_slice_in_a_three_slice_stack_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Slices at 0, 8 and 24 mm (the one at 16 mm missing): the median of two gaps is their
    mean, 12 mm, against which 16 mm looks uneven only; the narrower gap shows it missing."""
    src = tmp_path / "dicom"
    cine(src, generate_uid(), generate_uid(), 3, slices=3, depths=[0.0, 8.0, 24.0])
    lines, out = run(src, tmp_path, capsys)
    assert "16 mm between" in only(lines, "a slice is missing")
    assert "2.0 times the usual 8 mm" in only(lines, "a slice is missing")
    assert not (out / "studies.jsonl").exists()


def test_a_missing_slice_refuses_the_stack(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """Slices at 0, 8, 24, 32 mm: the one at 16 mm is missing. Stored with the median gap the
    volume would be short by a slice and the slices after the gap misplaced: refused with
    the gap and the files either side. Uneven gaps short of a missing slice (8 and 12 mm,
    tests/test_import_dicom.py) are still stored, with a line."""
    src = tmp_path / "dicom"
    files = cine(src, generate_uid(), generate_uid(), 3, slices=4,
                 depths=[0.0, 8.0, 24.0, 32.0])
    lines, out = run(src, tmp_path, capsys)
    line = only(lines, "a slice is missing")
    assert "series 3: a slice is missing: 16 mm between the slices at" in line
    assert "2.0 times the usual 8 mm; not assembled" in line
    assert file_names_of(src, files[1]) in line and file_names_of(src, files[2]) in line
    assert not (out / "studies.jsonl").exists()


def test_unequal_frames_and_a_missing_geometry_tag_name_the_files(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """One phase file missing at a slice: one line naming the slice's files. One file
    without ImagePositionPatient: one line naming it (not a second 'not classified')."""
    src = tmp_path / "dicom"
    files = cine(src, generate_uid(), generate_uid(), 3)
    files[1][2].unlink()
    lines, _ = run(src, tmp_path, capsys)
    line = only(lines, "unequal frames per slice")
    assert "unequal frames per slice [4, 5]: slice at" in line and "has 4 (files" in line
    assert "the others 5; not assembled" in line

    src2 = tmp_path / "dicom2"
    files = cine(src2, generate_uid(), generate_uid(), 3)
    ds = pydicom.dcmread(files[2][1])
    del ds.ImagePositionPatient
    ds.save_as(str(files[2][1]))
    lines, _ = run(src2, tmp_path, capsys)
    assert [x for x in lines if "series 3" in x] == [
        only(lines, f"series 3 skipped: {file_no(src2, files[2][1])}: ImagePositionPatient "
                    "missing (the series' other images have it)")]


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("PixelSpacing", [-1.5, 1.5], "is not positive"),
    ("PixelSpacing", [0, 0], "is not positive"),
    ("RescaleSlope", "inf", "is not finite"),
    ("RescaleIntercept", "nan", "is not a decimal number"),
    ("ImageOrientationPatient", [0, 0, 0, 0, 0, 0], "is not two orthogonal unit vectors"),
    ("ImageOrientationPatient", [1, 0, 0, 0.6, 0.8, 0], "is not two orthogonal unit vectors"),
])
def test_values_that_make_no_geometry_skip_the_series_with_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], field: str, value: Any,
        reason: str) -> None:
    """Values that convert but would mirror, flatten or mis-scale the images: the series is
    skipped with one line for the series (not one per image) naming the first file."""
    src = tmp_path / "dicom"
    files = cine(src, generate_uid(), generate_uid(), 3)
    every = [p for paths in files.values() for p in paths]
    for path in every:
        edit(path, **{field: value})
    lines, out = run(src, tmp_path, capsys)
    line = only(lines, "series 3 skipped")
    assert f"{file_no(src, every[0])}: {field} (" in line and reason in line
    assert "(and 14 more file(s) with bad values)" in line
    assert len([x for x in lines if field in x]) == 1
    assert not (out / "studies.jsonl").exists()


def test_mapping_keywords_in_the_protocol_do_not_outrank_a_cine(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An exam-level ProtocolName "CMR FUNCTION + T1 MAPPING" on a cine stack without a
    description, and a SeriesDescription "CINE SAX STAR": both are cines by their timing.
    A single image named "T1 MAP" by its description is still excluded."""
    src = tmp_path / "dicom"
    study = generate_uid()
    files = cine(src, study, generate_uid(), 3)
    for path in (p for paths in files.values() for p in paths):
        edit(path, ProtocolName="CMR FUNCTION + T1 MAPPING")
    lines, out = run(src, tmp_path, capsys)
    assert stored(out).shape[2:] == (3, 5)
    src2 = tmp_path / "dicom2"
    cine(src2, study, generate_uid(), 3, description="CINE SAX STAR")
    write_image(src2 / "M", study, generate_uid(), 8, "T1 MAP", SAX, np.zeros(3), 0,
                inversion=250.0)
    lines, out = run(src2, tmp_path, capsys)
    assert stored(out).shape[2:] == (3, 5)
    assert "keyword 'map'" in only(lines, "series 8 not classified")


def test_a_view_keyword_does_not_overrule_the_geometry(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A long-axis cine whose geometry is 4CH, described "cine 2CH": stored as cine_4ch with
    one line; the stack described "4CH" stays the short axis."""
    src = tmp_path / "dicom"
    study = generate_uid()
    cine(src, study, generate_uid(), 3, description="cine 4CH")
    lax = generate_uid()
    for f in range(5):
        write_image(src / f"L{f}", study, lax, 6, "cine 2CH", (LAX_I, LAX_J),
                    8.0 * AXES[:, 2], 10 * f, instance=f + 1, trigger=40.0 + 150.0 * f)
    lines, out = run(src, tmp_path, capsys)
    assert ("series 6: the description's view keyword says 2ch, the geometry 4ch; kept 4ch "
            "(the geometry decides)") in only(lines, "series 6: the description")
    assert "keyword says 4ch, the geometry sax; kept sax" in only(lines, "series 3: the desc")
    (record,) = read_dataset(out).studies.values()
    assert set(record.series) == {"cine_sax", "cine_4ch"}


def test_no_path_or_header_text_on_the_console_by_default(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A name and an MRN in the folder names, the file names, the SeriesDescription and
    ProtocolName, and an unreadable report file: none reaches stderr by default; files are
    "file N" and the study its salted id. --show-paths adds the paths relative to SRC."""
    phi = ("Zyxwvut", "MRN99817263")
    src = tmp_path / "dicom"
    folder = src / "Zyxwvut_Qplm_MRN99817263" / "study_2024"
    study = generate_uid()
    files = cine(folder, study, generate_uid(), 3, prefix="IM_Zyxwvut_",
                 description="Zyxwvut MRN99817263 cine")
    for path in (p for paths in files.values() for p in paths):
        edit(path, ProtocolName="Zyxwvut MRN99817263")
    extra = generate_uid()
    for k in range(2):                    # not classified: description would be shown
        write_image(folder / f"X_Zyxwvut_{k}", study, extra, 77,
                    "Zyxwvut MRN99817263 extra", SAX, 8.0 * k * AXES[:, 2], 0, trigger=0.0)
    write_image(folder / "Y_Zyxwvut", study, generate_uid(), 88, "Zyxwvut screenshot", SAX,
                np.zeros(3), 0, drop=("ImagePositionPatient",))
    (folder / "report_Zyxwvut_MRN99817263.txt").write_text("Patient Zyxwvut")
    (src / "Empty_Zyxwvut").mkdir()
    files[1][3].unlink()                  # a line naming files of the stack
    lines, _ = run(src, tmp_path, capsys)
    text = "\n".join(lines)
    assert "series 77 not classified" in text and "series 88 not classified" in text
    assert "unequal frames per slice" in text and "not readable DICOM" in text
    assert "1 folder(s) hold no file" in text
    for word in phi:
        assert word.lower() not in text.lower(), word
    report = folder / "report_Zyxwvut_MRN99817263.txt"
    assert f"({file_no(src, report)})" in only(lines, "not readable DICOM")
    lines, _ = run(src, tmp_path, capsys, "--show-paths")
    shown = only(lines, "not readable DICOM")
    assert (f"{file_no(src, report)} (Zyxwvut_Qplm_MRN99817263/study_2024/"
            "report_Zyxwvut_MRN99817263.txt)") in shown
    assert "Empty_Zyxwvut" in only(lines, "hold no file")


def test_a_file_as_src_and_a_folder_as_salt_are_refused_clearly(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "dicom"
    cine(src, generate_uid(), generate_uid(), 3)
    one = next(src.iterdir())
    assert main(["import", "dicom", str(one), str(tmp_path / "o"), "--salt-file",
                 str(tmp_path / "salt")]) == 1
    assert "is a file; give the folder that holds the DICOM files" in capsys.readouterr().err
    (tmp_path / "saltdir").mkdir()
    assert main(["import", "dicom", str(src), str(tmp_path / "o"), "--salt-file",
                 str(tmp_path / "saltdir")]) == 1
    assert "saltdir: is a folder; --salt-file names a file" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["import", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--show-paths" in text and "get no items (build-qa adds them" in text
    assert "public datasets items come from the segmentations" in text
