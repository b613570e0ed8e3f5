"""What a DICOM series is, from the physics in its headers (keywords only as a fallback).

First, what is no CardioLens series (:func:`excluded`, listed with the reason): an ImageType
naming a MAP; mapping keywords (``map``, ``molli``, ``sasha``, ``ecv``, ``t2*``/``star``;
``t1`` without an LGE or perfusion keyword) in the SeriesDescription (the exam-level
ProtocolName only when it is empty), unless the timing decides a cine or a perfusion;
several echo times at one location (multi-echo
T2* or T2 mapping); an inversion time varying at one location by more than
``TI_SCOUT_SPAN_MS`` (TI scout, Look-Locker).

Sequence, first rule that applies:
- **T2**: echo time >= ``T2_MIN_TE_MS``, or a dark-blood / STIR preparation named in the
  sequence fields or the description;
- **perfusion** ("perfusion-like": >= ``PERF_MIN_DYNAMICS`` images per location at <=
  ``PERF_MAX_LOCATIONS`` locations, at most ``PERF_MAX_RATE_HZ`` images per second, i.e.
  one per heartbeat) over >= ``PERF_LONG_SPAN_S`` at one location (longer than any
  breath-hold cine, whatever the trigger times say);
- **cine**: several images per location whose trigger times span >= ``CINE_MIN_SPAN_MS``;
  or >= ``CINE_MIN_PHASES`` images at >= ``REALTIME_MIN_RATE_HZ`` per second (real-time);
  or, without any TriggerTime, images per location = CardiacNumberOfImages >=
  ``CINE_MIN_PHASES``;
- **perfusion**: perfusion-like with a saturation-recovery delay (inversion time <
  ``LGE_TI_MS[0]``) over >= ``PERF_MIN_SPAN_S`` (or with no acquisition times);
- **LGE**: one image per location (two for magnitude + phase PSIR) with an inversion time in
  ``LGE_TI_MS``;
- otherwise the series description / protocol keywords.

A series whose images differ in ImageOrientationPatient by more than ``MAX_IOP_DEG`` is split
into one part per orientation (``series 6.1``, ``6.2``). Single-location series that are
slices of one stack (same orientation, matrix, image count, echo and inversion time,
description up to digits) are joined: many scanners store each short-axis cine or LGE slice
as its own series; a position acquired twice keeps its latest acquisition. Parts of a series
(or single-slice series) with parallel slice normals but disagreeing orientations are one
stack with an odd slice: refused, never split into a stack without it.

View: with a short-axis stack in the study (a cine, else any series, with >= 3 locations
whose normal is within 49 degrees of the nominal LV axis), the angle between a series' slice
normal and the stack's normal: < ``SAX_MAX_DEG`` short axis, > ``LAX_MIN_DEG`` long axis
(which one: the normal's direction in the stack's continuous short-axis display,
:func:`lax_view_from_stack`; a view keyword that names another view is overruled with a
note, and names the view only near a boundary, where the geometry does not decide; else
undecided). Without a stack: keywords,
else the number of locations (>= 3, or a perfusion series: short axis), else a normal within
``SAX_MAX_DEG`` of the nominal LV axis (short axis); a long-axis plane without a stack or a
view keyword stays unclassified (which view it is needs the stack).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cardiolens.data.orientation import APEX_RAS, MIN_AXIS_COS, sax_display_axes

T2_MIN_TE_MS = 40.0
CINE_MIN_SPAN_MS = 150.0
CINE_MIN_PHASES = 10          # CardiacNumberOfImages of a cine without trigger times
REALTIME_MIN_RATE_HZ = 8.0    # images per second at a location: a real-time cine
PERF_MIN_DYNAMICS = 15        # T1-mapping schemes (MOLLI, ShMOLLI, SASHA) have <= 11 images
PERF_MAX_LOCATIONS = 5
PERF_MAX_RATE_HZ = 3.0        # one image per heartbeat at a location
PERF_MIN_SPAN_S = 10.0
PERF_LONG_SPAN_S = 25.0       # longer than any breath-hold cine
LGE_TI_MS = (150.0, 700.0)
TI_SCOUT_SPAN_MS = 50.0
SAX_MAX_DEG = 30.0
LAX_MIN_DEG = 60.0
LAX_NORMAL_DEG = {"4ch": 30.0, "2ch": 90.0, "3ch": 150.0}
LAX_VIEW_MAX_DEG = 20.0       # farther from every view's normal (10 from a boundary): undecided
MAX_IOP_DEG = 1.0             # images of one stack share ImageOrientationPatient within this

SEQUENCE_KEYWORDS = (("perf", ("perf", "first pass", "firstpass")),
                     ("lge", ("lge", "psir", "delayed", "late ", "late_", "de_", "mde",
                              "viability")),
                     ("t2", ("t2", "stir", "edema", "oedema", "tirm")),
                     ("cine", ("cine", "ssfp", "fiesta", "trufi", "bffe", "balanced")))
"""Sequence keywords, matched at the start of a word ("perf" in "perfusion")."""
VIEW_KEYWORDS = (("4ch", ("4ch", "4 ch", "4-ch", "4cv", "hla", "four chamber", "4 chamber")),
                 ("3ch", ("3ch", "3 ch", "3-ch", "3cv", "lvot", "three chamber",
                          "3 chamber")),
                 ("2ch", ("2ch", "2 ch", "2-ch", "2cv", "vla", "two chamber", "2 chamber")),
                 ("sax", ("sax", "short", "sa", "short axis", "stack")),
                 ("lax", ("lax", "long axis", "long-axis", "longaxis")))
"""View keywords, matched as whole words (letters and digits around them end the match:
"lax" is no keyword in "relaxation", "sa" none in "sagittal")."""
MAPPING_KEYWORDS = (r"map", r"molli", r"sasha", r"(?<![a-z])ecv(?![a-z])", r"t2\s*\*",
                    r"t2[\s_-]?star", r"(?<![a-z])star(?![a-z])")


def has_word(text: str, word: str) -> bool:
    """``word`` in ``text`` with no letter or digit on either side."""
    return re.search(rf"(?<![a-z0-9]){re.escape(word)}(?![a-z0-9])", text) is not None


def has_word_start(text: str, word: str) -> bool:
    """``word`` in ``text`` at the start of a word ("perf" in "perfusion", not "superf")."""
    return re.search(rf"(?<![a-z0-9]){re.escape(word)}", text) is not None


DARK_BLOOD = ("dark blood", "black blood", "darkblood", "blackblood", "db_", "stir", "tirm")


@dataclass(frozen=True)
class FileNames:
    """How the console names a file (docs/data-format.md, "DICOM on the console"): by its
    number in SRC, the files listed in sorted path order from 1 (``index``), and its path
    relative to SRC only with ``show_paths`` (folder and file names can carry a name or an
    MRN)."""

    index: dict[Path, int]
    src: Path
    show_paths: bool = False

    def one(self, path: Path) -> str:
        number = self.index.get(path)
        if number is None:
            return "a file"
        return (f"file {number} ({path.relative_to(self.src).as_posix()})" if self.show_paths
                else f"file {number}")

    def many(self, paths: Iterable[Path], most: int = 4) -> str:
        """"file 7", "files 41-60", "files 3, 9 and 12", "files 3, 9, 12, 15 and 8 more"."""
        found = sorted(set(paths), key=lambda p: self.index.get(p, 0))
        if len(found) == 1:
            return self.one(found[0])
        numbers = [self.index.get(p, 0) for p in found]
        if not self.show_paths and numbers == list(range(numbers[0], numbers[-1] + 1)):
            return f"files {numbers[0]}-{numbers[-1]}"
        names = [self.one(p).removeprefix("file ") for p in found]
        if len(names) <= most:
            return f"files {', '.join(names[:-1])} and {names[-1]}"
        return f"files {', '.join(names[:most])} and {len(names) - most} more"


FILE_NAMES: ContextVar[FileNames | None] = ContextVar("FILE_NAMES", default=None)
"""Set by the importer for one run; unset (tests of one function), a file is its base name."""


def file_name(path: Path) -> str:
    names = FILE_NAMES.get()
    return names.one(path) if names is not None else path.name


def file_names(paths: Iterable[Path]) -> str:
    names = FILE_NAMES.get()
    if names is not None:
        return names.many(paths)
    found = sorted({p.name for p in paths})
    return (found[0] if len(found) == 1 else
            ", ".join(found[:4]) + (f" and {len(found) - 4} more" if len(found) > 4 else ""))


@dataclass
class SeriesFiles:
    number: int
    description: str
    files: list[tuple[Path, Any]] = field(default_factory=list)
    joined: tuple[str, ...] = ()
    """Names (:attr:`name`) of the series joined into this stack (empty for one DICOM
    series)."""
    part: int = 0
    """1, 2, ... for the orientation groups of a series that mixes orientations (0: whole)."""
    nth: int = 0
    """1, 2, ... among the study's series that share this SeriesNumber (0: the only one)."""

    @property
    def name(self) -> str:
        """The SeriesNumber, with "(2nd)" when other series of the study share it."""
        return f"{self.number} ({ordinal(self.nth)})" if self.nth else str(self.number)

    @property
    def label(self) -> str:
        name = (f"series {'+'.join(self.joined)}" if self.joined else f"series {self.name}")
        return f"{name}.{self.part}" if self.part else name


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st, ..."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


