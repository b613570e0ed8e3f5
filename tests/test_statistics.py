"""Statistics against independent implementations: statsmodels, scipy, scikit-learn."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cardiolens.scorers.statistics import adjust_pvalues, cohen_kappa, wilcoxon_signed_rank

P_VALUES = [0.01, 0.04, 0.03, 0.005, 0.20, 0.049, float("nan"), 0.8]


def test_holm_on_a_textbook_example() -> None:
    # Holm (1979) by hand: sorted 0.01, 0.02, 0.03, 0.04 times 4, 3, 2, 1, running max
    assert adjust_pvalues([0.04, 0.01, 0.03, 0.02], "holm") == pytest.approx(
        [0.06, 0.04, 0.06, 0.06])
    # BH by hand: 0.01*4/1, 0.02*4/2, 0.03*4/3, 0.04*4/4 -> running min from the top
    assert adjust_pvalues([0.04, 0.01, 0.03, 0.02], "bh") == pytest.approx(
        [0.04, 0.04, 0.04, 0.04])


@pytest.mark.parametrize(("method", "theirs"), [("holm", "holm"), ("bh", "fdr_bh")])
def test_adjusted_p_values_equal_statsmodels(method: str, theirs: str) -> None:
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    ours = adjust_pvalues(P_VALUES, method)
    finite = [p for p in P_VALUES if not math.isnan(p)]
    expected = iter(multitest.multipletests(finite, method=theirs)[1])
    for value, p in zip(ours, P_VALUES, strict=True):
        if math.isnan(p):
            assert math.isnan(value)
        else:
            assert value == pytest.approx(next(expected), abs=1e-12)


def test_unknown_adjustment_is_refused() -> None:
    with pytest.raises(ValueError, match="adjust must be one of holm, bh"):
        adjust_pvalues([0.1], "bonferroni")


@pytest.mark.parametrize("case", ["exact", "ties", "zeros", "large"])
def test_wilcoxon_equals_scipy(case: str) -> None:
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(3)
    if case == "exact":
        x, y = rng.normal(0.3, 1, 20), rng.normal(0, 1, 20)
    elif case == "ties":
        x, y = rng.integers(0, 5, 30) / 4, rng.integers(0, 5, 30) / 4
    elif case == "zeros":
        x = rng.integers(0, 3, 40).astype(float)
        y = x.copy()
        y[:25] += rng.integers(-2, 3, 25)
    else:
        x, y = rng.normal(0.1, 1, 80), rng.normal(0, 1, 80)
    ours = wilcoxon_signed_rank(list(x), list(y))
    method = "exact" if ours.method == "exact" else "asymptotic"
    theirs = stats.wilcoxon(x, y, zero_method="wilcox", correction=False, method=method)
    assert ours.statistic == pytest.approx(theirs.statistic)
    assert ours.p_value == pytest.approx(theirs.pvalue, rel=1e-9)
    assert ours.method == ("exact" if case == "exact" else "asymptotic")


def test_kappa_equals_sklearn() -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(5)
    a = list(rng.choice(["Yes", "No", "Maybe"], 60, p=[0.5, 0.3, 0.2]))
    b = [x if rng.random() < 0.7 else str(rng.choice(["Yes", "No", "Maybe"])) for x in a]
    assert cohen_kappa(a, b) == pytest.approx(metrics.cohen_kappa_score(a, b), abs=1e-12)


def test_kappa_on_a_hand_table() -> None:
    # 2x2 table [[20, 5], [10, 15]]: p_o = 0.7, p_e = 0.5*0.6 + 0.5*0.4 = 0.5, kappa 0.4
    a = ["y"] * 25 + ["n"] * 25
    b = ["y"] * 20 + ["n"] * 5 + ["y"] * 10 + ["n"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    assert cohen_kappa(["y", "y"], ["y", "y"]) == 1.0
