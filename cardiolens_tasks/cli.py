"""The ``cardiolens`` command line: demo, validate, show.

Every failure a user can cause ends in one line on stderr naming the file and the reason,
and a non-zero exit; no traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .errors import CardiolensError


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be zero or positive")
    return value


def _cmd_demo(args: argparse.Namespace) -> int:
    from .phantom.cohort import generate_cohort

    generate_cohort(args.out, studies=args.studies, seed=args.seed, workers=args.workers,
                    progress=not args.quiet, overwrite=args.force)
    if not args.quiet:
        print(f"wrote {args.studies} phantom studies to {args.out}", file=sys.stderr)
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from .validate import validate_dataset

    problems = validate_dataset(Path(args.dataset), progress=not args.quiet)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) found", file=sys.stderr)
        return 1
    if not args.quiet:
        print(f"{args.dataset}: valid", file=sys.stderr)
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    from .contact_sheet import write_contact_sheet

    write_contact_sheet(Path(args.dataset), args.study_id, Path(args.out))
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


def _cmd_lm_eval_path(args: argparse.Namespace) -> int:
    from .harness_docs import task_yaml_path

    print(task_yaml_path())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cardiolens",
        description="CardioLens cardiac MRI benchmark: phantom cohorts, dataset checks, "
                    "contact sheets, the lm-eval task folder.",
    )
    parser.add_argument("--version", action="version", version=f"cardiolens {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="generate a phantom CMR cohort in the dataset format",
                          description="Generate a procedural CMR phantom cohort (cine, LGE, "
                                      "T2, perfusion; all three task levels). The same seed "
                                      "gives the same bytes.")
    demo.add_argument("--out", required=True, help="output dataset folder (created)")
    demo.add_argument("--studies", type=_positive_int, default=40,
                      help="number of studies (default: 40)")
    demo.add_argument("--seed", type=_seed, default=0, help="random seed (default: 0)")
    demo.add_argument("--workers", type=_positive_int, default=None,
                      help="worker processes (default: number of CPUs)")
    demo.add_argument("--force", action="store_true",
                      help="replace the output folder if it already holds a dataset")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    demo.set_defaults(func=_cmd_demo)

    validate = sub.add_parser("validate", help="check a dataset folder, all problems in one pass",
                              description="Check a CardioLens dataset folder. Prints one line "
                                          "per problem (<file>[:<line>]: <reason>); exit 1 if "
                                          "any, 0 if none.")
    validate.add_argument("dataset", help="dataset folder")
    validate.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    validate.set_defaults(func=_cmd_validate)

    show = sub.add_parser("show", help="write a contact sheet PNG of one study's series",
                          description="Write a contact sheet of one study: a labelled row of "
                                      "tiles per series.")
    show.add_argument("dataset", help="dataset folder")
    show.add_argument("study_id", help="study id as in studies.jsonl")
    show.add_argument("--out", required=True, help="output PNG file")
    show.set_defaults(func=_cmd_show)

    path = sub.add_parser("lm-eval-path", help="print the folder of the lm-eval task YAMLs",
                          description="Print the installed lm-eval task folder, for "
                                      "lm_eval --include_path \"$(cardiolens lm-eval-path)\".")
    path.set_defaults(func=_cmd_lm_eval_path)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except CardiolensError as exc:
        print(f"cardiolens: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("cardiolens: interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
