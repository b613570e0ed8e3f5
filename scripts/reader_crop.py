"""How much the reference reader's answers move when its crop moves by a few percent.

With a stated scale the reader reads the central :data:`cardiolens.reader.request.HEART_MM`
(208 mm) of every image at 256 pixels. A reading that flips when that crop is 3% smaller
or larger rests on a knife edge of resampling, not on what the image shows. For every
prompt of the chosen subtasks (standard settings, as in ``scripts/reader_table.py``) this
script answers at each crop factor and prints per subtask the accuracy at each factor,
the summed accuracy, its spread (max - min) and how many items' answers differ between
any two factors.

Tuning protocol: run it on the tuning seed (7) only (README, "Reference reader").

Usage: nice python scripts/reader_crop.py --seed 7 --out DIR [--studies 40]
       [--factors 0.97,1,1.03] [--subtasks lge_presence,...] [--dump FILE.json]
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from reader_table import checked_subtasks, cohort_parser, cohort_root  # the sibling script

from cardiolens.data.answer_format import LETTERS
from cardiolens.data.dataset import read_dataset
from cardiolens.prompting.prompt_builder import PromptBuilder, PromptSettings
from cardiolens.prompting.rendering import RenderCache
from cardiolens.reader.answers import choose
from cardiolens.reader.findings import StudyRead
from cardiolens.reader.reader import read_request
from cardiolens.reader.request import HEART_MM, parse_request
from cardiolens.scorers.choice import set_scores

LESION = ("lge_presence", "lge_levels", "lge_walls", "lge_distribution", "lge_layer",
          "lge_transmurality", "lge_rv_insertion", "lge_pattern", "lge_territories",
          "t2_edema_presence", "t2_edema_levels", "t2_edema_walls", "t2_edema_distribution",
          "t2_edema_layer", "cross_lge_t2")
"""The default subtasks: every LGE and T2 subtask and their cross-sequence one."""


def sweep(root: Path, subtasks: list[str], factors: list[float]
          ) -> dict[str, dict[str, list[str]]]:
    """Per subtask, per item id: the reader's answer letters at each factor."""
    dataset = read_dataset(root)
    builder = PromptBuilder(root, dataset.studies, PromptSettings(), RenderCache(None))
    reads: dict[tuple[str, float], StudyRead | None] = {}
    out: dict[str, dict[str, list[str]]] = defaultdict(dict)
    for item in dataset.items:
        if item.subtask not in subtasks or item.answer is None:
            continue
        prompt = builder.build(item)
        parts = prompt.parts()
        images = hashlib.sha1(b"".join(p for p in parts if isinstance(p, bytes)))
        images.update("\n".join(p for p in parts if isinstance(p, str)
                                and p.startswith("Image ")).encode())
        answers = []
        for factor in factors:
            request = parse_request(parts, heart_mm=factor * HEART_MM)
            key = (images.hexdigest(), factor)
            if key not in reads:      # the subtasks of a study often show the same frames
                reads[key] = read_request(request)
            picked = choose(request.subtask, reads[key], request.options,
                            request.answer_type == "multi")
            answers.append(", ".join(LETTERS[i] for i in picked))
        answer = item.answer if isinstance(item.answer, list) else [item.answer]
        target = ", ".join(LETTERS[prompt.options.index(a)] for a in answer
                           if a in prompt.options)
        out[item.subtask][item.item_id] = [target, *answers]
    return out


def report(answers: dict[str, dict[str, list[str]]], factors: list[float]) -> None:
    """Print the per-subtask table, the sums and the flips."""
    def exact(target: str, got: str) -> float:
        def letters(s: str) -> set[int]:
            return {LETTERS.index(x.strip()) for x in s.split(",") if x.strip()}
        return set_scores(letters(got), letters(target)).exact

    heads = " | ".join(f"{f:g}x ({f * HEART_MM:.1f} mm)" for f in factors)
    print(f"| subtask | items | {heads} | items that flip |")
    print("|---|---|" + "---|" * len(factors) + "---|")
    sums = np.zeros(len(factors))
    flips = 0
    for name, items in answers.items():
        acc = np.array([[exact(v[0], got) for got in v[1:]] for v in items.values()]).mean(0)
        moved = sum(len(set(v[1:])) > 1 for v in items.values())
        flips += moved
        sums += acc
        cells = " | ".join(f"{a:.3f}" for a in acc)
        print(f"| {name} | {len(items)} | {cells} | {moved} |")
    print(f"\nsummed accuracy over {len(answers)} subtasks: "
          + ", ".join(f"{s:.3f}" for s in sums)
          + f"; spread {sums.max() - sums.min():.3f}; items that flip: {flips} of "
          f"{sum(len(v) for v in answers.values())}")


def main() -> None:
    parser = cohort_parser(__doc__, "comma-separated subtask ids (default: the LGE and T2 "
                           "ones)", ",".join(LESION))
    parser.add_argument("--factors", default="0.97,1,1.03",
                        help="crop sides as factors of HEART_MM (comma-separated)")
    parser.add_argument("--dump", type=Path, default=None,
                        help="write every item's target and answers per factor (JSON)")
    args = parser.parse_args()
    subtasks = checked_subtasks(parser, args.subtasks)
    try:
        factors = [float(f) for f in args.factors.split(",")]
    except ValueError:
        parser.error(f"--factors: not a list of numbers: {args.factors}")
    if not factors or min(factors) <= 0:
        parser.error("--factors: give at least one positive factor")
    start = time.monotonic()
    with cohort_root(parser, args, "") as root:
        answers = sweep(root, subtasks, factors)
    print(f"seed {args.seed}, {args.studies} studies, clinical selection, budget 16, "
          "standard prompt\n")
    report(answers, factors)
    if args.dump:
        args.dump.write_text(json.dumps(answers, indent=1))
    print(f"({time.monotonic() - start:.0f} s)")


if __name__ == "__main__":
    main()