@dataclass(frozen=True)
class Kind:
    sequence: str
    view: str
    evidence: str


@dataclass(frozen=True)
class Facts:
    """The header facts classification uses (no identifying fields)."""

    locations: int
    per_location: int
    te_ms: float | None
    ti_ms: float | None
    ti_span_ms: float
    trigger_span_ms: float
    time_span_s: float
    cardiac_images: int
    normal: np.ndarray
    text: str
    """Lower-case keyword text: the SeriesDescription and the sequence tags (SequenceName,
    ScanningSequence, SequenceVariant, ScanOptions); the exam-level ProtocolName only when
    the SeriesDescription is empty. Never printed (free text may name the patient)."""
    echo_times: int = 1
    """Most distinct echo times at one location (several: multi-echo)."""
    image_type: tuple[str, ...] = ()
    timed: bool = False
    """Acquisition or content times present."""
    triggered: bool = False
    """TriggerTime present."""

    @property
    def rate_hz(self) -> float:
        """Images per second at one location (0 without a time span)."""
        return (self.per_location - 1) / self.time_span_s if self.time_span_s > 0 else 0.0

    def __str__(self) -> str:
        def ms(v: float | None) -> str:
            return "none" if v is None else f"{v:g} ms"

        return (f"{self.locations} location(s) x {self.per_location} image(s), TE "
                f"{ms(self.te_ms)}"
                f"{f' ({self.echo_times} echo times)' if self.echo_times > 1 else ''}, TI "
                f"{ms(self.ti_ms)} (span {self.ti_span_ms:.0f} ms), "
                f"trigger times span "
                f"{self.trigger_span_ms:.0f} ms, one location acquired over "
                f"{self.time_span_s:.1f} s, "
                f"CardiacNumberOfImages {self.cardiac_images or 'none'}, "
                f"ImageType {'/'.join(self.image_type) or 'none'}")


