"""Statistics for results tables: study-level bootstrap CIs and paired tests.

Items of one study are correlated (the same images answer many questions), so confidence
intervals resample studies, not items: each bootstrap replicate draws studies with
replacement and recomputes the metric over all items of the drawn studies. Paired
comparisons use the items two runs share: McNemar's exact test for correct/incorrect, a
paired study-level bootstrap for continuous scores (F1, report metrics).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")
DEFAULT_REPLICATES = 1000


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float
    high: float
    n_items: int
    n_studies: int


def _by_study(records: Sequence[T], study_of: Callable[[T], Hashable]) -> list[list[T]]:
    groups: dict[Hashable, list[T]] = {}
    for record in records:
        groups.setdefault(study_of(record), []).append(record)
    return [groups[key] for key in sorted(groups, key=str)]


def bootstrap_ci(records: Sequence[T], metric: Callable[[Sequence[T]], float],
                 study_of: Callable[[T], Hashable], replicates: int = DEFAULT_REPLICATES,
                 seed: int = 0, level: float = 0.95) -> Estimate:
    """Point estimate of ``metric`` and its percentile CI from a study-level bootstrap."""
    value = metric(records)
    clusters = _by_study(records, study_of)
    if len(clusters) < 2:
        return Estimate(value, float("nan"), float("nan"), len(records), len(clusters))
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(replicates):
        picked = rng.integers(0, len(clusters), len(clusters))
        sample = [r for i in picked for r in clusters[i]]
        result = metric(sample)
        if not math.isnan(result):
            draws.append(result)
    if not draws:
        return Estimate(value, float("nan"), float("nan"), len(records), len(clusters))
    alpha = (1 - level) / 2
    low, high = np.quantile(draws, [alpha, 1 - alpha])
    return Estimate(value, float(low), float(high), len(records), len(clusters))


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value for discordant counts ``b`` and ``c``."""
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    tail = math.fsum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


@dataclass(frozen=True)
class PairedResult:
    n_items: int
    mean_a: float
    mean_b: float
    difference: float
    low: float
    high: float
    p_value: float
    test: str
    discordant: tuple[int, int] | None = None


def paired_binary(pairs: Sequence[tuple[float, float]]) -> PairedResult:
    """McNemar on paired correct (1) / incorrect (0) outcomes of runs A and B."""
    b = sum(1 for x, y in pairs if x >= 0.5 > y)
    c = sum(1 for x, y in pairs if y >= 0.5 > x)
    mean_a = float(np.mean([x for x, _ in pairs])) if pairs else float("nan")
    mean_b = float(np.mean([y for _, y in pairs])) if pairs else float("nan")
    return PairedResult(len(pairs), mean_a, mean_b, mean_a - mean_b, float("nan"),
                        float("nan"), mcnemar_exact(b, c), "mcnemar_exact", (b, c))


def paired_bootstrap(pairs: Sequence[tuple[float, float, Any]], replicates: int =
                     DEFAULT_REPLICATES, seed: int = 0) -> PairedResult:
    """Paired study-level bootstrap of the mean difference A - B; ``(a, b, study)`` rows.

    The p-value is two-sided: twice the share of replicates on the far side of zero.
    """
    diffs = [a - b for a, b, _ in pairs]
    observed = float(np.mean(diffs)) if diffs else float("nan")
    clusters = _by_study(list(pairs), lambda row: row[2])
    rng = np.random.default_rng(seed)
    draws = []
    if len(clusters) >= 2:
        for _ in range(replicates):
            picked = rng.integers(0, len(clusters), len(clusters))
            sample = [r[0] - r[1] for i in picked for r in clusters[i]]
            draws.append(float(np.mean(sample)))
    if draws:
        low, high = (float(v) for v in np.quantile(draws, [0.025, 0.975]))
        below = sum(d <= 0 for d in draws) / len(draws)
        above = sum(d >= 0 for d in draws) / len(draws)
        p_value = min(1.0, 2 * min(below, above))
    else:
        low = high = p_value = float("nan")
    mean_a = float(np.mean([a for a, _, _ in pairs])) if pairs else float("nan")
    mean_b = float(np.mean([b for _, b, _ in pairs])) if pairs else float("nan")
    return PairedResult(len(pairs), mean_a, mean_b, observed, low, high, p_value,
                        "paired_bootstrap")
