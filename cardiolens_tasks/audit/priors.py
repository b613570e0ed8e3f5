"""Priors: what a model scores per subtask without looking at a single image."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from cardiolens.data.dataset import Item
from cardiolens.data.taxonomy import Taxonomy, load_taxonomy


def _key(answer: str | list[str]) -> str:
    return answer if isinstance(answer, str) else "|".join(answer)


def prior_baselines(items: Iterable[Item], taxonomy: Taxonomy | None = None
                    ) -> dict[str, dict[str, Any]]:
    """Per choice subtask: item count, the majority answer and its exact-match rate, and
    the rate of always answering the first listed option (option A, taxonomy order).

    For multi-label subtasks an answer counts as right only if it is the whole set.
    """
    taxonomy = taxonomy or load_taxonomy()
    answers: dict[str, list[str]] = {}
    for item in items:
        if item.answer is not None and item.subtask in taxonomy.subtasks:
            answers.setdefault(item.subtask, []).append(_key(item.answer))
    out: dict[str, dict[str, Any]] = {}
    for sid, subtask in taxonomy.subtasks.items():
        values = answers.get(sid)
        if not values or subtask.answer_type == "report":
            continue
        top, count = Counter(values).most_common(1)[0]
        first = subtask.options[0]
        out[sid] = {"items": len(values), "majority_answer": top,
                    "majority": count / len(values),
                    "option_a": sum(v == first for v in values) / len(values),
                    "options_seen": len(set(values))}
    return out
