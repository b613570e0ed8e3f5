"""The items a task asks: one selector and one grouping rule for every framework.

Both adapters (Inspect tasks, lm-eval documents) and the analysis use these, so the same
filters keep the same items, group them the same way and refuse the same mistakes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import replace

from cardiolens.data.dataset import Item
from cardiolens.data.taxonomy import Level, Subtask, Taxonomy, load_taxonomy
from cardiolens.errors import CardiolensError, TaxonomyError

CROSS = "cross"
"""The group of subtasks that read more than one sequence."""

SUBTASK_FILTER: dict[Level, str] = {"image_understanding": "subtask",
                                    "report_generation": "section",
                                    "diagnosis": "task"}
"""The name of each level's subtask filter (``-T section=report_lge``)."""

SEQUENCE_FILTER = "sequence"
"""The sequence-group filter; only image understanding has one."""


def sequence_group(subtask: Subtask) -> str:
    """The group a subtask's items are reported under: its only sequence, else ``cross``."""
    return subtask.sequences[0] if len(subtask.sequences) == 1 else CROSS


def sequence_groups(taxonomy: Taxonomy) -> tuple[str, ...]:
    """Every group name, sorted: the sequences and ``cross``."""
    return tuple(sorted({*taxonomy.sequences, CROSS}))


def subtask_ids(taxonomy: Taxonomy, level: Level) -> tuple[str, ...]:
    """The subtask ids of ``level``, sorted."""
    return tuple(sorted(s.id for s in taxonomy.by_level(level)))


def select_items(items: Sequence[Item], level: Level, taxonomy: Taxonomy,
                 subtasks: Collection[str] | None = None,
                 sequences: Collection[str] | None = None,
                 limit_studies: int | None = None,
                 etiology: str | None = None) -> list[Item]:
    """The items of ``level`` that pass the filters, in dataset order, as asked under the
    option variants (:func:`asked_items`; ``etiology``: ``binary`` by default).

    Args:
        items: The dataset's items.
        level: The task level.
        taxonomy: The taxonomy that names the subtasks.
        subtasks: Subtask ids to keep (``None``: all of the level).
        sequences: Sequence groups to keep (see :func:`sequence_group`; ``None``: all).
        limit_studies: Keep the items of the first N studies (by id) that remain.

    Raises:
        CardiolensError: a subtask or sequence is unknown (naming the filter, the values
            and what is allowed).
    """
    problems = filter_problems(level, taxonomy, subtasks, sequences)
    if problems:
        raise CardiolensError("; ".join(problems))
    known = set(subtask_ids(taxonomy, level))
    try:
        items = asked_items(items, {"diagnosis_etiology": etiology}, taxonomy)
    except TaxonomyError as exc:
        raise CardiolensError(f"etiology: {exc}") from None
    out = [item for item in items
           if item.subtask in known
           and (subtasks is None or item.subtask in subtasks)
           and (sequences is None or sequence_group(taxonomy.get(item.subtask)) in sequences)]
    if limit_studies is not None:
        keep = set(sorted({item.study_id for item in out})[:limit_studies])
        out = [item for item in out if item.study_id in keep]
    return out


def filter_problems(level: Level, taxonomy: Taxonomy, subtasks: Collection[str] | None,
                    sequences: Collection[str] | None) -> list[str]:
    """One sentence per refused filter value (empty if all are known)."""
    problems = []
    known = subtask_ids(taxonomy, level)
    unknown = sorted(set(subtasks or ()) - set(known))
    if unknown:
        problems.append(f"{SUBTASK_FILTER[level]}: unknown {level} subtask(s): "
                        f"{', '.join(unknown)}; choose from {', '.join(known)}")
    groups = sequence_groups(taxonomy)
    unknown = sorted(set(sequences or ()) - set(groups))
    if unknown:
        problems.append(f"{SEQUENCE_FILTER}: unknown sequence(s): {', '.join(unknown)}; "
                        f"choose from {', '.join(groups)}")
    return problems


def asked_items(items: Iterable[Item], variants: Mapping[str, str | None] | None = None,
                taxonomy: Taxonomy | None = None) -> list[Item]:
    """The items as asked under each subtask's option variant (default or ``variants[id]``).

    The dataset stores the full answer space (e.g. etiology with Normal). A variant keeps
    the items whose answer is among its options and shows only those options; the paper's
    default asks etiology as ischemic against non-ischemic on diseased studies.
    """
    taxonomy = taxonomy or load_taxonomy()
    out: list[Item] = []
    for item in items:
        subtask = taxonomy.get(item.subtask)
        if not subtask.variants:
            out.append(item)
            continue
        options = list(subtask.variant_options((variants or {}).get(subtask.id)))
        answers = [item.answer] if isinstance(item.answer, str) else list(item.answer or [])
        if options == list(subtask.options) and item.options is None:
            out.append(item)
        elif answers and set(answers) <= set(options):
            out.append(replace(item, options=options))
    return out
