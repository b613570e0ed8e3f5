"""Request parsing: captioned frames, the question, the options and the answer style.

A request is an ordered list of parts, each a text or an image (PNG bytes). Captions
(``Image 5: LGE short-axis, slice 4 of 10 (mid)``) are matched to images by their number,
so it works whether images sit next to their captions (Inspect) or all come first (API
chat backends of lm-eval, which keep the captions in the text).
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
    r"(?:, (?:phase|dynamic) (?P<frame>\d+) of (?P<frames>\d+)(?: \((?P<when>[a-z-]+)\))?)?")
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
"""Share of the image width kept around the image centre: CMR fields of view (300-400 mm)
are centred on the heart, so the central 60% (about 210 mm) holds the heart and its
surroundings at the scale the reader's sizes assume (256 px for about 208 mm)."""
READ_SIZE = 256


def heart_field(pixels: np.ndarray) -> np.ndarray:
    """The square around the image centre that holds the heart, resampled to
    :data:`READ_SIZE` pixels (bilinear); the same crop for every frame of a request."""
    h, w = pixels.shape
    side = max(16, min(h, w, round(HEART_FIELD * max(h, w))))
    r0, c0 = (h - side) // 2, (w - side) // 2
    crop = Image.fromarray(pixels[r0:r0 + side, c0:c0 + side].astype(np.float32), mode="F")
    return np.asarray(crop.resize((READ_SIZE, READ_SIZE), Image.Resampling.BILINEAR),
                      np.float32)


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


def _frame(match: re.Match[str], pixels: np.ndarray) -> Frame:
    g = match.groupdict()
    return Frame(SEQUENCES[g["seq"]], VIEWS[g["view"]], int(g["slice"] or 1) - 1,
                 int(g["slices"] or 1), g["level"], int(g["frame"] or 1) - 1,
                 int(g["frames"] or 1), g["when"], pixels)


def parse_request(parts: Sequence[Part]) -> Request:
    """Parse ordered text and image parts into a :class:`Request`."""
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
                frames.append(_frame(match, heart_field(pixels)))
    return Request(subtask_of(question), question, options, answer_type, style, frames)
