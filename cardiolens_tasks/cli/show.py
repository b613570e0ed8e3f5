"""`cardiolens show`: a contact sheet of one study."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def run(args: argparse.Namespace) -> int:
    from cardiolens.prompting.contact_sheet import write_contact_sheet

    write_contact_sheet(Path(args.dataset), args.study_id, Path(args.out))
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


def add_parser(sub: Any) -> None:
    """Register the command on the ``cardiolens`` subparsers."""
    show = sub.add_parser("show", help="write a contact sheet PNG of one study's series",
                          description="Write a contact sheet of one study: a labelled row of "
                                      "tiles per series.")
    show.add_argument("dataset", help="dataset folder")
    show.add_argument("study_id", help="study id as in studies.jsonl")
    show.add_argument("--out", required=True, help="output PNG file")
    show.set_defaults(func=run)
