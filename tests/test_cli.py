"""The command line: help, one-line errors, contact sheets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cardiolens.cli import main

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
    for command in ("demo", "validate", "show"):
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
