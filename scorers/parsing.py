"""Reading a chosen option out of free model text.

Where the answer is looked for, in order: the last ``Answer:`` (or ``answer is``) line; the
whole reply when it is short (``B``, ``(b)``, ``B, D``); the last non-empty line; the whole
reply. In an answer line or a bare reply, letters may be lower case; elsewhere only capital
letters standing alone count, and ``A`` followed by a word is read as the article. Letters
win over option texts in the same place; option texts match whole words, longest first, so
``Normal`` never matches inside ``Normal (EF >= 50%)``. A single-choice reply naming two
options is ambiguous and counts as unparsed. Refusals are flagged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ANSWER_LINE = re.compile(r"(?:final\s+)?answer\s*(?:is\s*:?|:|-)\s*(?P<rest>[^\n]*)",
                         re.IGNORECASE)
REFUSAL = re.compile(
    r"\b(?:i\s*(?:can ?not|can't|cannot|am unable|'m unable|am not able|'m not able)|"
    r"unable to (?:provide|determine|answer|assess|interpret)|"
    r"can ?not (?:be )?determined?|not possible to (?:determine|tell)|"
    r"i'm sorry|i am sorry|as an ai)\b", re.IGNORECASE)
BARE_REPLY_MAX = 40
_MARKUP = str.maketrans({"*": " ", "_": " ", "`": " ", "#": " "})


@dataclass(frozen=True)
class ParsedChoice:
    indices: tuple[int, ...]
    parsed: bool
    refused: bool = False


def format_letters(indices: Sequence[int]) -> str:
    """``(1, 3)`` -> ``"B, D"``."""
    return ", ".join(LETTERS[i] for i in sorted(indices))


def _letters(segment: str, count: int, lenient: bool) -> set[int]:
    found: set[int] = set()
    for match in re.finditer(r"(?<![A-Za-z0-9'])([A-Za-z])(?![A-Za-z0-9'])", segment):
        char = match.group(1)
        after = segment[match.end():]
        if char in "aAI" and re.match(r" +[a-z]{2,}", after):
            continue                           # "a dilated ventricle", "A dilated", "I think"
        if char.islower() and not lenient:
            continue
        index = LETTERS.index(char.upper())
        if index < count:
            found.add(index)
    return found


def _option_texts(segment: str, options: Sequence[str]) -> set[int]:
    text = segment.lower()
    found: set[int] = set()
    for index in sorted(range(len(options)), key=lambda i: -len(options[i])):
        pattern = r"(?<![a-z0-9])" + re.escape(options[index].lower()) + r"(?![a-z0-9])"
        match = re.search(pattern, text)
        if match:
            found.add(index)
            text = text[:match.start()] + " " * (match.end() - match.start()) + text[match.end():]
    return found


def _read(segment: str, options: Sequence[str], lenient: bool) -> set[int]:
    letters = _letters(segment, len(options), lenient)
    return letters or _option_texts(segment, options)


def _segments(text: str) -> list[tuple[str, bool, bool]]:
    """(segment, lenient, decisive) in priority order; a decisive segment ends the search."""
    out: list[tuple[str, bool, bool]] = []
    answers = list(ANSWER_LINE.finditer(text))
    if answers:
        out.append((answers[-1].group("rest"), True, True))
    if len(text) <= BARE_REPLY_MAX and "\n" not in text:
        out.append((text, True, False))
    lines = [line for line in text.splitlines() if line.strip()]
    if lines:
        out.append((lines[-1], False, False))
    out.append((text, False, False))
    return out


def parse_choice(text: str, options: Sequence[str], multi: bool) -> ParsedChoice:
    """The option indices a reply chooses; ``parsed`` is False when none can be read."""
    clean = (text or "").translate(_MARKUP).strip()
    if clean and options:
        for segment, lenient, decisive in _segments(clean):
            found = _read(segment, options, lenient)
            if not found:
                if decisive and segment.strip():
                    break
                continue
            if not multi and len(found) > 1:
                return ParsedChoice((), False, bool(REFUSAL.search(clean)))
            return ParsedChoice(tuple(sorted(found)), True, False)
    return ParsedChoice((), False, bool(REFUSAL.search(clean)))
