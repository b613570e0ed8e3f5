"""`cardiolens validate`: check a dataset folder, every problem in one pass."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def run(args: argparse.Namespace) -> int:
    from cardiolens.data.validate import validate_dataset

    problems = validate_dataset(Path(args.dataset), progress=not args.quiet)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) found", file=sys.stderr)
        return 1
    if not args.quiet:
        print(f"{args.dataset}: valid", file=sys.stderr)
    return 0


def add_parser(sub: Any) -> None:
    """Register the command on the ``cardiolens`` subparsers."""
    validate = sub.add_parser("validate", help="check a dataset folder, all problems in one pass",
                              description="Check a CardioLens dataset folder. Prints one line "
                                          "per problem (<file>[:<line>]: <reason>); exit 1 if "
                                          "any, 0 if none.")
    validate.add_argument("dataset", help="dataset folder")
    validate.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    validate.set_defaults(func=run)
