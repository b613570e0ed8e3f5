"""How visible every named lesion site of a phantom cohort is, per drawing rule.

    python scripts/lesion_visibility.py --seed 3 --seed 5 --seed 7 --studies 40

For each study of each seed (parameters only, nothing is written) and each lesion series
(LGE scar, T2 edema, perfusion defect), :func:`cardiolens.phantom.visibility.site_visibility`
gives every named site's visible share as the label-truth tests read it (a noise SD
above the reading level, T2 in 3-pixel clusters); the table groups sites by the rule that
drew them (diagnosis, layer, patchy, arcs) with their count, lowest share and how many
fall under the minimum (docs/phantom.md, "Every named site shows its lesion").
"""

from __future__ import annotations

import argparse
from collections import defaultdict

from cardiolens.phantom.cohort import cohort_params
from cardiolens.phantom.params import Lesion, StudyParams
from cardiolens.phantom.sequences import Renderer
from cardiolens.phantom.visibility import VISIBLE_SHARE, drawn_lesions, site_visibility

SERIES = {"lge_sax": "scar", "t2_sax": "edema", "perf_sax": "defect"}


def _rule(p: StudyParams, lesion: Lesion, kind: str) -> str:
    shape = " patchy" if lesion.patchy else " arcs" if lesion.arcs else ""
    band = f"{lesion.band[0]:.2f}-{lesion.band[1]:.2f}"
    return f"{kind:6s} {p.diagnosis:11s} {lesion.layer:14s} {band}{shape}"


def table(seeds: list[int], studies: int) -> dict[str, list[tuple[str, float]]]:
    """Visible share of every named site, keyed by drawing rule (a site two lesions name
    counts under each)."""
    rows: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for seed in seeds:
        for i in range(studies):
            p = cohort_params(seed, i, studies)
            renderer = Renderer(p)
            for series, kind in SERIES.items():
                lesions = drawn_lesions(p, series)
                if not lesions:
                    continue
                shown = site_visibility(renderer, series)
                for lesion in lesions:
                    for site in lesion.sites:
                        where = f"seed {seed} {p.study_id} {site[0]} {site[1]}".rstrip()
                        rows[_rule(p, lesion, kind)].append((where, shown[site]))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, action="append", required=True,
                        help="cohort seed; repeat for several")
    parser.add_argument("--studies", type=int, default=40,
                        help="studies per seed, as generate_cohort numbers them (default 40)")
    args = parser.parse_args()
    if args.studies < 1:
        parser.error("--studies must be at least 1")
    rows = table(args.seed, args.studies)
    print(f"{'rule':52s} {'sites':>5s} {'lowest':>7s} {'under':>5s}  lowest site")
    for rule, sites in sorted(rows.items()):
        where, low = min(sites, key=lambda s: s[1])
        under = sum(v < VISIBLE_SHARE for _, v in sites)
        print(f"{rule:52s} {len(sites):5d} {low:7.3f} {under:5d}  {where}")


if __name__ == "__main__":
    main()
