"""What a DICOM series is, from the physics in its headers (keywords only as a fallback).

Sequence, first rule that applies:
- **T2**: echo time >= ``T2_MIN_TE_MS``, or a dark-blood / STIR preparation named in the
  sequence fields or the description;
- **perfusion** first when >= ``PERF_MIN_DYNAMICS`` images at <= ``PERF_MAX_LOCATIONS``
  locations span >= ``PERF_LONG_SPAN_S`` seconds at one location (longer than any
  breath-hold cine, whatever the trigger times say);
- **cine**: several images per location whose trigger times span >= ``CINE_MIN_SPAN_MS`` of
  the cardiac cycle (phases of one beat);
- **perfusion**: >= ``PERF_MIN_DYNAMICS`` images per location at <= ``PERF_MAX_LOCATIONS``
  locations at one cardiac delay, taken over >= ``PERF_MIN_SPAN_S`` seconds at one location
  (many beats) or with a saturation-recovery delay (inversion time < ``LGE_TI_MS[0]``);
- **LGE**: one image per location (two for magnitude + phase PSIR) with an inversion time in
  ``LGE_TI_MS``;
- otherwise the series description / protocol keywords.

A series whose inversion time varies at one location by more than ``TI_SCOUT_SPAN_MS`` (a TI
scout, a T1-mapping Look-Locker) is no CardioLens series and stays unclassified.

Single-location series that are slices of one stack (same orientation, matrix, image count,
echo and inversion time, description up to digits) are joined first: many scanners store
each short-axis cine or LGE slice as its own series.

View: with a short-axis stack in the study (a cine, else any series, with >= 3 locations
whose normal is within 49 degrees of the nominal LV axis), the angle between a series' slice
normal and the stack's normal: < ``SAX_MAX_DEG`` short axis, > ``LAX_MIN_DEG`` long axis
(which one: keywords, else the normal's direction in the short-axis frame: 4CH normal
anterior-inferior, 2CH septal-lateral, 3CH between). Without a stack: keywords, else the
number of locations (>= 3, or a perfusion series: short axis), else a normal within
``SAX_MAX_DEG`` of the nominal LV axis (short axis); a long-axis plane without a stack or a
keyword stays unclassified (which view it is needs the stack).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cardiolens.data.orientation import (
    APEX_RAS,
    MIN_AXIS_COS,
    OrientationError,
    dicom_affine,
    from_affine,
)

T2_MIN_TE_MS = 40.0
CINE_MIN_SPAN_MS = 150.0
PERF_MIN_DYNAMICS = 5
PERF_MAX_LOCATIONS = 5
PERF_MIN_SPAN_S = 10.0
PERF_LONG_SPAN_S = 25.0
LGE_TI_MS = (150.0, 700.0)
TI_SCOUT_SPAN_MS = 50.0
SAX_MAX_DEG = 30.0
LAX_MIN_DEG = 60.0
LAX_NORMAL_DEG = {"4ch": 0.0, "2ch": 90.0, "3ch": 150.0}

SEQUENCE_KEYWORDS = (("perf", ("perf", "first pass", "firstpass")),
                     ("lge", ("lge", "psir", "delayed", "late", "de_", "mde", "viability")),
                     ("t2", ("t2", "stir", "edema", "oedema", "tirm")),
                     ("cine", ("cine", "ssfp", "fiesta", "trufi", "bffe", "balanced")))
VIEW_KEYWORDS = (("4ch", ("4ch", "4 ch", "4-ch", "hla", "four")),
                 ("3ch", ("3ch", "3 ch", "3-ch", "lvot", "three")),
                 ("2ch", ("2ch", "2 ch", "2-ch", "vla", "two")),
                 ("sax", ("sax", "short", " sa ", " sa_", "sa_", "stack")))
DARK_BLOOD = ("dark blood", "black blood", "darkblood", "blackblood", "db_", "stir", "tirm")


@dataclass
class SeriesFiles:
    number: int
    description: str
    files: list[tuple[Path, Any]] = field(default_factory=list)
    joined: tuple[int, ...] = ()
    """Series numbers joined into this stack (empty for one DICOM series)."""

    @property
    def label(self) -> str:
        return (f"series {'+'.join(map(str, self.joined))}" if self.joined
                else f"series {self.number}")


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

    def __str__(self) -> str:
        def ms(v: float | None) -> str:
            return "none" if v is None else f"{v:g} ms"

        return (f"{self.locations} location(s) x {self.per_location} image(s), TE "
                f"{ms(self.te_ms)}, TI {ms(self.ti_ms)} (span {self.ti_span_ms:.0f} ms), "
                f"trigger times span "
                f"{self.trigger_span_ms:.0f} ms, one location acquired over "
                f"{self.time_span_s:.1f} s, "
                f"CardiacNumberOfImages {self.cardiac_images or 'none'}, "
                f"text {self.text.strip()[:40]!r}")


def _float(header: Any, name: str) -> float | None:
    try:
        value = getattr(header, name, None)
        return None if value in (None, "") else float(value)
    except (TypeError, ValueError):
        return None


def _normal(header: Any) -> np.ndarray:
    row_col = np.asarray([float(v) for v in header.ImageOrientationPatient])
    n = np.cross(row_col[:3], row_col[3:])
    return n / max(float(np.linalg.norm(n)), 1e-9)


def position_along(header: Any, reference: Any) -> float:
    """Position (mm) of an image along the reference image's slice normal."""
    return round(float(np.dot(_normal(reference),
                              [float(v) for v in header.ImagePositionPatient])), 1)


