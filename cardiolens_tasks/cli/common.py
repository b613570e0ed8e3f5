"""Argument types and the one-line usage-error parser shared by the commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import NoReturn


def int_at_least(low: int, meaning: str) -> Callable[[str], int]:
    """An argparse type: an integer of at least ``low``; ``meaning`` words the error."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{text!r} must be {meaning}")
        return value

    return parse


positive_int = int_at_least(1, "at least 1")
seed_int = int_at_least(0, "zero or positive")


class OneLineParser(argparse.ArgumentParser):
    """Usage errors as one line (``cardiolens demo: error: ...``), not a usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def report_line(line: str) -> None:
    """Print one problem line to stderr (the other work goes on)."""
    print(line, file=sys.stderr)
