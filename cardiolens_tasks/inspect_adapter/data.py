"""Dataset to Inspect samples: one light Sample per item (ids and labels, no pixels)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from inspect_ai.dataset import MemoryDataset, Sample

from cardiolens.data.dataset import Dataset, Item, read_dataset
from cardiolens.data.taxonomy import Level, Taxonomy, load_taxonomy
from cardiolens.errors import CardiolensError
from cardiolens.phantom.cohort import default_cohort

logger = logging.getLogger("cardiolens")


@dataclass(frozen=True)
class Benchmark:
    """A loaded dataset, the items a task asks and whether the data is the phantom."""

    dataset: Dataset
    items: list[Item]
    is_phantom: bool

    def by_id(self) -> dict[str, Item]:
        return {item.item_id: item for item in self.items}


def _split(value: str | Sequence[str] | None) -> set[str] | None:
    if value is None or value == "":
        return None
    parts = value.split(",") if isinstance(value, str) else list(value)
    return {p.strip() for p in parts if p.strip()}


def load_benchmark(data: str | None, level: Level, subtasks: str | Sequence[str] | None = None,
                   sequences: str | Sequence[str] | None = None,
                   limit_studies: int | None = None,
                   taxonomy: Taxonomy | None = None) -> Benchmark:
    """Items of ``level`` from ``data`` (default: the phantom cohort), filtered.

    Broken study or item lines are reported as one line each and skipped.
    """
    if limit_studies is not None and (isinstance(limit_studies, bool)
                                      or not isinstance(limit_studies, int) or limit_studies < 1):
        # (a negative count used to drop the last studies silently)
        raise CardiolensError(f"limit_studies must be a positive integer, not {limit_studies!r}")
    taxonomy = taxonomy or load_taxonomy()
    root = Path(data).expanduser() if data else default_cohort()
    dataset = read_dataset(root, on_problem=lambda line: logger.warning("skipped %s", line))
    wanted = _split(subtasks)
    known = {s.id for s in taxonomy.by_level(level)}
    if wanted is not None and wanted - known:
        raise CardiolensError(f"unknown {level} subtask(s): {', '.join(sorted(wanted - known))}; "
                              f"choose from {', '.join(sorted(known))}")
    seqs = _split(sequences)
    all_sequences = {*taxonomy.sequences, "cross"}
    if seqs is not None and seqs - all_sequences:
        raise CardiolensError(f"unknown sequence(s): {', '.join(sorted(seqs - all_sequences))}; "
                              f"choose from {', '.join(sorted(all_sequences))}")
    items = []
    for item in dataset.items:
        if item.subtask not in known or (wanted is not None and item.subtask not in wanted):
            continue
        if seqs is not None and sequence_group(item, taxonomy) not in seqs:
            continue
        items.append(item)
    if limit_studies is not None:
        keep = sorted({item.study_id for item in items})[:limit_studies]
        items = [item for item in items if item.study_id in set(keep)]
    if not items:
        raise CardiolensError(f"{root}: no {level} items match the filters")
    return Benchmark(dataset, items, dataset.card.source == "phantom")


def sequence_group(item: Item, taxonomy: Taxonomy) -> str:
    """The sequence an item is grouped under: its only sequence, or ``cross``."""
    sequences = taxonomy.get(item.subtask).sequences
    return sequences[0] if len(sequences) == 1 else "cross"


def to_sample(item: Item, taxonomy: Taxonomy) -> Sample:
    """A Sample holding only ids, the target and grouping metadata (no paths, no pixels)."""
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
                  "sequence": sequence_group(item, taxonomy),
                  "answer_type": subtask.answer_type},
    )


def to_dataset(benchmark: Benchmark, taxonomy: Taxonomy, name: str) -> MemoryDataset:
    return MemoryDataset([to_sample(item, taxonomy) for item in benchmark.items], name=name)