def seconds(header: Any) -> float:
    """Acquisition (else content) time of day in seconds; InstanceNumber when both absent."""
    for name in ("AcquisitionTime", "ContentTime"):
        text = str(getattr(header, name, "") or "").replace(":", "")
        match = re.fullmatch(r"(\d{2})(\d{2})(\d{2}(?:\.\d*)?)", text.strip())
        if match:
            h, m, s = match.groups()
            return int(h) * 3600 + int(m) * 60 + float(s)
    return float(getattr(header, "InstanceNumber", 0) or 0)


def facts(series: SeriesFiles) -> Facts:
    headers = [h for _, h in series.files]
    first = headers[0]
    by_location: dict[float, list[Any]] = {}
    for h in headers:
        by_location.setdefault(position_along(h, first), []).append(h)
    per_location = max(len(v) for v in by_location.values())
    spans = [np.ptp([_float(h, "TriggerTime") or 0.0 for h in group])
             for group in by_location.values()]
    timed = any(getattr(h, "AcquisitionTime", None) or getattr(h, "ContentTime", None)
                for h in headers)
    time_span = max(float(np.ptp([seconds(h) for h in group])) if timed else 0.0
                    for group in by_location.values())
    text = " ".join(str(getattr(first, name, "") or "") for name in (
        "ProtocolName", "SequenceName", "ScanningSequence", "SequenceVariant", "ScanOptions"))
    ti_spans = [np.ptp([_float(h, "InversionTime") or 0.0 for h in group])
                for group in by_location.values()]
    return Facts(len(by_location), per_location, _float(first, "EchoTime"),
                 _float(first, "InversionTime"), float(max(ti_spans)), float(max(spans)),
                 time_span,
                 int(_float(first, "CardiacNumberOfImages") or 0), _normal(first),
                 " " + re.sub(r"[\s\\]+", " ", f"{series.description} {text}".lower()) + " ")


