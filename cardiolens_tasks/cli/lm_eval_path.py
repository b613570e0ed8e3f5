"""`cardiolens lm-eval-path`: the installed lm-eval task folder."""

from __future__ import annotations

import argparse
from typing import Any


def run(args: argparse.Namespace) -> int:
    from cardiolens.lm_eval_adapter.docs import task_yaml_path

    print(task_yaml_path())
    return 0


def add_parser(sub: Any) -> None:
    """Register the command on the ``cardiolens`` subparsers."""
    path = sub.add_parser("lm-eval-path", help="print the folder of the lm-eval task YAMLs",
                          description="Print the installed lm-eval task folder, for "
                                      "lm_eval --include_path \"$(cardiolens lm-eval-path)\".")
    path.set_defaults(func=run)
