"""A corpus of malformed inputs for every entry point: datasets read by the tasks, volumes
given to the prompt builder, command-line arguments, task parameters and model outputs.

Each case either works or fails with one clear line naming the file or the parameter and
the reason; none may end in a traceback. (``cardiolens validate`` has its own corpus in
test_validate.py; the end-to-end garbage-output eval is in test_inspect_tasks.py.)
"""

from __future__ import annotations

import io
import json
import logging
import shutil
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest
from inspect_ai._util.error import PrerequisiteError
from PIL import Image

from cardiolens.cli import main
from cardiolens.data.dataset import read_dataset
from cardiolens.errors import CardiolensError, DatasetError, VolumeError
from cardiolens.inspect_adapter.data import load_benchmark
from cardiolens.inspect_adapter.tasks import diagnosis, image_understanding, report_generation
from cardiolens.lm_eval_adapter.docs import load_docs
from cardiolens.prompting.options import OptionError
from cardiolens.prompting.prompt_builder import PromptBuilder, PromptSettings
from cardiolens.prompting.rendering import RenderCache, series_window
from cardiolens.scorers.item_scoring import REPORT_METRICS, choice_record, report_scores

from helpers import make_tiny_dataset


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_dataset(tmp_path_factory.mktemp("pristine") / "ds", studies=2)


@pytest.fixture
def ds(pristine: Path, tmp_path: Path) -> Path:
    """A private copy of the tiny dataset, free to break."""
    return Path(shutil.copytree(pristine, tmp_path / "ds"))


def _edit_jsonl(path: Path, line: int, change: Callable[[dict[str, Any]], Any]) -> None:
    rows = path.read_text().splitlines()
    row = json.loads(rows[line - 1])
    change(row)
    rows[line - 1] = json.dumps(row)
    path.write_text("\n".join(rows) + "\n")


def _one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line, got:\n{text}"
    assert "Traceback" not in text
    return lines[0]


# ================================================================================ datasets
# What the tasks (and lm-eval's load_docs) read: strict read_dataset stops at the first
# problem with a DatasetError naming the file (and line); the lenient read used by the
# tasks reports a bad line and goes on. A broken file (card, JSONL) always stops.

def _card(text: str | bytes) -> Callable[[Path], object]:
    def write(root: Path) -> None:
        path = root / "cardiolens.json"
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return write


def _card_json(change: Callable[[dict[str, Any]], Any]) -> Callable[[Path], object]:
    def write(root: Path) -> None:
        card = json.loads((root / "cardiolens.json").read_text())
        change(card)
        (root / "cardiolens.json").write_text(json.dumps(card))
    return write


def _card_is_a_folder(root: Path) -> None:
    (root / "cardiolens.json").unlink()
    (root / "cardiolens.json").mkdir()


FILE_CASES: dict[str, tuple[Callable[[Path], object], str, str]] = {
    # name: (break it, file named, words of the reason)
    "card missing": (lambda r: (r / "cardiolens.json").unlink(), "cardiolens.json",
                     "file is missing (every CardioLens dataset folder has one"),
    "card not json": (_card("{not json"), "cardiolens.json",
                      "malformed JSON (Expecting property name enclosed in double quotes: "
                      "line 1 column 2)"),
    "card empty": (_card(""), "cardiolens.json", "file is empty"),
    "card binary": (_card(b"\xff\xfe\x00\x01"), "cardiolens.json",
                    "not UTF-8 text (byte 0xff at offset 0); save the file as UTF-8"),
    "card a list": (_card("[1, 2]"), "cardiolens.json", "not a JSON object"),
    "card too deep": (_card("[" * 100_000), "cardiolens.json", "nested too deeply"),
    "card fields missing": (_card('{"name": "x"}'), "cardiolens.json", "missing fields"),
    "card version 2": (_card_json(lambda c: c.update(format_version=2)), "cardiolens.json",
                       "format_version 2 is not 1"),
    "card version string": (_card_json(lambda c: c.update(format_version="1")),
                            "cardiolens.json", "format_version '1' is not 1"),
    "card is a folder": (_card_is_a_folder, "cardiolens.json", "is a folder, not a file"),
    "studies missing": (lambda r: (r / "studies.jsonl").unlink(), "studies.jsonl",
                        "studies.jsonl: file is missing"),
    "studies a folder": (lambda r: ((r / "studies.jsonl").unlink(),
                                    (r / "studies.jsonl").mkdir()), "studies.jsonl",
                         "studies.jsonl: is a folder, not a file"),
    "items missing": (lambda r: (r / "items.jsonl").unlink(), "items.jsonl",
                      "items.jsonl: file is missing"),
    "studies binary": (lambda r: (r / "studies.jsonl").write_bytes(b"\xff\xfe\x00{}\n"),
                       "studies.jsonl", "cannot read (UTF-16 text; save it as UTF-8)"),
}


