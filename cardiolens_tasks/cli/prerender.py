"""`cardiolens prerender`: one task's prompts rendered once into Parquet."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from cardiolens.cli.common import check_output_file, positive_int, seed_int
from cardiolens.errors import CardiolensError


def run(args: argparse.Namespace) -> int:
    from cardiolens.data.items import SUBTASK_FILTER
    from cardiolens.lm_eval_adapter.prerender import prerender

    options = {key: value for key, value in vars(args).items()
               if key in ("data", "level", "subtask", "sequence", "selection", "budget",
                          "prompt", "seed") and value is not None}
    if "subtask" in options:            # --subtask is the level's own subtask filter
        options[SUBTASK_FILTER[args.level]] = options.pop("subtask")
    check_output_file(Path(args.out), create_folder=True)   # before rendering, not after
    summary = prerender(Path(args.out), num_proc=args.num_proc, **options)
    for line in summary.errors:
        print(line, file=sys.stderr)
    print(f"wrote {summary.rows} prompts to {summary.path} ({len(summary.errors)} with errors)",
          file=sys.stderr)
    if summary.rows and len(summary.errors) == summary.rows:
        raise CardiolensError(f"no prompt could be built: the images of all {summary.rows} "
                              "items are unreadable (the lines above say why)")
    return 0


def add_parser(sub: Any) -> None:
    """Register the command on the ``cardiolens`` subparsers."""
    from cardiolens.data.taxonomy import LEVELS
    from cardiolens.prompting.prompts import PROMPT_STYLES
    from cardiolens.prompting.selection import PROTOCOLS
    pre = sub.add_parser(
        "prerender", help="render one task's prompts once into a Parquet file",
        description="Build every prompt of one task level (images as PNG, text with <image> "
                    "markers, captions, options, target) with the tasks' prompt builder and "
                    "write them as Parquet (Hugging Face datasets), rendering in --num-proc "
                    "processes. Unreadable studies become rows with an error (one line each on "
                    "stderr); the rest go on. Exit 1 if every row has an error.")
    pre.add_argument("out", help="output .parquet file")
    pre.add_argument("--level", required=True, choices=LEVELS)
    pre.add_argument("--data", help="dataset folder (default: the phantom cohort)")
    pre.add_argument("--subtask", help="subtask id(s), comma-separated (the level's subtask, "
                                       "section or task filter)")
    pre.add_argument("--sequence", help="sequence group: cine, lge, t2, perf or cross")
    pre.add_argument("--selection", choices=PROTOCOLS,
                     help="slice selection (default: clinical)")
    pre.add_argument("--budget", type=positive_int, help="images per item (default: 16)")
    pre.add_argument("--prompt", choices=PROMPT_STYLES,
                     help="prompt style (default: standard)")
    pre.add_argument("--seed", type=seed_int, help="seed (default: 0)")
    pre.add_argument("--num-proc", type=positive_int, default=1,
                     help="rendering processes (default: 1)")
    pre.set_defaults(func=run)
