"""The reader's entry point: request parts in, the answer text out."""

from __future__ import annotations

from collections.abc import Sequence

from cardiolens.data.answer_format import LETTERS, REPORT_MARKER
from cardiolens.reader.answers import choose
from cardiolens.reader.findings import StudyRead, read_study
from cardiolens.reader.report import write_section
from cardiolens.reader.request import Part, Request, parse_request

NO_IMAGES = "No images were provided, so no findings can be reported."


def read_request(request: Request) -> StudyRead | None:
    """Measurements of the request's frames; None when there are none or they fail."""
    if not request.frames:
        return None
    try:
        return read_study(request)
    except (ValueError, IndexError, FloatingPointError, ZeroDivisionError):
        return None        # unexpected pixels: answer with the fallback, never crash


def answer_request(request: Request) -> str:
    """The reply to a parsed request, in the style the prompt asks for."""
    read = read_request(request)
    if request.answer_type == "report":
        text = write_section(request.subtask, read) if read is not None else NO_IMAGES
        if request.style == "reasoning":
            return f"Findings: measured from {len(request.frames)} images.\n{REPORT_MARKER} {text}"
        return text
    picked = choose(request.subtask, read, request.options, request.answer_type == "multi")
    letters = ", ".join(LETTERS[i] for i in picked)
    if request.style == "reasoning":
        basis = (f"measured from {len(request.frames)} images" if read is not None
                 else "no usable images; default option")
        return f"Reference reader: {basis}.\nAnswer: {letters}"
    return letters


def answer_parts(parts: Sequence[Part]) -> str:
    """Answer a CardioLens prompt given as ordered text and PNG parts."""
    return answer_request(parse_request(parts))