@pytest.mark.parametrize("case", sorted(FILE_CASES))
def test_a_broken_dataset_file_stops_with_one_line_naming_it(case: str, ds: Path) -> None:
    breaker, file_part, reason = FILE_CASES[case]
    breaker(ds)
    for on_problem in (None, lambda line: None):
        with pytest.raises(DatasetError) as info:
            read_dataset(ds, on_problem=on_problem)
        message = _one_line(str(info.value))
        assert str(ds / file_part) in message and reason in message, message
    with pytest.raises(DatasetError, match=file_part):     # the tasks' loader too
        load_benchmark(str(ds), "image_understanding")


def _study(change: Callable[[dict[str, Any]], Any]) -> Callable[[Path], object]:
    return lambda root: _edit_jsonl(root / "studies.jsonl", 1, change)


def _series(**values: Any) -> Callable[[Path], object]:
    return _study(lambda row: row["series"]["lge_sax"].update(values))


def _item(line: int, change: Callable[[dict[str, Any]], Any]) -> Callable[[Path], object]:
    return lambda root: _edit_jsonl(root / "items.jsonl", line, change)


def _prepend_item(text: str) -> Callable[[Path], object]:
    def write(root: Path) -> None:
        path = root / "items.jsonl"
        path.write_text(text + "\n" + path.read_text())
    return write


STUDY_CASES: dict[str, tuple[Callable[[Path], object], str]] = {
    # a bad study line (line 1, study S0): the reason; S0's items go with it
    "slices as a string": (_series(slices="3"), "'slices' must be a positive integer"),
    "slices zero": (_series(slices=0), "'slices' must be a positive integer"),
    "frames negative": (_series(frames=-1), "'frames' must be a positive integer"),
    "frames a float": (_series(frames=1.0), "'frames' must be a positive integer"),
    "frames a bool": (_series(frames=True), "'frames' must be a positive integer"),
    "path a number": (_series(path=5), "series has no 'path'"),
    "es frame past the end": (
        _study(lambda r: r["series"]["cine_sax"].update(es_frame=9)),
        "'es_frame' must be a frame index in [0, 4)"),
    "bad slice order": (_series(slice_order="up"), "slice_order 'up' is not one of"),
    "bad packing": (_series(packing="zigzag"), "packing 'zigzag' is not one of"),
    "series a list": (_study(lambda r: r.update(series=[1, 2])), "missing 'series' object"),
    "series entry a string": (_study(lambda r: r["series"].update(lge_sax="v.nii.gz")),
                              "series 'lge_sax': series entry is not an object"),
    "meta a list": (_study(lambda r: r.update(meta=[1])), "'meta' must be an object"),
    "study id a number": (_study(lambda r: r.update(study_id=7)), "missing 'study_id'"),
}

ITEM_CASES: dict[str, tuple[Callable[[Path], object], int, str]] = {
    # a bad item line: (break it, line number, reason); the other items stay
    "answer a number": (_item(1, lambda r: r.update(answer=3)), 1,
                        "'answer' must be a string or a list of strings"),
    "answer list with a number": (_item(2, lambda r: r.update(answer=["Anterior", 2])), 2,
                                  "'answer' must be a string or a list of strings"),
    "options a string": (_item(5, lambda r: r.update(options="Big")), 5,
                         "'options' must be a list of strings"),
    "reference a number": (_item(3, lambda r: r.update(reference=1.5)), 3,
                           "'reference' must be a string"),
    "findings a list": (_item(3, lambda r: r.update(findings=[1])), 3,
                        "'findings' must be an object"),
    "no item id": (_item(1, lambda r: r.pop("item_id")), 1, "missing 'item_id'"),
    "null line": (_prepend_item("null"), 1, "line is not a JSON object"),
    "NaN id": (_prepend_item('{"item_id": NaN}'), 1, "missing 'item_id'"),
    "nested too deeply": (_prepend_item("[" * 100_000), 1, "malformed JSON (nested too deeply)"),
    "truncated line": (_prepend_item('{"item_id": "S0/x", "study'), 1, "malformed JSON"),
}


