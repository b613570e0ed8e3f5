"""Writes into a dataset are atomic: an interrupt or a failed import keeps the old data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cardiolens.cli import main
from cardiolens.data.atomic import staged_folder
from cardiolens.data.dataset import Item, read_dataset, write_jsonl

from helpers import make_tiny_dataset

REPORT = {"study_id": "S0", "report": "No late gadolinium enhancement. Normal LV size."}


def _interrupt_after(monkeypatch: pytest.MonkeyPatch, calls: int) -> None:
    """Make the ``calls``-th item serialised during a write raise KeyboardInterrupt."""
    original = Item.to_json
    seen = {"n": 0}

    def to_json(self: Item) -> dict:
        seen["n"] += 1
        if seen["n"] == calls:
            raise KeyboardInterrupt
        return original(self)

    monkeypatch.setattr(Item, "to_json", to_json)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".partial-" in p.name)


def test_interrupted_jsonl_write_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    write_jsonl(path, [{"a": 1}, {"a": 2}])
    before = path.read_bytes()

    def rows():
        yield {"a": 3}
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_jsonl(path, rows())
    assert path.read_bytes() == before
    assert _leftovers(tmp_path) == []


def test_build_qa_interrupted_mid_write_keeps_items(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    ds = make_tiny_dataset(tmp_path / "ds", studies=2)
    before = (ds / "items.jsonl").read_bytes()
    reports = tmp_path / "reports.jsonl"
    reports.write_text(json.dumps(REPORT) + "\n")
    _interrupt_after(monkeypatch, 3)
    assert main(["build-qa", str(reports), "--dataset", str(ds)]) == 130     # Ctrl-C
    assert (ds / "items.jsonl").read_bytes() == before
    assert _leftovers(ds) == []


def test_apply_review_interrupted_mid_write_keeps_reviewed_items(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ds = make_tiny_dataset(tmp_path / "ds", studies=2)
    reports = tmp_path / "reports.jsonl"
    reports.write_text(json.dumps(REPORT) + "\n")
    sheet = tmp_path / "review.csv"
    assert main(["build-qa", str(reports), "--dataset", str(ds), "--review-sheet",
                 str(sheet)]) == 0
    before = (ds / "items.jsonl").read_bytes()
    lines = sheet.read_text().splitlines()
    sheet.write_text("\n".join([lines[0], *(line.replace(",,,", ",accept,,") if i == 0
                                            else line for i, line in enumerate(lines[1:]))])
                     + "\n")
    _interrupt_after(monkeypatch, 2)
    assert main(["apply-review", str(sheet), "--dataset", str(ds)]) == 130
    assert (ds / "items.jsonl").read_bytes() == before
    assert read_dataset(ds).items


def test_failed_force_import_leaves_the_old_dataset(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = make_tiny_dataset(tmp_path / "out", studies=2)
    snapshot = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    empty = tmp_path / "empty_download"
    empty.mkdir()
    assert main(["import", "acdc", str(empty), str(out), "--force", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "left unchanged" in err
    assert f"{empty}: no acdc case found (the layout: cardiolens import --help)" in err
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == snapshot
    assert _leftovers(tmp_path) == []


def test_a_killed_builds_stage_folder_is_removed_by_the_next_build(tmp_path: Path) -> None:
    """SIGKILL / SIGTERM skip the cleanup and leave ``.<out>.partial-<pid>`` (about 1 GB for
    a phantom cohort); the next build removes it once that process is gone, and leaves a
    live process's stage alone."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    out = tmp_path / "cohort"
    stale = tmp_path / f".cohort.partial-{dead}"
    (stale / "volumes").mkdir(parents=True)
    live = tmp_path / f".cohort.partial-{os.getppid()}"
    live.mkdir()
    with staged_folder(out) as stage:
        (stage / "x").write_text("x")
    assert (out / "x").is_file()
    assert not stale.exists() and live.is_dir()
