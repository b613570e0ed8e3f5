"""Bad command-line input found by trying the commands: output paths and ports that cannot
work are refused in one line before any work (a run of minutes must not be lost at the end
for want of a folder), and an unreadable results folder is skipped in one line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cardiolens.cli import main


def test_a_port_out_of_range_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["serve-reader", "--port", "99999"])
    assert info.value.code == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "'99999' must be a TCP port in [0, 65535]" in line


@pytest.mark.parametrize("where, reason", [("missing/figures.json", "no such folder"),
                                           (".", "is a folder")])
def test_bench_refuses_an_unwritable_json_path_before_measuring(
        where: str, reason: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import cardiolens.inspect_adapter.bench as bench

    calls: list[Any] = []
    monkeypatch.setattr(bench, "main", lambda *args: calls.append(args))
    assert main(["bench", "--quick", "--json", str(tmp_path / where)]) == 1
    assert calls == []
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("cardiolens: ") and reason in line


def test_prerender_refuses_a_folder_as_output_before_rendering(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import cardiolens.lm_eval_adapter.prerender as prerender

    calls: list[Any] = []
    monkeypatch.setattr(prerender, "prerender", lambda *a, **k: calls.append(a))
    assert main(["prerender", str(tmp_path), "--level", "diagnosis"]) == 1
    assert calls == []
    assert capsys.readouterr().err.strip() == f"cardiolens: {tmp_path}: is a folder (give a " \
                                              "file name)"


def test_analyze_skips_the_samples_it_cannot_read_in_one_line_each(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A samples line that is not UTF-8 and one without a full document: each is named
    with its line and skipped; with nothing left the run says so, no traceback."""
    folder = tmp_path / "lm" / "model"
    folder.mkdir(parents=True)
    (folder / "results_1.json").write_text('{"results": {"cardiolens_diagnosis_etiology": '
                                           '{}}, "configs": {}}')
    samples = folder / "samples_cardiolens_diagnosis_etiology_1.jsonl"
    samples.write_bytes(b'{"doc": {"item_id": "S0/x", "level": "diagnosis"}}\n\xff\n')
    assert main(["analyze", str(tmp_path / "lm"), "--out", str(tmp_path / "out"),
                 "--quiet"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{samples}:1: doc has no 'study_id', 'subtask', 'answer_type'; sample skipped",
        f"{samples}:2: not UTF-8 text (byte 0xff at column 1); save the file as UTF-8; "
        "sample skipped",
        "cardiolens: no readable cardiolens results in the given logs or folders"]


# ----------------------------------------------------------------- show: unreadable series

def _tiny(tmp_path: Path, studies: int = 2) -> Path:
    from helpers import make_tiny_dataset

    return make_tiny_dataset(tmp_path / "ds", studies=studies)


def _not_nifti(lge: Path) -> None:
    """The record points at a text file instead of the volume."""
    lge.with_name("lge_sax.txt").write_text("hello\n")
    studies = lge.parents[2] / "studies.jsonl"
    studies.write_text(studies.read_text().replace("S0/lge_sax.nii.gz", "S0/lge_sax.txt"))


@pytest.mark.parametrize("breakage, reason", [
    (Path.unlink, "file is missing"),
    (lambda p: p.write_bytes(p.read_bytes()[:300]), "truncated or corrupt gzip data"),
    (_not_nifti, "not a NIfTI file name"),
], ids=["missing", "truncated", "not-nifti"])
def test_show_names_an_unreadable_series_in_one_line_and_shows_the_rest(
        breakage: Any, reason: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    import numpy as np
    from PIL import Image

    ds = _tiny(tmp_path)
    breakage(ds / "volumes" / "S0" / "lge_sax.nii.gz")
    out = tmp_path / "sheet.png"
    assert main(["show", str(ds), "S0", "--out", str(out)]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "Traceback" not in "".join(err)
    assert "lge_sax" in err[0] and reason in err[0] and "series lge_sax" in err[0]
    assert err[1] == f"wrote {out} (1 of 2 series unreadable)"
    image = np.asarray(Image.open(out))
    assert image[22:22 + 2 * 108].std() > 0             # the two cine rows are drawn


def test_show_exits_1_when_no_series_can_be_read(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    ds = _tiny(tmp_path)
    for name in ("cine_sax", "lge_sax"):
        (ds / "volumes" / "S0" / f"{name}.nii.gz").write_bytes(b"")
    out = tmp_path / "sheet.png"
    assert main(["show", str(ds), "S0", "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert [line.split(": ")[-1] for line in err[:2]] == [
        "file is empty (series cine_sax; its row says unreadable)",
        "file is empty (series lge_sax; its row says unreadable)"]
    assert err[2] == f"wrote {out} (2 of 2 series unreadable)"


def test_show_skips_a_malformed_line_of_another_study(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    ds = _tiny(tmp_path)
    studies = ds / "studies.jsonl"
    first, second = studies.read_text().splitlines()
    studies.write_text(first + "\n" + second[:-3] + "\n")        # S1's line cut short
    out = tmp_path / "sheet.png"
    assert main(["show", str(ds), "S0", "--out", str(out)]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"{studies}:2: malformed JSON (Unterminated string starting at: column 232)",
                   f"{ds / 'items.jsonl'}:6: study 'S1' missing; its 5 item(s) skipped "
                   "(lines 6-10)",
                   f"wrote {out}"]
    assert out.is_file()


# -------------------------------------------------------- audit: malformed dataset records

def _break_records(ds: Path) -> list[str]:
    """Three kinds of malformed record in a tiny dataset; the expected problem lines."""
    items = ds / "items.jsonl"
    rows = items.read_text().splitlines()
    rows[3] = rows[3][:-5]                                          # bad JSON
    rows[8] = rows[8].replace('"study_id"', '"studyid"')            # missing field
    rows[13] = rows[13].replace('"Ischemic cardiomyopathy"', "7")   # wrong type
    items.write_text("\n".join(rows) + "\n")
    return [f"{items}:4: malformed JSON (Unterminated string starting at: column 121)",
            f"{items}:9: missing 'study_id'",
            f"{items}:14: 'answer' must be a string or a list of strings"]


def test_audit_skips_malformed_records_in_one_line_each_and_audits_the_rest(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    ds = _tiny(tmp_path, studies=7)
    expected = _break_records(ds)
    out = tmp_path / "audit.json"
    assert main(["audit", str(ds), "--folds", "2", "--json", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines()[:3] == expected
    assert "Traceback" not in captured.err
    assert "left out: 3 problem line(s)" in captured.out
    figures = json.loads(out.read_text())
    assert figures["skipped_records"] == expected
    # the broken lines are the etiology items of S0-S2; the other four studies are audited
    assert figures["priors"]["diagnosis_etiology"]["items"] == 4
    assert figures["label_shortcuts"]["studies"] == 4
    assert figures["priors"]["lge_presence"]["items"] == 7


# ------------------------------------------------- analyze: lm-eval folders with bad parts

def _lm_eval_folder(root: Path) -> tuple[Path, list[str]]:
    """An lm-eval output folder of a mixed run (a cardiolens task and hellaswag) whose
    cardiolens samples hold two broken lines among six good ones; the expected lines."""
    import json

    from cardiolens.scorers.item_scoring import choice_record

    folder = root / "lm" / "model"
    folder.mkdir(parents=True)
    (folder / "results_T1.json").write_text(json.dumps({
        "results": {"cardiolens_diagnosis_etiology": {}, "hellaswag": {"acc,none": 0.3}},
        "config": {"model": "hf"}}))
    options = ["Ischemic cardiomyopathy", "Non-ischemic cardiomyopathy"]
    lines = []
    for n in range(6):
        doc = {"item_id": f"S{n}/diagnosis_etiology", "study_id": f"S{n}", "level": "diagnosis",
               "subtask": "diagnosis_etiology", "answer_type": "single"}
        record = choice_record("A" if n % 2 else "B", options, "single", [options[0]])
        lines.append(json.dumps({"doc": doc, "accuracy": record}))
    lines.insert(2, lines[0][:40])                                       # cut short
    lines.insert(5, json.dumps({"doc": {"item_id": "S9/x", "study_id": "S9"}, "accuracy": {}}))
    samples = folder / "samples_cardiolens_diagnosis_etiology_T1.jsonl"
    samples.write_text("\n".join(lines) + "\n")
    other = folder / "samples_hellaswag_T1.jsonl"
    other.write_text(json.dumps({"doc_id": 0, "doc": {"ctx": "A man"}, "acc": 1.0}) + "\n")
    return root / "lm", [
        f"{samples}:3: malformed JSON (Unterminated string starting at: column 21); "
        "sample skipped",
        f"{samples}:6: doc has no 'level', 'subtask', 'answer_type'; sample skipped",
        f"{other}: not the samples of a cardiolens task (line 1 holds no cardiolens "
        "document); skipped"]


def test_analyze_reads_the_good_samples_of_an_lm_eval_folder_and_names_the_bad_ones(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from cardiolens.analysis.results import read_lm_eval_folder
    from cardiolens.errors import CardiolensError

    folder, expected = _lm_eval_folder(tmp_path)
    problems: list[str] = []
    (run,) = read_lm_eval_folder(folder, on_problem=problems.append)
    assert problems == expected
    assert sorted(row.study_id for row in run.rows) == [f"S{n}" for n in range(6)]
    with pytest.raises(CardiolensError, match="malformed JSON"):     # strict without it
        read_lm_eval_folder(folder)
    out = tmp_path / "report"
    assert main(["analyze", str(folder), "--out", str(out), "--quiet",
                 "--replicates", "20"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err[:3] == expected and "Traceback" not in "".join(err)
    assert err[-1].startswith("wrote ") and err[-1].endswith("(1 runs; 3 input(s) skipped)")


def test_analyze_names_a_folder_with_nothing_to_read(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "logs"
    empty.mkdir()
    assert main(["analyze", str(empty), "--out", str(tmp_path / "o"), "--quiet"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{empty}: no Inspect logs (.eval, .json) or lm-eval results_*.json in this folder",
        "cardiolens: no readable cardiolens results in the given logs or folders"]


def test_import_dicom_refuses_a_binary_salt_file_in_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "dicom"
    src.mkdir()
    salt = tmp_path / "salt"
    salt.write_bytes(bytes(range(200, 240)))            # e.g. head -c 40 /dev/urandom
    out = tmp_path / "out"
    assert main(["import", "dicom", str(src), str(out), "--salt-file", str(salt),
                 "--quiet"]) == 1
    assert capsys.readouterr().err.strip() == (
        f"cardiolens: {salt}: not UTF-8 text (byte 0xc8 at offset 0); a salt file holds "
        "text, such as the 64 hex digits cardiolens writes when the file does not exist")
    assert not out.exists()


# ------------------------------------------------------------ build-qa and apply-review

def test_build_qa_with_no_usable_report_keeps_the_review_sheet_being_filled_in(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file from another tool: each line named with its reason; nothing is written, so
    the sheet a radiologist is filling in survives."""
    import json

    ds = _tiny(tmp_path)
    sheet = ds / "review.csv"
    sheet.write_text("item_id,verdict\nS0/lge_presence,accept\n")
    items = (ds / "items.jsonl").read_bytes()
    reports = tmp_path / "chat.jsonl"
    reports.write_text(json.dumps({"prompt": "hi", "completion": "yo"}) + "\n"
                       + json.dumps({"study_id": "S0", "sections": ["cine"]}) + "\n{oops\n")
    assert main(["build-qa", str(reports), "--dataset", str(ds)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{reports}:1: missing 'study_id'",
        f"{reports}:2: 'sections' must be an object",
        f"{reports}:3: malformed JSON (Expecting property name enclosed in double quotes: "
        "column 2)",
        f"cardiolens: {reports}: no report of a study in {ds}; the dataset and {sheet} are "
        "left unchanged"]
    assert sheet.read_text() == "item_id,verdict\nS0/lge_presence,accept\n"
    assert (ds / "items.jsonl").read_bytes() == items


def test_build_qa_refuses_a_folder_as_review_sheet_before_changing_the_dataset(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    ds = _tiny(tmp_path)
    items = (ds / "items.jsonl").read_bytes()
    reports = tmp_path / "reports.jsonl"
    reports.write_text(json.dumps({"study_id": "S1", "report": "No LGE."}) + "\n")
    folder = tmp_path / "sheets"
    folder.mkdir()
    assert main(["build-qa", str(reports), "--dataset", str(ds), "--review-sheet",
                 str(folder)]) == 1
    assert capsys.readouterr().err.strip() == f"cardiolens: {folder}: is a folder (give a " \
                                              "file name)"
    assert (ds / "items.jsonl").read_bytes() == items


@pytest.mark.parametrize("text, reason", [
    ("", "file is empty (a review sheet has a header row)"),
    ("name,score\nS0/lge_presence,1\n",
     "not a review sheet (no item_id or verdict column; cardiolens build-qa writes one)"),
], ids=["empty", "another-tools-csv"])
def test_apply_review_refuses_a_file_that_is_no_review_sheet(
        text: str, reason: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ds = _tiny(tmp_path)
    items = (ds / "items.jsonl").read_bytes()
    sheet = tmp_path / "scores.csv"
    sheet.write_text(text)
    good = tmp_path / "reader_a.csv"
    good.write_text("item_id,subtask,verdict\nS0/lge_presence,lge_presence,accept\n")
    for args in ([str(sheet)], [str(good), str(sheet)]):
        assert main(["apply-review", *args, "--dataset", str(ds)]) == 1
        assert capsys.readouterr().err.strip() == f"cardiolens: {sheet}: {reason}"
    assert (ds / "items.jsonl").read_bytes() == items
    assert not (ds / "review_agreement.json").exists()


@pytest.mark.parametrize("where, reason", [("missing/audit.json", "no such folder"),
                                           (".", "is a folder")])
def test_audit_refuses_an_unwritable_json_path_before_auditing(
        where: str, reason: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ds = _tiny(tmp_path, studies=2)
    assert main(["audit", str(ds), "--folds", "2", "--json", str(tmp_path / where)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""                           # refused before the table
    (line,) = captured.err.strip().splitlines()
    assert line.startswith("cardiolens: ") and reason in line


# ------------------------------------------------ a dataset folder without its manifest

def test_every_dataset_command_names_a_missing_manifest_in_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ds = _tiny(tmp_path)
    (ds / "cardiolens.json").unlink()
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("item_id,verdict\nS0/lge_presence,accept\n")
    reports = tmp_path / "reports.jsonl"
    reports.write_text('{"study_id": "S0", "report": "No LGE."}\n')
    expected = (f"{ds / 'cardiolens.json'}: file is missing (every CardioLens dataset folder "
                "has one; see docs/data-format.md)")
    for args in (["show", str(ds), "S0", "--out", str(tmp_path / "s.png")],
                 ["audit", str(ds)],
                 ["prerender", str(tmp_path / "p.parquet"), "--level", "diagnosis", "--data",
                  str(ds)],
                 ["build-qa", str(reports), "--dataset", str(ds)],
                 ["apply-review", str(sheet), "--dataset", str(ds)]):
        assert main(args) == 1, args
        assert capsys.readouterr().err.strip() == f"cardiolens: {expected}", args
    assert main(["validate", str(ds), "--quiet"]) == 1
    assert capsys.readouterr().out.strip() == expected


def test_a_card_saved_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    from cardiolens.data.dataset import read_dataset

    ds = _tiny(tmp_path)
    card = ds / "cardiolens.json"
    card.write_bytes(b"\xef\xbb\xbf" + card.read_bytes())      # Windows Notepad's UTF-8
    assert read_dataset(ds).card.name == "tiny"


def test_cache_refuses_a_file_as_the_cache_folder(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    a_file = tmp_path / "cache.txt"
    a_file.write_text("mine\n")
    monkeypatch.setenv("CARDIOLENS_CACHE_DIR", str(a_file))
    for action in ("info", "clear"):
        assert main(["cache", action]) == 1
        assert capsys.readouterr().err.strip() == (
            f"cardiolens: {a_file}: not a folder (the cache folder; set CARDIOLENS_CACHE_DIR "
            "to a folder)")
    assert a_file.read_text() == "mine\n"


def test_output_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """``cardiolens validate DIR | head -1``: no 'Broken pipe' line, no traceback."""
    import subprocess
    import sys

    ds = _tiny(tmp_path)
    (ds / "studies.jsonl").unlink()                      # 11 problem lines on stdout
    proc = subprocess.Popen([sys.executable, "-m", "cardiolens.cli", "validate", str(ds),
                             "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait() == 141 and err == b""


def _zip_of_another_tool(path: Path) -> None:
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("data.txt", "x")


@pytest.mark.parametrize("name, write, reason", [
    ("run.eval", lambda p: p.write_bytes(b""), "cannot read Inspect log (file is empty)"),
    ("run.eval", lambda p: p.write_bytes(b"PK\x03\x04 cut"),
     "cannot read Inspect log (not a zip archive, or a truncated one; an .eval log is a zip "
     "file)"),
    ("run.eval", _zip_of_another_tool, "cannot read Inspect log (no '_journal/start.json' in "
     "the archive: a zip file, but not an Inspect log)"),
    ("wandb.json", lambda p: p.write_text('{"accuracy": 0.5}'),
     "cannot read Inspect log (JSON of another tool: not an Inspect log)"),
    ("run.json", lambda p: p.write_bytes(b'{"eval": "caf\xe9"}'),
     "cannot read Inspect log (not UTF-8 text (byte 0xe9 at offset 13))"),
    ("results.csv", lambda p: p.write_text("model,score\n"), "not an Inspect log (.eval or .json)"),
], ids=["empty", "truncated-zip", "other-zip", "other-json", "latin1", "csv"])
def test_analyze_says_why_a_file_is_not_an_inspect_log(
        name: str, write: Any, reason: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / name
    write(path)
    assert main(["analyze", str(path), "--out", str(tmp_path / "o"), "--quiet"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{path}: {reason}",
        "cardiolens: no readable cardiolens results in the given logs or folders"]


def test_prerender_exits_1_when_no_study_can_be_read(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    ds = _tiny(tmp_path)
    for volume in (ds / "volumes").rglob("*.nii.gz"):
        volume.write_bytes(volume.read_bytes()[:200])
    out = tmp_path / "p.parquet"
    assert main(["prerender", str(out), "--level", "diagnosis", "--data", str(ds)]) == 1
    err = [line for line in capsys.readouterr().err.splitlines()
           if line.startswith(("S", "wrote", "cardiolens"))]
    assert len(err) == 4 and all("truncated or corrupt gzip data" in line for line in err[:2])
    assert err[2] == f"wrote 2 prompts to {out} (2 with errors)"
    assert err[3] == ("cardiolens: no prompt could be built: the images of all 2 items are "
                      "unreadable (the lines above say why)")


def test_analyze_names_an_lm_eval_run_without_its_samples(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """lm_eval run without --log_samples: the results file is named with the fix."""
    folder = tmp_path / "lm" / "model"
    folder.mkdir(parents=True)
    results = folder / "results_T2.json"
    results.write_text('{"results": {"cardiolens_diagnosis_etiology": {}}}')
    assert main(["analyze", str(tmp_path / "lm"), "--out", str(tmp_path / "o"),
                 "--quiet"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{results}: no samples_*_T2.jsonl beside it (run lm_eval with --log_samples); "
        "skipped",
        "cardiolens: no readable cardiolens results in the given logs or folders"]


def test_analyze_refuses_a_file_as_report_folder_before_reading(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import cardiolens.cli.analyze as analyze

    calls: list[Any] = []
    monkeypatch.setattr(analyze, "collect_runs", lambda *a: calls.append(a))
    out = tmp_path / "report.txt"
    out.write_text("notes\n")
    assert main(["analyze", str(tmp_path), "--out", str(out), "--quiet"]) == 1
    assert calls == [] and out.read_text() == "notes\n"
    assert capsys.readouterr().err.strip() == (f"cardiolens: {out}: not a folder (--out names "
                                               "the report folder)")
