"""Priors: what a model scores per subtask without looking at a single image."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from cardiolens.data.dataset import Item
from cardiolens.data.taxonomy import Taxonomy, load_taxonomy
from cardiolens.prompting.prompts import displayed_options


def _key(answer: str | list[str]) -> str:
    return answer if isinstance(answer, str) else "|".join(answer)


def prior_baselines(items: Iterable[Item], taxonomy: Taxonomy | None = None, seed: int = 0
                    ) -> dict[str, dict[str, Any]]:
    """Per choice subtask: item count, the majority answer and its exact-match rate, and
    the rate of always answering the first displayed option (option A): ``option_a`` with
    the options in taxonomy order (``shuffle_options=false``), ``option_a_shuffled`` with
    the prompts' default seeded per-item shuffle under ``seed``; ``never_right``: the
    options shown with some item (its own ``options``, else the subtask's) that are in no
    item's answer (a model that never chooses them loses nothing on this dataset, so its
    score cannot show whether it would recognise them).

    For multi-label subtasks an answer counts as right only if it is the whole set.
    """
    taxonomy = taxonomy or load_taxonomy()
    items = list(items)           # read twice: here and by never_right
    answers: dict[str, list[str]] = {}
    first: dict[str, list[tuple[str, str]]] = {}
    for item in items:
        subtask = taxonomy.subtasks.get(item.subtask)
        if item.answer is None or subtask is None:
            continue
        answers.setdefault(item.subtask, []).append(_key(item.answer))
        if subtask.answer_type != "report":
            fixed = displayed_options(item, subtask, shuffle=False, seed=seed)
            shuffled = displayed_options(item, subtask, shuffle=True, seed=seed)
            first.setdefault(item.subtask, []).append((fixed[0] if fixed else "",
                                                       shuffled[0] if shuffled else ""))
    unused = never_right(items, taxonomy)
    out: dict[str, dict[str, Any]] = {}
    for sid, subtask in taxonomy.subtasks.items():
        values = answers.get(sid)
        if not values or subtask.answer_type == "report":
            continue
        top, count = Counter(values).most_common(1)[0]
        firsts = first[sid]
        out[sid] = {"items": len(values), "majority_answer": top,
                    "majority": count / len(values),
                    "option_a": sum(v == a for v, (a, _) in zip(values, firsts, strict=True))
                    / len(values),
                    "option_a_shuffled": sum(v == a for v, (_, a) in
                                             zip(values, firsts, strict=True)) / len(values),
                    "options_seen": len(set(values)),
                    "never_right": unused.get(sid, [])}
    return out


def never_right(items: Iterable[Item], taxonomy: Taxonomy | None = None
                ) -> dict[str, list[str]]:
    """Per choice subtask with items: the options shown with some item (its own
    ``options``, else the subtask's) that are in no item's answer, in display order;
    subtasks whose every option is some item's answer are left out."""
    taxonomy = taxonomy or load_taxonomy()
    used: dict[str, set[str]] = {}
    shown: dict[str, list[str]] = {}
    for item in items:
        subtask = taxonomy.subtasks.get(item.subtask)
        if item.answer is None or subtask is None or subtask.answer_type == "report":
            continue
        used.setdefault(item.subtask, set()).update(
            [item.answer] if isinstance(item.answer, str) else item.answer)
        listed = shown.setdefault(item.subtask, [])
        listed += [o for o in (item.options or subtask.options) if o not in listed]
    unused = {sid: [o for o in options if o not in used[sid]] for sid, options in shown.items()}
    return {sid: options for sid, options in unused.items() if options}


WORDING_RULES = ("shortest", "longest", "question_words")
"""Answer-by-wording rules: the shortest option, the longest, and the option sharing most
words with the question (ties go to the earlier option in taxonomy order)."""


def _words(text: str) -> set[str]:
    return {w.strip(".,;:?()'\"").lower() for w in text.split()} - {""}


def wording_baselines(items: Iterable[Item], taxonomy: Taxonomy | None = None
                      ) -> dict[str, dict[str, float]]:
    """Per single-answer subtask: the exact-match rate of each of :data:`WORDING_RULES`,
    answers a text-only model could take from the options' wording alone."""
    taxonomy = taxonomy or load_taxonomy()
    hits: dict[str, list[tuple[bool, bool, bool]]] = {}
    for item in items:
        subtask = taxonomy.subtasks.get(item.subtask)
        if subtask is None or subtask.answer_type != "single" or not isinstance(item.answer,
                                                                                  str):
            continue
        options = list(item.options or subtask.options)
        if not options:
            continue
        asked = _words(subtask.question)
        shortest, longest = min(options, key=len), max(options, key=len)
        closest = max(options, key=lambda o: len(_words(o) & asked))
        hits.setdefault(item.subtask, []).append(
            (item.answer == shortest, item.answer == longest, item.answer == closest))
    return {sid: {rule: sum(row[k] for row in rows) / len(rows)
                  for k, rule in enumerate(WORDING_RULES)}
            for sid, rows in hits.items()}
