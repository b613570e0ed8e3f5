"""Cine reading: LV size, wall thickness, function (EF band), regional wall motion, RV
and pericardial effusion, from short-axis rings and long-axis cavities.

Sizes use each frame's :attr:`~cardiolens.reader.request.Frame.mm_per_px` (from the
caption's stated scale, else the reader's prior). Function compares end-diastolic
with end-systolic frames of the same slice or view: the ejection fraction from
long-axis discs (biplane when both views are shown), else from short-axis areas;
regional motion from the endocardial shortening of each sector (short axis, systolic
radii taken from the diastolic centre) or side and third of the cavity (long axis, same
image rows) against the heart's own median.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from cardiolens.data import vocabulary as vocab
from cardiolens.data.anatomy import LEVELS, WALLS6, Site
from cardiolens.reader.lax import Cavity, apical_wall_px, find_cavity
from cardiolens.reader.request import Frame
from cardiolens.reader.sax import R_STEP, Ring, fit_ring
from cardiolens.reader.series import sax_series

DILATED_MM, SMALL_MM = 28.7, 21.5
THICK_MM, THIN_MM = 13.0, 6.2
"""A wall at or above THICK_MM is thickened: the phantom's labelling cut-off (13 mm, between
its normal walls of at most 10.5 mm and its hypertrophy from 13.8), now that sizes are read
at the stated scale (it was 11.8 when the reader assumed one scale for every image)."""
LAX_THICK_MM = 1.1 * THICK_MM
_LV, _W = vocab.LEVELS, vocab.WALLS6
LAX_SIDES = {"4ch": (_W.inferoseptal, _W.anterolateral), "2ch": (_W.inferior, _W.anterior),
             "3ch": (_W.anteroseptal, _W.inferolateral)}
"""Anatomical wall on the image left and right of each long-axis view."""


@dataclass
class CineRead:
    """What the cine frames show; None fields were not measurable from the request."""

    lv_radius_mm: float | None = None
    thickness: dict[Site, float] = field(default_factory=dict)
    ef: float | None = None
    rwma: dict[Site, float] = field(default_factory=dict)   # site -> motion ratio
    motion_seen: bool = False
    rv_depth_mm: float | None = None
    rv_ratio: float | None = None
    effusion_mm: float | None = None


def _is_ed(f: Frame) -> bool:
    return f.when == "end-diastole" or (f.when is None and f.frame == 0)


FLUID_Z = (0.3, 0.55)
"""Pericardial fluid on bSSFP lies between myocardium and blood (z about 0.45-0.6 on the
myocardium-0, blood-1 scale: long T1 against its T2); the epicardial fat beyond it is at
or above the blood level, so a layer in this band right outside the epicardium is fluid
and the fat's own blurred edge crosses it in about a pixel."""


def _run_beyond(ring: Ring, rays: np.ndarray, low: float, high: float = np.inf) -> float:
    """Median length (px) of the run with low < z < high that starts within 3 px past the
    epi."""
    z = np.where(ring.z() < high, ring.z(), -np.inf)
    out = []
    for a in np.flatnonzero(rays):
        start = int(ring.epi[a] / R_STEP)
        seg = z[a, start:start + 6]
        hit = np.flatnonzero(seg > low)
        if hit.size == 0:
            out.append(0.0)
            continue
        k = start + int(hit[0])
        end = k
        while end < z.shape[1] and z[a, end] > low:
            end += 1
        out.append((end - k) * R_STEP)
    return float(np.median(out)) if out else 0.0


