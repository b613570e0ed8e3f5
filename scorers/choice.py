"""Set-based scores for single-choice and multi-label items."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class SetScores:
    """Per-item set scores, each in [0, 1]; ``exact`` is 1.0 for an exact set match."""

    precision: float
    recall: float
    f1: float
    exact: float


def set_scores(predicted: Collection[int], target: Collection[int]) -> SetScores:
    """Precision, recall, F1 and exact match of a predicted option set against the target.

    Both empty: everything 1.0. One side empty, the other not: all 0.0.
    """
    pred, true = set(predicted), set(target)
    if not pred and not true:
        return SetScores(1.0, 1.0, 1.0, 1.0)
    hits = len(pred & true)
    precision = hits / len(pred) if pred else 0.0
    recall = hits / len(true) if true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return SetScores(precision, recall, f1, float(pred == true))


def micro_f1(pairs: Iterable[tuple[Collection[int], Collection[int]]]) -> float:
    """Corpus micro-F1 over (predicted, target) pairs: TP, FP, FN summed over items.

    2 TP / (2 TP + FP + FN); 1.0 when every set is empty (nothing to find, nothing wrong).
    """
    tp = fp = fn = 0
    for predicted, target in pairs:
        pred, true = set(predicted), set(target)
        tp += len(pred & true)
        fp += len(pred - true)
        fn += len(true - pred)
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0