def _float(header: Any, name: str) -> float | None:
    try:
        value = getattr(header, name, None)
        return None if value in (None, "") else float(value)
    except (TypeError, ValueError):
        return None


def _iop(header: Any) -> np.ndarray:
    return np.asarray([float(v) for v in header.ImageOrientationPatient])


def _normal(header: Any) -> np.ndarray:
    row_col = _iop(header)
    n = np.cross(row_col[:3], row_col[3:])
    return n / max(float(np.linalg.norm(n)), 1e-9)


def position_along(header: Any, reference: Any) -> float:
    """Position (mm) of an image along the reference image's slice normal (unrounded: see
    :func:`slice_positions` for the slice each image belongs to)."""
    return float(np.dot(_normal(reference), [float(v) for v in header.ImagePositionPatient]))


POSITION_SHARE = 0.1     # images within this share of the median slice gap are one slice,
POSITION_MAX_MM = 0.5    # at most this far apart (export float noise, never a real gap)
POSITION_MIN_MM = 0.01   # and always when this close


def slice_positions(headers: Sequence[Any], reference: Any) -> list[float]:
    """Each image's slice position (mm along the reference's normal): positions are
    clustered, not rounded (positions jittered by 1e-4 mm across a rounding boundary are
    one slice). A slice starts where a position lies more than the tolerance (POSITION_SHARE
    of the median gap between distinct positions, within POSITION_MIN_MM..POSITION_MAX_MM)
    beyond the first position of the slice below; each image gets its slice's mean
    position, to 0.01 mm."""
    raw = [position_along(h, reference) for h in headers]
    values = sorted(raw)
    gaps = np.diff(values)
    gaps = gaps[gaps > POSITION_MIN_MM]
    share = POSITION_SHARE * float(np.median(gaps)) if gaps.size else POSITION_MAX_MM
    tolerance = min(POSITION_MAX_MM, max(POSITION_MIN_MM, share))
    slices: list[list[float]] = []
    for v in values:
        if slices and v - slices[-1][0] <= tolerance:
            slices[-1].append(v)
        else:
            slices.append([v])
    where = {v: round(float(np.mean(members)), 2) for members in slices for v in members}
    return [where[v] for v in raw]