@pytest.mark.parametrize("case", sorted(STUDY_CASES))
def test_a_bad_study_line_is_named_and_only_its_study_is_dropped(case: str, ds: Path) -> None:
    breaker, reason = STUDY_CASES[case]
    breaker(ds)
    with pytest.raises(DatasetError) as info:
        read_dataset(ds)
    message = _one_line(str(info.value))
    assert message.startswith(f"{ds / 'studies.jsonl'}:1: ") and reason in message, message
    problems: list[str] = []
    kept = read_dataset(ds, on_problem=problems.append)
    assert set(kept.studies) == {"S1"}
    assert {item.study_id for item in kept.items} == {"S1"} and len(kept.items) == 5
    assert problems[0].startswith(f"{ds / 'studies.jsonl'}:1: ") and reason in problems[0]


@pytest.mark.parametrize("case", sorted(ITEM_CASES))
def test_a_bad_item_line_is_named_and_skipped(case: str, ds: Path,
                                              caplog: pytest.LogCaptureFixture) -> None:
    breaker, line, reason = ITEM_CASES[case]
    breaker(ds)
    lines = len((ds / "items.jsonl").read_text().splitlines())
    where = f"{ds / 'items.jsonl'}:{line}: "
    with pytest.raises(DatasetError) as info:
        read_dataset(ds)
    message = _one_line(str(info.value))
    assert message.startswith(where) and reason in message, message
    problems: list[str] = []
    kept = read_dataset(ds, on_problem=problems.append)
    assert len(problems) == 1 and problems[0].startswith(where) and reason in problems[0]
    assert len(kept.items) == lines - 1 and set(kept.studies) == {"S0", "S1"}
    with caplog.at_level(logging.WARNING, logger="cardiolens"):
        bench = load_benchmark(str(ds), "image_understanding")
    assert bench.items and any(where in r.getMessage() for r in caplog.records)


def test_an_empty_or_all_broken_dataset_says_there_is_nothing_to_run(ds: Path) -> None:
    (ds / "studies.jsonl").write_text("")
    with pytest.raises(DatasetError, match=r"items.jsonl:1: study 'S0' missing"):
        read_dataset(ds)
    with pytest.raises(CardiolensError, match="no image_understanding items match"):
        load_benchmark(str(ds), "image_understanding")


# ================================================================================= volumes
# The prompt builder on a broken lge_sax volume of study S0: it renders, or it raises a
# CardiolensError whose one line names the file.

SHAPE = (16, 16, 3)            # lge_sax of the tiny dataset: 3 slices x 1 frame


def _nifti(data: np.ndarray) -> Callable[[Path], object]:
    def write(path: Path) -> None:
        nib.save(nib.Nifti1Image(data, np.eye(4)), str(path))
    return write


def _bytes(change: Callable[[bytes], bytes]) -> Callable[[Path], object]:
    return lambda path: path.write_bytes(change(path.read_bytes()))


def _noise(shape: tuple[int, ...] = SHAPE, dtype: Any = np.float32) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 500, shape).astype(dtype)


def _with(value: float, share: float = 0.3) -> np.ndarray:
    data = _noise()
    data[np.random.default_rng(1).random(SHAPE) < share] = value
    return data


def _extremes(dtype: Any) -> np.ndarray:
    info = np.iinfo(dtype)
    return np.random.default_rng(2).choice([info.min, 0, info.max], SHAPE).astype(dtype)


RGB = np.dtype([("R", "u1"), ("G", "u1"), ("B", "u1")])

