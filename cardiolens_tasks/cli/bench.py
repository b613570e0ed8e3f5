"""`cardiolens bench`: measured performance figures."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cardiolens.cli.common import check_output_file


def run(args: argparse.Namespace) -> int:
    from cardiolens.inspect_adapter.bench import main as bench_main

    if args.json:       # checked first: the figures take minutes to measure
        check_output_file(Path(args.json), create_folder=False)
    bench_main(args.quick, Path(args.json) if args.json else None)
    return 0


def add_parser(sub: Any) -> None:
    """Register the command on the ``cardiolens`` subparsers."""
    bench = sub.add_parser(
        "bench", help="measure prompt building, memory, concurrency, log size, scoring",
        description="Measure, on a fresh phantom cohort: prompt build per item (cold, warm, "
                    "and the nibabel + Pillow floor), peak RSS of Inspect runs, throughput "
                    "against a 0.5 s model at 32 connections, log bytes per sample, scorer "
                    "throughput. Prints a table; --json writes the figures.")
    bench.add_argument("--quick", action="store_true", help="small sizes (about a minute)")
    bench.add_argument("--json", help="also write the figures to this JSON file")
    bench.set_defaults(func=run)
