"""The ``cardiolens`` command line, one module per command.

Every failure a user can cause ends in one line on stderr naming the file and the reason,
and a non-zero exit; no traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from cardiolens import __version__
from cardiolens.cli import (
    analyze,
    apply_review,
    audit,
    bench,
    build_qa,
    cache,
    demo,
    import_dataset,
    lm_eval_path,
    prerender,
    serve_reader,
    show,
    validate,
)
from cardiolens.cli.common import OneLineParser
from cardiolens.errors import CardiolensError

COMMANDS = (demo, validate, show, lm_eval_path, analyze, import_dataset, build_qa,
            apply_review, prerender, audit, bench, serve_reader, cache)


def build_parser() -> argparse.ArgumentParser:
    """The ``cardiolens`` parser with every command's subparser."""
    parser = OneLineParser(
        prog="cardiolens",
        description="CardioLens cardiac MRI benchmark: phantom cohorts, dataset checks and "
                    "imports, contact sheets, results analysis and tools around the Inspect "
                    "and lm-eval tasks.",
    )
    parser.add_argument("--version", action="version", version=f"cardiolens {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; user-caused errors become one line and exit 1."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
        sys.stdout.flush()      # inside the try: a closed pipe is caught below
    except CardiolensError as exc:
        print(f"cardiolens: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:     # the output went to a reader that closed (``| head``)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())   # no flush error
        return 141
    except OSError as exc:      # a path the user gave cannot be read or written
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"cardiolens: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("cardiolens: interrupted", file=sys.stderr)
        return 130
    return code

