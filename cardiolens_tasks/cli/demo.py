"""`cardiolens demo`: write a phantom cohort in the dataset format."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cardiolens.cli.common import positive_int, seed_int


def never_right_note(unused: dict[str, list[str]], out: str) -> str | None:
    """One line warning that some options are no item's right answer in the cohort at
    ``out`` (``unused``: :func:`cardiolens.audit.priors.never_right`), or None."""
    from cardiolens.phantom.cohort import DEFAULT_SEED, DEFAULT_STUDIES

    if not unused:
        return None
    options = sum(len(v) for v in unused.values())
    names = list(unused)
    shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
    return (f"note: {options} option(s) of {len(unused)} subtask(s) are no item's right "
            f"answer in this cohort ({shown}), so a model that never picks "
            f"them loses nothing there; `cardiolens audit {out}` lists them. The default "
            f"cohort (--studies {DEFAULT_STUDIES} --seed {DEFAULT_SEED}) has none.")


def run(args: argparse.Namespace) -> int:
    from cardiolens.audit.priors import never_right
    from cardiolens.data.dataset import read_dataset
    from cardiolens.phantom.cohort import generate_cohort

    generate_cohort(args.out, studies=args.studies, seed=args.seed, workers=args.workers,
                    progress=not args.quiet, overwrite=args.force)
    if not args.quiet:
        print(f"wrote {args.studies} phantom studies to {args.out}", file=sys.stderr)
    note = never_right_note(never_right(read_dataset(args.out).items), str(args.out))
    if note:
        print(note, file=sys.stderr)
    return 0


def add_parser(sub: Any) -> None:
    """Register the command on the ``cardiolens`` subparsers."""
    demo = sub.add_parser("demo", help="generate a phantom CMR cohort in the dataset format",
                          description="Generate a procedural CMR phantom cohort (cine, LGE, "
                                      "T2, perfusion; all three task levels). The same seed "
                                      "gives the same voxels, labels and reports (the same "
                                      "file bytes with the same deflate library).")
    demo.add_argument("--out", required=True, help="output dataset folder (created)")
    demo.add_argument("--studies", type=positive_int, default=40,
                      help="number of studies (default: 40, a quick cohort; the tasks' "
                           "default cohort is larger: README, 'Cohort size')")
    demo.add_argument("--seed", type=seed_int, default=0,
                      help="random seed (default: 0); the command ends with a note when "
                           "some option is no item's right answer in the cohort")
    demo.add_argument("--workers", type=positive_int, default=None,
                      help="worker processes (default: number of CPUs)")
    demo.add_argument("--force", action="store_true",
                      help="replace the output folder if it already holds a dataset")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    demo.set_defaults(func=run)
