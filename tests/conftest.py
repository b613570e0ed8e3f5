"""Shared fixtures: one 40-study phantom cohort per test session (about 10 s to generate)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cardiolens.phantom.cohort import generate_cohort

COHORT_SEED, COHORT_STUDIES = 7, 40


@pytest.fixture(scope="session")
def cohort40(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README's cohort: ``cardiolens demo --studies 40 --seed 7``."""
    root = tmp_path_factory.mktemp("cohort40") / "demo"
    return generate_cohort(root, studies=COHORT_STUDIES, seed=COHORT_SEED, progress=False)
