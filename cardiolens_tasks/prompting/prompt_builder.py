"""Item to prompt: selection, rendering and prompt building behind one call.

Framework adapters hold a :class:`PromptBuilder` and call :meth:`PromptBuilder.build` when a
sample runs (from a worker thread), so nothing image-sized is held per sample.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from cardiolens.data.dataset import Item, Study
from cardiolens.data.taxonomy import Taxonomy, load_taxonomy
from cardiolens.prompting.options import OptionError, field_option, setting
from cardiolens.prompting.prompts import (
    LAYOUTS,
    PROMPT_STYLES,
    Layout,
    Prompt,
    PromptStyle,
    build_prompt,
)
from cardiolens.prompting.rendering import RenderCache, RenderOptions
from cardiolens.prompting.selection import PROTOCOLS, Protocol, select_frames, sequence_of
from cardiolens.prompting.study_images import StudyImages

MAX_BUDGET = 256
ETIOLOGY_VARIANTS = ("binary", "three_way")
"""The option variants of diagnosis_etiology (``variants`` in the taxonomy)."""


@dataclass(frozen=True)
class PromptSettings:
    """How prompts are made; every field is a task option of the same name.

    This is the one definition of the prompt settings: each field's :func:`setting` gives
    its default, allowed values and help, from which the Inspect task parameters, the
    lm-eval ``--metadata`` keys, their checking and the keys ``cardiolens analyze`` tells
    runs apart by are all derived (:mod:`cardiolens.prompting.task_options`).
    """

    selection: Protocol = setting("clinical", "Slice selection protocol.", choices=PROTOCOLS)
    budget: int = setting(16, "Images per prompt (the paper uses 8, 16, 32).",
                          low=1, high=MAX_BUDGET)
    prompt: PromptStyle = setting("standard", "Prompt style: standard (the answer only) or "
                                  "reasoning (reasons first, then the answer).",
                                  choices=PROMPT_STYLES)
    images: bool = setting(True, "false for the blind control (same question, no images).")
    layout: Layout = setting("separate", "separate (one image per frame) or mosaic (tiles "
                             "in at most max_images images).", choices=LAYOUTS)
    image_size: int = setting(256, "Longest image side in pixels.", low=32, high=2048)
    captions: bool = setting(True, "Caption each image with its sequence, view, slice and "
                             "phase (false: only 'Image N', an ablation).")
    scale: bool = setting(True, "State each image's field of view and mm per pixel in its "
                          "caption (false: the captions of runs before this option; no "
                          "effect with captions=false).")
    max_images: int = setting(4, "Images per prompt with layout=mosaic.", low=1, high=64)
    shuffle_options: bool = setting(True, "Shuffle the options per item (seeded); the "
                                    "targets move along.",
                                    levels=("image_understanding", "diagnosis"))
    seed: int = setting(0, "Seed for random selection and option shuffling.", low=0)
    etiology: str = setting("binary", "binary: ischemic against non-ischemic on diseased "
                            "studies (the paper); three_way: Normal, ischemic, non-ischemic "
                            "on every study.", choices=ETIOLOGY_VARIANTS, levels=("diagnosis",))

    def __post_init__(self) -> None:
        errors = [error for f in fields(self) for error in
                  [field_option(f.name, f.default, f.metadata).check(getattr(self, f.name))[1]]
                  if error]
        if errors:
            raise OptionError("; ".join(errors))


class PromptBuilder:
    """Builds the prompt of any item of one dataset under fixed settings."""

    def __init__(self, root: Path, studies: Mapping[str, Study], settings: PromptSettings,
                 cache: RenderCache, taxonomy: Taxonomy | None = None) -> None:
        self.root = root
        self.studies = studies
        self.settings = settings
        self.cache = cache
        self.taxonomy = taxonomy or load_taxonomy()
        self._guard = threading.Lock()
        self._study_locks: dict[str, threading.Lock] = {}

    def _study_lock(self, study_id: str) -> threading.Lock:
        with self._guard:
            return self._study_locks.setdefault(study_id, threading.Lock())

    def build(self, item: Item) -> Prompt:
        """The prompt of ``item``; raises CardiolensError for unreadable volumes.

        Thread-safe. Items of one study are built one at a time (those of other studies
        in parallel), so the second finds the first's statistics and PNGs in the render
        cache instead of decoding the same volumes again at the same moment (a study's
        diagnosis items are neighbours in the dataset, and Inspect builds neighbours
        together)."""
        s = self.settings
        if not s.images:
            return self._build(item)
        with self._study_lock(item.study_id):
            return self._build(item)

    def _build(self, item: Item) -> Prompt:
        s = self.settings
        subtask = self.taxonomy.get(item.subtask)
        study = self.studies[item.study_id]
        if not s.images:
            return build_prompt(item, subtask, [], study.series, {}, style=s.prompt,
                                images=False, shuffle_options=s.shuffle_options, seed=s.seed)
        images = StudyImages(self.root, study, RenderOptions(s.image_size), self.cache)
        choices = select_frames(s.selection, s.budget, subtask.series, study.series, images,
                                s.seed, item.item_id, subtask.function)
        frames = images.render(choices)
        shown = {c.series for c in choices}
        phases = {key: images.ed_es(key) for key in shown
                  if study.series[key].frames > 1 and sequence_of(key) != "perf"}
        scales = {key: images.scale(key) for key in shown} if s.scale and s.captions else {}
        return build_prompt(item, subtask, frames, study.series, phases, style=s.prompt,
                            layout=s.layout, max_images=s.max_images,
                            shuffle_options=s.shuffle_options, seed=s.seed, scales=scales,
                            captions=s.captions)
