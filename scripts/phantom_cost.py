"""CPU cost of drawing phantom studies, per study and per series, in one process.

The first ``inspect eval`` on an empty cache spends most of its time generating the default
cohort (README, "First run: time and disk"); this script measures the drawing part of it
without writing files, so two versions of the generator can be compared back to back on the
same machine. It prints the process CPU seconds of each study and series family, and a
digest of every rendered voxel (a change that claims to keep the images must keep it).

Usage: nice python scripts/phantom_cost.py [--seed 3] [--studies 12] [--indices 0,1,2,5]
       [--profile 25]

CPU seconds, not wall seconds: on a shared machine other jobs stretch the wall clock, and
less so the CPU time of this process. Quote ratios measured in one session.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import pstats
import time
from collections import defaultdict

import numpy as np

from cardiolens.phantom.cohort import cohort_params
from cardiolens.phantom.sequences import Renderer


def _family(series: str) -> str:
    sequence, view = series.split("_", 1)
    return f"{sequence}_{'sax' if view == 'sax' else 'lax'}"


def measure(seed: int, studies: int, indices: list[int]) -> tuple[dict[str, float], str]:
    """CPU seconds per series family (plus 'set-up' and 'total') over ``indices`` of a
    ``studies``-study cohort of ``seed``, and the SHA-256 (16 hex digits) of the voxels."""
    digest = hashlib.sha256()
    seconds: dict[str, float] = defaultdict(float)
    for index in indices:
        start = time.process_time()
        renderer = Renderer(cohort_params(seed, index, studies))
        seconds["set-up"] += time.process_time() - start
        for name, draw in renderer.series_drawers().items():
            start = time.process_time()
            data = draw()
            seconds[_family(name)] += time.process_time() - start
            digest.update(name.encode() + np.ascontiguousarray(data).tobytes())
    seconds["total"] = sum(seconds.values())
    return dict(seconds), digest.hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=3, help="cohort seed (default 3)")
    parser.add_argument("--studies", type=int, default=12,
                        help="cohort size the studies are drawn from (default 12)")
    parser.add_argument("--indices", default="0,1,2,5",
                        help="comma-separated study indices to draw (default 0,1,2,5)")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="also print the N functions with the most own time")
    args = parser.parse_args()
    indices = [int(i) for i in args.indices.split(",") if i.strip()]
    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        profiler.enable()
    seconds, digest = measure(args.seed, args.studies, indices)
    if profiler:
        profiler.disable()
    print(f"{len(indices)} studies of seed {args.seed} (cohort of {args.studies}), CPU seconds:")
    for name, value in sorted(seconds.items(), key=lambda kv: (kv[0] == "total", -kv[1])):
        print(f"  {name:<10} {value:7.2f}  ({value / len(indices):.2f} per study)")
    print(f"voxel digest {digest}")
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(args.profile)


if __name__ == "__main__":
    main()
