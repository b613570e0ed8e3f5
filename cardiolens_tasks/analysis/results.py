"""Evaluation results as plain rows: one :class:`Run` per (model, task, settings).

Readers for Inspect logs live in ``inspect_adapter.logs`` and for lm-eval output folders
in :func:`read_lm_eval_folder` here (plain JSON); both produce the same rows, so the
analysis does not care which framework ran.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cardiolens.data.dataset import iter_jsonl
from cardiolens.data.items import sequence_group
from cardiolens.errors import CardiolensError
from cardiolens.prompting.task_options import prompt_options

SETTING_OPTIONS = prompt_options()
SETTING_KEYS = tuple(o.name for o in SETTING_OPTIONS)
"""Every prompt setting: runs that differ in any of them are different runs."""
DEFAULT_SETTINGS: dict[str, Any] = {o.name: o.default for o in SETTING_OPTIONS}
ADDED_LATER: dict[str, Any] = {"scale": False, "captions": True}
"""Prompt settings added after runs began to record every setting, with the value the runs
before them ran with: a record (Inspect task args, lm-eval ``settings``) without one
predates it."""
BEFORE_RECORDED: dict[str, Any] = {"shuffle_options": False, **ADDED_LATER}
"""Defaults of lm-eval runs whose documents predate the ``settings`` record (their
metadata holds only the options the user gave): what those runs ran with."""
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


DOC_KEYS = ("item_id", "study_id", "level", "subtask", "answer_type")
"""What every cardiolens lm-eval document holds (a samples file without them is another
task's)."""


def read_lm_eval_folder(folder: Path, on_problem: Callable[[str], None] | None = None
                        ) -> list[Run]:
    """Runs of an lm-eval ``--output_path`` folder (needs ``--log_samples``).

    Args:
        folder: the folder; its ``results_*.json`` files are found at any depth.
        on_problem: given one line per unreadable results file (``<file>: <reason>``), per
            samples file of another task, and per malformed sample (``<file>:<line>:
            <reason>``); that file or sample is skipped and the rest is read. Without it
            the first problem raises :class:`CardiolensError`.
    """
    def problem(line: str) -> None:
        if on_problem is None:
            raise CardiolensError(line)
        on_problem(line)

    results = sorted(folder.rglob("results_*.json"))
    if not results:
        raise CardiolensError(f"{folder}: no lm-eval results_*.json found")
    runs: list[Run] = []
    for result_file in results:
        try:
            summary = json.loads(result_file.read_text(encoding="utf-8"))
        except UnicodeDecodeError as exc:
            problem(f"{result_file}: cannot read (not UTF-8 text, byte "
                    f"0x{exc.object[exc.start]:02x} at offset {exc.start})")
            continue
        except json.JSONDecodeError as exc:
            problem(f"{result_file}: " + ("file is empty" if not exc.doc.strip() else
                                          f"malformed JSON ({exc.msg} at line {exc.lineno})"))
            continue
        except (OSError, ValueError, RecursionError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            problem(f"{result_file}: cannot read ({reason})")
            continue
        if not isinstance(summary, dict):
            problem(f"{result_file}: not lm-eval results (a JSON object is expected)")
            continue
        config = summary.get("config")
        config = config if isinstance(config, dict) else {}
        model = str(summary.get("model_name") or config.get("model") or "lm-eval")
        stamp = result_file.stem.removeprefix("results_")
        samples_files = sorted(result_file.parent.glob(f"samples_*_{stamp}.jsonl"))
        if not samples_files:
            problem(f"{result_file}: no samples_*_{stamp}.jsonl beside it (run lm_eval with "
                    "--log_samples); skipped")
        for samples_file in samples_files:
            runs += _read_samples(samples_file, model, config, problem)
    return runs


def _read_samples(path: Path, model: str, config: dict[str, Any],
                  problem: Callable[[str], None]) -> list[Run]:
    """The runs (one per level) of one lm-eval samples file; bad lines go to ``problem``."""
    by_level: dict[str, Run] = {}
    defaults = config.get("metadata")
    defaults = defaults if isinstance(defaults, dict) else {}
    first = True
    try:
        for number, sample in iter_jsonl(path):
            if first and not isinstance(sample, ValueError):
                first = False
                doc = sample.get("doc") if isinstance(sample, dict) else None
                if not (isinstance(doc, dict) and any(key in doc for key in DOC_KEYS)):
                    problem(f"{path}: not the samples of a cardiolens task (line {number} "
                            "holds no cardiolens document); skipped")
                    return []
            try:
                if isinstance(sample, ValueError):
                    raise sample
                row, metadata = _sample_row(sample)
                recorded = _recorded_settings(sample["doc"])
            except ValueError as exc:
                problem(f"{path}:{number}: {exc}; sample skipped")
                continue
            run = by_level.setdefault(row.level, Run(
                model, row.level, settings_of({**ADDED_LATER, **recorded} if recorded is not None
                                              else {**BEFORE_RECORDED, **defaults, **metadata}),
                str(path)))
            run.rows.append(row)
    except (OSError, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        problem(f"{path}: cannot read ({reason}); skipped")
        return []
    return list(by_level.values())


def _recorded_settings(doc: dict[str, Any]) -> dict[str, Any] | None:
    """The prompt settings an lm-eval document records (every one, defaults included), or
    None for a document written before it recorded them."""
    try:
        recorded = json.loads(doc["settings"])
    except (KeyError, TypeError, ValueError):
        return None
    return recorded if isinstance(recorded, dict) else None


def _sample_row(sample: Any) -> tuple[Row, dict[str, Any]]:
    """One lm-eval sample as a :class:`Row` and its metadata; ValueError names what is
    wrong."""
    if not isinstance(sample, dict) or not isinstance(sample.get("doc"), dict):
        raise ValueError("no 'doc' object")
    doc = sample["doc"]
    missing = [key for key in DOC_KEYS if not isinstance(doc.get(key), str)]
    if missing:
        raise ValueError(f"doc has no {', '.join(repr(k) for k in missing)}")
    metadata = sample.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    record: dict[str, Any]
    if doc["answer_type"] == "report":
        try:
            record = {k: float(sample[k]) for k in
                      ("bleu4", "rouge_l", "clinical_f1", "contradiction_rate") if k in sample}
        except (TypeError, ValueError):
            raise ValueError("a report score is not a number") from None
    else:
        accuracy = sample.get("accuracy")
        if not isinstance(accuracy, dict):
            raise ValueError("no 'accuracy' record")
        record = accuracy
    reference = None
    if doc["answer_type"] == "report" and "target" in doc:
        try:
            reference = json.loads(doc["target"])
        except (TypeError, ValueError):
            raise ValueError("doc 'target' is not JSON text") from None
    try:
        sequence = _sequence(doc["subtask"])
    except CardiolensError:
        raise ValueError(f"unknown subtask {doc['subtask']!r}") from None
    return Row(doc["item_id"], doc["study_id"], doc["level"], doc["subtask"], sequence,
               doc["answer_type"], record, row_meta(doc, reference)), metadata


