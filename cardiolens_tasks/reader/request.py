"""Request parsing: captioned frames, the question, the options and the answer style.

A request is an ordered list of parts, each a text or an image (PNG bytes). Captions
(``Image 5: LGE short-axis, slice 4 of 10 (mid)``) are matched to images by their number,
so it works whether images sit next to their captions (Inspect) or all come first (API
chat backends of lm-eval, which keep the captions in the text). A caption that states the
displayed scale (``..., field of view 352 x 290 mm (width x height), 1.38 mm per pixel``)
sets the physical size of the reader's crop; without one the reader assumes
:data:`MM_PER_PX`.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

import numpy as np
from PIL import Image

from cardiolens.data.taxonomy import load_taxonomy

MAX_IMAGE_PIXELS = 4096 * 4096
MAX_IMAGES = 256
SEQUENCES = {"Cine": "cine", "LGE": "lge", "T2-weighted": "t2", "Perfusion": "perf"}
VIEWS = {"short-axis": "sax", "2-chamber": "2ch", "3-chamber": "3ch", "4-chamber": "4ch"}
CAPTION = re.compile(
    r"Image (?P<number>\d+): (?P<seq>Cine|LGE|T2-weighted|Perfusion) "
    r"(?P<view>short-axis|2-chamber|3-chamber|4-chamber)"
    r"(?:, slice (?P<slice>\d+) of (?P<slices>\d+)(?: \((?P<level>[a-z]+)\))?)?"
    r"(?:, (?:phase|dynamic) (?P<frame>\d+) of (?P<frames>\d+)(?: \((?P<when>[a-z-]+)\))?)?"
    r"(?:, field of view \d+ x \d+ mm(?: \(width x height\))?, (?P<across>\d+(?:\.\d+)?)"
    r"(?: x (?P<down>\d+(?:\.\d+)?))? mm per pixel)?")
STATED_MM_RANGE = (0.01, 50.0)
"""A stated mm per displayed pixel outside this range is garbled: the reader ignores it."""
READ_SIZE = 256
MM_PER_PX = 0.8125
"""The reader's working scale: its crop of :data:`HEART_MM` is read at :data:`READ_SIZE`
pixels. Without a stated scale it is a prior (128-pixel acquisitions of 1.5-1.75 mm shown
at 256 pixels, about 347 mm across)."""
HEART_MM = READ_SIZE * MM_PER_PX
"""With a stated scale: the side (mm) of the square kept around the image centre."""
OPTION = re.compile(r"^([A-Z])\. (.+)$", re.MULTILINE)

Part = str | bytes


@dataclass(frozen=True)
class Frame:
    """One captioned image: sequence, view, slice level, time, and pixels in [0, 1]."""

    sequence: str
    view: str
    slice: int
    slices: int
    level: str | None
    frame: int
    frames: int
    when: str | None
    pixels: np.ndarray
    mm_per_px: float = MM_PER_PX
    """mm per pixel of :attr:`pixels` (the reader's crop): from the stated scale, else the
    prior :data:`MM_PER_PX`."""

    @property
    def series(self) -> str:
        return f"{self.sequence}_{self.view}"


@dataclass(frozen=True)
class Request:
    """What the reader understood of one prompt."""

    subtask: str | None
    question: str
    options: list[str]
    answer_type: str
    style: str
    frames: list[Frame] = field(default_factory=list)

    def series(self, key: str) -> list[Frame]:
        return [f for f in self.frames if f.series == key]


def decode_image(data: bytes) -> np.ndarray | None:
    """A grayscale image as float32 in [0, 1], or None if it cannot be decoded safely."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_IMAGE_PIXELS:
                return None
            return np.asarray(image.convert("L"), np.float32) / 255.0
    except (OSError, ValueError, Image.DecompressionBombError, SyntaxError):
        return None


HEART_FIELD = 0.6
"""Without a stated scale: the share of the image width kept around the image centre. CMR
fields of view (300-400 mm) are centred on the heart, so the central 60% (about 210 mm)
holds the heart and its surroundings at the scale :data:`MM_PER_PX` assumes."""


def heart_field(pixels: np.ndarray, stated: tuple[float, float] | None = None,
                heart_mm: float = HEART_MM) -> tuple[np.ndarray, float]:
    """The square around the image centre that holds the heart, resampled to
    :data:`READ_SIZE` pixels (bilinear), and its mm per pixel.

    Args:
        pixels: The decoded image (H, W).
        stated: The caption's (across, down) mm per displayed pixel, if it states them:
            the crop is then :data:`HEART_MM` square (less if the image is smaller), so
            every image is read at the same physical scale. Without it, the crop is
            :data:`HEART_FIELD` of the longest side, assumed to be :data:`MM_PER_PX`.
        heart_mm: The side (mm) of the crop with a stated scale (a robustness check reads
            the same prompt a few percent either side of :data:`HEART_MM`).
    """
    h, w = pixels.shape
    if stated is None:
        rows = cols = max(16, min(h, w, round(HEART_FIELD * max(h, w))))
        mm = MM_PER_PX
    else:
        across, down = stated
        side_mm = min(heart_mm, h * down, w * across)
        rows = max(16, min(h, round(side_mm / down)))
        cols = max(16, min(w, round(side_mm / across)))
        mm = side_mm / READ_SIZE
    r0, c0 = (h - rows) // 2, (w - cols) // 2
    crop = Image.fromarray(pixels[r0:r0 + rows, c0:c0 + cols].astype(np.float32), mode="F")
    return (np.asarray(crop.resize((READ_SIZE, READ_SIZE), Image.Resampling.BILINEAR),
                       np.float32), mm)


def stated_scale(match: re.Match[str]) -> tuple[float, float] | None:
    """The (across, down) mm per pixel a caption states, or None if none or garbled."""
    if match.group("across") is None:
        return None
    across = float(match.group("across"))
    down = float(match.group("down") or across)
    low, high = STATED_MM_RANGE
    return (across, down) if all(low <= v <= high for v in (across, down)) else None


def decode_data_uri(uri: str) -> bytes | None:
    """The bytes of a ``data:image/...;base64,`` URI, or None for anything else."""
    if not uri.startswith("data:") or ";base64," not in uri:
        return None
    try:
        return base64.b64decode(uri.split(",", 1)[1], validate=True)
    except (binascii.Error, ValueError):
        return None


@cache
def _questions() -> dict[str, str]:
    return {" ".join(s.question.split()): s.id for s in load_taxonomy().subtasks.values()}


def subtask_of(question: str) -> str | None:
    """The taxonomy subtask whose question this is (exact wording), else None."""
    return _questions().get(" ".join(question.split()))


def _question_block(text: str) -> tuple[str, list[str], str, str]:
    question = ""
    match = re.search(r"Question: (.+)", text)
    if match:
        question = match.group(1).strip()
    block = text.split("Options:", 1)[1] if "Options:" in text else ""
    options = [m.group(2).strip() for m in OPTION.finditer(block)]
    if not options:
        answer_type = "report"
    elif "More than one option may be correct" in text:
        answer_type = "multi"
    else:
        answer_type = "single"
    style = "reasoning" if ("'Answer:" in text or "Report:'" in text) else "standard"
    return question, options, answer_type, style


def _frame(match: re.Match[str], pixels: np.ndarray, heart_mm: float) -> Frame:
    g = match.groupdict()
    read, mm = heart_field(pixels, stated_scale(match), heart_mm)
    return Frame(SEQUENCES[g["seq"]], VIEWS[g["view"]], int(g["slice"] or 1) - 1,
                 int(g["slices"] or 1), g["level"], int(g["frame"] or 1) - 1,
                 int(g["frames"] or 1), g["when"], read, mm)


def parse_request(parts: Sequence[Part], heart_mm: float = HEART_MM) -> Request:
    """Parse ordered text and image parts into a :class:`Request` (``heart_mm``: see
    :func:`heart_field`)."""
    texts = [p for p in parts if isinstance(p, str)]
    images = [p for p in parts if isinstance(p, bytes)][:MAX_IMAGES]
    text = "\n".join(texts)
    question, options, answer_type, style = _question_block(text)
    frames = []
    for match in CAPTION.finditer(text):
        index = int(match.group("number")) - 1
        if 0 <= index < len(images):
            pixels = decode_image(images[index])
            if pixels is not None and pixels.ndim == 2 and min(pixels.shape) >= 16:
                frames.append(_frame(match, pixels, heart_mm))
    return Request(subtask_of(question), question, options, answer_type, style, frames)
