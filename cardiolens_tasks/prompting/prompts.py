"""Prompt building: captions, question, lettered options, answer instructions.

A :class:`Prompt` is framework-free: an intro line, a list of captioned PNG images and the
question block. Adapters turn it into an Inspect message (text and image parts in order)
or an lm-eval ``doc_to_text`` with one ``<image>`` per image. The same item, protocol and
seed give the same prompt in both frameworks.

Styles (the paper's two): ``standard`` asks for the letter(s) only; ``reasoning`` asks the
model to work through the subtask's clinical checklist (``reasoning:`` in the taxonomy, e.g.
the paper's LGE-segment and wall-thickness checklists) one numbered step at a time, then
give a final ``Answer:`` line. Report sections ask for the
section text; with ``reasoning`` the findings come first and the section follows a
``Report:`` line. ``images=False`` is the blind control: the same question and options with
no images, no image captions and no words about images (:func:`blind_question`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from cardiolens.data.anatomy import slice_levels
from cardiolens.data.answer_format import LETTERS, REPORT_MARKER
from cardiolens.data.dataset import Item, SeriesInfo
from cardiolens.data.taxonomy import Subtask
from cardiolens.prompting.rendering import DisplayScale, mosaic
from cardiolens.prompting.selection import FrameChoice, item_seed, sequence_of, view_of
from cardiolens.prompting.study_images import RenderedFrame

PromptStyle = Literal["standard", "reasoning"]
PROMPT_STYLES: tuple[PromptStyle, ...] = ("standard", "reasoning")
Layout = Literal["separate", "mosaic"]
LAYOUTS: tuple[Layout, ...] = ("separate", "mosaic")

SEQUENCE_NAMES = {"cine": "Cine", "lge": "LGE", "t2": "T2-weighted", "perf": "Perfusion"}
VIEW_NAMES = {"sax": "short-axis", "2ch": "2-chamber", "3ch": "3-chamber", "4ch": "4-chamber"}

INSTRUCTIONS = {
    ("single", "standard"): "Answer with the letter of the single best option only.",
    ("multi", "standard"): ("More than one option may be correct. Answer with the letters of "
                            "all correct options only, separated by commas (for example: A, C)."),
    ("single", "reasoning"): ("First describe what you see in the relevant images and explain "
                              "your reasoning step by step. Then end with a final line of the "
                              "form 'Answer: <letter>'."),
    ("multi", "reasoning"): ("More than one option may be correct. First describe what you see "
                             "in the relevant images and explain your reasoning step by step. "
                             "Then end with a final line of the form 'Answer: <letters "
                             "separated by commas>'."),
    ("report", "standard"): ("Write only the report section, in the style of a clinical cardiac "
                             "MRI report."),
    ("report", "reasoning"): ("First list the findings you observe in the images and your "
                              "reasoning. Then write the report section after a line that "
                              f"says '{REPORT_MARKER}'."),
}


BLIND_INSTRUCTIONS = {
    ("single", "reasoning"): ("First explain your reasoning step by step. Then end with a final "
                              "line of the form 'Answer: <letter>'."),
    ("multi", "reasoning"): ("More than one option may be correct. First explain your reasoning "
                             "step by step. Then end with a final line of the form 'Answer: "
                             "<letters separated by commas>'."),
    ("report", "reasoning"): ("First give your reasoning. Then write the report section after a "
                              f"line that says '{REPORT_MARKER}'."),
}
"""Instructions of blind prompts where the usual ones speak of images."""
BLIND_INTRO = "This is a question about one cardiac MRI study. Answer from the question alone."
_IMAGES_SENTENCE = re.compile(r"These are [^.]*?\bimages\b(?: of (?P<subject>[^.]*))?\.\s*")


def blind_question(question: str) -> str:
    """``question`` without its opening "These are ... images of ..." sentence; a condition
    that sentence states survives ("These are LGE images of a left ventricle with ischemic
    late enhancement." -> "This study concerns a left ventricle with ischemic late
    enhancement.")."""
    match = _IMAGES_SENTENCE.match(question)
    if match is None:
        return question
    subject = match.group("subject") or ""
    context = f"This study concerns {subject}. " if " with " in subject else ""
    return context + question[match.end():]


@dataclass(frozen=True)
class PromptImage:
    caption: str
    png: bytes


@dataclass(frozen=True)
class Prompt:
    """A built prompt and what scoring needs to read the answer back."""

    intro: str
    images: list[PromptImage]
    question: str
    options: list[str] = field(default_factory=list)
    """Option texts in displayed order (letter A first); empty for report items."""
    answer_type: str = "single"
    frames: list[str] = field(default_factory=list)
    """The selected frames as ``series:slice:frame`` (0-based), in prompt order."""

    def text(self, image_token: str | None = None) -> str:
        """The whole prompt as text; ``image_token`` (e.g. ``<image>``) after each caption."""
        lines = [self.intro]
        for image in self.images:
            lines.append(f"{image.caption} {image_token}" if image_token else image.caption)
        lines.append(self.question)
        return "\n".join(lines)

    def parts(self) -> list[str | bytes]:
        """The prompt in the order a chat request carries it: the intro, a caption and the
        PNG bytes per image, then the question."""
        parts: list[str | bytes] = [self.intro]
        for image in self.images:
            parts += [image.caption, image.png]
        return [*parts, self.question]


def displayed_options(item: Item, subtask: Subtask, shuffle: bool, seed: int) -> list[str]:
    """Options of an item in displayed order: taxonomy order, or a seeded shuffle."""
    options = list(item.options or subtask.options)
    if shuffle and options:
        rng = np.random.default_rng(item_seed(seed, item.item_id, "options"))
        options = [options[i] for i in rng.permutation(len(options))]
    return options


SQUARE_TOLERANCE = 0.01
"""Displayed pixels whose two sides differ by less than this share are stated as square
(rendering keeps the physical aspect; only rounding to whole pixels tells them apart)."""


def three_figures(value: float) -> str:
    """``value`` to three significant figures, trailing zeros kept (1.40, 0.195, 12.5)."""
    decimals = max(0, 2 - math.floor(math.log10(value))) if value > 0 else 2
    return f"{value:.{decimals}f}"


def scale_text(scale: DisplayScale) -> str:
    """``field of view 352 x 290 mm (width x height), 1.38 mm per pixel``; two figures,
    across x down, when the displayed pixels are not square."""
    across, down = scale.mm_per_px
    fov = f"field of view {scale.width_mm:.0f} x {scale.height_mm:.0f} mm (width x height)"
    if abs(across - down) <= SQUARE_TOLERANCE * max(across, down):
        exact = across if scale.width_px >= scale.height_px else down
        return f"{fov}, {three_figures(exact)} mm per pixel"
    return (f"{fov}, {three_figures(across)} x {three_figures(down)} mm per pixel "
            "(across x down)")


def caption(number: int, choice: FrameChoice, info: SeriesInfo,
            ed_es: tuple[int, int] | None, scale: DisplayScale | None = None) -> str:
    """``Image 5: LGE short-axis, slice 4 of 10 (mid)`` and the like, ending with the
    displayed scale (:func:`scale_text`) when ``scale`` is given."""
    sequence, view = sequence_of(choice.series), view_of(choice.series)
    name = f"{SEQUENCE_NAMES.get(sequence, sequence)} {VIEW_NAMES.get(view, view)}".strip()
    parts = [name]
    if info.slices > 1:
        where = f"slice {choice.slice + 1} of {info.slices}"
        if view == "sax":
            levels = slice_levels(info.slices)
            where += f" ({levels[choice.slice].lower()})"
        parts.append(where)
    if info.frames > 1:
        unit = "dynamic" if sequence == "perf" else "phase"
        when = f"{unit} {choice.frame + 1} of {info.frames}"
        if unit == "phase" and ed_es is not None:
            label = {ed_es[0]: "end-diastole", ed_es[1]: "end-systole"}.get(choice.frame)
            when += f" ({label})" if label else ""
        parts.append(when)
    if scale is not None:
        parts.append(scale_text(scale))
    return f"Image {number}: " + ", ".join(parts)


FINAL_LINES = {"single": "Then end with a final line of the form 'Answer: <letter>'.",
               "multi": ("Then end with a final line of the form 'Answer: <letters separated "
                         "by commas>'."),
               "report": f"Then write the report section after a line that says "
                         f"'{REPORT_MARKER}'."}


def reasoning_instruction(answer_type: str, steps: Sequence[str]) -> str:
    """The reasoning instruction: the subtask's checklist as numbered steps, then the answer."""
    lines = []
    if answer_type == "multi":
        lines.append("More than one option may be correct.")
    lines.append("Reason through these steps in order, one numbered line or paragraph each:")
    lines += [f"{n}. {step}" for n, step in enumerate(steps, 1)]
    lines.append(FINAL_LINES[answer_type])
    return "\n".join(lines)


def _question_block(question: str, options: Sequence[str], answer_type: str,
                    style: PromptStyle, steps: Sequence[str] = (),
                    images: bool = True) -> str:
    lines = [f"Question: {question if images else blind_question(question)}"]
    if options:
        lines.append("Options:")
        lines += [f"{LETTERS[i]}. {text}" for i, text in enumerate(options)]
    if not images:         # the reasoning checklists look at images: plain blind wording
        instruction = {**INSTRUCTIONS, **BLIND_INSTRUCTIONS}[(answer_type, style)]
    elif style == "reasoning" and steps:
        instruction = reasoning_instruction(answer_type, steps)
    else:
        instruction = INSTRUCTIONS[(answer_type, style)]
    lines += ["", instruction]
    return "\n".join(lines)


def build_prompt(item: Item, subtask: Subtask, frames: Sequence[RenderedFrame],
                 series: Mapping[str, SeriesInfo],
                 phases: Mapping[str, tuple[int, int]], *, style: PromptStyle = "standard",
                 images: bool = True, layout: Layout = "separate", max_images: int = 4,
                 shuffle_options: bool = False, seed: int = 0,
                 scales: Mapping[str, DisplayScale | None] | None = None,
                 captions: bool = True) -> Prompt:
    """The prompt of one item from its rendered frames (in prompt order); ``scales`` gives
    the displayed scale per series key for the captions (a missing or None entry: the
    caption states none). ``captions=False`` labels each image ``Image N`` only: no
    sequence, view, slice, phase or scale (the captions' ablation)."""
    if style not in PROMPT_STYLES:
        raise ValueError(f"unknown prompt style {style!r}; choose from {PROMPT_STYLES}")
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; choose from {LAYOUTS}")
    options = ([] if subtask.answer_type == "report"
               else displayed_options(item, subtask, shuffle_options, seed))
    question = _question_block(item.question or subtask.question, options,
                               subtask.answer_type, style, subtask.reasoning, images)
    if not images:
        return Prompt(BLIND_INTRO, [], question, options, subtask.answer_type)
    chosen = [f"{f.choice.series}:{f.choice.slice}:{f.choice.frame}" for f in frames]
    scales = scales or {}
    labels = [caption(n + 1, f.choice, series[f.choice.series], phases.get(f.choice.series),
                      scales.get(f.choice.series)) if captions else f"Image {n + 1}"
              for n, f in enumerate(frames)]
    if layout == "mosaic" and frames:
        sheets = mosaic([f.png for f in frames], [str(n + 1) for n in range(len(frames))],
                        max_images)
        per, rest = divmod(len(frames), len(sheets))
        listed: list[PromptImage] = []
        start = 0
        for g, sheet in enumerate(sheets):
            count = per + (1 if g < rest else 0)
            tiles = "; ".join(c.replace("Image ", "tile ", 1)
                              for c in labels[start:start + count])
            listed.append(PromptImage(f"Mosaic {g + 1} ({tiles}):", sheet))
            start += count
        intro = (f"The following {len(sheets)} mosaic image(s) show {len(frames)} frames of "
                 "one cardiac MRI study; each tile is numbered.")
        return Prompt(intro, listed, question, options, subtask.answer_type, chosen)
    intro = f"The following {len(frames)} images are from one cardiac MRI study."
    listed = [PromptImage(c, f.png) for c, f in zip(labels, frames, strict=True)]
    return Prompt(intro, listed, question, options, subtask.answer_type, chosen)
