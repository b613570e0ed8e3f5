"""scripts/phantom_cost.py: the cost script draws what the cohort draws, and its voxel
digest tells whether a speed change kept the images."""

from __future__ import annotations

import hashlib

import numpy as np

from cardiolens.phantom.cohort import cohort_params
from cardiolens.phantom.sequences import Renderer

from helpers import load_script


def test_cost_covers_every_series_and_digests_the_cohort_voxels() -> None:
    script = load_script("phantom_cost")
    seconds, digest = script.measure(seed=3, studies=12, indices=[1])
    series = Renderer(cohort_params(3, 1, 12)).series()   # as make_study draws them
    assert {script._family(name) for name in series} | {"set-up", "total"} == set(seconds)
    assert seconds["total"] == sum(v for k, v in seconds.items() if k != "total")
    expected = hashlib.sha256()
    for name, data in series.items():
        expected.update(name.encode() + np.ascontiguousarray(data).tobytes())
    assert digest == expected.hexdigest()[:16]
