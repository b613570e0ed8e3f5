"""The registered Inspect tasks: ``cardiolens/image_understanding``,
``cardiolens/report_generation`` and ``cardiolens/diagnosis``.

The ``-T name=value`` parameters of each task are the options of
:func:`cardiolens.prompting.task_options.task_options` plus the Inspect-only ``log_images``
(and ``judge`` for reports). Inspect reads a task's parameters from its signature, so each
task function takes ``**params`` and carries a signature built from that one definition
(:func:`task_parameters`): ``-T`` names, defaults in the log's task args and ``help()``
all follow it. The signature also has a ``**unknown`` catch-all, so Inspect hands a
misspelled name to the task (instead of only warning) and the task refuses it, listing
the valid names. Every mistake the user can make raises Inspect's prerequisite error,
which Inspect prints as the message alone (no traceback) and exits non-zero.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from inspect_ai import Task, task
from inspect_ai._util.error import PrerequisiteError
from inspect_ai.model import Model
from inspect_ai.scorer import Scorer
from inspect_ai.solver import generate
from rich.markup import escape

from cardiolens.cache import cache_root
from cardiolens.data.taxonomy import Level, load_taxonomy
from cardiolens.errors import CardiolensError, DatasetError
from cardiolens.inspect_adapter.data import load_benchmark, to_dataset
from cardiolens.inspect_adapter.model_extraction import model_extraction_scorer
from cardiolens.inspect_adapter.scoring import (
    choice_scorer,
    diagnosis_scorer,
    report_scorer,
)
from cardiolens.inspect_adapter.solver import cmr_prompt, image_stripper
from cardiolens.prompting.options import Option
from cardiolens.prompting.prompt_builder import PromptBuilder
from cardiolens.prompting.rendering import RenderCache
from cardiolens.prompting.task_options import parse_task_options, task_options

LOG_IMAGES = Option("log_images", bool, None, "Embed the images in the log (default: no, "
                    "phantom included; captions, question and answer are always logged).",
                    optional=True)
JUDGE = Option("judge", str, None, "An Inspect model (e.g. openai/gpt-4o) that also grades "
               "each section against the reference with a CMR rubric (omissions, "
               "contradictions, hallucinations, 0-10 score). Off by default.")
EXTRACTOR = Option("extractor", str, None, "An Inspect model that reads the findings of both "
                   "texts as JSON slots for the clinical scores, instead of the offline "
                   "rule-based extractor.")
MODEL_OPTIONS = (JUDGE, EXTRACTOR)
"""Options that name a model: a model name, or a Model from Python."""
INSPECT_OPTIONS: dict[Level, tuple[Option, ...]] = {
    "image_understanding": (LOG_IMAGES,),
    "report_generation": (LOG_IMAGES, JUDGE, EXTRACTOR),
    "diagnosis": (LOG_IMAGES,),
}
UNKNOWN = "unknown"
"""The name of the catch-all in each task's signature."""

F = TypeVar("F", bound=Callable[..., Task])


class TaskParameterError(PrerequisiteError):
    """A user mistake in a task's parameters or data: Inspect prints the message alone."""

    def __init__(self, message: str) -> None:
        # Inspect prints the message with rich markup on; keep "[...]" literal
        super().__init__(escape(message))
        self.args = (message,)

    def __str__(self) -> str:
        return str(self.args[0])


def parameters(level: Level) -> tuple[Option, ...]:
    """Every ``-T`` parameter of the ``level`` task, in documentation order."""
    return (*task_options(level), *INSPECT_OPTIONS[level])


def _annotation(option: Option) -> Any:
    kind: Any = str | list[str] if option.kind is list else option.kind
    if option in MODEL_OPTIONS:
        kind = str | Model
    return kind | None if option.default is None or option.optional else kind


def task_parameters(level: Level) -> Callable[[F], F]:
    """Give a ``**params`` task function the signature and ``Args:`` help of ``level``."""
    options = parameters(level)

    def decorate(fn: F) -> F:
        params = [inspect.Parameter(o.name, inspect.Parameter.KEYWORD_ONLY, default=o.default,
                                    annotation=_annotation(o)) for o in options]
        params.append(inspect.Parameter(UNKNOWN, inspect.Parameter.VAR_KEYWORD))
        fn.__signature__ = inspect.Signature(params, return_annotation=Task)  # type: ignore[attr-defined]
        args = "\n".join(f"        {o.name}: {o.help} Takes {o.allowed()}"
                         + ("." if o.default is None else f"; default {o.default!r}.")
                         for o in options)
        fn.__doc__ = f"{(fn.__doc__ or '').strip()}\n\n    Args:\n{args}\n"
        return fn

    return decorate


def _task(level: Level, params: dict[str, Any], scorer: Scorer | list[Scorer]) -> Task:
    try:
        return _build(level, params, scorer)
    except CardiolensError as exc:
        raise TaskParameterError(f"cardiolens/{level}: {exc}") from None


def _build(level: Level, params: dict[str, Any], scorer: Scorer | list[Scorer]) -> Task:
    taxonomy = load_taxonomy()
    options, extra = parse_task_options(level, params, extra=(LOG_IMAGES,),
                                        known=[o.name for o in INSPECT_OPTIONS[level]],
                                        taxonomy=taxonomy)
    try:
        bench = load_benchmark(options.data, level, options.subtasks, options.sequences,
                               options.limit_studies, taxonomy, options.settings.etiology)
    except DatasetError as exc:
        raise DatasetError(f"data: {exc}") from None
    render_cache = RenderCache(cache_root() / "render" if options.cache else None)
    builder = PromptBuilder(Path(bench.dataset.root), bench.dataset.studies, options.settings,
                            render_cache, taxonomy)
    keep_images = bool(extra["log_images"])     # small logs: images only when asked for
    return Task(
        dataset=to_dataset(bench, taxonomy, name=f"cardiolens-{level}"),
        solver=[cmr_prompt(builder, bench.by_id()), generate()],
        cleanup=image_stripper(keep_images),
        scorer=scorer,
        fail_on_error=False,
        metadata={"level": level, "dataset": bench.dataset.card.name,
                  "taxonomy_version": taxonomy.version,
                  "settings": options.settings.__dict__, "images_logged": keep_images},
    )


@task
@task_parameters("image_understanding")
def image_understanding(**params: Any) -> Task:
    """CardioLens Level 1: the 32 image-understanding subtasks."""
    return _task("image_understanding", params, choice_scorer())


@task
@task_parameters("report_generation")
def report_generation(**params: Any) -> Task:
    """CardioLens Level 2: report sections (cine, LGE, T2, perfusion, impression)."""
    judge, extractor = (params.get(o.name) for o in MODEL_OPTIONS)
    for option in MODEL_OPTIONS:
        value = params.get(option.name)
        if value is not None and not isinstance(value, (str, Model)):
            raise TaskParameterError(f"cardiolens/report_generation: {option.name} must be "
                                     f"a model name, not {value!r}")
    # one scorer carries the judge, so the summary stays two columns wide
    scorer = (report_scorer(judge or None) if extractor is None else
              model_extraction_scorer(extractor, judge or None))
    return _task("report_generation", params, scorer)


@task
@task_parameters("diagnosis")
def diagnosis(**params: Any) -> Task:
    """CardioLens Level 3: diagnosis (etiology; non-ischemic cardiomyopathy subtype)."""
    return _task("diagnosis", params, diagnosis_scorer())