def seconds(header: Any) -> float:
    """Acquisition (else content) time of day in seconds; InstanceNumber when both absent."""
    for name in ("AcquisitionTime", "ContentTime"):
        text = str(getattr(header, name, "") or "").replace(":", "")
        match = re.fullmatch(r"(\d{2})(\d{2})?(\d{2}(?:\.\d*)?)?", text.strip())
        if match:
            h, m, s = match.groups()
            return int(h) * 3600 + int(m or 0) * 60 + float(s or 0)
    return float(getattr(header, "InstanceNumber", 0) or 0)


def keyword_text(description: str, header: Any) -> str:
    """The text keywords are matched in (:attr:`Facts.text`): the SeriesDescription, else
    the ProtocolName (one protocol names every series of an exam: "CMR function + T1
    mapping"), with the sequence tags."""
    tags = " ".join(str(getattr(header, name, "") or "") for name in (
        "SequenceName", "ScanningSequence", "SequenceVariant", "ScanOptions"))
    named = description.strip() or str(getattr(header, "ProtocolName", "") or "")
    return " " + re.sub(r"[\s\\]+", " ", f"{named} {tags}".lower()) + " "


def facts(series: SeriesFiles) -> Facts:
    headers = [h for _, h in series.files]
    first = headers[0]
    by_location: dict[float, list[Any]] = {}
    for h, position in zip(headers, slice_positions(headers, first), strict=True):
        by_location.setdefault(position, []).append(h)
    per_location = max(len(v) for v in by_location.values())
    spans = [np.ptp([_float(h, "TriggerTime") or 0.0 for h in group])
             for group in by_location.values()]
    timed = any(getattr(h, "AcquisitionTime", None) or getattr(h, "ContentTime", None)
                for h in headers)
    time_span = max(float(np.ptp([seconds(h) for h in group])) if timed else 0.0
                    for group in by_location.values())
    text = keyword_text(series.description, first)
    ti_spans = [np.ptp([_float(h, "InversionTime") or 0.0 for h in group])
                for group in by_location.values()]
    echoes = max(len({round(te, 1) for h in group if (te := _float(h, "EchoTime")) is not None})
                 for group in by_location.values())
    image_type = tuple(dict.fromkeys(str(v).upper() for h in headers
                                     for v in (getattr(h, "ImageType", None) or [])))
    return Facts(len(by_location), per_location, _float(first, "EchoTime"),
                 _float(first, "InversionTime"), float(max(ti_spans)), float(max(spans)),
                 time_span,
                 int(_float(first, "CardiacNumberOfImages") or 0), _normal(first),
                 text,
                 max(echoes, 1), image_type, bool(timed),
                 any(_float(h, "TriggerTime") is not None for h in headers))


def excluded(f: Facts, physics: str | None = None) -> str | None:
    """Why a series is no CardioLens series (parameter maps, T1 / T2* mapping, TI scouts,
    multi-echo), or None. ``physics``: the sequence its headers decide without keywords
    (:func:`sequence_of`); a cine or perfusion decided by its timing (several phases or
    dynamics per location) is not excluded by a keyword (the exclusions from the physics,
an ImageType MAP, several echo times or inversion times at one location, still apply)."""
    maps = [v for v in f.image_type if "MAP" in v]
    if maps:
        return f"ImageType {maps[0]}: a parameter map"
    word = None if physics in TIMED else next(
        (m.group(0) for pattern in MAPPING_KEYWORDS if (m := re.search(pattern, f.text))), None)
    if word:
        return f"keyword {word.strip()!r}: a mapping (T1, T2, T2*, ECV) series"
    if (physics not in TIMED and has_word(f.text, "t1")
            and not any(has_word_start(f.text, w)
                        for name, words in SEQUENCE_KEYWORDS[:2] for w in words)):
        return "keyword 't1' without an LGE or perfusion keyword: T1 mapping or T1-weighted"
    if f.echo_times > 1:
        return f"{f.echo_times} echo times at one location: multi-echo (T2* or T2 mapping)"
    if f.ti_span_ms > TI_SCOUT_SPAN_MS:
        return "inversion times vary at one location (TI scout or T1 mapping)"
    return None


TIMED = ("cine", "perf")
"""Sequences decided by timing (several phases or dynamics at a location): a mapping
keyword does not outrank them."""


