"""Baselines and chance-corrected scores: what priors alone would score, and skill beyond it.

Per subtask, from the items evaluated (their true answers), never from a model:

- **majority baseline** ``m``: the score of always giving the subtask's most frequent answer
  (the most frequent option, or answer set for multi-label subtasks; for report sections the
  mean clinical F1 of the most frequent reference text against every reference);
- **uniform baseline**: the expected accuracy of a uniform random guess (``1/k`` options;
  ``1/(2^k - 1)`` non-empty answer sets for multi-label; none for reports);
- **chance-corrected score** ``(s - m) / (1 - m)`` with ``s`` the score (accuracy, or
  clinical F1 for reports): 0 is the prior-only majority answerer, 1 is perfect, below 0 is
  worse than priors. Undefined (NaN) when ``m = 1``. The same formula applies to every
  level, so levels can be compared on one scale;
- **Cohen's kappa** of predicted against true answers (single-choice; unparsed answers are
  a category of their own) and **balanced accuracy** (mean recall over the true classes).

Aggregates over a level or group are subtask-macro averages (each subtask weighs the same).
At the item level the chance-corrected score is ``(x - m_s) / (1 - m_s)``; its mean over a
subtask's items equals the subtask's chance-corrected score, and its mean over a study's
items is the study-level score used for the Wilcoxon tests between levels.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from cardiolens.analysis.results import Row
from cardiolens.scorers.clinical_score import clinical_scores
from cardiolens.scorers.statistics import cohen_kappa

UNPARSED = "(unparsed)"
MIN_CLASS_STUDIES = 10
"""CIs of a group are marked unreliable when a true class has fewer studies than this."""


def score(row: Row) -> float:
    """The item's score: exact match (choice items) or clinical F1 (report sections)."""
    if row.answer_type == "report":
        return float(row.record.get("clinical_f1", float("nan")))
    return float(row.record["exact"])


def truth_key(row: Row) -> str:
    target = row.record.get("target") or []
    return json.dumps(sorted(target)) if row.answer_type == "multi" else str(target[0])


def predicted_key(row: Row) -> str:
    predicted = row.record.get("predicted") or []
    if not row.record.get("parsed", True) or not predicted:
        return UNPARSED
    return json.dumps(sorted(predicted)) if row.answer_type == "multi" else str(predicted[0])


@lru_cache(maxsize=65536)
def _clinical_f1(generated: str, reference: str) -> float:
    """Clinical F1 of two texts, memoised (the bootstrap asks for the same pairs again)."""
    return clinical_scores(generated, reference).f1


def _by_subtask(rows: Sequence[Row]) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = {}
    for row in rows:
        out.setdefault(row.subtask, []).append(row)
    return out


def majority_baseline(rows: Sequence[Row]) -> float:
    """The majority baseline of one subtask's rows (see module doc)."""
    if not rows:
        return float("nan")
    if rows[0].answer_type == "report":
        references = [r.meta.get("reference") for r in rows]
        if any(not isinstance(ref, str) for ref in references):
            return float("nan")
        common = Counter(references).most_common(1)[0][0]
        return sum(_clinical_f1(str(common), str(ref)) for ref in references) / len(rows)
    counts = Counter(truth_key(r) for r in rows)
    return counts.most_common(1)[0][1] / len(rows)


def uniform_baseline(rows: Sequence[Row]) -> float:
    if not rows or rows[0].answer_type == "report":
        return float("nan")
    chances = []
    for r in rows:
        k = len(r.record.get("options") or [])
        chances.append(1 / (2 ** k - 1) if r.answer_type == "multi" else 1 / k)
    return sum(chances) / len(chances)


def corrected(value: float, majority: float) -> float:
    """``(value - majority) / (1 - majority)``; NaN when the majority is perfect."""
    if math.isnan(value) or math.isnan(majority) or majority >= 1.0:
        return float("nan")
    return (value - majority) / (1 - majority)


def balanced_accuracy(rows: Sequence[Row]) -> float:
    """Mean recall over the true classes of single-choice rows (NaN for other types)."""
    if not rows or rows[0].answer_type != "single":
        return float("nan")
    recalls = []
    for cls in sorted({truth_key(r) for r in rows}):
        members = [r for r in rows if truth_key(r) == cls]
        recalls.append(sum(predicted_key(r) == cls for r in members) / len(members))
    return sum(recalls) / len(recalls)


def kappa(rows: Sequence[Row]) -> float:
    if not rows or rows[0].answer_type != "single":
        return float("nan")
    return cohen_kappa([truth_key(r) for r in rows], [predicted_key(r) for r in rows])


def min_class_studies(rows: Sequence[Row]) -> int | None:
    """Fewest studies of any true class among single-choice rows (None: no such rows)."""
    studies: dict[tuple[str, str], set[str]] = {}
    for r in rows:
        if r.answer_type == "single":
            studies.setdefault((r.subtask, truth_key(r)), set()).add(r.study_id)
    return min((len(s) for s in studies.values()), default=None)


@dataclass(frozen=True)
class SubtaskSummary:
    subtask: str
    answer_type: str
    n_items: int
    n_studies: int
    score: float
    balanced_accuracy: float
    kappa: float
    majority: float
    uniform: float
    chance_corrected: float
    min_class_studies: int | None


def summarise(rows: Sequence[Row]) -> list[SubtaskSummary]:
    """One :class:`SubtaskSummary` per subtask of ``rows`` (subtask order of first seen)."""
    out = []
    for subtask, members in _by_subtask(rows).items():
        values = [score(r) for r in members if not math.isnan(score(r))]
        value = sum(values) / len(values) if values else float("nan")
        majority = majority_baseline(members)
        out.append(SubtaskSummary(
            subtask, members[0].answer_type, len(members), len({r.study_id for r in members}),
            value, balanced_accuracy(members), kappa(members), majority,
            uniform_baseline(members), corrected(value, majority), min_class_studies(members)))
    return out


def _macro(values: Sequence[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return sum(finite) / len(finite) if finite else float("nan")


def macro(rows: Sequence[Row], field: str) -> float:
    """Subtask-macro average of a :class:`SubtaskSummary` field over ``rows``."""
    return _macro([float(getattr(s, field)) for s in summarise(rows)])


def macro_chance_corrected(rows: Sequence[Row]) -> float:
    """Subtask-macro chance-corrected score (baselines from the rows themselves)."""
    out = []
    for members in _by_subtask(rows).values():
        values = [score(r) for r in members if not math.isnan(score(r))]
        if values:
            out.append(corrected(sum(values) / len(values), majority_baseline(members)))
    return _macro(out)


def macro_balanced_accuracy(rows: Sequence[Row]) -> float:
    return _macro([balanced_accuracy(m) for m in _by_subtask(rows).values()])


def study_scores(rows: Sequence[Row]) -> dict[str, float]:
    """Mean item-level chance-corrected score per study (module doc)."""
    majority = {s: majority_baseline(m) for s, m in _by_subtask(rows).items()}
    per_study: dict[str, list[float]] = {}
    for r in rows:
        value = corrected(score(r), majority[r.subtask])
        if not math.isnan(value):
            per_study.setdefault(r.study_id, []).append(value)
    return {study: sum(v) / len(v) for study, v in per_study.items()}
