"""Statistics for results tables: study-level bootstrap CIs and paired tests.

Items of one study are correlated (the same images answer many questions), so confidence
intervals resample studies, not items: each bootstrap replicate draws studies with
replacement and recomputes the metric over all items of the drawn studies. Paired
comparisons use the items two runs share: McNemar's exact test for correct/incorrect, a
paired study-level bootstrap for continuous scores (F1, report metrics). Many tests are
adjusted for multiplicity (:func:`adjust_pvalues`); :func:`wilcoxon_signed_rank` compares
study-level scores; :func:`cohen_kappa` measures agreement beyond chance.
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


# ------------------------------------------------------------- multiplicity, agreement

ADJUST_METHODS = ("holm", "bh")


def adjust_pvalues(p_values: Sequence[float], method: str = "holm") -> list[float]:
    """Multiplicity-adjusted p-values, in input order; NaNs pass through untouched.

    ``holm``: Holm's step-down (family-wise error). ``bh``: Benjamini-Hochberg step-up
    (false discovery rate). Both as in ``statsmodels.stats.multitest.multipletests``.
    """
    if method not in ADJUST_METHODS:
        raise ValueError(f"adjust must be one of {', '.join(ADJUST_METHODS)}, not {method!r}")
    index = [i for i, p in enumerate(p_values) if not math.isnan(p)]
    out = [float("nan")] * len(p_values)
    m = len(index)
    if m == 0:
        return out
    order = sorted(index, key=lambda i: p_values[i])
    if method == "holm":
        running = 0.0
        for rank, i in enumerate(order):
            running = max(running, min(1.0, (m - rank) * p_values[i]))
            out[i] = running
    else:
        running = 1.0
        for rank in range(m - 1, -1, -1):
            i = order[rank]
            running = min(running, m * p_values[i] / (rank + 1))
            out[i] = min(1.0, running)
    return out


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float:
    """Cohen's kappa of two raters' labels on the same items (unweighted).

    ``(p_o - p_e) / (1 - p_e)`` with ``p_o`` the observed agreement and ``p_e`` the
    agreement expected from each rater's label frequencies; NaN with no items, 1.0 when
    both raters give one and the same label throughout (``p_e = 1`` and full agreement).
    """
    if len(a) != len(b):
        raise ValueError("both raters must label the same items")
    n = len(a)
    if n == 0:
        return float("nan")
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    labels = set(a) | set(b)
    expected = sum((list(a).count(k) / n) * (list(b).count(k) / n) for k in labels)
    if expected >= 1.0:
        return 1.0 if observed >= 1.0 else float("nan")
    return (observed - expected) / (1 - expected)


@dataclass(frozen=True)
class WilcoxonResult:
    statistic: float
    p_value: float
    n: int
    method: str


def _exact_signed_rank_p(n: int, statistic: float) -> float:
    """Two-sided exact p of the signed-rank statistic (no ties): distribution of R+."""
    counts = [1] + [0] * (n * (n + 1) // 2)
    for k in range(1, n + 1):
        for total in range(len(counts) - 1, k - 1, -1):
            counts[total] += counts[total - k]
    total = 2 ** n
    low = sum(counts[: math.floor(statistic) + 1]) / total
    return min(1.0, 2 * low)


def wilcoxon_signed_rank(x: Sequence[float], y: Sequence[float]) -> WilcoxonResult:
    """Two-sided Wilcoxon signed-rank test of paired ``x`` and ``y``.

    Zero differences are dropped (Wilcoxon's method); the statistic is the smaller of the
    positive and negative rank sums. Exact p for n <= 50 without tied ranks, otherwise the
    normal approximation with the tie correction and no continuity correction. These are
    ``scipy.stats.wilcoxon``'s defaults.
    """
    diffs = [a - b for a, b in zip(x, y, strict=True) if a != b]
    n = len(diffs)
    if n == 0:
        return WilcoxonResult(float("nan"), float("nan"), 0, "none")
    absolute = np.abs(np.asarray(diffs, dtype=np.float64))
    order = np.argsort(absolute, kind="mergesort")
    ranks = np.empty(n, dtype=np.float64)
    sorted_abs = absolute[order]
    i = 0
    ties = []
    while i < n:
        j = i
        while j + 1 < n and sorted_abs[j + 1] == sorted_abs[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        ties.append(j - i + 1)
        i = j + 1
    positive = float(ranks[np.asarray(diffs) > 0].sum())
    negative = float(ranks[np.asarray(diffs) < 0].sum())
    statistic = min(positive, negative)
    if n <= 50 and all(t == 1 for t in ties):
        return WilcoxonResult(statistic, _exact_signed_rank_p(n, statistic), n, "exact")
    mean = n * (n + 1) / 4
    variance = n * (n + 1) * (2 * n + 1) / 24 - sum(t ** 3 - t for t in ties) / 48
    if variance <= 0:
        return WilcoxonResult(statistic, float("nan"), n, "asymptotic")
    z = (statistic - mean) / math.sqrt(variance)
    return WilcoxonResult(statistic, min(1.0, math.erfc(abs(z) / math.sqrt(2))), n,
                          "asymptotic")
