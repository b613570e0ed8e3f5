"""Item to prompt: selection, rendering and prompt building behind one call.

Framework adapters hold a :class:`PromptBuilder` and call :meth:`PromptBuilder.build` when a
sample runs (from a worker thread), so nothing image-sized is held per sample.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cardiolens.data.dataset import Item, Study
from cardiolens.data.taxonomy import Taxonomy, load_taxonomy
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


@dataclass(frozen=True)
class PromptSettings:
    """How prompts are made; every field is a task parameter of the same name."""

    selection: Protocol = "clinical"
    budget: int = 16
    prompt: PromptStyle = "standard"
    images: bool = True
    layout: Layout = "separate"
    image_size: int = 256
    max_images: int = 4
    shuffle_options: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        if self.selection not in PROTOCOLS:
            raise ValueError(f"selection must be one of {', '.join(PROTOCOLS)}, "
                             f"not {self.selection!r}")
        if self.prompt not in PROMPT_STYLES:
            raise ValueError(f"prompt must be one of {', '.join(PROMPT_STYLES)}, "
                             f"not {self.prompt!r}")
        if self.layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, not {self.layout!r}")
        for name, low, high in (("budget", 1, MAX_BUDGET), ("image_size", 32, 2048),
                                ("max_images", 1, 64)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValueError(f"{name} must be an integer in [{low}, {high}], not {value!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, not {self.seed!r}")
        for name in ("images", "shuffle_options"):      # "-T images=nope" is a truthy str
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false, not {getattr(self, name)!r}")


class PromptBuilder:
    """Builds the prompt of any item of one dataset under fixed settings."""

    def __init__(self, root: Path, studies: Mapping[str, Study], settings: PromptSettings,
                 cache: RenderCache, taxonomy: Taxonomy | None = None) -> None:
        self.root = root
        self.studies = studies
        self.settings = settings
        self.cache = cache
        self.taxonomy = taxonomy or load_taxonomy()

    def build(self, item: Item) -> Prompt:
        """The prompt of ``item``; raises CardiolensError for unreadable volumes."""
        s = self.settings
        subtask = self.taxonomy.get(item.subtask)
        study = self.studies[item.study_id]
        if not s.images:
            return build_prompt(item, subtask, [], study.series, {}, style=s.prompt,
                                images=False, shuffle_options=s.shuffle_options, seed=s.seed)
        images = StudyImages(self.root, study, RenderOptions(s.image_size), self.cache)
        choices = select_frames(s.selection, s.budget, subtask.series, study.series, images,
                                s.seed, item.item_id)
        frames = images.render(choices)
        phases = {key: images.ed_es(key) for key in {c.series for c in choices}
                  if study.series[key].frames > 1 and sequence_of(key) != "perf"}
        return build_prompt(item, subtask, frames, study.series, phases, style=s.prompt,
                            layout=s.layout, max_images=s.max_images,
                            shuffle_options=s.shuffle_options, seed=s.seed)
