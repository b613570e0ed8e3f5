"""The reference reader's table on a phantom cohort (README, "Reference reader").

Generates a phantom cohort (``--studies`` studies of ``--seed``), builds every Level-1 and
diagnosis prompt under the standard settings (clinical selection, budget 16, standard
prompt), answers each with the reader (``cardiolens.reader.answer_parts``, which sees only
the prompt) and prints per subtask: items, accuracy (exact set match) and, for multi-answer
subtasks, mean item F1; the mean over the four presence subtasks and over all Level-1
items; and the ejection fraction the reader measured on every ``cine_lv_function`` prompt
against the phantom's own EF (mean and max absolute error, all hearts and hearts without
regional wall motion abnormalities).

Tuning protocol: the reader is tuned on seed 7 only; the README's table is measured on
seed 11, which was fixed in advance and not looked at while tuning.

Usage: nice python scripts/reader_table.py --seed 11 [--studies 40] [--out DIR]
       [--subtasks lge_presence,t2_edema_presence]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from cardiolens.data.dataset import Item, read_dataset
from cardiolens.data.taxonomy import load_taxonomy
from cardiolens.errors import CardiolensError
from cardiolens.phantom.cohort import cohort_at, cohort_params
from cardiolens.prompting.prompt_builder import PromptBuilder, PromptSettings
from cardiolens.prompting.prompts import Prompt
from cardiolens.prompting.rendering import RenderCache
from cardiolens.reader import answer_parts
from cardiolens.reader.cine import read_cine
from cardiolens.reader.request import parse_request
from cardiolens.scorers.choice import set_scores

PRESENCE = ("lge_presence", "t2_edema_presence", "perf_defect_presence", "cine_rwma_presence")
LEVELS = ("image_understanding", "diagnosis")


def picked(reply: str, options: list[str]) -> set[int]:
    """Option indices of a reply such as ``"A, C"``."""
    letters = [p.strip() for p in reply.split(",")]
    index = [ord(x) - ord("A") for x in letters if len(x) == 1]
    return {i for i in index if 0 <= i < len(options)}


def score_item(item: Item, prompt: Prompt) -> tuple[float, float]:
    """(exact, F1) of the reader's reply to one item."""
    answer = item.answer if isinstance(item.answer, list) else [item.answer]
    target = {prompt.options.index(a) for a in answer if a in prompt.options}
    s = set_scores(picked(answer_parts(prompt.parts()), prompt.options), target)
    return s.exact, s.f1


def ef_error(prompt: Prompt, truth: float) -> float | None:
    """|reader EF - phantom EF| on the cine frames of a function prompt; None if unread."""
    frames = [f for f in parse_request(prompt.parts()).frames if f.sequence == "cine"]
    ef = read_cine(frames).ef if frames else None
    return None if ef is None else abs(ef - truth)


def table(root: Path, seed: int, studies: int, only: set[str] | None = None) -> None:
    dataset = read_dataset(root)
    taxonomy = load_taxonomy()
    builder = PromptBuilder(root, dataset.studies, PromptSettings(), RenderCache(None))
    exact: dict[str, list[float]] = defaultdict(list)
    f1: dict[str, list[float]] = defaultdict(list)
    ef_all: list[float] = []
    ef_still: list[float] = []
    unread = 0
    for item in dataset.items:
        if item.level not in LEVELS or item.answer is None or (only and item.subtask not in only):
            continue
        prompt = builder.build(item)
        e, f = score_item(item, prompt)
        exact[item.subtask].append(e)
        f1[item.subtask].append(f)
        if item.subtask == "cine_lv_function":
            truth = cohort_params(seed, int(item.study_id[1:]), studies)
            err = ef_error(prompt, truth.ef_percent)
            if err is None:
                unread += 1
                continue
            ef_all.append(err)
            if not truth.rwma_sites:
                ef_still.append(err)
    print(f"seed {seed}, {studies} studies, clinical selection, budget 16, standard prompt\n")
    print("| subtask | items | accuracy | mean F1 |")
    print("|---|---|---|---|")
    for name in taxonomy.subtasks:
        if name in exact:
            multi = taxonomy.get(name).answer_type == "multi"
            print(f"| {name} | {len(exact[name])} | {np.mean(exact[name]):.3f} | "
                  f"{np.mean(f1[name]):.3f} |" if multi else
                  f"| {name} | {len(exact[name])} | {np.mean(exact[name]):.3f} | - |")
    presence = [v for name in PRESENCE for v in exact.get(name, [])]
    level1 = [v for name, vs in exact.items()
              if taxonomy.get(name).level == "image_understanding" for v in vs]
    for label, values in (("presence accuracy (4 subtasks pooled)", presence),
                          ("Level-1 accuracy (all items pooled)", level1)):
        mean = f"{np.mean(values):.3f}" if values else "-"
        print(f"{label}: {mean} ({len(values)} items)")
    for label, errs in (("all hearts", ef_all), ("hearts without RWMA", ef_still)):
        if errs:
            print(f"EF abs. error, {label}: mean {np.mean(errs):.2f}, max {np.max(errs):.2f} "
                  f"({len(errs)} hearts)")
    if unread:
        print(f"EF not measured on {unread} function prompt(s)")


def cohort_parser(doc: str, subtasks_help: str, default_subtasks: str = ""
                  ) -> argparse.ArgumentParser:
    """The options the reader scripts share: --seed, --studies, --out, --subtasks."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--studies", type=int, default=40)
    parser.add_argument("--out", type=Path, default=None,
                        help="keep the cohort here (default: a temporary directory)")
    parser.add_argument("--subtasks", default=default_subtasks, help=subtasks_help)
    return parser


def checked_subtasks(parser: argparse.ArgumentParser, text: str) -> list[str]:
    """The comma-separated subtask ids of ``text``; an unknown one ends the run."""
    subtasks = [s for s in text.split(",") if s]
    unknown = sorted(set(subtasks) - set(load_taxonomy().subtasks))
    if unknown:
        parser.error(f"--subtasks: unknown subtask(s) {', '.join(unknown)}")
    return subtasks


@contextmanager
def cohort_root(parser: argparse.ArgumentParser, args: argparse.Namespace, why: str
                ) -> Iterator[Path]:
    """``--out`` (or a temporary directory) holding the seed's cohort, generated if absent;
    a folder holding another cohort ends the run with ``why`` appended."""
    with tempfile.TemporaryDirectory() as tmp:
        root = args.out or Path(tmp) / "cohort"
        try:
            cohort_at(root, args.studies, args.seed)
        except CardiolensError as exc:
            parser.error(f"--out: {exc}{why}")
        yield root


def main() -> None:
    parser = cohort_parser(__doc__, "comma-separated subtask ids (default: every Level-1 "
                           "and diagnosis subtask)")
    args = parser.parse_args()
    only = set(checked_subtasks(parser, args.subtasks))
    start = time.monotonic()
    with cohort_root(parser, args, " (the EF truth is drawn from it)") as root:
        table(root, args.seed, args.studies, only)
    print(f"({time.monotonic() - start:.0f} s)")


if __name__ == "__main__":
    main()
