"""`cardiolens validate`: a valid dataset passes; each malformed case is one named line."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from cardiolens.cli import main
from cardiolens.data.validate import validate_dataset
from cardiolens.data.volumes import write_volume

from helpers import SPACING, make_tiny_dataset


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_dataset(tmp_path_factory.mktemp("pristine") / "ds")


@pytest.fixture
def ds(pristine: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "ds"
    shutil.copytree(pristine, copy, symlinks=True)
    return copy


def _rewrite_jsonl(path: Path, edit: Callable[[list[str]], list[str]]) -> None:
    lines = path.read_text().splitlines()
    path.write_text("\n".join(edit(lines)) + "\n")


def _edit_line(path: Path, number: int, change: Callable[[dict], None]) -> None:
    def edit(lines: list[str]) -> list[str]:
        row = json.loads(lines[number - 1])
        change(row)
        lines[number - 1] = json.dumps(row)
        return lines
    _rewrite_jsonl(path, edit)


def _series_path(ds: Path, key: str = "lge_sax", study: int = 0) -> Path:
    row = json.loads((ds / "studies.jsonl").read_text().splitlines()[study])
    return ds / row["series"][key]["path"]


def run_cli(ds: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["validate", str(ds), "--quiet"])
    out, err = capsys.readouterr()
    return code, out, err


def test_valid_dataset_passes(ds: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert validate_dataset(ds) == []
    code, out, _err = run_cli(ds, capsys)
    assert (code, out) == (0, "")


def test_valid_dataset_passes_as_a_subprocess(ds: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "cardiolens.cli", "validate", str(ds)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "valid" in proc.stderr


def test_phantom_cohort_is_valid(cohort40: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(cohort40, capsys)
    assert (code, out) == (0, "")


def _truncate(ds: Path) -> None:
    path = _series_path(ds)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _not_nifti(ds: Path) -> None:
    _series_path(ds).write_bytes(gzip.compress(b"this is not an image\n" * 20))


def _missing(ds: Path) -> None:
    _series_path(ds).unlink()


def _shape(ds: Path) -> None:
    write_volume(_series_path(ds), np.ones((16, 16, 2, 1)) * np.arange(2)[None, None, :, None],
                 SPACING)


def _nan(ds: Path) -> None:
    path = _series_path(ds)
    nib.save(nib.Nifti1Image(np.full((16, 16, 3), np.nan, np.float32), np.eye(4)), str(path))


def _constant(ds: Path) -> None:
    write_volume(_series_path(ds), np.full((16, 16, 3, 1), 7.0), SPACING)


def _beyond_float32(ds: Path) -> None:
    data = np.linspace(0.0, 1e300, 16 * 16 * 3).reshape(16, 16, 3)
    nib.save(nib.Nifti1Image(data, np.eye(4)), str(_series_path(ds)))


def _absurd_header(ds: Path) -> None:
    path = _series_path(ds)
    plain = path.with_name("huge.nii")
    image = nib.Nifti1Image(np.zeros((2, 2, 3), np.int16), np.eye(4))
    image.header.set_data_shape((30000, 30000, 30))
    raw = image.header.binaryblock + b"\0" * 4 + b"\0" * 24   # header, then a few bytes
    plain.write_bytes(raw)
    _edit_line(ds / "studies.jsonl", 1,
               lambda r: r["series"]["lge_sax"].update(path=str(plain.relative_to(ds))))


def _dotdot(ds: Path) -> None:
    _edit_line(ds / "studies.jsonl", 1,
               lambda r: r["series"]["lge_sax"].update(path="../outside.nii.gz"))


def _absolute(ds: Path) -> None:
    _edit_line(ds / "studies.jsonl", 1,
               lambda r: r["series"]["lge_sax"].update(path="/etc/passwd.nii.gz"))


def _symlink(ds: Path) -> None:
    outside = ds.parent / "outside.nii.gz"
    shutil.copy(_series_path(ds), outside)
    link = ds / "volumes" / "link.nii.gz"
    link.symlink_to(outside)
    _edit_line(ds / "studies.jsonl", 1,
               lambda r: r["series"]["lge_sax"].update(path="volumes/link.nii.gz"))


def _bad_json(ds: Path) -> None:
    _rewrite_jsonl(ds / "items.jsonl", lambda lines: [*lines[:2], '{"item_id": "x", ', *lines[2:]])


def _not_object(ds: Path) -> None:
    _rewrite_jsonl(ds / "items.jsonl", lambda lines: [*lines[:2], "[1, 2, 3]", *lines[2:]])


def _duplicate_study(ds: Path) -> None:
    _rewrite_jsonl(ds / "studies.jsonl", lambda lines: [*lines, lines[0]])


def _duplicate_item(ds: Path) -> None:
    _rewrite_jsonl(ds / "items.jsonl", lambda lines: [*lines, lines[0]])


def _unknown_subtask(ds: Path) -> None:
    _edit_line(ds / "items.jsonl", 1, lambda r: r.update(subtask="lge_colour"))


def _unknown_series(ds: Path) -> None:
    _edit_line(ds / "studies.jsonl", 1,
               lambda r: r["series"].update(flair_sax=r["series"]["lge_sax"]))


def _answer_outside(ds: Path) -> None:
    _edit_line(ds / "items.jsonl", 1, lambda r: r.update(answer="Maybe"))


def _multi_as_string(ds: Path) -> None:
    _edit_line(ds / "items.jsonl", 2, lambda r: r.update(answer="Anterior"))


def _orphan_item(ds: Path) -> None:
    _edit_line(ds / "items.jsonl", 1, lambda r: r.update(study_id="NOPE"))


def _missing_card(ds: Path) -> None:
    (ds / "cardiolens.json").unlink()


def _wrong_level(ds: Path) -> None:
    _edit_line(ds / "items.jsonl", 1, lambda r: r.update(level="diagnosis"))


def _empty_reference(ds: Path) -> None:
    _edit_line(ds / "items.jsonl", 3, lambda r: r.update(reference=""))


CASES: dict[str, tuple[Callable[[Path], None], str, str]] = {
    # name: (break the dataset, file the line must name, words the reason must contain)
    "truncated": (_truncate, "S0/lge_sax.nii.gz", "truncated"),
    "not nifti": (_not_nifti, "S0/lge_sax.nii.gz", "not a readable NIfTI"),
    "missing volume": (_missing, "S0/lge_sax.nii.gz", "missing"),
    "shape mismatch": (_shape, "S0/lge_sax.nii.gz", "does not match slices x frames"),
    "nan only": (_nan, "S0/lge_sax.nii.gz", "NaN/Inf"),
    "zero variance": (_constant, "S0/lge_sax.nii.gz", "zero variance"),
    "beyond float32": (_beyond_float32, "S0/lge_sax.nii.gz", "beyond the float32 range"),
    "absurd header": (_absurd_header, "huge.nii", "limit"),
    "dotdot path": (_dotdot, "studies.jsonl:1", "leaves the dataset folder"),
    "absolute path": (_absolute, "studies.jsonl:1", "absolute"),
    "symlink out": (_symlink, "studies.jsonl:1", "symlink"),
    "bad json": (_bad_json, "items.jsonl:3", "malformed JSON"),
    "not an object": (_not_object, "items.jsonl:3", "not a JSON object"),
    "duplicate study": (_duplicate_study, "studies.jsonl:3", "duplicate study_id"),
    "duplicate item": (_duplicate_item, "items.jsonl:11", "duplicate item_id"),
    "unknown subtask": (_unknown_subtask, "items.jsonl:1", "unknown subtask"),
    "unknown series": (_unknown_series, "studies.jsonl:1", "unknown series key 'flair_sax'"),
    "answer outside": (_answer_outside, "items.jsonl:1", "not among the options"),
    "multi as string": (_multi_as_string, "items.jsonl:2", "non-empty list"),
    "item without study": (_orphan_item, "items.jsonl:1", "study 'NOPE' is missing"),
    "missing card": (_missing_card, "cardiolens.json", "missing"),
    "wrong level": (_wrong_level, "items.jsonl:1", "does not match subtask level"),
    "empty reference": (_empty_reference, "items.jsonl:3", "reference"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_dataset_gives_one_named_line(case: str, ds: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    breaker, file_part, reason = CASES[case]
    breaker(ds)
    code, out, err = run_cli(ds, capsys)
    assert code == 1
    assert "Traceback" not in out + err
    lines = out.splitlines()
    hits = [line for line in lines if file_part in line and reason in line]
    assert hits, f"no line naming {file_part!r} with {reason!r} in:\n{out}"
    assert all(line.count("\n") == 0 and ": " in line for line in lines)


def test_every_problem_is_reported_in_one_pass(ds: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    _truncate(ds)
    _answer_outside(ds)
    _duplicate_study(ds)
    code, out, _ = run_cli(ds, capsys)
    assert code == 1
    assert "truncated" in out and "not among the options" in out and "duplicate" in out
    assert len(out.splitlines()) == 3


def test_missing_folder_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run_cli(tmp_path / "nowhere", capsys)
    assert code == 1 and out.strip().endswith("not a dataset folder")
