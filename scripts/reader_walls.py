"""The reader's end-diastolic wall thickness per site against the phantom's drawn walls.

For every ``cine_wall_thickness`` prompt of a phantom cohort (standard settings, as in
``scripts/reader_table.py``) prints the study, its label and the reader's category, and per
level the drawn / read thickness (mm) of the six walls; then the per-site error (mean
absolute, share over 2 mm, max), the mean signed error per level and wall, and the
category accuracy. A diagnostic for the tuning seed (README, "Reference reader": tune on
seed 7 only).

Usage: nice python scripts/reader_walls.py --seed 7 --out DIR [--studies 40]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from cardiolens.data.anatomy import LEVELS, WALLS6
from cardiolens.data.dataset import read_dataset
from cardiolens.errors import CardiolensError
from cardiolens.phantom.cohort import cohort_at, cohort_params
from cardiolens.prompting.prompt_builder import PromptBuilder, PromptSettings
from cardiolens.prompting.rendering import RenderCache
from cardiolens.reader.cine import read_cine
from cardiolens.reader.findings import StudyRead
from cardiolens.reader.request import parse_request


def walls(root: Path, seed: int, studies: int) -> None:
    dataset = read_dataset(root)
    builder = PromptBuilder(root, dataset.studies, PromptSettings(), RenderCache(None))
    drawn_all, read_all, right = [], [], 0
    for item in dataset.items:
        if item.subtask != "cine_wall_thickness" or item.answer is None:
            continue
        truth = cohort_params(seed, int(item.study_id[1:]), studies)
        frames = [f for f in parse_request(builder.build(item).parts()).frames
                  if f.sequence == "cine"]
        cine = read_cine(frames)
        category = StudyRead(cine, None, None, None).wall_thickness()
        right += category == item.answer
        drawn = np.array(truth.heart.thickness, float)
        read = np.full((3, 6), np.nan)
        for (level, wall), mm in cine.thickness.items():
            if level in LEVELS[:3]:
                read[LEVELS.index(level), WALLS6.index(wall)] = mm
        drawn_all.append(drawn)
        read_all.append(read)
        mark = "" if category == item.answer else "  <- wrong"
        print(f"{item.study_id} {truth.diagnosis}: label {item.answer}, read {category}{mark}")
        for i in range(3):
            print(f"    {LEVELS[i]:7s}" + " ".join(f"{d:5.1f}/{r:5.1f}"
                                                  for d, r in zip(drawn[i], read[i], strict=True)))
    if not drawn_all:
        print("no cine_wall_thickness items")
        return
    diff = np.array(read_all) - np.array(drawn_all)
    err = np.abs(diff[np.isfinite(diff)])
    print(f"\nwalls: {' / '.join(WALLS6)}")
    for i in range(3):
        bias = np.nanmean(diff[:, i], axis=0)
        print(f"mean read - drawn, {LEVELS[i]}: " + " ".join(f"{b:+.2f}" for b in bias))
    print(f"per site: mean abs. error {err.mean():.2f} mm, over 2 mm {np.mean(err > 2):.3f}, "
          f"max {err.max():.1f} mm ({err.size} sites)")
    print(f"wall-thickness category: {right} of {len(drawn_all)} "
          f"({right / len(drawn_all):.3f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--studies", type=int, default=40)
    parser.add_argument("--out", type=Path, required=True,
                        help="the cohort's directory (generated there if absent)")
    args = parser.parse_args()
    try:
        cohort_at(args.out, args.studies, args.seed)
    except CardiolensError as exc:
        parser.error(f"--out: {exc} (the drawn walls come from it)")
    walls(args.out, args.seed, args.studies)


if __name__ == "__main__":
    main()