def sequence_of(f: Facts, keywords: bool = True) -> tuple[str, str] | None:
    """(sequence, evidence) from the physics, then (``keywords``) the keywords; None when
    undecided. Call :func:`excluded` first."""
    if f.te_ms is not None and f.te_ms >= T2_MIN_TE_MS:
        return "t2", f"echo time {f.te_ms:g} ms"
    dark = next((w for w in DARK_BLOOD if has_word_start(f.text, w)), None)
    if dark and f.per_location <= 2:
        return "t2", f"dark-blood / STIR preparation ({dark.strip()})"
    perf_like = (f.per_location >= PERF_MIN_DYNAMICS and f.locations <= PERF_MAX_LOCATIONS
                 and f.rate_hz <= PERF_MAX_RATE_HZ)
    if perf_like and f.time_span_s >= PERF_LONG_SPAN_S:
        return "perf", (f"{f.per_location} dynamics at {f.locations} location(s) over "
                        f"{f.time_span_s:.0f} s (longer than a breath-hold cine)")
    if f.per_location >= 2 and f.trigger_span_ms >= CINE_MIN_SPAN_MS:
        return "cine", (f"{f.per_location} phases per location over {f.trigger_span_ms:.0f} "
                        "ms of the cardiac cycle")
    if f.per_location >= CINE_MIN_PHASES and f.rate_hz >= REALTIME_MIN_RATE_HZ:
        return "cine", (f"{f.per_location} images per location at {f.rate_hz:.0f} per second "
                        "(real-time cine)")
    if (not f.triggered and f.per_location >= CINE_MIN_PHASES
            and f.cardiac_images == f.per_location):
        return "cine", (f"{f.per_location} images per location = CardiacNumberOfImages, no "
                        "trigger times (phases of one cycle)")
    saturation = f.ti_ms is not None and f.ti_ms < LGE_TI_MS[0]
    if perf_like and saturation and (f.time_span_s >= PERF_MIN_SPAN_S or not f.timed):
        span = f" over {f.time_span_s:.0f} s" if f.timed else ""
        return "perf", (f"{f.per_location} dynamics at {f.locations} location(s){span}, "
                        f"saturation delay {f.ti_ms:g} ms")
    if f.ti_ms is not None and LGE_TI_MS[0] <= f.ti_ms <= LGE_TI_MS[1] and f.per_location <= 2:
        return "lge", f"inversion time {f.ti_ms:g} ms, one phase"
    if not keywords:
        return None
    word = next((name for name, words in SEQUENCE_KEYWORDS
                 if any(has_word_start(f.text, w) for w in words)), None)
    if word:
        return word, "keywords"
    return None


def _keyword_view(f: Facts) -> str | None:
    return next((name for name, words in VIEW_KEYWORDS
                 if any(has_word(f.text, w) for w in words)), None)


def _ras(normal_lps: np.ndarray) -> np.ndarray:
    return np.asarray(normal_lps, float) * np.array([-1.0, -1.0, 1.0])


def _stack_reference(items: Sequence[tuple[SeriesFiles, Facts, str | None]]
                     ) -> tuple[SeriesFiles, Facts] | None:
    """The short-axis stack that defines the LV long axis: a cine first, then any series."""
    candidates = []
    for series, f, sequence in items:
        if f.locations >= 3 and abs(float(_ras(f.normal) @ APEX_RAS)) >= MIN_AXIS_COS:
            candidates.append((sequence != "cine", -f.locations, series.number, series.part,
                               series, f))
    if not candidates:
        return None
    best = min(candidates, key=lambda c: c[:4])
    return best[4], best[5]


def lax_view_from_stack(plane_normal_ras: np.ndarray, stack_normal_ras: np.ndarray
                        ) -> tuple[str | None, float]:
    """Which long-axis view a plane is, and the angle (0-180) of its normal in the stack's
    short-axis display (0 up, counter-clockwise towards the septum on the image left).

    The display comes from the continuous anatomical axes (the stack normal as the LV long
    axis, the nominal septal direction projected on it: ``sax_display_axes``), not from the
    90-degree snapped transform. The AHA views cut the LV through: 4CH inferoseptal (120) and
    anterolateral (300) walls, normal at 30; 2CH anterior and inferior, normal at 90; 3CH
    anteroseptal and inferolateral, normal at 150. A normal more than LAX_VIEW_MAX_DEG from
    all three is undecided (None).
    """
    _, left, up = sax_display_axes(stack_normal_ras)
    m = np.asarray(plane_normal_ras, float)
    angle = math.degrees(math.atan2(float(m @ left), float(m @ up))) % 180.0
    distance = {v: min(abs(angle - d), 180.0 - abs(angle - d)) for v, d in LAX_NORMAL_DEG.items()}
    view = min(distance, key=lambda v: distance[v])
    return (view if distance[view] <= LAX_VIEW_MAX_DEG else None), angle


