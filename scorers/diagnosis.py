"""Diagnosis metrics: accuracy, macro-F1, balanced accuracy, confusion and collapse figures.

Category collapse (the paper's finding that models predict one class for everything) is
measured by the share of parsed predictions in the most-predicted class and by the entropy
of the predicted class distribution next to that of the true one.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class DiagnosisMetrics:
    """Corpus diagnosis metrics; entropies are in bits."""

    accuracy: float
    macro_f1: float
    balanced_accuracy: float
    per_class_recall: dict[str, float]
    confusion: list[list[int]]
    """Rows: true class in ``classes`` order; columns: predicted class, then ``unparsed``."""
    top_class_share: float
    predicted_entropy: float
    true_entropy: float
    unparsed_rate: float

    def to_dict(self) -> dict[str, Any]:
        """The metrics as a plain (JSON-ready) dict; nested values are copies."""
        return asdict(self)


def entropy_bits(counts: Sequence[int]) -> float:
    """Shannon entropy (bits) of a count distribution."""
    total = sum(counts)
    if total == 0:
        return 0.0
    return -math.fsum((c / total) * math.log2(c / total) for c in counts if c) + 0.0


def diagnosis_metrics(predicted: Sequence[str | None], target: Sequence[str],
                      classes: Sequence[str]) -> DiagnosisMetrics:
    """Metrics of predicted class names against target class names.

    A prediction of ``None`` (or a name not in ``classes``) is unparsed: wrong for its item,
    counted in the confusion matrix's last column and left out of the collapse figures.
    Macro-F1 averages over classes seen in targets or predictions; balanced accuracy and
    ``per_class_recall`` cover the classes seen in targets. With no items, the rates are NaN.
    """
    if len(predicted) != len(target):
        raise ValueError("predicted and target differ in length")
    index = {name: i for i, name in enumerate(classes)}
    if len(index) != len(classes):
        raise ValueError("classes contain duplicates")
    unknown = sorted(set(target) - index.keys())
    if unknown:
        raise ValueError(f"targets not among the classes: {unknown}")
    confusion = [[0] * (len(classes) + 1) for _ in classes]
    for pred, true in zip(predicted, target, strict=True):
        column = index.get(pred, len(classes)) if pred is not None else len(classes)
        confusion[index[true]][column] += 1
    n = len(target)
    correct = sum(confusion[i][i] for i in range(len(classes)))
    recall: dict[str, float] = {}
    f1s: list[float] = []
    for i, name in enumerate(classes):
        true_count = sum(confusion[i])
        pred_count = sum(row[i] for row in confusion)
        if true_count == 0 and pred_count == 0:
            continue
        tp = confusion[i][i]
        if true_count:
            recall[name] = tp / true_count
        f1s.append(2 * tp / (true_count + pred_count))
    parsed = [p for p in predicted if p is not None and p in index]
    pred_counts = Counter(parsed)
    return DiagnosisMetrics(
        accuracy=correct / n if n else float("nan"),
        macro_f1=sum(f1s) / len(f1s) if f1s else float("nan"),
        balanced_accuracy=sum(recall.values()) / len(recall) if recall else float("nan"),
        per_class_recall=recall,
        confusion=confusion,
        top_class_share=max(pred_counts.values()) / len(parsed) if parsed else 0.0,
        predicted_entropy=entropy_bits(list(pred_counts.values())),
        true_entropy=entropy_bits(list(Counter(target).values())),
        unparsed_rate=(n - len(parsed)) / n if n else 0.0,
    )
