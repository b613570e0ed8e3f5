"""Argument types and the one-line usage-error parser shared by the commands."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from cardiolens.errors import CardiolensError


def int_at_least(low: int, meaning: str, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: an integer of at least ``low`` (and at most ``high``);
    ``meaning`` words the error."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"{text!r} must be {meaning}")
        return value

    return parse


def check_output_file(path: Path, create_folder: bool) -> None:
    """Refuse, before any work, an output file that could not be written at the end: a
    folder in its place, a missing folder (unless ``create_folder``) or one not writable."""
    if path.is_dir():
        raise CardiolensError(f"{path}: is a folder (give a file name)")
    folder = path.parent
    if create_folder and not folder.exists():
        folder.mkdir(parents=True)
    if not folder.is_dir():
        reason = "not a folder" if folder.exists() else "no such folder (create it first)"
        raise CardiolensError(f"{folder}: {reason}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CardiolensError(f"{folder}: folder is not writable")


positive_int = int_at_least(1, "at least 1")
seed_int = int_at_least(0, "zero or positive")


class OneLineParser(argparse.ArgumentParser):
    """Usage errors as one line (``cardiolens demo: error: ...``), not a usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def report_line(line: str) -> None:
    """Print one problem line to stderr (the other work goes on)."""
    print(line, file=sys.stderr)
