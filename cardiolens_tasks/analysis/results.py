"""Evaluation results as plain rows: one :class:`Run` per (model, task, settings).

Readers for Inspect logs live in ``inspect_adapter.logs`` and for lm-eval output folders
in :func:`read_lm_eval_folder` here (plain JSON); both produce the same rows, so the
analysis does not care which framework ran.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cardiolens.data.items import sequence_group
from cardiolens.errors import CardiolensError
from cardiolens.prompting.task_options import prompt_options

SETTING_OPTIONS = prompt_options()
SETTING_KEYS = tuple(o.name for o in SETTING_OPTIONS)
"""Every prompt setting: runs that differ in any of them are different runs."""
DEFAULT_SETTINGS: dict[str, Any] = {o.name: o.default for o in SETTING_OPTIONS}
LABELLED = ("selection", "budget", "prompt", "images")
"""Settings every run label shows; the others show when they differ from the default."""


@dataclass(frozen=True)
class Row:
    """One scored item: ids, grouping and the scoring record (choice) or scores (report)."""

    item_id: str
    study_id: str
    level: str
    subtask: str
    sequence: str
    answer_type: str
    record: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)
    """Input and grouping facts: ``frames`` (selected, when logged), ``frames_available``,
    ``source``, ``meta`` (the study's), ``reference`` (report items)."""


def row_meta(metadata: dict[str, Any], reference: Any = None) -> dict[str, Any]:
    """The :attr:`Row.meta` of a sample's metadata (Inspect) or document (lm-eval)."""
    out = {k: metadata[k] for k in ("frames", "frames_available", "source")
           if metadata.get(k) is not None}
    if metadata.get("data_source") is not None:         # lm-eval documents
        out["source"] = metadata["data_source"]
    study_meta = metadata.get("meta")
    if isinstance(study_meta, str):
        try:
            study_meta = json.loads(study_meta)
        except ValueError:
            study_meta = None
    out["meta"] = dict(study_meta) if isinstance(study_meta, dict) else {}
    if isinstance(reference, str):
        out["reference"] = reference
    return out


@dataclass
class Run:
    model: str
    level: str
    settings: dict[str, Any]
    source: str
    rows: list[Row] = field(default_factory=list)
    errors: int = 0
    failed_ids: set[str] = field(default_factory=set)
    """Items that ended in an error (when the reader knows their ids)."""

    @property
    def setting_label(self) -> str:
        s = self.settings
        blind = "" if str(s.get("images", True)).lower() != "false" else " blind"
        others = "".join(f" {k}={s[k]}" for k in SETTING_KEYS
                         if k not in LABELLED and k in s and s[k] != DEFAULT_SETTINGS[k])
        return f"{s.get('selection')} b{s.get('budget')} {s.get('prompt')}{blind}{others}"

    @property
    def label(self) -> str:
        return f"{self.model} | {self.setting_label}"


def merge_runs(runs: Sequence[Run]) -> list[Run]:
    """One run per (model, level, settings).

    Shards of one configuration (sample ranges on several machines, lm-eval's per-sequence
    tasks) join, and a resumed run's logs (the cancelled one and its ``eval-retry``) count
    each item once: a later run in ``runs`` replaces an earlier row of the same item. An
    item counts as an error only if no log scored it.
    """
    merged: dict[tuple[str, str, str], Run] = {}
    rows: dict[tuple[str, str, str], dict[str, Row]] = {}
    for run in runs:
        key = (run.model, run.level, json.dumps(run.settings, sort_keys=True, default=str))
        if key not in merged:
            merged[key] = Run(run.model, run.level, dict(run.settings), run.source)
            rows[key] = {}
        else:
            merged[key].source += f" + {Path(run.source).name}"
        target = merged[key]
        rows[key].update((row.item_id, row) for row in run.rows)
        target.failed_ids |= run.failed_ids
        target.errors += run.errors - len(run.failed_ids)     # errors without item ids
    for key, target in merged.items():
        target.rows = list(rows[key].values())
        target.failed_ids -= set(rows[key])
        target.errors += len(target.failed_ids)
    return list(merged.values())


def settings_of(args: dict[str, Any]) -> dict[str, Any]:
    """Every prompt setting of a run, from its task args or metadata (defaults filled in).

    Values are converted as the tasks convert them (``"8"`` -> 8, ``"false"`` -> False), so
    the same run read from Inspect and lm-eval gets the same key; a value no task would
    take is kept as given.
    """
    out = dict(DEFAULT_SETTINGS)
    for option in SETTING_OPTIONS:
        if args.get(option.name) not in (None, ""):
            value, error = option.check(args[option.name], loose=True)
            out[option.name] = args[option.name] if error else value
    return out


def _sequence(subtask: str) -> str:
    from cardiolens.data.taxonomy import load_taxonomy

    return sequence_group(load_taxonomy().get(subtask))


def read_lm_eval_folder(folder: Path) -> list[Run]:
    """Runs of an lm-eval ``--output_path`` folder (needs ``--log_samples``)."""
    results = sorted(folder.rglob("results_*.json"))
    if not results:
        raise CardiolensError(f"{folder}: no lm-eval results_*.json found")
    runs: list[Run] = []
    for result_file in results:
        try:
            summary = json.loads(result_file.read_text())
        except (OSError, ValueError) as exc:
            raise CardiolensError(f"{result_file}: cannot read ({exc})") from None
        config = summary.get("config", {})
        model = str(summary.get("model_name") or config.get("model") or "lm-eval")
        stamp = result_file.stem.removeprefix("results_")
        for samples_file in sorted(result_file.parent.glob(f"samples_*_{stamp}.jsonl")):
            by_level: dict[str, Run] = {}
            for line in samples_file.read_text().splitlines():
                sample = json.loads(line)
                doc = sample["doc"]
                metadata = (sample.get("metadata") or {})
                run = by_level.setdefault(doc["level"], Run(
                    model, doc["level"], settings_of({**config.get("metadata", {}),
                                                      **metadata}), str(samples_file)))
                if doc["answer_type"] == "report":
                    record = {k: float(sample[k]) for k in
                              ("bleu4", "rouge_l", "clinical_f1", "contradiction_rate")
                              if k in sample}
                else:
                    record = sample["accuracy"]
                reference = (json.loads(doc["target"]) if doc["answer_type"] == "report"
                             and "target" in doc else None)
                run.rows.append(Row(doc["item_id"], doc["study_id"], doc["level"],
                                    doc["subtask"], _sequence(doc["subtask"]),
                                    doc["answer_type"], record, row_meta(doc, reference)))
            runs += by_level.values()
    return runs