def sequence_of(f: Facts) -> tuple[str, str] | None:
    """(sequence, evidence) from the physics, then the keywords; None when undecided or
    when the inversion time varies at a location (TI scout, T1 mapping: no CardioLens
    series)."""
    if f.ti_span_ms > TI_SCOUT_SPAN_MS:
        return None
    if f.te_ms is not None and f.te_ms >= T2_MIN_TE_MS:
        return "t2", f"echo time {f.te_ms:g} ms"
    dark = next((w for w in DARK_BLOOD if f" {w}" in f.text or f"_{w}" in f.text), None)
    if dark and f.per_location <= 2:
        return "t2", f"dark-blood / STIR preparation ({dark.strip()})"
    if (f.per_location >= PERF_MIN_DYNAMICS and f.locations <= PERF_MAX_LOCATIONS
            and f.time_span_s >= PERF_LONG_SPAN_S):
        return "perf", (f"{f.per_location} dynamics at {f.locations} location(s) over "
                        f"{f.time_span_s:.0f} s (longer than a breath-hold cine)")
    if f.per_location >= 2 and f.trigger_span_ms >= CINE_MIN_SPAN_MS:
        return "cine", (f"{f.per_location} phases per location over {f.trigger_span_ms:.0f} "
                        "ms of the cardiac cycle")
    saturation = f.ti_ms is not None and f.ti_ms < LGE_TI_MS[0]
    if (f.per_location >= PERF_MIN_DYNAMICS and f.locations <= PERF_MAX_LOCATIONS
            and (f.time_span_s >= PERF_MIN_SPAN_S or saturation)):
        why = (f"saturation delay {f.ti_ms:g} ms" if saturation
               else f"over {f.time_span_s:.0f} s")
        return "perf", (f"{f.per_location} dynamics at {f.locations} location(s), {why}")
    if f.ti_ms is not None and LGE_TI_MS[0] <= f.ti_ms <= LGE_TI_MS[1] and f.per_location <= 2:
        return "lge", f"inversion time {f.ti_ms:g} ms, one phase"
    word = next((name for name, words in SEQUENCE_KEYWORDS if any(w in f.text for w in words)),
                None)
    if word:
        return word, "keywords"
    return None


def _keyword_view(f: Facts) -> str | None:
    return next((name for name, words in VIEW_KEYWORDS if any(w in f.text for w in words)),
                None)


def _stack_reference(items: Sequence[tuple[SeriesFiles, Facts, str | None]]
                     ) -> tuple[SeriesFiles, Facts] | None:
    """The short-axis stack that defines the LV long axis: a cine first, then any series."""
    candidates = []
    for series, f, sequence in items:
        ras = f.normal * np.array([-1.0, -1.0, 1.0])
        if f.locations >= 3 and abs(float(ras @ APEX_RAS)) >= MIN_AXIS_COS:
            candidates.append((sequence != "cine", -f.locations, series.number, series, f))
    if not candidates:
        return None
    best = min(candidates, key=lambda c: c[:3])
    return best[3], best[4]


def _lax_view_from_stack(f: Facts, reference: SeriesFiles) -> str:
    """Which long-axis view a plane is, from its normal in the stack's canonical frame."""
    h = reference.files[0][1]
    affine = dicom_affine([float(v) for v in h.ImageOrientationPatient],
                          [0.0, 0.0, 0.0], (1.0, 1.0), None)
    try:
        frame = from_affine(affine, "sax", 1)
    except OrientationError:
        return ""
    c_i = affine[:3, 0] / np.linalg.norm(affine[:3, 0])
    c_j = affine[:3, 1] / np.linalg.norm(affine[:3, 1])
    up, right = frame.in_plane.directions(c_i, c_j)         # canonical row / column axes
    ras = f.normal * np.array([-1.0, -1.0, 1.0])
    angle = math.degrees(math.atan2(-(ras @ right), -(ras @ up))) % 180.0
    return min(LAX_NORMAL_DEG, key=lambda v: min(abs(angle - LAX_NORMAL_DEG[v]),
                                                 180 - abs(angle - LAX_NORMAL_DEG[v])))


def _slice_key(series: SeriesFiles) -> tuple[Any, ...] | None:
    """What single-location series must share to be slices of one stack."""
    headers = [h for _, h in series.files]
    first = headers[0]
    if len({position_along(h, first) for h in headers}) != 1:
        return None
    iop = tuple(round(float(v), 2) for v in first.ImageOrientationPatient)
    return (iop, int(getattr(first, "Rows", 0) or 0), int(getattr(first, "Columns", 0) or 0),
            len(headers), round(_float(first, "EchoTime") or 0.0, 1),
            round(_float(first, "InversionTime") or 0.0), re.sub(r"\d+", "#", series.description))


