"""`cardiolens analyze`: results report from Inspect logs and lm-eval folders."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cardiolens.cli.common import positive_int, seed_int
from cardiolens.errors import CardiolensError


def collect_runs(paths: Sequence[str], progress: bool) -> tuple[list[Any], int]:
    """Runs from Inspect logs and lm-eval folders; unreadable inputs are reported and skipped."""
    from tqdm import tqdm

    from cardiolens.analysis.results import merge_runs, read_lm_eval_folder
    from cardiolens.inspect_adapter.logs import BOOKKEEPING, read_inspect_log

    logs: list[Path] = []
    folders: list[Path] = []
    problems = 0
    for text in paths:
        path = Path(text)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in (".eval", ".json")
                           and not p.name.startswith("results_")
                           and p.name not in BOOKKEEPING)
            logs += found
            if any(path.rglob("results_*.json")):
                folders.append(path)
            elif not found:
                print(f"{path}: no Inspect logs (.eval, .json) or lm-eval results_*.json in "
                      "this folder", file=sys.stderr)
                problems += 1
        elif path.is_file():
            logs.append(path)
        else:
            print(f"{path}: no such file or folder", file=sys.stderr)
            problems += 1
    runs: list[Any] = []
    for log in tqdm(logs, desc="reading logs", unit="log", disable=not progress):
        try:
            runs.append(read_inspect_log(log))
        except CardiolensError as exc:
            print(str(exc), file=sys.stderr)
            problems += 1
    def report(line: str) -> None:
        nonlocal problems
        print(line, file=sys.stderr)
        problems += 1

    for folder in folders:
        try:
            runs += read_lm_eval_folder(folder, on_problem=report)
        except CardiolensError as exc:
            report(str(exc))
    return [run for run in merge_runs(runs) if run.rows], problems


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from cardiolens.analysis.report import write_analysis

    out = Path(args.out)
    if out.exists() and not out.is_dir():        # before minutes of reading logs
        raise CardiolensError(f"{out}: not a folder (--out names the report folder)")
    runs, problems = collect_runs(args.inputs, not args.quiet)
    if not runs:
        raise CardiolensError("no readable cardiolens results in the given logs or folders")
    bar = tqdm(total=len(runs), desc="bootstrap", unit="run", disable=args.quiet)

    def advance(_: Any) -> None:
        bar.update(1)

    with bar:
        written = write_analysis(runs, Path(args.out), args.replicates, args.seed,
                                 progress=advance, adjust=args.adjust, by=args.by)
    print(f"wrote {len(written)} files to {args.out} ({len(runs)} runs; "
          f"{problems} input(s) skipped)", file=sys.stderr)
    return 0


def by_value(text: str) -> str:
    """``--by``: ``source`` or ``meta.<field>``."""
    if text == "source" or (text.startswith("meta.") and len(text) > 5):
        return text
    raise argparse.ArgumentTypeError(f"must be 'source' or 'meta.<field>', not {text!r}")


def add_parser(sub: Any) -> None:
    """Register the command on the ``cardiolens`` subparsers."""
    analyze = sub.add_parser(
        "analyze", help="results report from Inspect logs and lm-eval folders",
        description="Tables with study-level bootstrap 95% CIs, majority and uniform "
                    "baselines, chance-corrected scores, paired tests (McNemar, paired "
                    "bootstrap) with adjusted p-values, Wilcoxon tests between levels, an "
                    "ablation table (all items and items whose images changed), subgroup "
                    "tables, confusion matrices and a landscape plot, from Inspect logs "
                    "(.eval/.json, or folders of them) and lm-eval --output_path folders "
                    "(with --log_samples).")
    analyze.add_argument("inputs", nargs="+", metavar="LOGS_OR_DIRS")
    analyze.add_argument("--out", required=True, help="output folder")
    analyze.add_argument("--replicates", type=positive_int, default=1000,
                         help="bootstrap replicates (default: 1000)")
    analyze.add_argument("--seed", type=seed_int, default=0, help="bootstrap seed (default: 0)")
    analyze.add_argument("--adjust", choices=("holm", "bh"), default="holm",
                         help="multiplicity adjustment of the p-values: holm (family-wise "
                              "error) or bh (Benjamini-Hochberg false discovery rate); "
                              "default: holm")
    analyze.add_argument("--by", type=by_value, default=None, metavar="source|meta.FIELD",
                         help="subgroup tables and confusion plots by the dataset source or "
                              "a study meta field (e.g. meta.sex, meta.age_band, meta.vendor)")
    analyze.add_argument("--quiet", action="store_true", help="no progress bars")
    analyze.set_defaults(func=run)
