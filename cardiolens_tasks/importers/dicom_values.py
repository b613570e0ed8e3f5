"""DICOM header values the importer reads, checked once per file while headers are read.

pydicom reads a malformed value (an IS "1A", a DS "abc", a position with two numbers) as it
is and fails only when it is converted, far from the file. :func:`bad_values` converts every
value the importer uses and names each one that does not convert, with its tag and its
bytes as stored; it also names values that convert but make no geometry or intensity
(:func:`_meaning`): a PixelSpacing that is not positive, an ImageOrientationPatient that is
not two orthogonal unit vectors, a position or rescale value that is not finite, a
RescaleSlope of 0. What a bad value costs is decided by :data:`LABELS`: a label is reported
and treated as absent; any other value makes its image unusable (and the importer skips the
series that needs the image rather than assemble it with a gap).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

NUMERIC: dict[str, tuple[str, int | None]] = {
    "NumberOfFrames": ("IS", 1),
    "SeriesNumber": ("IS", 1),
    "InstanceNumber": ("IS", 1),
    "CardiacNumberOfImages": ("IS", 1),
    "ImageOrientationPatient": ("DS", 6),
    "ImagePositionPatient": ("DS", 3),
    "PixelSpacing": ("DS", 2),
    "SliceThickness": ("DS", 1),
    "TriggerTime": ("DS", 1),
    "EchoTime": ("DS", 1),
    "InversionTime": ("DS", 1),
    "RescaleSlope": ("DS", 1),
    "RescaleIntercept": ("DS", 1),
}
"""Keyword: (value representation, number of values; None: any)."""

TIMES = ("AcquisitionTime", "ContentTime")
TM = re.compile(r"\d{2}(:?\d{2}(:?\d{2}(\.\d*)?)?)?")

LABELS = frozenset({"SeriesNumber"})
"""Values used only to name a series on the console: a bad one is treated as absent."""

_KIND = {"IS": "an integer (IS)", "DS": "a decimal number (DS)"}


@dataclass(frozen=True)
class BadValue:
    """A value that does not convert: its keyword, tag and the text as stored."""

    keyword: str
    tag: str
    raw: str
    reason: str

    @property
    def label_only(self) -> bool:
        return self.keyword in LABELS

    def text(self, show_value: bool) -> str:
        """The line's words for this value: the value itself only with ``show_value`` (the
        importer's --show-paths; a bad value may be free text, a name typed into the wrong
        field), else its length and the kinds of its characters."""
        shown = f"'{self.raw}'" if show_value else f"({describe(self.raw)})"
        return f"{self.keyword} {self.tag} value {shown} {self.reason}"

    def __str__(self) -> str:
        from cardiolens.importers.dicom_classify import FILE_NAMES

        names = FILE_NAMES.get()
        return self.text(names is not None and names.show_paths)


def describe(raw: str) -> str:
    """What a value is made of without its text: "12 characters: letters, digits, space"."""
    kinds = [name for name, test in (
        ("letters", str.isalpha), ("digits", str.isdigit), ("spaces", str.isspace),
        ("backslashes", lambda c: c == "\\"), ("signs or points", lambda c: c in "+-.eE"))
        if any(test(c) for c in raw)]
    other = any(not (c.isalnum() or c.isspace() or c in "\\+-.") for c in raw)
    kinds += ["other characters"] if other else []
    return f"{len(raw)} character{'s' if len(raw) != 1 else ''}" + (
        f": {', '.join(kinds)}" if kinds else "")


def _is_multi(value: Any) -> bool:
    return isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue"


def _stored(header: Any, keyword: str) -> str | None:
    """The text of ``keyword`` as stored, or None when it is absent or empty."""
    element = header.get_item(keyword) if keyword in header else None
    if element is None or element.value in (None, b"", ""):
        return None
    value = element.value
    if isinstance(value, bytes):
        return value.decode("latin-1").strip(" \x00")
    if _is_multi(value):
        return "\\".join(str(v) for v in value)
    return str(value)


def _problem(keyword: str, vr: str, count: int | None, value: Any) -> str | None:
    values = list(value) if _is_multi(value) else [value]
    if count is not None and len(values) != count:
        return f"has {len(values)} value{'s' if len(values) != 1 else ''}, not {count}"
    convert = int if vr == "IS" else float
    for v in values:
        try:
            number = convert(v) if vr == "DS" else convert(str(v).strip())
        except (TypeError, ValueError):
            return f"is not {_KIND[vr]}"
        if vr == "DS" and number != number:     # NaN
            return f"is not {_KIND[vr]}"
    return _meaning(keyword, [float(v) for v in values] if vr == "DS" else [])


ORTHONORMAL_TOLERANCE = 0.01
"""ImageOrientationPatient: row and column lengths within 1 +- this, their dot product
within +- this (about 0.6 degree from perpendicular)."""


def _meaning(keyword: str, numbers: list[float]) -> str | None:
    """Why decimal values that convert make no geometry or intensity, or None: the image
    would otherwise be stored mirrored, flat or at a wrong scale without a word."""
    if not numbers:
        return None
    if not all(math.isfinite(v) for v in numbers):
        return "is not finite"
    if keyword == "PixelSpacing" and min(numbers) <= 0:
        return "is not positive (a pixel spacing is a distance)"
    if keyword == "RescaleSlope" and numbers[0] == 0:
        return "is 0 (every pixel would be the intercept)"
    if keyword == "ImageOrientationPatient":
        row, col = numbers[:3], numbers[3:]
        lengths = [math.sqrt(sum(v * v for v in axis)) for axis in (row, col)]
        dot = sum(a * b for a, b in zip(row, col, strict=True))
        if (max(abs(n - 1.0) for n in lengths) > ORTHONORMAL_TOLERANCE
                or abs(dot) > ORTHONORMAL_TOLERANCE):
            return (f"is not two orthogonal unit vectors (lengths {lengths[0]:.3g} and "
                    f"{lengths[1]:.3g}, dot product {dot:.3g})")
    return None


def bad_values(header: Any) -> list[BadValue]:
    """Every value the importer reads from ``header`` that does not convert (read with
    pydicom's value validation off, as the importer does)."""
    found = []
    for keyword, (vr, count) in NUMERIC.items():
        raw = _stored(header, keyword)
        if raw is None:
            continue
        try:
            value = getattr(header, keyword)
        except Exception:                       # pydicom refused it outright
            value = raw
        if value in (None, ""):
            continue
        reason = _problem(keyword, vr, count, value)
        if reason:
            found.append(BadValue(keyword, str(header[keyword].tag), raw, reason))
    for keyword in TIMES:      # ContentTime is read only without an AcquisitionTime
        raw = _stored(header, keyword)
        if raw is None:
            continue
        if TM.fullmatch(raw.strip()):
            break
        found.append(BadValue(keyword, str(header[keyword].tag), raw,
                              "is not a time (TM, HHMMSS.FFFFFF)"))
        break
    return found


def drop_labels(header: Any, bad: list[BadValue]) -> None:
    """Remove the label values of ``bad`` from ``header``: the importer reads them as absent."""
    for value in bad:
        if value.label_only and value.keyword in header:
            del header[value.keyword]
