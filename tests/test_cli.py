"""The command line: help, one-line errors, contact sheets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cardiolens.cli import main
from cardiolens.data.dataset import SeriesInfo
from cardiolens.prompting.contact_sheet import plan_rows
from cardiolens.prompting.prompts import caption
from cardiolens.prompting.selection import FrameChoice

from helpers import make_tiny_dataset


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        code = main(args)
    except SystemExit as exc:  # argparse errors and --help
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_help_lists_the_commands() -> None:
    result = subprocess.run([sys.executable, "-m", "cardiolens.cli", "--help"],
                            capture_output=True, text=True, check=True)
    for command in ("demo", "validate", "show", "cache"):
        assert command in result.stdout


@pytest.mark.parametrize("args, reason", [
    (["demo", "--out", "x", "--studies", "zero"], "not an integer"),
    (["demo", "--out", "x", "--studies", "0"], "at least 1"),
    (["demo", "--out", "x", "--seed", "-1"], "zero or positive"),
    (["show", "nowhere", "S0", "--out", "x.png"], "nowhere"),
    (["nonsense"], "invalid choice"),
])
def test_bad_arguments_give_one_clear_line(args: list[str], reason: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    code, text = _run(args, capsys)
    assert code != 0
    assert reason in text and "Traceback" not in text


def test_show_writes_a_deterministic_png(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    ds = make_tiny_dataset(tmp_path / "ds", studies=1)
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    assert _run(["show", str(ds), "S0", "--out", str(a)], capsys)[0] == 0
    assert _run(["show", str(ds), "S0", "--out", str(b)], capsys)[0] == 0
    assert a.read_bytes() == b.read_bytes()
    image = np.asarray(Image.open(a))
    assert image.ndim == 2 and image.std() > 0


def test_show_unknown_study_and_broken_series(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    ds = make_tiny_dataset(tmp_path / "ds", studies=1)
    code, text = _run(["show", str(ds), "NOPE", "--out", str(tmp_path / "x.png")], capsys)
    assert code == 1 and "NOPE" in text and len(text.strip().splitlines()) == 1
    (ds / "volumes/S0/lge_sax.nii.gz").write_bytes(b"garbage")
    out = tmp_path / "broken.png"
    code, text = _run(["show", str(ds), "S0", "--out", str(out)], capsys)
    assert code == 0 and out.is_file()


def test_show_refuses_a_missing_output_folder(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    ds = make_tiny_dataset(tmp_path / "ds", studies=1)
    out = tmp_path / "nonexistent" / "dir" / "x.png"
    code, text = _run(["show", str(ds), "S0", "--out", str(out)], capsys)
    assert code == 1 and text.strip() == \
        f"cardiolens: {out.parent}: no such folder (create it first)"
    assert not (tmp_path / "nonexistent").exists()


def test_contact_sheet_numbers_slices_and_phases_like_the_prompts() -> None:
    info = SeriesInfo("c.nii.gz", 10, 25, ed_frame=0, es_frame=8)
    ed_row, _ = plan_rows("cine_sax", info)
    for (s, f), label in zip(ed_row.refs, ed_row.captions, strict=True):
        text = caption(1, FrameChoice("cine_sax", s, f), info, (0, 8))
        # "s5 mid" on the sheet is "slice 5 of 10 (mid)" in the prompt
        number, level = label.split()
        assert f"slice {number[1:]} of 10 ({level})" in text
    assert ed_row.captions[0].startswith("s1 ")
    lax = plan_rows("cine_4ch", SeriesInfo("l.nii.gz", 1, 25, ed_frame=0, es_frame=8))[0]
    assert lax.captions == ["ED f1", "ES f9"]          # phase 1 and phase 9 of 25
    assert "phase 9 of 25" in caption(1, FrameChoice("cine_4ch", 0, 8), info, (0, 8))


def _cache(tmp_path: Path) -> Path:
    root = tmp_path / "cache"
    cohort = root / "phantom-v1-abc-n2-seed0"
    (cohort / "volumes").mkdir(parents=True)
    (cohort / "volumes" / "a.nii.gz").write_bytes(b"x" * 1500)
    (root / "render" / "png").mkdir(parents=True)
    (root / "render" / "png" / "p.png").write_bytes(b"y" * 250)
    (root / "notes.txt").write_text("the user's own file\n")
    return root


def test_cache_info_lists_cohorts_and_render_cache(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    root = _cache(tmp_path)
    monkeypatch.setenv("CARDIOLENS_CACHE_DIR", str(root))
    code, text = _run(["cache", "info"], capsys)
    lines = text.splitlines()
    assert code == 0 and lines[0] == f"cache folder: {root}"
    assert "cohort" in lines[1] and "1.5 kB" in lines[1] and "phantom-v1-abc-n2-seed0" in lines[1]
    assert "render cache" in lines[2] and "250 B" in lines[2]
    assert "total" in lines[3] and "1.8 kB" in lines[3] and "notes" not in text
    monkeypatch.setenv("CARDIOLENS_CACHE_DIR", str(tmp_path / "none"))
    code, text = _run(["cache", "info"], capsys)
    assert code == 0 and "(not created yet)" in text and "0 B" in text


def test_cache_clear_removes_only_what_cardiolens_rebuilds(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    root = _cache(tmp_path)
    monkeypatch.setenv("CARDIOLENS_CACHE_DIR", str(root))
    code, text = _run(["cache", "clear", "--render-only"], capsys)
    assert code == 0 and "removed 1 entry" in text and "250 B" in text
    assert not (root / "render").exists() and (root / "phantom-v1-abc-n2-seed0").is_dir()
    code, text = _run(["cache", "clear"], capsys)
    assert code == 0 and "removed 1 entry" in text
    assert sorted(p.name for p in root.iterdir()) == ["notes.txt"]
    code, text = _run(["cache"], capsys)
    assert code == 2 and "required: ACTION" in text and "Traceback" not in text