def _orientation(header: Any, seen: list[tuple[float, ...]]) -> tuple[float, ...] | None:
    """The ImageOrientationPatient of ``seen`` within MAX_IOP_DEG (row and column direction)
    of the header's, else the header's own (added to ``seen``): orientations that differ by
    float noise are one; None when it does not convert."""
    try:
        iop = tuple(float(v) for v in header.ImageOrientationPatient)
    except (AttributeError, TypeError, ValueError):
        return None
    if len(iop) != 6:
        return None
    match = next((ref for ref in seen if _same_orientation(iop, ref)), None)
    if match is None:
        seen.append(iop)
        match = iop
    return match


def _same_orientation(a: Sequence[float], b: Sequence[float]) -> bool:
    x, y = np.asarray(a, float), np.asarray(b, float)
    return (_angle_deg(x[:3], y[:3]) <= MAX_IOP_DEG
            and _angle_deg(x[3:], y[3:]) <= MAX_IOP_DEG)


def _slice_key(series: SeriesFiles, seen: list[tuple[float, ...]]) -> tuple[Any, ...] | None:
    """What single-location series must share to be slices of one stack (the orientation
    within MAX_IOP_DEG: ``seen`` holds the orientations met so far)."""
    headers = [h for _, h in series.files]
    first = headers[0]
    if len(set(slice_positions(headers, first))) != 1:
        return None
    return (_orientation(first, seen), int(getattr(first, "Rows", 0) or 0),
            int(getattr(first, "Columns", 0) or 0), len(headers),
            round(_float(first, "EchoTime") or 0.0, 1),
            round(_float(first, "InversionTime") or 0.0), re.sub(r"\d+", "#", series.description))


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    cos = float(a @ b) / max(float(np.linalg.norm(a) * np.linalg.norm(b)), 1e-9)
    return math.degrees(math.acos(max(-1.0, min(1.0, cos))))


def _parallel(a: np.ndarray, b: np.ndarray) -> bool:
    """Two orientations whose slice normals are within SAX_MAX_DEG (either sign): slices of
    one stack, not two planes."""
    na, nb = np.cross(a[:3], a[3:]), np.cross(b[:3], b[3:])
    return _angle_deg(na, nb) < SAX_MAX_DEG or _angle_deg(na, -nb) < SAX_MAX_DEG


def split_orientations(series_list: list[SeriesFiles]) -> tuple[list[SeriesFiles], list[str]]:
    """Split each series whose images differ in ImageOrientationPatient by more than
    MAX_IOP_DEG (row or column direction) into one part per orientation, with a note.

    Parts whose slice normals are parallel (within SAX_MAX_DEG, either sign) are slices of
    one stack whose orientation disagrees (a row direction flipped, a typo): such a stack
    is not assembled, neither whole nor without the odd slices (a hidden gap would change
    the volume), and the note names the odd files."""
    out: list[SeriesFiles] = []
    notes: list[str] = []
    for series in series_list:
        groups: list[tuple[np.ndarray, list[tuple[Path, Any]]]] = []
        for path, h in series.files:
            iop = _iop(h)
            for reference, members in groups:
                if (_angle_deg(iop[:3], reference[:3]) <= MAX_IOP_DEG
                        and _angle_deg(iop[3:], reference[3:]) <= MAX_IOP_DEG):
                    members.append((path, h))
                    break
            else:
                groups.append((iop, [(path, h)]))
        if len(groups) == 1:
            out.append(series)
            continue
        families: list[list[tuple[np.ndarray, list[tuple[Path, Any]]]]] = []
        for group in groups:
            family = next((f for f in families if _parallel(f[0][0], group[0])), None)
            if family is None:
                families.append([group])
            else:
                family.append(group)
        kept_groups = []
        for family in families:
            if len(family) == 1:
                kept_groups += family
                continue
            family.sort(key=lambda g: -len(g[1]))
            main, odd = family[0], family[1:]
            odd_files = [p for _, members in odd for p, _ in members]
            first_odd = odd[0][0]
            notes.append(
                f"{series.label}: {file_names(odd_files)} ({len(odd_files)} of "
                f"{len(main[1]) + len(odd_files)}) have an ImageOrientationPatient "
                f"{_angle_deg(first_odd[:3], main[0][:3]):.0f} degrees (rows) and "
                f"{_angle_deg(first_odd[3:], main[0][3:]):.0f} degrees (columns) from the "
                f"other images' of the stack; not assembled (a stack is not stored without "
                "one of its slices, nor with a slice whose orientation is in doubt)")
        if not kept_groups:
            continue
        groups = kept_groups
        if len(groups) == 1:
            out.append(SeriesFiles(series.number, series.description, groups[0][1],
                                   series.joined, nth=series.nth))
            continue
        parts = [SeriesFiles(series.number, series.description, members, series.joined, k,
                             series.nth)
                 for k, (_, members) in enumerate(groups, 1)]
        out += parts
        notes.append(f"{series.label} mixes {len(groups)} orientations (ImageOrientationPatient "
                     f"differs by more than {MAX_IOP_DEG:g} degree): split into "
                     f"{', '.join(p.label for p in parts)}")
    return out, notes