def merge_slices(series_list: list[SeriesFiles]) -> list[SeriesFiles]:
    """Join single-location series that are slices of one stack (many scanners store each
    short-axis cine or LGE slice as its own series): same orientation, matrix, image count,
    echo and inversion time and description up to digits, at different positions."""
    groups: dict[tuple[Any, ...], list[SeriesFiles]] = {}
    out: list[SeriesFiles] = []
    for series in series_list:
        key = _slice_key(series)
        if key is None:
            out.append(series)
        else:
            groups.setdefault(key, []).append(series)
    for members in groups.values():
        first = members[0].files[0][1]
        positions = {position_along(m.files[0][1], first) for m in members}
        if len(members) < 2 or len(positions) < len(members):
            out += members
            continue
        numbers = sorted(m.number for m in members)
        merged = SeriesFiles(numbers[0], members[0].description,
                             [f for m in members for f in m.files], tuple(numbers))
        out.append(merged)
    return sorted(out, key=lambda s: s.number)


def classify_study(series_list: list[SeriesFiles]
                   ) -> list[tuple[SeriesFiles, Kind | None, str]]:
    """Each series (single-location slices of one stack joined) with its kind (None: not
    classified) and the facts that decided it."""
    items = []
    for series in merge_slices(series_list):
        f = facts(series)
        found = sequence_of(f)
        items.append((series, f, found))
    reference = _stack_reference([(s, f, q[0] if q else None) for s, f, q in items])
    out: list[tuple[SeriesFiles, Kind | None, str]] = []
    for series, f, found in items:
        if found is None:
            why = ("inversion times vary at one location (TI scout or T1 mapping)"
                   if f.ti_span_ms > TI_SCOUT_SPAN_MS else "no sequence rule or keyword applies")
            out.append((series, None, f"{f}; {why}"))
            continue
        sequence, why = found
        view, view_why = _view(series, f, sequence, reference)
        if view is None:
            out.append((series, None, f"{f}; {sequence}, but view: {view_why}"))
        else:
            out.append((series, Kind(sequence, view, f"{why}; {view_why}"), str(f)))
    return out


def _view(series: SeriesFiles, f: Facts, sequence: str,
          reference: tuple[SeriesFiles, Facts] | None) -> tuple[str | None, str]:
    keyword = _keyword_view(f)
    if reference is not None:
        ref_series, ref = reference
        if ref_series is series:
            return "sax", "the short-axis stack"
        angle = math.degrees(math.acos(min(1.0, abs(float(f.normal @ ref.normal)))))
        if angle < SAX_MAX_DEG:
            return "sax", f"normal {angle:.0f} degrees from the short-axis stack's"
        if angle > LAX_MIN_DEG:
            if keyword in ("4ch", "3ch", "2ch"):
                return keyword, f"normal {angle:.0f} degrees off the short axis; keywords"
            view = _lax_view_from_stack(f, ref_series)
            return (view or None), (f"normal {angle:.0f} degrees off the short axis, "
                                    "direction in the short-axis frame")
        return None, f"normal {angle:.0f} degrees from the short-axis stack's (neither view)"
    if keyword:
        return keyword, "keywords"
    if f.locations >= 3 or sequence == "perf":
        return "sax", f"{f.locations} location(s), no short-axis stack or view keyword"
    ras = f.normal * np.array([-1.0, -1.0, 1.0])
    nominal = math.degrees(math.acos(min(1.0, abs(float(ras @ APEX_RAS)))))
    if nominal < SAX_MAX_DEG:
        return "sax", f"normal {nominal:.0f} degrees from the nominal LV axis, no stack"
    return None, (f"no short-axis stack, no view keyword, normal {nominal:.0f} degrees from "
                  "the nominal LV axis")
