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


def test_analyze_skips_an_lm_eval_folder_it_cannot_read_in_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A samples file that is not UTF-8: the folder is named and skipped, no traceback."""
    folder = tmp_path / "lm" / "model"
    folder.mkdir(parents=True)
    (folder / "results_1.json").write_text('{"results": {"cardiolens_diagnosis_etiology": '
                                           '{}}, "configs": {}}')
    (folder / "samples_cardiolens_diagnosis_etiology_1.jsonl").write_bytes(b'{"doc": 1}\n\xff\n')
    assert main(["analyze", str(tmp_path / "lm"), "--out", str(tmp_path / "out"),
                 "--quiet"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith(f"{tmp_path / 'lm'}: cannot read lm-eval results "
                             "(UnicodeDecodeError")
    assert err[-1] == "cardiolens: no readable cardiolens results in the given logs or folders"
