"""`cardiolens audit`: a dataset's shortcut exposure (label shortcuts and priors)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from cardiolens.cli.common import (
    check_output_file,
    int_at_least,
    positive_int,
    report_line,
    seed_int,
)
from cardiolens.errors import CardiolensError


def run(args: argparse.Namespace) -> int:
    from cardiolens.audit.report import (
        audit_dataset,
        audit_phantom_labels,
        format_audit,
        write_json,
    )

    if (args.dataset is None) == (args.phantom is None):
        raise CardiolensError("audit: give either a DATASET folder or --phantom N "
                              "(one of the two)")
    if args.json:       # checked first, so the audit is not lost at the end
        check_output_file(Path(args.json), create_folder=False)
    if args.phantom is not None:
        result = audit_phantom_labels(args.phantom, args.phantom_seed, depth=args.depth,
                                      folds=args.folds, seed=args.seed)
    else:
        result = audit_dataset(Path(args.dataset), depth=args.depth, folds=args.folds,
                               seed=args.seed, on_problem=report_line)
    print(format_audit(result))
    if args.json:
        write_json(result, Path(args.json))
        print(f"wrote {args.json}", file=sys.stderr)
    return 0


def add_parser(sub: Any) -> None:
    """Register the command on the ``cardiolens`` subparsers."""
    audit = sub.add_parser(
        "audit", help="the dataset's shortcut exposure: label shortcuts and priors",
        description="Audit a dataset for shortcuts: the cross-validated etiology and "
                    "subtype accuracy of each structured finding used alone (best lookup "
                    "rule) and of a small decision tree over all findings but the LGE "
                    "pattern, a clinician's rule set, and the majority and option-A "
                    "baselines of every subtask (option A with the options in taxonomy "
                    "order and shuffled as the prompts show them by default), the options "
                    "that are no item's right answer, and three "
                    "answer-by-wording rules (shortest option, longest, most words shared "
                    "with the question). Prints a table; --json writes the figures. "
                    "A malformed line of studies.jsonl or items.jsonl is one line on "
                    "stderr (file, line number, reason) and is left out; the rest is "
                    "audited.")
    audit.add_argument("dataset", nargs="?", help="dataset folder")
    audit.add_argument("--phantom", type=positive_int, metavar="N",
                       help="instead of a dataset: the label shortcuts of N phantom label "
                            "sets and the options they make no item's right answer, drawn "
                            "without pixels (seconds for thousands)")
    audit.add_argument("--phantom-seed", type=seed_int, default=0,
                       help="cohort seed of --phantom (default: 0)")
    audit.add_argument("--json", help="also write the figures to this JSON file")
    audit.add_argument("--depth", type=positive_int, default=3,
                       help="decision-tree depth (default: 3)")
    audit.add_argument("--folds", type=int_at_least(2, "at least 2"), default=5,
                       help="cross-validation folds (default: 5)")
    audit.add_argument("--seed", type=seed_int, default=0, help="fold seed (default: 0)")
    audit.set_defaults(func=run)