BROKEN_VOLUMES: dict[str, tuple[Callable[[Path], object], str]] = {
    # name: (break the file, words of the error)
    "missing": (lambda p: p.unlink(), "file is missing"),
    "empty file": (lambda p: p.write_bytes(b""), "file is empty"),
    "truncated gzip": (_bytes(lambda b: b[: len(b) // 2]), "truncated or corrupt gzip"),
    "last bytes cut": (_bytes(lambda b: b[:-20]), "truncated or corrupt gzip"),
    "corrupt gzip body": (_bytes(lambda b: b[:40] + bytes(200) + b[240:]),
                          "truncated or corrupt gzip"),
    "text, not nifti": (lambda p: p.write_bytes(b"hello"), "truncated or corrupt gzip"),
    "five dimensions": (_nifti(_noise((16, 16, 3, 1, 1))), "does not match slices x frames"),
    "wrong slice count": (_nifti(_noise((16, 16, 5))), "does not match slices x frames"),
    "2D for a stack": (_nifti(_noise((16, 16))), "does not match slices x frames"),
    "1D": (_nifti(_noise((48,))), "does not match slices x frames"),
    "complex voxels": (_nifti(_noise(dtype=np.complex64)), "complex64 is not supported"),
    "RGB voxels": (_nifti(np.zeros(SHAPE, RGB)), "is not supported"),
}

RENDERABLE_VOLUMES: dict[str, np.ndarray] = {
    "some NaN": _with(np.nan),
    "some +inf": _with(np.inf),
    "some -inf": _with(-np.inf),
    "all NaN": np.full(SHAPE, np.nan, np.float32),
    "constant zero int16": np.zeros(SHAPE, np.int16),
    "constant zero float": np.zeros(SHAPE, np.float32),
    "huge float32": _noise() * np.float32(1e35),
    "float64 beyond float32": _noise(dtype=np.float64) * 1e300,
    "int16 full range": _extremes(np.int16),
    "int32 full range": _extremes(np.int32),
    "uint16 full range": _extremes(np.uint16),
    "uint8": _noise(dtype=np.uint8),
    "one pixel": _noise((1, 1, 3)),
    "one row, 4000 wide": _noise((1, 4000, 3)),
}


def _build(root: Path, selection: str, subtask: str = "lge_presence",
           study: str = "S0") -> Any:
    dataset = read_dataset(root)
    item = next(i for i in dataset.items if i.subtask == subtask and i.study_id == study)
    builder = PromptBuilder(root, dataset.studies, PromptSettings(selection=selection,  # type: ignore[arg-type]
                                                                  budget=4), RenderCache(None))
    return builder.build(item)


@pytest.mark.parametrize("selection", ["clinical", "data_driven"])
@pytest.mark.parametrize("case", sorted(BROKEN_VOLUMES))
def test_a_broken_volume_is_one_error_naming_the_file(case: str, selection: str,
                                                      ds: Path) -> None:
    breaker, reason = BROKEN_VOLUMES[case]
    path = ds / "volumes/S0/lge_sax.nii.gz"
    breaker(path)
    with pytest.raises(VolumeError) as info:
        _build(ds, selection)
    message = _one_line(str(info.value))
    assert message.startswith(f"{path}: ") and reason in message, message
    assert len(_build(ds, selection, study="S1").images) == 3     # the other study still runs


@pytest.mark.parametrize("selection", ["clinical", "data_driven"])
@pytest.mark.parametrize("case", sorted(RENDERABLE_VOLUMES))
def test_odd_but_readable_voxels_render(case: str, selection: str, ds: Path) -> None:
    data = RENDERABLE_VOLUMES[case]
    _nifti(data)(ds / "volumes/S0/lge_sax.nii.gz")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)     # no numpy noise in the run's log
        prompt = _build(ds, selection)
    assert len(prompt.images) == 3
    for image in prompt.images:
        png = Image.open(io.BytesIO(image.png))
        assert png.mode == "L" and min(png.size) >= 1
    finite = data[np.isfinite(data)].astype(np.float64)
    if finite.size and np.ptp(finite) > 0 and np.all(np.abs(finite) < 3e38):
        # real contrast must survive: the frames are not all one grey
        pixels = np.concatenate([np.asarray(Image.open(io.BytesIO(i.png))).ravel()
                                 for i in prompt.images])
        assert pixels.min() < pixels.max(), case


def test_a_2d_volume_is_accepted_for_a_single_frame_series(ds: Path) -> None:
    _edit_jsonl(ds / "studies.jsonl", 1, lambda r: r["series"]["lge_sax"].update(slices=1))
    _nifti(_noise((16, 16)))(ds / "volumes/S0/lge_sax.nii.gz")
    assert len(_build(ds, "clinical").images) == 1


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.uint16, np.int32,
                                   np.uint32, np.int64])
def test_series_window_of_extreme_integers_matches_numpy(dtype: Any) -> None:
    info = np.iinfo(dtype)
    data = np.random.default_rng(3).integers(info.min, info.max, 4000, dtype=dtype,
                                             endpoint=True)
    data[:2] = (info.min, info.max)
    expected = np.percentile(data.astype(np.float64), (0.5, 99.5))
    np.testing.assert_allclose(series_window(data), expected, rtol=1e-9)


def test_a_broken_study_in_a_real_cohort_leaves_the_others_working(cohort40: Path,
                                                                  tmp_path: Path) -> None:
    root = Path(shutil.copytree(cohort40, tmp_path / "cohort"))
    dataset = read_dataset(root)
    broken, healthy = sorted(dataset.studies)[:2]
    target = root / dataset.studies[broken].series["cine_sax"].path
    target.write_bytes(target.read_bytes()[:5000])
    with pytest.raises(VolumeError, match=rf"^{target}: truncated or corrupt gzip"):
        _build(root, "clinical", subtask="cine_lv_size", study=broken)
    assert _build(root, "clinical", subtask="cine_lv_size", study=healthy).images


