"""`cardiolens build-qa`: free-text reports to QA items and a review sheet."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from cardiolens.cli.common import check_output_file, report_line


def run(args: argparse.Namespace) -> int:
    from cardiolens.importers.report_qa import build_qa

    sheet = Path(args.review_sheet or Path(args.dataset) / "review.csv")
    if Path(args.dataset).is_dir() and sheet.parent.exists():   # refused before any work
        check_output_file(sheet, create_folder=False)          # (a missing folder is made)
    if args.model:
        from cardiolens.inspect_adapter.report_extraction import model_extractor

        summary = build_qa(Path(args.reports), Path(args.dataset), sheet, on_problem=report_line,
                           extractor=model_extractor(args.model),
                           method=f"inspect model {args.model}",
                           allow_identifiers=args.allow_identifiers)
    else:
        summary = build_qa(Path(args.reports), Path(args.dataset), sheet, on_problem=report_line,
                           allow_identifiers=args.allow_identifiers)
    print(f"{summary.items} proposed item(s) from {summary.reports} report(s); review sheet "
          f"{sheet}", file=sys.stderr)
    return 0


def add_parser(sub: Any) -> None:
    """Register the command on the ``cardiolens`` subparsers."""
    build = sub.add_parser(
        "build-qa", help="turn free-text CMR reports into QA items and a review sheet",
        description="Read REPORTS.jsonl ({\"study_id\", \"sections\": {cine, lge, t2, "
                    "perfusion, impression}} or {\"study_id\", \"report\"}), extract the "
                    "findings with the rule-based extractor, add the items (and report "
                    "references) to the dataset with provenance, and write a CSV review "
                    "sheet for radiologists. Report text is copied verbatim into the "
                    "dataset's items.jsonl (report references) and the review sheet: "
                    "de-identify the reports first. A report whose text shows an obvious "
                    "identifier (a date, 6 or more digits in a row, a phone, NHS or "
                    "accession number, DOB, MRN, Name:, Dr / Patient before a name) is one "
                    "line naming the file and line, and "
                    "nothing is written (exit 1) unless --allow-identifiers; the check is a "
                    "floor, not a de-identification. A report line that cannot be read is "
                    "one line and skipped; if no report of a study in the dataset is left, "
                    "nothing is written (exit 1).")
    build.add_argument("reports", help="reports JSONL file")
    build.add_argument("--dataset", required=True, help="dataset folder (its studies)")
    build.add_argument("--review-sheet", help="CSV to write (default: DATASET/review.csv)")
    build.add_argument("--model", help="an Inspect model (e.g. openai/gpt-4o) that reads the "
                                       "reports into JSON instead of the rule-based extractor, "
                                       "for messy reports")
    build.add_argument("--allow-identifiers", action="store_true",
                       help="copy reports whose text looks identifying (dates, long digit "
                            "runs, DOB, MRN, titles before names) instead of refusing them; "
                            "for text checked to be no identifier")
    build.set_defaults(func=run)