def _sax(frames: list[Frame], read: CineRead) -> None:
    series = sax_series(frames, "cine")
    if series is None:
        return
    anat = series.anatomical()
    rv_rays = (anat > 70) & (anat < 110)
    free_rays = (anat > 190) & (anat < 330)
    by_slice: dict[int, dict[str, Ring]] = defaultdict(dict)
    ed_mm: dict[int, float] = {}
    es_pixels: dict[int, np.ndarray] = {}
    for i, (f, ring) in enumerate(zip(series.frames, series.rings, strict=True)):
        if f.when == "end-systole":
            es_pixels[f.slice] = f.pixels
        if not ring.valid:
            continue
        by_slice[f.slice]["ed" if _is_ed(f) else ("es" if f.when == "end-systole" else "x")] \
            = ring
        if _is_ed(f):
            ed_mm[f.slice] = f.mm_per_px
        level = series.level(i)
        if _is_ed(f) and level in LEVELS[:3]:
            if level == _LV.basal:
                r = ring.radius * f.mm_per_px
                read.lv_radius_mm = max(read.lv_radius_mm or 0.0, r)
            for w, wall in enumerate(WALLS6):
                t = float(np.median(ring.thickness[series.walls == w])) * f.mm_per_px
                read.thickness[(level, wall)] = max(read.thickness.get((level, wall), 0.0), t)
    eds = [(k, p["ed"]) for k, p in by_slice.items() if "ed" in p]
    if eds:
        k, mid = eds[len(eds) // 2]
        read.rv_depth_mm = _run_beyond(mid, rv_rays, 0.6) * ed_mm[k]
        read.effusion_mm = _run_beyond(mid, free_rays, FLUID_Z[0], FLUID_Z[1]) * ed_mm[k]
    ratios: dict[Site, float] = {}
    rv_ratios, areas = [], []
    for k, pair in by_slice.items():
        if "ed" not in pair or k not in es_pixels:
            continue
        ed = pair["ed"]
        level = series.level(next(i for i, f in enumerate(series.frames) if f.slice == k))
        if level == _LV.apex:
            continue
        # systolic radii from the diastolic centre: a wall that does not move shifts the
        # cavity's own centre towards itself, which would make its rays look contracting
        es = fit_ring(es_pixels[k], "cine", (ed.cy, ed.cx), fixed=True)
        if "es" not in pair:
            # The systolic ring failed the circle check (a circle through at least 60% of
            # the rays), which suits the round diastolic cavity; the systolic one is small
            # and irregular, crowded by papillary muscles and trabeculae, and a dilated,
            # scarred ventricle's often fails it. Its area comes from the border on every
            # ray, not from a circle, so the slice still measures the ejection fraction
            # (not regional motion) when blood and myocardium are clearly apart and the
            # cavity is smaller than at end-diastole.
            ed_area, es_area = float(np.mean(ed.endo**2)), float(np.mean(es.endo**2))
            if abs(es.blood - es.myo) > 0.05 and es_area < ed_area:
                areas.append((ed_area, es_area))
            continue
        # motion from the first wall radius as tuned (a papillary ray moves with its muscle)
        ed_r = ed.first if ed.first is not None else ed.endo
        es_r = es.first if es.first is not None else es.endo
        short = 1.0 - es_r / np.maximum(ed_r, 1.0)
        for w, wall in enumerate(WALLS6):
            ratios[(level, wall)] = float(np.median(short[series.walls == w]))
        areas.append((float(np.mean(ed.endo**2)), float(np.mean(es.endo**2))))
        d_ed, d_es = _run_beyond(ed, rv_rays, 0.6), _run_beyond(es, rv_rays, 0.6)
        if d_ed > 2:
            rv_ratios.append(d_es / d_ed)
    if ratios:
        ref = float(np.median(list(ratios.values())))
        read.motion_seen = True
        if ref > 0.05:
            read.rwma.update({s: v / ref for s, v in ratios.items() if v < 0.55 * ref})
    if rv_ratios:
        read.rv_ratio = float(np.median(rv_ratios))
    if areas and read.ef is None:
        ed_a, es_a = (sum(a) for a in zip(*areas, strict=True))
        read.ef = 100.0 * (1.0 - es_a / ed_a)


def read_lax(frames: list[Frame], read: CineRead) -> None:
    """Fill ``read`` from the long-axis end-diastolic and end-systolic pairs."""
    pairs: dict[str, dict[str, Cavity]] = defaultdict(dict)
    for f in frames:
        if f.view == "sax" or f.when not in ("end-diastole", "end-systole"):
            continue
        cavity = find_cavity(f.pixels)
        if cavity is None:
            continue
        pairs[f.view]["ed" if f.when == "end-diastole" else "es"] = cavity
        if f.when == "end-diastole" and f.view in LAX_SIDES:
            _apical_hypertrophy(f, cavity, LAX_SIDES[f.view], read)
    full = {v: p for v, p in pairs.items() if len(p) == 2 and _consistent(p["ed"], p["es"])}
    if not full:
        return
    volumes = {}
    for view, p in full.items():
        volumes[view] = (p["ed"].widths, p["es"].widths)
    ed_v = es_v = 0.0
    views = list(volumes)
    a, b = volumes[views[0]], volumes[views[-1]]
    ed_v = float(np.sum(_align(a[0], b[0])))
    es_v = float(np.sum(_align(a[1], b[1])))
    if ed_v > 0:
        read.ef = 100.0 * (1.0 - es_v / ed_v)
    sides: dict[Site, float] = {}
    for view, p in full.items():
        ed, es = p["ed"], p["es"]
        n = len(ed.widths)
        centre = 0.5 * (ed.left + ed.right)
        # the apical cap, where the wall runs across the rows, has no sideways motion
        side_on = ed.widths >= CAP_WIDTH * float(ed.widths.max())
        for s, wall in enumerate(LAX_SIDES.get(view, ())):
            for third, level in enumerate((_LV.apical, _LV.mid, _LV.basal)):
                rows = np.arange(n * third // 3, n * (third + 1) // 3)
                es_rows = rows + ed.top - es.top      # the same image rows in systole
                inside = (es_rows >= 0) & (es_rows < len(es.widths)) & side_on[rows]
                rows, es_rows = rows[inside], es_rows[inside]
                if rows.size < 3:
                    continue
                edge_ed = ed.left[rows] if s == 0 else ed.right[rows]
                edge_es = es.left[es_rows] if s == 0 else es.right[es_rows]
                half = np.maximum(np.abs(edge_ed - centre[rows]), 1.0)
                move = (edge_es - edge_ed) * (1 if s == 0 else -1) / half
                sides[(level, wall)] = float(np.median(move))
    if sides:
        ref = float(np.median(list(sides.values())))
        read.motion_seen = True
        if ref > 0.05:
            for site, v in sides.items():
                if v < 0.5 * ref:
                    read.rwma.setdefault(site, v / ref)


CAP_WIDTH = 0.4
"""Rows of the diastolic cavity narrower than this share of its widest row are the apical
cap: the wall crosses them obliquely, so the edges' sideways shift there measures the
cap's geometry, not the wall's motion (regional motion uses the rows below)."""
APEX_SHIFT_PX = 10
"""The epicardial apex stays in place through the cycle; its endocardium moves in by the
wall's thickening, a few mm (10 px is about 8 mm)."""
BASE_RISE_PX = 3
"""The valve plane descends towards the apex in systole: the systolic cavity ends no
lower in the image (apex up) than the diastolic one, up to this tolerance (px)."""
MAX_DESCENT_PX = 30
"""...and by no more than the largest systolic descent of the base (MAPSE, at most about
20 mm; 30 px is about 24 mm at the assumed display scale)."""


def _consistent(ed: Cavity, es: Cavity) -> bool:
    """Whether a view's two cavities can be the same ventricle: the systolic one smaller,
    with the apex in place and the base no lower, nor higher than the base can descend.
    A view that breaks this was traced past the valve plane or short of the apex (or cut
    short) in one frame; it measures nothing."""
    ed_end, es_end = ed.top + len(ed.widths), es.top + len(es.widths)
    return (_disc_volume(es.widths) < _disc_volume(ed.widths)
            and abs(es.top - ed.top) <= APEX_SHIFT_PX
            and ed_end - MAX_DESCENT_PX <= es_end <= ed_end + BASE_RISE_PX)


def _apical_hypertrophy(frame: Frame, cavity: Cavity, walls: tuple[str, str],
                        read: CineRead) -> None:
    """Record apical walls that the long-axis view shows thickened. Horizontal runs
    overstate the oblique apical wall by up to about 10%, so only walls beyond
    :data:`LAX_THICK_MM` count; the short-axis slices give every other thickness."""
    for wall, px in zip(walls, apical_wall_px(frame.pixels, cavity), strict=True):
        mm = px * frame.mm_per_px
        if mm >= LAX_THICK_MM:
            site = (_LV.apical, wall)
            read.thickness[site] = max(read.thickness.get(site, 0.0), mm)


def _disc_volume(widths: np.ndarray) -> float:
    """Single-plane disc volume (px^3 up to a constant) of one cavity."""
    return float(np.sum(widths.astype(float) ** 2))


def _align(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Disc areas (width products) of two views aligned at the base (bottom) row."""
    n = min(len(a), len(b))
    return a[len(a) - n:] * b[len(b) - n:]


def read_cine(frames: list[Frame]) -> CineRead:
    read = CineRead()
    read_lax(frames, read)
    _sax([f for f in frames if f.view == "sax"], read)
    return read
