"""The registered Inspect tasks: ``cardiolens/image_understanding``,
``cardiolens/report_generation`` and ``cardiolens/diagnosis``.

Every task parameter is a ``-T name=value`` option; the docstrings below are the help.
"""

from __future__ import annotations

from pathlib import Path

from inspect_ai import Task, task
from inspect_ai.model import Model
from inspect_ai.scorer import Scorer

from cardiolens.cache import cache_root
from cardiolens.data.taxonomy import Level, load_taxonomy
from cardiolens.inspect_adapter.data import load_benchmark, to_dataset
from cardiolens.inspect_adapter.scoring import (
    choice_scorer,
    diagnosis_scorer,
    report_scorer,
)
from cardiolens.inspect_adapter.solver import cmr_prompt
from cardiolens.prompting.prompt_builder import PromptBuilder, PromptSettings
from cardiolens.prompting.rendering import RenderCache


def _task(level: Level, scorer: Scorer | list[Scorer], data: str | None,
          subtasks: str | list[str] | None, sequences: str | list[str] | None,
          settings: PromptSettings, log_images: bool | None, cache: bool,
          limit_studies: int | None) -> Task:
    for name, value in (("log_images", log_images), ("cache", cache)):
        if value is not None and not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false, not {value!r}")
    taxonomy = load_taxonomy()
    bench = load_benchmark(data, level, subtasks, sequences, limit_studies, taxonomy)
    render_cache = RenderCache(cache_root() / "render" if cache else None)
    builder = PromptBuilder(Path(bench.dataset.root), bench.dataset.studies, settings,
                            render_cache, taxonomy)
    keep_images = bool(log_images)     # small logs: images only when asked for
    return Task(
        dataset=to_dataset(bench, taxonomy, name=f"cardiolens-{level}"),
        solver=cmr_prompt(builder, bench.by_id(), keep_images),
        scorer=scorer,
        fail_on_error=False,
        metadata={"level": level, "dataset": bench.dataset.card.name,
                  "taxonomy_version": taxonomy.version, "settings": settings.__dict__,
                  "images_logged": keep_images},
    )


@task
def image_understanding(data: str | None = None, subtask: str | list[str] | None = None,
                        sequence: str | list[str] | None = None, selection: str = "clinical",
                        budget: int = 16, prompt: str = "standard", images: bool = True,
                        layout: str = "separate", image_size: int = 256, max_images: int = 4,
                        shuffle_options: bool = False, seed: int = 0,
                        log_images: bool | None = None, cache: bool = True,
                        limit_studies: int | None = None) -> Task:
    """CardioLens Level 1: the 32 image-understanding subtasks.

    Args:
        data: Dataset folder in the CardioLens format (default: the phantom cohort,
            generated into the user cache on first use).
        subtask: Subtask id(s) to keep, comma-separated (e.g. lge_walls,lge_layer).
        sequence: Sequence group(s) to keep: cine, lge, t2, perf, or cross (the
            cross-sequence subtasks), as in the sequence/... metrics.
        selection: Slice selection protocol: clinical, random or data_driven.
        budget: Images per prompt (the paper uses 8, 16, 32).
        prompt: Prompt style: standard (letters only) or reasoning (reasons, then Answer:).
        images: False for the blind control (same question, no images).
        layout: separate (one image per frame) or mosaic (tiles in at most max_images images).
        image_size: Longest image side in pixels.
        max_images: Images per prompt with layout=mosaic.
        shuffle_options: Shuffle the options per item (seeded); targets move along.
        seed: Seed for random selection and option shuffling.
        log_images: Embed the images in the log (default: no; captions, question and
            answer are always logged).
        cache: Cache rendered PNGs in the user cache folder.
        limit_studies: Keep the items of the first N studies (by id).
    """
    settings = PromptSettings(selection, budget, prompt, images, layout, image_size,  # type: ignore[arg-type]
                              max_images, shuffle_options, seed)
    return _task("image_understanding", choice_scorer(), data, subtask, sequence, settings,
                 log_images, cache, limit_studies)


@task
def report_generation(data: str | None = None, section: str | list[str] | None = None,
                      selection: str = "clinical", budget: int = 16, prompt: str = "standard",
                      images: bool = True, layout: str = "separate", image_size: int = 256,
                      max_images: int = 4, seed: int = 0, log_images: bool | None = None,
                      cache: bool = True, limit_studies: int | None = None,
                      judge: str | Model | None = None) -> Task:
    """CardioLens Level 2: report sections (cine, LGE, T2, perfusion, impression).

    Args:
        data: Dataset folder in the CardioLens format (default: the phantom cohort).
        section: Section(s) to keep, comma-separated: report_cine, report_lge, report_t2,
            report_perfusion, report_impression.
        selection: Slice selection protocol: clinical, random or data_driven.
        budget: Images per prompt.
        prompt: standard (write the section) or reasoning (findings first, then Report:).
        images: False for the blind control.
        layout: separate or mosaic.
        image_size: Longest image side in pixels.
        max_images: Images per prompt with layout=mosaic.
        seed: Seed for random selection.
        log_images: Embed the images in the log (default: no; captions, question and
            answer are always logged).
        cache: Cache rendered PNGs in the user cache folder.
        limit_studies: Keep the items of the first N studies (by id).
        judge: An Inspect model (e.g. openai/gpt-4o) that also grades each section
            against the reference with a CMR rubric (omissions, contradictions,
            hallucinations, 0-10 score). Off by default.
    """
    settings = PromptSettings(selection, budget, prompt, images, layout, image_size,  # type: ignore[arg-type]
                              max_images, False, seed)
    return _task("report_generation", report_scorer(judge or None), data, section, None, settings,
                 log_images, cache, limit_studies)


@task
def diagnosis(data: str | None = None, task: str | list[str] | None = None,
              selection: str = "clinical", budget: int = 16, prompt: str = "standard",
              images: bool = True, layout: str = "separate", image_size: int = 256,
              max_images: int = 4, shuffle_options: bool = False, seed: int = 0,
              log_images: bool | None = None, cache: bool = True,
              limit_studies: int | None = None) -> Task:
    """CardioLens Level 3: diagnosis (etiology; non-ischemic cardiomyopathy subtype).

    Args:
        data: Dataset folder in the CardioLens format (default: the phantom cohort).
        task: diagnosis_etiology and/or diagnosis_nicm_subtype (default: both).
        selection: Slice selection protocol: clinical, random or data_driven.
        budget: Images per prompt.
        prompt: standard or reasoning.
        images: False for the blind control.
        layout: separate or mosaic.
        image_size: Longest image side in pixels.
        max_images: Images per prompt with layout=mosaic.
        shuffle_options: Shuffle the options per item (seeded).
        seed: Seed for random selection and option shuffling.
        log_images: Embed the images in the log (default: no; captions, question and
            answer are always logged).
        cache: Cache rendered PNGs in the user cache folder.
        limit_studies: Keep the items of the first N studies (by id).
    """
    settings = PromptSettings(selection, budget, prompt, images, layout, image_size,  # type: ignore[arg-type]
                              max_images, shuffle_options, seed)
    return _task("diagnosis", diagnosis_scorer(), data, task, None, settings, log_images,
                 cache, limit_studies)
