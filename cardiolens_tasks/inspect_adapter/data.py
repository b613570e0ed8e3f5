"""Dataset to Inspect samples: one light Sample per item (ids and labels, no pixels)."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from inspect_ai.dataset import MemoryDataset, Sample

from cardiolens.data.dataset import Dataset, Item, Study, read_dataset
from cardiolens.data.items import filter_problems, select_items, sequence_group
from cardiolens.data.taxonomy import Level, Taxonomy, load_taxonomy
from cardiolens.errors import CardiolensError
from cardiolens.phantom.cohort import default_cohort
from cardiolens.prompting.selection import input_metadata

logger = logging.getLogger("cardiolens")


@dataclass(frozen=True)
class Benchmark:
    """A loaded dataset, the items a task asks and whether the data is the phantom."""

    dataset: Dataset
    items: list[Item]
    is_phantom: bool

    def by_id(self) -> dict[str, Item]:
        return {item.item_id: item for item in self.items}


def load_benchmark(data: str | None, level: Level, subtasks: Collection[str] | None = None,
                   sequences: Collection[str] | None = None,
                   limit_studies: int | None = None,
                   taxonomy: Taxonomy | None = None,
                   etiology: str | None = None) -> Benchmark:
    """Items of ``level`` from ``data`` (default: the phantom cohort), filtered.

    The filters are those of :func:`cardiolens.data.items.select_items`. Broken study or
    item lines are reported as one line each and skipped.
    """
    taxonomy = taxonomy or load_taxonomy()
    problems = filter_problems(level, taxonomy, subtasks, sequences)
    if problems:
        raise CardiolensError("; ".join(problems))
    root = Path(data).expanduser() if data else default_cohort()
    dataset = read_dataset(root, on_problem=lambda line: logger.warning("skipped %s", line))
    items = select_items(dataset.items, level, taxonomy, subtasks, sequences, limit_studies,
                         etiology)
    if not items:
        raise CardiolensError(f"{root}: no {level} items match the filters")
    return Benchmark(dataset, items, dataset.card.source == "phantom")


def to_sample(item: Item, taxonomy: Taxonomy, study: Study | None = None,
              source: str = "") -> Sample:
    """A Sample holding only ids, the target and grouping metadata (no paths, no pixels).

    With the ``study``: ``frames_available`` (at a budget of at least this many every
    protocol sends the same images), the study's ``meta`` and its ``source`` (for
    ``cardiolens analyze --by``).
    """
    subtask = taxonomy.get(item.subtask)
    if subtask.answer_type == "report":
        target: str | list[str] = item.reference or ""
    else:
        answer = item.answer
        target = [answer] if isinstance(answer, str) else list(answer or [])
    return Sample(
        id=item.item_id,
        input=item.question or subtask.question,
        target=target,
        metadata={"study_id": item.study_id, "level": item.level, "subtask": item.subtask,
                  "sequence": sequence_group(subtask),
                  "answer_type": subtask.answer_type,
                  **(input_metadata(subtask.series, study, source) if study else {})},
    )


def to_dataset(benchmark: Benchmark, taxonomy: Taxonomy, name: str) -> MemoryDataset:
    studies = benchmark.dataset.studies
    source = benchmark.dataset.card.source
    return MemoryDataset([to_sample(item, taxonomy, studies.get(item.study_id), source)
                          for item in benchmark.items], name=name)