def _acquired(series: SeriesFiles) -> tuple[float, int]:
    """When a series was acquired (its first image's time), then its number: later wins."""
    return min(seconds(h) for _, h in series.files), series.number


def _matrix_count_text(rows: Any, columns: Any, images: int, description: str
                       ) -> tuple[int, int, int, str]:
    return int(rows or 0), int(columns or 0), images, re.sub(r"\d+", "#", description)


def _disagreeing_slices(groups: dict[tuple[Any, ...], list[SeriesFiles]],
                        notes: list[str]) -> list[tuple[Any, ...]]:
    """Keys of single-location series that would be slices of one stack (all but the
    orientation alike, slice normals parallel) whose ImageOrientationPatient disagrees: the
    stack is not joined, neither whole nor without them (noted)."""
    refused: list[tuple[Any, ...]] = []
    keys = list(groups)
    for n, key in enumerate(keys):
        if key in refused or key[0] is None:
            continue
        alike = [k for k in keys[n + 1:] if k[1:] == key[1:] and k[0] is not None
                 and k not in refused
                 and _parallel(np.asarray(k[0]), np.asarray(key[0]))]
        if not alike:
            continue
        family = sorted([key, *alike], key=lambda k: -len(groups[k]))
        odd = [s for k in family[1:] for s in groups[k]]
        notes.append(f"{', '.join(s.label for s in groups[family[0]])} not joined into a "
                     f"stack: {', '.join(s.label for s in odd)} "
                     f"({file_names(p for s in odd for p, _ in s.files)}), slices alike but "
                     "for an ImageOrientationPatient that disagrees, may be slices of it; "
                     "skipped (a stack is not stored without one of its slices)")
        refused += family
    return refused


def merge_slices(series_list: list[SeriesFiles], left_out: Sequence[SeriesFiles] = ()
                 ) -> tuple[list[SeriesFiles], list[str]]:
    """Join single-location series that are slices of one stack (many scanners store each
    short-axis cine or LGE slice as its own series): same orientation, matrix, image count,
    echo and inversion time and description up to digits. A position acquired more than
    once keeps its latest acquisition (noted).

    ``left_out``: series left out (a header value that does not convert). A group with the
    matrix, image count and description of one of them may be missing that slice: it is
    neither joined nor kept slice by slice (a stack with a hidden gap), and noted."""
    missing = [(_matrix_count_text(getattr(s.files[0][1], "Rows", 0),
                                   getattr(s.files[0][1], "Columns", 0), len(s.files),
                                   s.description), _orientation(s.files[0][1], []), s.label)
               for s in left_out if s.files]
    seen: list[tuple[float, ...]] = []
    groups: dict[tuple[Any, ...], list[SeriesFiles]] = {}
    out: list[SeriesFiles] = []
    notes: list[str] = []
    for series in series_list:
        key = _slice_key(series, seen)
        if key is None:
            out.append(series)
        else:
            groups.setdefault(key, []).append(series)
    for key in _disagreeing_slices(groups, notes):
        del groups[key]
    for key, members in groups.items():
        signature = _matrix_count_text(key[1], key[2], key[3], members[0].description)
        gap = next((label for other, iop, label in missing
                    if other == signature and (iop is None or (
                        key[0] is not None and _same_orientation(iop, key[0])))), None)
        if gap is not None and len(members) > 1:
            notes.append(f"{', '.join(m.label for m in members)} not joined into a stack: "
                         f"{gap}, left out for a bad header value, may be one of its slices; "
                         "skipped")
            continue
        first = members[0].files[0][1]
        by_position: dict[float, list[SeriesFiles]] = {}
        where = slice_positions([m.files[0][1] for m in members], first)
        for m, position in zip(members, where, strict=True):
            by_position.setdefault(position, []).append(m)
        if len(by_position) < 2:
            out += members
            continue
        kept = []
        for position, repeats in sorted(by_position.items()):
            latest = max(repeats, key=_acquired)
            kept.append(latest)
            if len(repeats) > 1:
                dropped = ", ".join(r.label for r in repeats if r is not latest)
                notes.append(f"slice at {position:g} mm acquired {len(repeats)} times: kept "
                             f"the latest, {latest.label}; dropped {dropped}")
        named = sorted(kept, key=lambda m: (m.number, m.nth))
        merged = SeriesFiles(named[0].number, kept[0].description,
                             [f for m in kept for f in m.files], tuple(m.name for m in named),
                             nth=named[0].nth)
        out.append(merged)
    return sorted(out, key=lambda s: (s.number, s.nth, s.part)), notes


