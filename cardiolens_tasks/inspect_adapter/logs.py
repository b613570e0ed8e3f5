"""Inspect logs to :class:`cardiolens.analysis.results.Run` rows (for ``cardiolens analyze``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inspect_ai.log import read_eval_log

from cardiolens.analysis.results import ADDED_LATER, Row, Run, row_meta, settings_of
from cardiolens.errors import CardiolensError

SCORERS = ("choice_scorer", "diagnosis_scorer", "report_scorer")
TASKS = ("image_understanding", "report_generation", "diagnosis")
BOOKKEEPING = ("logs.json", "eval-set.json")


def _why(path: Path, exc: Exception) -> str:
    """Why Inspect could not read ``path``, in words a user can act on."""
    from pydantic import ValidationError

    text = (str(exc).splitlines() or [exc.__class__.__name__])[0][:120]
    if path.is_file() and path.stat().st_size == 0:
        return "file is empty"
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})"
    if isinstance(exc, ValidationError):
        return "JSON of another tool: not an Inspect log"
    if path.suffix == ".eval" and isinstance(exc, KeyError):
        return f"no {text} in the archive: a zip file, but not an Inspect log"
    if path.suffix == ".eval" and "EOCD" in text:     # the zip end record is missing
        return "not a zip archive, or a truncated one; an .eval log is a zip file"
    return text


def read_inspect_log(path: Path) -> Run:
    """One run from an Inspect ``.eval`` / ``.json`` log of a cardiolens task."""
    if path.suffix not in (".eval", ".json"):
        raise CardiolensError(f"{path}: not an Inspect log (.eval or .json)")
    try:
        log = read_eval_log(str(path))
    except Exception as exc:  # any unreadable or foreign file: one line, the caller goes on
        raise CardiolensError(f"{path}: cannot read Inspect log ({_why(path, exc)})") from None
    task = log.eval.task.split("/")[-1]
    if task not in TASKS or log.eval.task not in (task, f"cardiolens/{task}"):
        raise CardiolensError(f"{path}: not a cardiolens task ({log.eval.task})")
    args: dict[str, Any] = dict(log.eval.task_args or {})
    if args:          # Inspect records every task parameter, defaults included
        args = {**ADDED_LATER, **args}
    run = Run(log.eval.model, task, settings_of(args), str(path))
    for sample in log.samples or []:
        name = next((s for s in SCORERS if s in (sample.scores or {})), None)
        if sample.error or name is None:
            run.errors += 1
            run.failed_ids.add(str(sample.id))
            continue
        assert sample.scores is not None
        score = sample.scores[name]
        meta = sample.metadata or {}
        record = (dict(score.value) if isinstance(score.value, dict)
                  else dict(score.metadata or {}))
        reference = sample.target if meta.get("answer_type") == "report" else None
        run.rows.append(Row(str(sample.id), str(meta.get("study_id")), str(meta.get("level")),
                            str(meta.get("subtask")), str(meta.get("sequence")),
                            str(meta.get("answer_type")), record, row_meta(meta, reference)))
    return run
