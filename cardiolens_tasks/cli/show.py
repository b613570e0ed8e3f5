"""`cardiolens show`: a contact sheet of one study."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from cardiolens.cli.common import report_line


def run(args: argparse.Namespace) -> int:
    from cardiolens.prompting.contact_sheet import write_contact_sheet

    series, unreadable = write_contact_sheet(Path(args.dataset), args.study_id,
                                             Path(args.out), on_problem=report_line)
    skipped = f" ({unreadable} of {series} series unreadable)" if unreadable else ""
    print(f"wrote {args.out}{skipped}", file=sys.stderr)
    return 1 if series and unreadable == series else 0


def add_parser(sub: Any) -> None:
    """Register the command on the ``cardiolens`` subparsers."""
    show = sub.add_parser("show", help="write a contact sheet PNG of one study's series",
                          description="Write a contact sheet of one study: a labelled row of "
                                      "tiles per series. A series that cannot be read is one "
                                      "line on stderr naming the file and the reason, and a "
                                      "row saying so on the sheet; the others are shown. "
                                      "Exit 1 if no series could be read.")
    show.add_argument("dataset", help="dataset folder")
    show.add_argument("study_id", help="study id as in studies.jsonl")
    show.add_argument("--out", required=True, help="output PNG file")
    show.set_defaults(func=run)