def classify_study(series_list: list[SeriesFiles], left_out: Sequence[SeriesFiles] = ()
                   ) -> tuple[list[tuple[SeriesFiles, Kind | None, str]], list[str]]:
    """Each series (split by orientation, single-location slices of one stack joined) with
    its kind (None: not classified) and the facts that decided it; and notes on splits and
    repeated slices. ``left_out``: series left out for bad header values
    (:func:`merge_slices`)."""
    split, notes = split_orientations(series_list)
    merged, merge_notes = merge_slices(split, left_out)
    notes += merge_notes
    items = []
    for series in merged:
        f = facts(series)
        physics = sequence_of(f, keywords=False)
        reason = excluded(f, physics[0] if physics else None)
        found = None if reason else (physics or sequence_of(f))
        items.append((series, f, found, reason))
    reference = _stack_reference([(s, f, q[0] if q else None) for s, f, q, _ in items])
    out: list[tuple[SeriesFiles, Kind | None, str]] = []
    for series, f, found, reason in items:
        if found is None:
            out.append((series, None, f"{f}; {reason or 'no sequence rule or keyword applies'}"))
            continue
        sequence, why = found
        view, view_why, disagreement = _view(series, f, sequence, reference)
        if disagreement:
            notes.append(disagreement)
        if view is None:
            out.append((series, None, f"{f}; {sequence}, but view: {view_why}"))
        else:
            out.append((series, Kind(sequence, view, f"{why}; {view_why}"), str(f)))
    return out, notes


def _disagrees(series: SeriesFiles, keyword: str | None, view: str) -> str | None:
    """A note when the description's view keyword names another view than the geometry."""
    if keyword is None or keyword == view or (keyword == "lax" and view != "sax"):
        return None
    return (f"{series.label}: the description's view keyword says {keyword}, the geometry "
            f"{view}; kept {view} (the geometry decides)")


def _view(series: SeriesFiles, f: Facts, sequence: str,
          reference: tuple[SeriesFiles, Facts] | None
          ) -> tuple[str | None, str, str | None]:
    """(view or None, why, a note when a view keyword disagrees with the geometry)."""
    keyword = _keyword_view(f)
    if reference is not None:
        ref_series, ref = reference
        if ref_series is series:
            return "sax", "the short-axis stack", _disagrees(series, keyword, "sax")
        angle = math.degrees(math.acos(min(1.0, abs(float(f.normal @ ref.normal)))))
        if angle < SAX_MAX_DEG:
            return ("sax", f"normal {angle:.0f} degrees from the short-axis stack's",
                    _disagrees(series, keyword, "sax"))
        if angle > LAX_MIN_DEG:
            view, direction = lax_view_from_stack(_ras(f.normal), _ras(ref.normal))
            where = (f"normal {angle:.0f} degrees off the short axis, at "
                     f"{round(direction) % 180} "
                     "degrees in the short-axis display")
            if view is None:
                if keyword in ("4ch", "3ch", "2ch"):
                    return keyword, f"{where}, between views; keywords", None
                return None, (f"{where}: more than {LAX_VIEW_MAX_DEG:g} degrees from the 4CH "
                              "(30), 2CH (90) and 3CH (150) normals, view undecided"), None
            return (view, f"{where} (direction in the short-axis frame)",
                    _disagrees(series, keyword, view))
        return (None, f"normal {angle:.0f} degrees from the short-axis stack's (neither view)",
                None)
    return (*_view_without_stack(f, sequence, keyword), None)


def _view_without_stack(f: Facts, sequence: str, keyword: str | None
                        ) -> tuple[str | None, str]:
    if keyword == "lax":
        return None, "long axis by keywords; which view needs a short-axis stack"
    if keyword:
        return keyword, "keywords"
    if f.locations >= 3 or sequence == "perf":
        return "sax", f"{f.locations} location(s), no short-axis stack or view keyword"
    nominal = math.degrees(math.acos(min(1.0, abs(float(_ras(f.normal) @ APEX_RAS)))))
    if nominal < SAX_MAX_DEG:
        return "sax", f"normal {nominal:.0f} degrees from the nominal LV axis, no stack"
    return None, (f"no short-axis stack, no view keyword, normal {nominal:.0f} degrees from "
                  "the nominal LV axis")
