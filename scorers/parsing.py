"""Reading the chosen option(s) out of a model's free-text reply.

Where the answer is looked for, in order:

1. The last ``Answer:`` line (``Final answer:``, ``**Answer:**``, ``Answers:`` too), or the
   next non-empty line when the marker ends its line. When there is one, it decides alone.
2. The whole reply when it is only letters (``b``, ``(B)``, ``B, D``, ``a/c``, ``B and D``).
3. The text after the last ``answer is`` / ``option is`` / ``choice is`` phrase.
4. The last non-empty line, then the whole reply.

In 1-3 letters may be lower case; in 4 only capital letters standing alone count. Everywhere
``A``/``a`` (and ``I``) followed by a word is read as the article or pronoun ("a dilated
ventricle"), unless the word is one that follows an option letter ("A and C", "A is").
Letters past the last option are ignored. Letters win over option texts in the same place;
option texts match whole words, case-insensitively, longest first, so ``Normal`` never
matches inside ``Normal (EF >= 50%)``; the part of an option before `` (`` also matches
(``Ischemic`` for ``Ischemic (follows a coronary territory)``); a text right after ``not``,
``no``, ``never`` or ``without`` is not chosen. A single-choice reply naming two options is
ambiguous and counts as unparsed. A sentence holding a refusal ("I cannot provide a medical
diagnosis") is not read up to a following ``but``/``however``; an unparsed reply with a
refusal is flagged ``refused``.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

_MARKUP = str.maketrans({"*": " ", "_": " ", "`": " ", "#": " ", "’": "'", "‘": "'",
                         "\u00a0": " "})
_ANSWER_LINE = re.compile(r"\b(?:answers?|answer\s*\(s\))\s*[:=]", re.IGNORECASE)
_ANSWER_PHRASE = re.compile(
    r"\b(?:answer|option|choice)s?\s+(?:is|are|would\s+be|will\s+be|should\s+be)\b\s*:?",
    re.IGNORECASE)
_LETTER = re.compile(r"(?<![\w'.\-])([A-Za-z])(?![\w']|[.\-]\w)")
_NEXT_WORD = re.compile(r"\s+([A-Za-z]{2,})\b")
_LETTER_FOLLOWERS = frozenset({
    "and", "or", "nor", "plus", "is", "are", "was", "were", "seems", "appears", "would",
    "should", "must", "fits", "matches", "because", "since", "as", "only", "then"})
_BARE_PUNCT = re.compile(r"[()\[\]{}<>.,;:/&+|\-]")
_BARE_WORDS = frozenset({"and", "or", "answer", "option", "options", "letter", "letters",
                         "choice"})
_NEGATION = re.compile(
    r"(?:\b(?:not|no|never|without)|n't)\s+(?:(?:a|an|the|be|been|very|significantly)\s+)?$",
    re.IGNORECASE)
REFUSAL = re.compile(
    r"\bi\s*(?:cannot|can ?not|can't|am unable to|'m unable to|am not able to|'m not able to)"
    r"(?!\s+(?:(?:see|detect|identify|find|appreciate)\s+any|rule\s+out|exclude)\b)|"
    r"\bunable to (?:provide|determine|answer|assess|interpret|view|see the|analy[sz]e|"
    r"evaluate|make|give|comply|help|assist)\b|"
    r"\bcan(?: ?not|'t) (?:be )?(?:determined?|assessed|established|made)\b|"
    r"\bnot possible to (?:determine|tell|say|assess)\b|"
    r"\bnot (?:able|qualified) to (?:provide|give|make|offer)\b|"
    r"\bi(?:'m| am) sorry\b|\bas an ai\b|\bi (?:won't|will not|must decline)\b",
    re.IGNORECASE)
_CONTRAST = re.compile(r"\b(?:but|however|although|though|nevertheless)\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?\n]")


@dataclass(frozen=True)
class ParsedChoice:
    """Sorted 0-based option indices chosen; ``parsed`` False when nothing could be read."""

    indices: tuple[int, ...]
    parsed: bool
    refused: bool = False


def format_letters(indices: Iterable[int]) -> str:
    """``(1, 3)`` -> ``"B, D"`` (sorted, without repeats); empty for no indices."""
    chosen = sorted(set(indices))
    if chosen and not 0 <= chosen[0] <= chosen[-1] < len(LETTERS):
        raise ValueError(f"option index out of range A-Z: {chosen}")
    return ", ".join(LETTERS[i] for i in chosen)


def is_refusal(text: str) -> bool:
    """True when ``text`` holds a refusal phrase ("I cannot provide ...", "unable to ...")."""
    return bool(REFUSAL.search(text.translate(_MARKUP)))


def _mask_refusals(segment: str) -> str:
    """Blank each refusal sentence, up to a following ``but``/``however`` if there is one."""
    # Linear in the reply: sentence ends and contrast words are found once and bisected
    # (a reply repeating "I'm sorry" 10,000 times took minutes when each refusal rescanned).
    stops = [m.start() for m in _SENTENCE_END.finditer(segment)]
    contrasts = [m.start() for m in _CONTRAST.finditer(segment)]
    spans: list[tuple[int, int]] = []
    for match in REFUSAL.finditer(segment):
        before = bisect_left(stops, match.start())
        start = stops[before - 1] + 1 if before else 0
        after = bisect_left(stops, match.end())
        end = stops[after] if after < len(stops) else len(segment)
        turn = bisect_left(contrasts, match.end())
        if turn < len(contrasts) and contrasts[turn] < end:
            end = contrasts[turn]
        spans.append((start, end))
    if not spans:
        return segment
    out, done = [], 0
    for start, end in sorted(spans):
        start = max(start, done)
        if end > start:
            out += [segment[done:start], " " * (end - start)]
            done = end
    return "".join([*out, segment[done:]])


def _negated(text: str, start: int) -> bool:
    """True when ``not``/``no``/``never``/``without`` (and maybe ``a``, ``be``) ends at start."""
    return bool(_NEGATION.search(text, max(0, start - 40), start))


def _letters(segment: str, count: int, lenient: bool) -> set[int]:
    found: set[int] = set()
    for match in _LETTER.finditer(segment):
        char = match.group(1)
        if char.islower() and not lenient:
            continue
        if _negated(segment, match.start()):
            continue                          # "not A"
        if char in "aAiI":
            word = _NEXT_WORD.match(segment, match.end())
            if word and word.group(1)[0].islower() and word.group(1) not in _LETTER_FOLLOWERS:
                continue                      # "a dilated ventricle", "A thin wall", "I think"
        index = LETTERS.index(char.upper())
        if index < count:
            found.add(index)
    return found


def _option_texts(segment: str, options: Sequence[str]) -> set[int]:
    candidates: list[tuple[str, int, int]] = []         # (text, is_alias, option index)
    for index, option in enumerate(options):
        text = option.strip().lower()
        if text:
            candidates.append((text, 0, index))
        alias = text.split(" (", 1)[0].strip()
        if alias and alias != text:
            candidates.append((alias, 1, index))
    candidates.sort(key=lambda c: (-len(c[0]), c[1], c[2]))
    work = segment.lower()
    found: set[int] = set()
    for text, _, index in candidates:
        pattern = re.compile(r"(?<![\w-])" + re.escape(text) + r"(?![\w-])")
        chars = list(work)           # blanked in place: linear in the reply's length
        for match in pattern.finditer(work):
            before = "".join(chars[max(0, match.start() - 41):match.start()])
            if not _negated(before, len(before)):
                found.add(index)
            chars[match.start():match.end()] = " " * (match.end() - match.start())
        work = "".join(chars)
    return found


def _read(segment: str, options: Sequence[str], lenient: bool) -> set[int]:
    """Option indices named in ``segment``: its letters if any, else its option texts."""
    segment = _mask_refusals(segment)
    count = min(len(options), len(LETTERS))
    return _letters(segment, count, lenient) or _option_texts(segment, options)


def _answer_line(text: str) -> str | None:
    """What follows the last ``Answer:`` marker (or the next non-empty line); None if none."""
    markers = list(_ANSWER_LINE.finditer(text))
    if not markers:
        return None
    end = markers[-1].end()
    rest, _, after = text[end:].partition("\n")
    if rest.strip():
        return rest
    following = [line for line in after.splitlines() if line.strip()]
    return following[0] if following else None


def _answer_phrase(text: str) -> str | None:
    markers = list(_ANSWER_PHRASE.finditer(text))
    return text[markers[-1].end():].partition("\n")[0] if markers else None


def _is_bare(text: str) -> bool:
    """True when the reply is only letters, separators and words like ``and``/``option``."""
    words = [w for w in _BARE_PUNCT.sub(" ", text).split() if w.lower() not in _BARE_WORDS]
    return bool(words) and all(len(w) == 1 and w.isascii() and w.isalpha() for w in words)


def _fallbacks(text: str) -> list[tuple[str, bool]]:
    """(segment, lenient) to try in order when there is no ``Answer:`` line."""
    out: list[tuple[str, bool]] = []
    if _is_bare(text):
        out.append((text, True))
    phrase = _answer_phrase(text)
    if phrase is not None:
        out.append((phrase, True))
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) > 1:
        out.append((lines[-1], False))
    out.append((text, False))
    return out


def _result(found: set[int], multi: bool, text: str) -> ParsedChoice:
    if not found or (not multi and len(found) > 1):
        return ParsedChoice((), False, is_refusal(text))
    return ParsedChoice(tuple(sorted(found)), True, False)


def parse_choice(text: str, options: Sequence[str], multi: bool) -> ParsedChoice:
    """The option indices a reply chooses among ``options`` (lettered A, B, ...).

    ``parsed`` is False for empty, unreadable, refused or (single-choice) ambiguous replies.
    """
    clean = (text or "").translate(_MARKUP).strip()
    if not clean or not options:
        return ParsedChoice((), False, is_refusal(clean))
    answer = _answer_line(clean)
    if answer is not None:
        return _result(_read(answer, options, lenient=True), multi, clean)
    for segment, lenient in _fallbacks(clean):
        found = _read(segment, options, lenient)
        if found:
            return _result(found, multi, clean)
    return ParsedChoice((), False, is_refusal(clean))
