"""What every importer shares: the per-case loop that reports and skips bad cases."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from cardiolens.data.dataset import DatasetCard, Item, Study, write_dataset
from cardiolens.data.taxonomy import load_taxonomy
from cardiolens.importers.case_error import CaseError


def orientation_line(record: dict[str, Any] | None) -> str | None:
    """What a user should check about a series' orientation record; None when geometry
    decided it with high confidence."""
    if not record or (record.get("evidence") in ("geometry", "geometry+segmentation")
                      and record.get("confidence") == "high"):
        return None
    notes = "; ".join(record.get("notes", []))
    unresolved = record.get("unresolved")
    tail = f"; UNRESOLVED {', '.join(unresolved)}: check with cardiolens show" if unresolved else ""
    return (f"orientation from {record.get('evidence')} ({record.get('confidence')} "
            f"confidence{': ' + notes if notes else ''}){tail}")


CaseImport = Callable[[], tuple[Study, list[Item]]]


@dataclass(frozen=True)
class ImportSummary:
    imported: int
    skipped: list[str]


def import_cases(cases: Sequence[tuple[str, str, CaseImport]], out: Path, source: str,
                 description: str, license: str, progress: bool,
                 on_problem: Callable[[str], None]) -> ImportSummary:
    """Run each ``(name, where, import_one)``; a CaseError is one line and a skip."""
    studies: list[Study] = []
    items: list[Item] = []
    skipped: list[str] = []
    for name, where, import_one in tqdm(cases, desc=f"{source} cases", unit="case",
                                        disable=not progress):
        try:
            study, case_items = import_one()
        except CaseError as exc:
            on_problem(f"{where}: {exc}")
            skipped.append(name)
            continue
        for key, info in study.series.items():
            line = orientation_line(info.orientation)
            if line:
                on_problem(f"{where}: {key}: {line}")
        studies.append(study)
        items += case_items
    card = DatasetCard(name=source, description=description,
                       taxonomy_version=load_taxonomy().version, license=license, source=source,
                       canary=f"cardiolens-{source}-import",
                       created_by=f"cardiolens import {source}")
    write_dataset(out, card, studies, items)
    return ImportSummary(len(studies), skipped)