# ========================================================================== command line
# Every subcommand with bad values: a non-zero exit and one line on stderr naming the
# problem, never a traceback or a usage dump.

def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(args)
    except SystemExit as exc:            # argparse
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def _cli_cases(tmp: Path, ds: Path) -> list[tuple[list[str], str]]:
    nowhere = tmp / "nowhere"
    a_file = tmp / "a_file.txt"
    a_file.write_text("not a folder\n")
    full = tmp / "full"
    full.mkdir()
    (full / "keep.txt").write_text("user data")
    sheet = tmp / "sheet.csv"
    sheet.write_text("item_id,verdict\n")
    return [
        (["demo", "--out", str(tmp / "d"), "--studies", "-3"], "'-3' must be at least 1"),
        (["demo", "--out", str(tmp / "d"), "--studies", "many"], "'many' is not an integer"),
        (["demo", "--out", str(tmp / "d"), "--seed", "-1"], "'-1' must be zero or positive"),
        (["demo", "--out", str(tmp / "d"), "--seed", "0x10"], "'0x10' is not an integer"),
        (["demo", "--out", str(tmp / "d"), "--workers", "0"], "--workers: '0' must be at"),
        (["demo"], "the following arguments are required: --out"),
        (["demo", "--out", str(full), "--studies", "1", "--quiet"],
         f"{full}: already exists and is not empty"),
        (["demo", "--out", str(a_file / "sub"), "--studies", "1", "--quiet"],
         "Not a directory"),
        (["validate"], "the following arguments are required: dataset"),
        (["show", str(nowhere), "S0", "--out", str(tmp / "x.png")],
         f"{nowhere}: not a dataset folder"),
        (["show", str(ds), "NOPE", "--out", str(tmp / "x.png")], "no study 'NOPE'"),
        (["show", str(ds), "S0", "--out", str(tmp / "x.jpg")], "written as PNG"),
        (["show", str(ds), "S0", "--out", str(a_file / "x.png")], f"{a_file}: not a folder"),
        (["show", str(ds), "S0", "--out", str(nowhere / "x.png")],
         f"{nowhere}: no such folder (create it first)"),
        (["lm-eval-path", "extra"], "unrecognized arguments: extra"),
        (["analyze", "x", "--out", "y", "--replicates", "0"], "'0' must be at least 1"),
        (["analyze", "x", "--out", "y", "--replicates", "-5"], "'-5' must be at least 1"),
        (["analyze", "x", "--out", "y", "--seed", "-2"], "'-2' must be zero or positive"),
        (["import", "acdc", str(nowhere), str(tmp / "i")], f"{nowhere}: no such folder"),
        (["import", "dicom", str(nowhere), str(tmp / "i"), "--salt-file", str(tmp / "s")],
         f"{nowhere}: no such folder"),
        (["import", "mnms", str(a_file), str(tmp / "i")], f"{a_file}: no such folder"),
        (["import", "acdc", str(tmp), str(full)], f"{full}: already exists and is not empty"),
        (["import", "kaggle", str(tmp), str(tmp / "i")], "invalid choice: 'kaggle'"),
        (["build-qa", str(nowhere / "r.jsonl"), "--dataset", str(ds)],
         f"{nowhere / 'r.jsonl'}: cannot read"),
        (["build-qa", str(a_file), "--dataset", str(nowhere)], f"{nowhere}: not a dataset"),
        (["apply-review", str(nowhere / "sheet.csv"), "--dataset", str(ds)],
         f"{nowhere / 'sheet.csv'}: No such file or directory"),
        (["apply-review", str(sheet), "--dataset", str(nowhere)],
         f"{nowhere}: not a dataset folder"),
        (["prerender", str(tmp / "p.parquet"), "--level", "everything"],
         "invalid choice: 'everything'"),
        (["prerender", str(tmp / "p.parquet"), "--level", "diagnosis", "--budget", "0"],
         "'0' must be at least 1"),
        (["prerender", str(tmp / "p.parquet"), "--level", "diagnosis", "--num-proc", "-1"],
         "'-1' must be at least 1"),
        (["prerender", str(tmp / "p.parquet"), "--level", "diagnosis", "--selection",
          "best"], "invalid choice: 'best'"),
        (["bench", "--quick", "--bogus"], "unrecognized arguments: --bogus"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        ([], "the following arguments are required: COMMAND"),
    ]


def test_every_subcommand_rejects_bad_values_in_one_line(
        ds: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = _cli_cases(tmp_path, ds)
    commands = {args[0] for args, _ in cases if args}
    assert commands >= {"demo", "validate", "show", "lm-eval-path", "analyze", "import",
                        "build-qa", "apply-review", "prerender", "bench"}
    failures = []
    for args, reason in cases:
        code, _out, err = _cli(args, capsys)
        lines = err.strip().splitlines()
        if code == 0 or len(lines) != 1 or reason not in lines[0] or "Traceback" in err:
            failures.append(f"{args}: exit {code}, stderr:\n{err}")
    assert not failures, "\n".join(failures)
    assert (tmp_path / "full" / "keep.txt").read_text() == "user data"   # nothing replaced


def test_analyze_with_no_readable_input_names_each_input(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    nowhere = tmp_path / "logs"
    code, _out, err = _cli(["analyze", str(nowhere), "--out", str(tmp_path / "o"),
                            "--quiet"], capsys)
    # one line per unreadable input, then the verdict; no traceback
    assert code == 1 and err.splitlines() == [
        f"{nowhere}: no such file or folder",
        "cardiolens: no readable cardiolens results in the given logs or folders"]


def test_usage_errors_are_one_line_in_a_real_process(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "cardiolens.cli", "demo", "--out",
                           str(tmp_path / "d"), "--studies", "-3"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2 and proc.stdout == ""
    assert _one_line(proc.stderr) == ("cardiolens demo: error: argument --studies: '-3' "
                                      "must be at least 1 (see cardiolens demo --help)")


# ======================================================================= task parameters
# Bad -T values fail when the task is made, with Inspect's prerequisite error (printed as the
# message alone), naming the task, the parameter, the value and what is allowed.

TASK_CASES: list[tuple[Callable[..., Any], dict[str, Any], str]] = [
    (image_understanding, {"selection": "best"},
     "selection must be one of random, clinical, data_driven, not 'best'"),
    (image_understanding, {"selection": ["clinical", "random"]}, "selection must be one of"),
    (image_understanding, {"budget": 0}, "budget must be an integer in [1, 256], not 0"),
    (image_understanding, {"budget": -4}, "not -4"),
    (image_understanding, {"budget": 1000}, "not 1000"),
    (image_understanding, {"budget": "16"}, "not '16'"),
    (image_understanding, {"budget": True}, "not True"),
    (image_understanding, {"sequence": "flair"},
     "sequence: unknown sequence(s): flair; choose from cine, cross, lge, perf, t2"),
    (image_understanding, {"sequence": "lge,bogus"}, "unknown sequence(s): bogus"),
    (image_understanding, {"subtask": "lge_colour"},
     "subtask: unknown image_understanding subtask(s): lge_colour; choose from "),
    (image_understanding, {"prompt": "fancy"}, "prompt must be one of"),
    (image_understanding, {"layout": "grid"}, "layout must be one of"),
    (image_understanding, {"image_size": 8}, "image_size must be an integer in"),
    (image_understanding, {"max_images": 0}, "max_images must be an integer in"),
    (image_understanding, {"seed": -1}, "seed must be a non-negative integer"),
    (image_understanding, {"images": "nope"}, "images must be true or false"),
    (image_understanding, {"shuffle_options": "yes"}, "shuffle_options must be true or false"),
    (image_understanding, {"log_images": "sometimes"}, "log_images must be true or false"),
    (image_understanding, {"cache": "off"}, "cache must be true or false"),
    (image_understanding, {"limit_studies": 0}, "limit_studies must be a positive integer, not 0"),
    (image_understanding, {"limit_studies": -1},
     "limit_studies must be a positive integer, not -1"),
    (image_understanding, {"limit_studies": "2"},
     "limit_studies must be a positive integer, not '2'"),
    (image_understanding, {"budgett": 3}, "unknown parameter(s): budgett; valid: data, subtask, "
     "sequence, selection, budget, prompt, images, layout, image_size, captions, scale, "
     "max_images, shuffle_options, seed, cache, limit_studies, log_images"),
    (report_generation, {"section": "report_everything"},
     "section: unknown report_generation subtask(s): report_everything"),
    (report_generation, {"budget": 0}, "budget must be an integer"),
    (report_generation, {"selection": "smart"}, "selection must be one of"),
    (report_generation, {"shuffle_options": True}, "unknown parameter(s): shuffle_options"),
    (report_generation, {"subtask": "report_lge"}, "unknown parameter(s): subtask; valid: data, "
     "section,"),
    (diagnosis, {"task": "diagnosis_bogus"}, "task: unknown diagnosis subtask(s): diagnosis_bogus"),
    (diagnosis, {"task": "lge_walls"}, "unknown diagnosis subtask(s)"),
    (diagnosis, {"budget": -1}, "budget must be an integer"),
]


@pytest.mark.parametrize("task_fn, params, message", TASK_CASES,
                         ids=[f"{f.__name__}-{next(iter(p))}={next(iter(p.values()))!r}"
                              for f, p, _ in TASK_CASES])
def test_bad_task_parameters_fail_with_the_parameter_named(
        task_fn: Callable[..., Any], params: dict[str, Any], message: str,
        cohort40: Path) -> None:
    with pytest.raises(PrerequisiteError) as info:
        task_fn(data=str(cohort40), **params)
    line = _one_line(str(info.value))
    assert line.startswith(f"cardiolens/{task_fn.__name__}: ") and message in line


def test_every_bad_parameter_is_named_in_one_message(cohort40: Path) -> None:
    with pytest.raises(PrerequisiteError) as info:
        diagnosis(data=str(cohort40), budget=0, selection="foo", task="bogus", sede=1)
    assert _one_line(str(info.value)) == (
        "cardiolens/diagnosis: unknown parameter(s): sede; valid: data, task, selection, "
        "budget, prompt, images, layout, image_size, captions, scale, max_images, shuffle_options, "
        "seed, etiology, cache, limit_studies, log_images; selection must be one of random, "
        "clinical, data_driven, not 'foo'; budget must be an integer in [1, 256], not 0; "
        "task: unknown diagnosis subtask(s): bogus; choose from diagnosis_etiology, "
        "diagnosis_nicm_subtype")


@pytest.mark.parametrize("data, message", [
    ("{tmp}/nowhere", "data: {tmp}/nowhere: not a dataset folder"),
    ("{tmp}/a_file", "data: {tmp}/a_file: not a dataset folder"),
    ("{tmp}/empty", "data: {tmp}/empty/cardiolens.json: file is missing"),
])
def test_a_bad_data_path_fails_with_the_path_named(data: str, message: str,
                                                   tmp_path: Path) -> None:
    (tmp_path / "a_file").write_text("x")
    (tmp_path / "empty").mkdir()
    for task_fn in (image_understanding, report_generation, diagnosis):
        with pytest.raises(PrerequisiteError) as info:
            task_fn(data=data.format(tmp=tmp_path))
        assert _one_line(str(info.value)).startswith(
            f"cardiolens/{task_fn.__name__}: " + message.format(tmp=tmp_path))


def test_a_data_path_object_is_taken_like_its_string(cohort40: Path) -> None:
    assert len(diagnosis(data=cohort40, limit_studies=2).dataset) == len(
        diagnosis(data=str(cohort40), limit_studies=2).dataset) > 0


def test_setting_errors_come_before_reading_the_data(tmp_path: Path) -> None:
    with pytest.raises(PrerequisiteError, match="budget"):
        image_understanding(data=str(tmp_path / "nowhere"), budget=0)


@pytest.mark.parametrize("options, message", [
    ({"budget": "many"}, "budget must be an integer in [1, 256], not 'many'"),
    ({"images": "perhaps"}, "images must be true or false, not 'perhaps'"),
    ({"selection": "best"}, "selection must be one of"),
    ({"seed": "-3"}, "seed must be a non-negative integer"),
    ({"task": "diagnosis_bogus"}, "task: unknown diagnosis subtask(s): diagnosis_bogus"),
    ({"budgett": 3}, "unknown option 'budgett' (did you mean budget?)"),
    ({"limit_studies": "0"}, "limit_studies must be a positive integer, not '0'"),
])
def test_bad_lm_eval_options_fail_with_the_option_named(options: dict[str, Any], message: str,
                                                        cohort40: Path) -> None:
    with pytest.raises(OptionError) as info:
        load_docs(data=str(cohort40), level="diagnosis", **options)
    assert message in _one_line(str(info.value))


def test_lm_eval_names_every_bad_option_in_one_message(cohort40: Path) -> None:
    with pytest.raises(OptionError) as info:
        load_docs(data=str(cohort40), level="diagnosis", budget="0", images="perhaps",
                  selection="best", budgett="3", base_url="http://x", pretrained="m")
    assert _one_line(str(info.value)) == (
        "unknown option 'budgett' (did you mean budget?); selection must be one of random, "
        "clinical, data_driven, not 'best'; budget must be an integer in [1, 256], not '0'; "
        "images must be true or false, not 'perhaps'")


# ========================================================================= model outputs
# Whatever a model sends back, scoring returns a record: unparsed and zero for garbage.

ETIOLOGY = ["Normal", "Ischemic cardiomyopathy", "Non-ischemic cardiomyopathy"]
WALLS = ["Anterior", "Septal", "Inferior", "Lateral"]
GARBAGE = {
    "empty": "",
    "whitespace": " \n\t \r\n ",
    "None object": None,
    "None text": "None",
    "null": "null",
    "undefined": "undefined",
    "NaN": "NaN",
    "nul bytes": "\x00\x00\x01\x02\x7f",
    "every byte": bytes(range(256)).decode("latin-1"),
    "invalid utf-8, replaced": b"\xff\xfe\xfa\x80\x81".decode("utf-8", errors="replace"),
    "surrogate escapes": b"\xed\xa0\x80".decode("utf-8", errors="surrogateescape"),
    "json without an answer": '{"error": {"code": 500, "message": "overloaded"}}',
    "json list": "[1, 2, 3]",
    "markdown": "# Findings\n\n| slice | note |\n|---|---|\n| 3 | unclear |\n\n```\n```",
    "html": "<html><body><p>error 502</p></body></html>",
    "emoji": "🫀🤔❓",
    "right to left": "الإجابة غير واضحة",
    "long lorem": "lorem ipsum dolor sit amet " * 40_000,
    "long digits": "1234567890" * 100_000,
    "long lower letters": "x y z " * 100_000,
    "only an answer marker": "Answer:",
    "answer marker, no letter": "Answer: unclear\n",
}
REFUSALS = [
    "I cannot provide a medical diagnosis.",
    "I'm sorry, but I can't help with interpreting medical images.",
    "As an AI, I am not able to provide a diagnosis from these images.",
    "**I'm unable to determine** this from the images provided.",
]


@pytest.mark.parametrize("name", sorted(GARBAGE))
@pytest.mark.parametrize("options, answer_type, truth", [
    (ETIOLOGY, "single", ["Normal"]), (WALLS, "multi", ["Anterior", "Lateral"])],
    ids=["single", "multi"])
def test_garbage_output_scores_zero_and_unparsed(name: str, options: list[str],
                                                 answer_type: str, truth: list[str]) -> None:
    record = choice_record(GARBAGE[name], options, answer_type, truth)  # type: ignore[arg-type]
    assert record["parsed"] is False and record["predicted"] == [] and record["letters"] == ""
    assert (record["precision"], record["recall"], record["f1"]) == (0.0, 0.0, 0.0)
    assert not record["exact"] and not record["refused"]
    json.dumps(record)                                      # still a JSON-ready record


@pytest.mark.parametrize("reply", REFUSALS)
def test_refusals_score_zero_and_are_flagged(reply: str) -> None:
    record = choice_record(reply, ETIOLOGY, "single", ["Normal"])
    assert (record["parsed"], record["refused"], record["f1"], record["exact"]) == \
        (False, True, 0.0, False)


@pytest.mark.parametrize("reply, expected", [
    ('{"answer": "B"}', ["Ischemic cardiomyopathy"]),
    ("```json\n{\"answer\": \"C\"}\n```", ["Non-ischemic cardiomyopathy"]),
    ("## Answer:\n**B**", ["Ischemic cardiomyopathy"]),
    ("> **Final answer:** A", ["Normal"]),
])
def test_structured_replies_with_an_answer_are_read(reply: str, expected: list[str]) -> None:
    record = choice_record(reply, ETIOLOGY, "single", expected)
    assert record["parsed"] and record["predicted"] == expected and record["exact"]


REFERENCE = ("There is focal subendocardial late gadolinium enhancement involving the basal "
             "inferior wall. The pattern is ischemic, in the RCA territory.")


@pytest.mark.parametrize("name", [*sorted(set(GARBAGE) - {"None object"}), "refusal"])
def test_garbage_report_scores_zero(name: str) -> None:
    output = str(GARBAGE[name]) if name in GARBAGE else REFUSALS[0]
    scores = report_scores(output, REFERENCE)
    assert set(scores) == set(REPORT_METRICS)
    assert all(0.0 <= v <= 1.0 for v in scores.values())
    assert scores["clinical_f1"] == 0.0 and scores["clinical_recall"] == 0.0
    assert scores["bleu4"] == 0.0 and scores["contradiction_rate"] == 0.0


def test_a_report_marker_with_nothing_after_it_scores_zero() -> None:
    scores = report_scores("Findings: scar everywhere.\nReport:", REFERENCE)
    assert scores["clinical_f1"] == 0.0 and scores["rouge_l"] == 0.0
