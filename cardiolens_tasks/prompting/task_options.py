"""The options of a CardioLens task, shared by the Inspect tasks and the lm-eval tasks.

The prompt settings come from the fields of :class:`PromptSettings` (one definition); the
data folder, the item filters, the render cache and ``limit_studies`` are added here. The
Inspect adapter turns :func:`task_options` into the ``-T`` parameters of each task, the
lm-eval adapter reads the same names from ``--metadata``, and both check them with
:func:`parse_task_options`, which names every refused option in one message.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal

from cardiolens.data.items import SEQUENCE_FILTER, SUBTASK_FILTER, filter_problems
from cardiolens.data.taxonomy import LEVELS, Level, Taxonomy, load_taxonomy
from cardiolens.prompting.options import Option, OptionError, check_all, field_option
from cardiolens.prompting.prompt_builder import PromptSettings

DATA = Option("data", str, None, "Dataset folder in the CardioLens format (default: the "
              "phantom cohort, generated into the user cache on first use).")
CACHE = Option("cache", bool, True, "Cache rendered PNGs in the user cache folder.")
LIMIT_STUDIES = Option("limit_studies", int, None, "Keep the items of the first N studies "
                       "(by id).", low=1)
_FILTER_HELP: dict[str, str] = {
    "subtask": "Subtask id(s) to keep, comma-separated (e.g. lge_walls,lge_layer).",
    "section": "Report section(s) to keep, comma-separated: report_cine, report_lge, "
               "report_t2, report_perfusion, report_impression.",
    "task": "diagnosis_etiology and/or diagnosis_nicm_subtype (default: both).",
    SEQUENCE_FILTER: "Sequence group(s) to keep: cine, lge, t2, perf, or cross (the "
                     "cross-sequence subtasks), as in the sequence/... metrics.",
}


def prompt_options(level: Level | None = None) -> tuple[Option, ...]:
    """The :class:`PromptSettings` fields as options (those ``level`` takes, if given)."""
    return tuple(field_option(f.name, f.default, f.metadata) for f in fields(PromptSettings)
                 if level is None or f.metadata["levels"] is None
                 or level in f.metadata["levels"])


def filter_options(level: Level) -> tuple[Option, ...]:
    """The item filters of ``level``: its subtask filter, and ``sequence`` for Level 1."""
    names = [SUBTASK_FILTER[level]] + ([SEQUENCE_FILTER] if level == "image_understanding"
                                       else [])
    return tuple(Option(name, list, None, _FILTER_HELP[name]) for name in names)


def task_options(level: Level) -> tuple[Option, ...]:
    """Every option of a ``level`` task, in the order the documentation lists them."""
    return (DATA, *filter_options(level), *prompt_options(level), CACHE, LIMIT_STUDIES)


@dataclass(frozen=True)
class TaskOptions:
    """Checked options of one task."""

    level: Level
    settings: PromptSettings
    data: str | None = None
    subtasks: frozenset[str] | None = None
    sequences: frozenset[str] | None = None
    cache: bool = True
    limit_studies: int | None = None


def parse_task_options(level: Level, values: Mapping[str, Any], *,
                       extra: Sequence[Option] = (), known: Sequence[str] = (),
                       loose: bool = False,
                       unknown: Literal["error", "near"] = "error",
                       taxonomy: Taxonomy | None = None,
                       ) -> tuple[TaskOptions, dict[str, Any]]:
    """Check every option of a ``level`` task at once.

    Args:
        level: The task level.
        values: The given options, by name.
        extra: Options the framework adds (checked here, returned in the second value).
        known: Further names the framework takes and checks itself.
        loose: Convert strings (lm-eval metadata and model args are strings).
        unknown: ``"error"``: a name that is no option is refused, with the valid names;
            ``"near"``: only another level's filter and a name close to an option's name
            are refused (lm-eval mixes model args into the metadata, so other names are
            not ours to judge).
        taxonomy: The taxonomy that names the subtasks (default: the packaged one).

    Returns:
        The checked options and the checked ``extra`` values.

    Raises:
        OptionError: naming each refused option, its value and what is allowed.
    """
    if level not in LEVELS:
        raise OptionError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    taxonomy = taxonomy or load_taxonomy()
    options = (*task_options(level), *extra)
    names = [o.name for o in options]
    errors = _unknown_names(level, values, [*names, *(k for k in known if k not in names)],
                            unknown)
    given = {k: v for k, v in values.items() if k in names}
    checked, problems = check_all(options, given, loose)
    errors += problems
    subtasks = checked.get(SUBTASK_FILTER[level])
    sequences = checked.get(SEQUENCE_FILTER)
    errors += filter_problems(level, taxonomy, subtasks, sequences)
    if errors:
        raise OptionError("; ".join(errors))
    settings = PromptSettings(**{o.name: checked[o.name] for o in prompt_options(level)
                                 if o.name in checked})
    result = TaskOptions(level, settings, checked.get("data") or None,
                         frozenset(subtasks) if subtasks else None,
                         frozenset(sequences) if sequences else None,
                         checked.get("cache", True), checked.get("limit_studies"))
    return result, {o.name: checked.get(o.name, o.default) for o in extra}


def _unknown_names(level: Level, values: Mapping[str, Any], names: Sequence[str],
                   unknown: Literal["error", "near"]) -> list[str]:
    strangers = [k for k in values if k not in names]
    if unknown == "near":
        filters = (*SUBTASK_FILTER.values(), SEQUENCE_FILTER)
        errors = [f"{level} has no {k} filter; its subtask filter is {SUBTASK_FILTER[level]}"
                  for k in strangers if k in filters]
        near = {k: difflib.get_close_matches(k, names, n=1, cutoff=0.8) for k in strangers
                if k not in filters}
        return errors + [f"unknown option {k!r} (did you mean {m[0]}?)"
                         for k, m in near.items() if m]
    if not strangers:
        return []
    return [f"unknown parameter(s): {', '.join(strangers)}; valid: {', '.join(names)}"]
