"""Files in the wrong encoding: a line that is not UTF-8 is named (file, line, byte) and
skipped, the other lines are read; a UTF-8 byte-order mark (Excel's "CSV UTF-8") is
accepted; a UTF-16 file is refused in one line saying so."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from cardiolens.cli import main
from cardiolens.data.dataset import read_dataset
from cardiolens.data.validate import validate_dataset
from cardiolens.errors import DatasetError

from helpers import make_tiny_dataset


def _latin1_line(path: Path, line: int) -> None:
    """Rewrite line ``line`` (1-based) of a JSONL file with a Latin-1 'é' in a string."""
    lines = path.read_text(encoding="utf-8").splitlines()
    row = json.loads(lines[line - 1])
    row.setdefault("meta", {})["note"] = "caf\u00e9"
    data = [s.encode() for s in lines]
    data[line - 1] = json.dumps(row, ensure_ascii=False).encode("latin-1")
    path.write_bytes(b"\n".join(data) + b"\n")


def test_a_study_line_not_in_utf8_drops_only_its_study(tmp_path: Path) -> None:
    ds = make_tiny_dataset(tmp_path / "ds", studies=2)
    _latin1_line(ds / "studies.jsonl", 1)
    with pytest.raises(DatasetError, match=r"studies.jsonl:1: not UTF-8 text \(byte 0xe9 at "
                                           r"column \d+\); save the file as UTF-8"):
        read_dataset(ds)
    problems: list[str] = []
    kept = read_dataset(ds, on_problem=problems.append)
    assert set(kept.studies) == {"S1"} and kept.items
    assert {item.study_id for item in kept.items} == {"S1"}
    assert len(problems) == 2 and "not UTF-8 text (byte 0xe9" in problems[0]
    assert "items.jsonl:1: study 'S0' missing; its 5 item(s) skipped" in problems[1]
    reported = [str(p) for p in validate_dataset(ds)]
    assert any("studies.jsonl" in p and "not UTF-8" in p for p in reported)


def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    ds = make_tiny_dataset(tmp_path / "ds", studies=2)
    for name in ("studies.jsonl", "items.jsonl"):
        path = ds / name
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    dataset = read_dataset(ds)
    assert set(dataset.studies) == {"S0", "S1"} and len(dataset.items) == 10
    assert validate_dataset(ds) == []


def test_a_report_line_not_in_utf8_skips_that_report_only(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ds = make_tiny_dataset(tmp_path / "ds", studies=2)
    reports = tmp_path / "reports.jsonl"
    reports.write_bytes(
        json.dumps({"study_id": "S0", "report": "No late enhancement, caf\u00e9."},
                   ensure_ascii=False).encode("latin-1") + b"\n"
        + json.dumps({"study_id": "S1", "report": "No late gadolinium enhancement."}).encode()
        + b"\n")
    assert main(["build-qa", str(reports), "--dataset", str(ds)]) == 0
    err = capsys.readouterr().err
    assert f"{reports}:1: not UTF-8 text (byte 0xe9" in err
    provenance = [i for i in read_dataset(ds).items
                  if i.extra.get("provenance", {}).get("source") == "report"]
    assert {i.study_id for i in provenance} == {"S1"}


def test_a_utf16_report_file_is_refused_in_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ds = make_tiny_dataset(tmp_path / "ds", studies=2)
    reports = tmp_path / "reports.jsonl"
    reports.write_text(json.dumps({"study_id": "S1", "report": "No LGE."}) + "\n",
                       encoding="utf-16")
    assert main(["build-qa", str(reports), "--dataset", str(ds)]) == 1
    assert capsys.readouterr().err.strip() == (f"cardiolens: {reports}: cannot read (UTF-16 "
                                               "text; save it as UTF-8)")


def _review_sheet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    ds = make_tiny_dataset(tmp_path / "ds", studies=2)
    reports = tmp_path / "reports.jsonl"
    reports.write_text(json.dumps({"study_id": "S1", "report": "No late gadolinium "
                                                               "enhancement."}) + "\n")
    sheet = tmp_path / "review.csv"
    assert main(["build-qa", str(reports), "--dataset", str(ds), "--review-sheet",
                 str(sheet)]) == 0
    capsys.readouterr()
    return ds, sheet


def _fill(sheet: Path, encoding: str, comment: str) -> None:
    rows = list(csv.DictReader(sheet.open(encoding="utf-8")))
    for row in rows:
        row["verdict"], row["comment"] = "accept", comment
    with sheet.open("w", newline="", encoding=encoding) as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_a_review_sheet_saved_as_excel_csv_utf8_is_read(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ds, sheet = _review_sheet(tmp_path, capsys)
    _fill(sheet, "utf-8-sig", "vérifié")
    assert main(["apply-review", str(sheet), "--dataset", str(ds)]) == 0
    reviewed = [i for i in read_dataset(ds).items
                if i.extra.get("provenance", {}).get("review") == "accept"]
    assert reviewed


def test_a_review_sheet_in_latin1_names_the_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ds, sheet = _review_sheet(tmp_path, capsys)
    _fill(sheet, "latin-1", "vérifié")
    assert main(["apply-review", str(sheet), "--dataset", str(ds)]) == 1
    assert capsys.readouterr().err.strip() == (f"cardiolens: {sheet}: not UTF-8 text (byte "
                                               "0xe9 on line 2); save it as CSV UTF-8")
