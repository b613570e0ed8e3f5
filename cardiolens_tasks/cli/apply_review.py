"""`cardiolens apply-review`: radiologists' verdicts back into the dataset."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from cardiolens.cli.common import report_line


def run(args: argparse.Namespace) -> int:
    from cardiolens.importers.report_qa import apply_review

    counts = apply_review(Path(args.sheet), Path(args.dataset), on_problem=report_line)
    print(", ".join(f"{n} {verdict}" for verdict, n in counts.items()), file=sys.stderr)
    return 0


def add_parser(sub: Any) -> None:
    """Register the command on the ``cardiolens`` subparsers."""
    review = sub.add_parser(
        "apply-review", help="import radiologists' verdicts from a review sheet",
        description="Apply the verdict column of a review sheet: accept, correct (with "
                    "corrected_answer; options separated by ';') or reject; blank rows stay "
                    "pending. Each item records its review in its provenance.")
    review.add_argument("sheet", help="review sheet CSV")
    review.add_argument("--dataset", required=True, help="dataset folder")
    review.set_defaults(func=run)
