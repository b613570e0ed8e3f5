"""`cardiolens apply-review`: radiologists' verdicts back into the dataset."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from cardiolens.cli.common import report_line
from cardiolens.errors import CardiolensError


def _fmt(value: float) -> str:
    return "n/a" if value != value else f"{value:.3f}"


def run(args: argparse.Namespace) -> int:
    from cardiolens.importers.report_qa import AGREEMENT_FILE, apply_review, apply_two_reviews

    if len(args.sheets) > 2:
        raise CardiolensError("apply-review takes one sheet, or two readers' sheets")
    if args.adjudicated and len(args.sheets) != 2:
        raise CardiolensError("--adjudicated needs two readers' sheets")
    if len(args.sheets) == 1:
        counts = apply_review(Path(args.sheets[0]), Path(args.dataset), on_problem=report_line)
        print(", ".join(f"{n} {verdict}" for verdict, n in counts.items()), file=sys.stderr)
        return 0
    second = Path(args.sheets[1])
    out = second.with_name(second.stem + ".disagreements.csv")
    counts, agreement = apply_two_reviews(
        Path(args.sheets[0]), second, Path(args.dataset),
        Path(args.adjudicated) if args.adjudicated else None, report_line, out)
    print("subtask | items | agreement | Cohen's kappa", file=sys.stderr)
    for subtask, values in [*agreement.per_subtask.items(), ("overall", agreement.overall)]:
        print(f"{subtask} | {int(values['items'])} | {_fmt(values['agreement'])} | "
              f"{_fmt(values['kappa'])}", file=sys.stderr)
    print(f"{len(agreement.disagreements)} disagreement(s) for adjudication: {out}",
          file=sys.stderr)
    if agreement.audited_accuracy is not None:
        print(f"audited-sample accuracy of the proposed answers: "
              f"{agreement.audited_accuracy:.3f} ({agreement.audited_items} items)",
              file=sys.stderr)
    print(", ".join(f"{n} {verdict}" for verdict, n in counts.items())
          + f"; recorded in {Path(args.dataset) / AGREEMENT_FILE}", file=sys.stderr)
    return 0


def add_parser(sub: Any) -> None:
    """Register the command on the ``cardiolens`` subparsers."""
    review = sub.add_parser(
        "apply-review", help="import radiologists' verdicts from review sheets",
        description="Apply the verdict column of a review sheet: accept, correct (with "
                    "corrected_answer; options separated by ';') or reject; blank rows stay "
                    "pending. Each item records its review in its provenance. With two "
                    "readers' sheets: Cohen's kappa per subtask and overall, a sheet of "
                    "the disagreements to adjudicate (SHEET2.disagreements.csv), agreed "
                    "verdicts applied; --adjudicated applies the adjudicated verdicts and "
                    "records the audited-sample accuracy (review_agreement.json in the "
                    "dataset).")
    review.add_argument("sheets", nargs="+", metavar="SHEET",
                        help="review sheet CSV, or two readers' sheets")
    review.add_argument("--dataset", required=True, help="dataset folder")
    review.add_argument("--adjudicated", default=None,
                        help="adjudicated sheet (the disagreements sheet, filled in)")
    review.set_defaults(func=run)
