"""Long-axis cine: the LV cavity's width per image row, for volumes and regional motion.

The cavity is the blood-level region around an even, bright box near the image centre
(the LV sits centred in the long-axis planes, apex up): pixels between halfway down to the
dark surroundings and somewhat above blood (fat on bSSFP is brighter), opened so that the
grey seams where fat meets lung do not connect it, and enclosed (a region reaching the
top or a side of the field is a fat band, not a cavity); once found, its border is placed
again between the pool and the myocardium measured beside it. It is traced row by row
from the seed up to the apex and down to the valve plane, where myocardium stops walling both sides
or a side jumps outwards into an atrium, the outflow tract or the RV. Papillary muscles,
dark islands inside the cavity or dents at its side, count as cavity (hole filling, a
small closing, each side's hull).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cardiolens.data.masks import connected, fill_holes
from cardiolens.reader.sax import box_means

SEED_HALF = 6
"""Half size (px) of the box whose mean gives the seed point and the blood level."""
SEED_NEAR = 0.14
"""Seeds lie within this share of the image size of the centre (on both axes)."""
SEED_APART = 12
"""Minimum city-block distance (px) between two candidate seeds."""
SEED_TRIES = 8
"""Candidate seeds tried before the frame counts as unreadable."""
FAT_MARGIN = 0.6
SHADE = 1.25
"""The blood band reaches at least this factor above the seed's blood: the coil's shading
is multiplicative and varies across a deep, dim heart by about this much, while fat on
bSSFP is far brighter than blood."""
"""Upper end of the blood band, as a share of the depth of its lower end below blood:
fat on bSSFP is brighter than blood."""
BODY_PCT = 25
"""Percentile of the central image taken as the dark surroundings of the cavity
(myocardium, lung): on a 300-400 mm field of view the heart fills the centre, so the
median would be blood."""
OPEN_HALF = 2
"""Half size (px) of the opening square applied to the blood band before growing: the
grey seams where bright fat meets dark lung are blood-level too, a few pixels wide."""
REGROW_HALF = 8
"""The region grows back into the blood band this far (px) around the eroded core, so
blood in narrow gaps (beside a papillary muscle in systole) counts again."""
WALL_PX = 3
"""Pixels beside each cavity edge that must be mostly myocardium for a row to count."""
STRIP_PX = 12
"""A side also counts as walled when at least ``2 WALL_PX`` of the this many pixels beside
it are myocardium: a systolic papillary muscle close to the wall leaves a blood strip of a
few pixels between them, which the opening removes from the region; an atrium, the
outflow tract or the RV open into blood that runs on."""
VALVE_COVER = 0.5
"""A row below the seed whose span is less than this share blood-level crosses the valve
plane: the closed mitral leaflets and the AV groove lie across the whole base, while
papillary muscles and trabeculae cover a minority of a row; the closing bridges the band,
so only the pixels show it. Blood-level is above the middle between the band's lower end
and the blood of the :data:`VALVE_ROWS` rows just above (the coil's shading dims a deep
base gradually; the valve plane is a step)."""
VALVE_ROWS = 10
APEX_STEP = 3
"""Above the region's top the apex is traced in the unopened blood band; the cavity narrows
there, so a row whose side lies this far (px) outside the row below it has left the
cavity (through a gap in the apical wall)."""
JUMP_PX = 5
"""A row whose side lies more than this (px) outside every row above it opens below the
valve plane (into an atrium, the outflow tract or the right heart); a side that only
comes back out after a papillary muscle does not count."""
BORDER_CUT = 0.4
"""The cavity border, traced again once the cavity is found, lies this share of the way
from the myocardium beside it (:func:`wall_level`) to the pool inside it
(:func:`pool_level`): a little short of halfway, so that the partial-volume pixels of the
trabecular layer count as cavity, as they do in the volume (tuned on seed 7 among 0.3,
0.4 and 0.5)."""
WALL_NEAR = (2, 5)
"""Pixels beside a cavity edge (nearest, farthest) whose median is the myocardium's level:
past the edge's blur, inside even a thin (4 mm) wall."""
MAX_CAVITY = 0.25
"""A region larger than this share of the image is no LV cavity."""
CLOSE_HALF = 7
"""Half size (px) of the closing square: a papillary muscle touching the wall in systole
(up to about 12 px across) leaves a bay that the closing fills."""
APICAL_ROWS = (0.15, 0.33)
"""Rows of the cavity (fractions of its length from the apex) where the apical walls are
measured: inside the apical third, below the tip where the wall turns horizontal."""


@dataclass(frozen=True)
class Cavity:
    """Left and right cavity borders per row, from the apex row down to the base row."""

    top: int
    left: np.ndarray
    right: np.ndarray

    @property
    def widths(self) -> np.ndarray:
        return self.right - self.left


def _dilate(mask: np.ndarray, half: int) -> np.ndarray:
    """Dilation by a (2 half + 1)-pixel square (a box sum above zero)."""
    return box_means(np.pad(mask, half).astype(np.float32), half) > 0


def close(mask: np.ndarray, half: int) -> np.ndarray:
    """Morphological closing by a (2 half + 1)-pixel square: fills bays and gaps narrower
    than the square; a convex region stays as it is."""
    grown = np.pad(_dilate(mask, half), half)
    return ~_dilate(~grown, half)[half:-half, half:-half]


def smooth3(image: np.ndarray) -> np.ndarray:
    """3x3 box mean inside the image; the one-pixel border as it is."""
    out = image.copy()
    out[1:-1, 1:-1] = box_means(image, 1)
    return out


def _seeds(sm: np.ndarray, count: int) -> list[tuple[int, int]]:
    """Up to ``count`` blood-like box centres near the image centre, best first: the most
    even boxes (lowest standard deviation; bSSFP blood is smooth, fat mottled) clearly
    above the dark surroundings, each at least :data:`SEED_APART` px from the ones before."""
    h, w = sm.shape
    box = box_means(sm, SEED_HALF)
    spread = np.sqrt(np.maximum(box_means(sm * sm, SEED_HALF) - box * box, 0.0))
    cy, cx = np.mgrid[SEED_HALF:h - SEED_HALF, SEED_HALF:w - SEED_HALF]
    near = (np.abs(cy - h / 2) < SEED_NEAR * h) & (np.abs(cx - w / 2) < SEED_NEAR * w)
    body, lift = _levels(sm)
    score = np.where(near & (box > body + lift), -spread, -np.inf)
    out: list[tuple[int, int]] = []
    for k in np.argsort(score, axis=None)[::-1]:
        r, c = np.unravel_index(int(k), score.shape)
        if not np.isfinite(score[r, c]) or len(out) == count:
            break
        if all(abs(r + SEED_HALF - y) + abs(c + SEED_HALF - x) > SEED_APART for y, x in out):
            out.append((int(r) + SEED_HALF, int(c) + SEED_HALF))
    return out


def _levels(sm: np.ndarray) -> tuple[float, float]:
    """The dark surroundings' level (:data:`BODY_PCT` of the central field) and how far
    above it blood must lie: 0.15, or half the way to the field's 90th percentile where
    the coil leaves a deep heart dim."""
    h, w = sm.shape
    central = sm[int(0.2 * h):int(0.8 * h), int(0.2 * w):int(0.8 * w)]
    body = float(np.percentile(central, BODY_PCT))
    return body, min(0.15, 0.5 * (float(np.percentile(central, 90)) - body))


def _upper(blood: float, low: float) -> float:
    """Upper end of the blood band (:data:`FAT_MARGIN`, :data:`SHADE`)."""
    return max(blood + FAT_MARGIN * (blood - low), SHADE * blood)


def _region(sm: np.ndarray, sy: int, sx: int, body: float, lift: float = 0.15,
            low: float | None = None) -> tuple[np.ndarray, float, float, np.ndarray] | None:
    """The blood-level region around (sy, sx) (closed), its lower threshold, the blood level
    and the region unclosed (holes filled), or None when it is no enclosed cavity.

    Blood-level means within the band from halfway down to the body level to
    :data:`FAT_MARGIN` of that depth above blood: bright fat (thoracic, epicardial) is
    left out, so a seed on fat grows along its band, and a region that reaches the top or
    a side of the image (fat bands, the lungs' surroundings) is not a cavity. The band is opened
    first, so the grey seams where fat meets lung do not connect the cavity to them."""
    h, w = sm.shape
    blood = float(sm[sy - SEED_HALF:sy + SEED_HALF + 1, sx - SEED_HALF:sx + SEED_HALF + 1].mean())
    if blood - body < lift:
        return None
    if low is None:
        low = 0.5 * (blood + body)
    band = (sm > low) & (sm < _upper(blood, low))
    seed = np.zeros((h, w), bool)
    seed[sy, sx] = True
    core = connected(~_dilate(~band, OPEN_HALF), seed)   # eroded: thin seams are gone
    # back to the full band near the core: narrow blood beside a papillary muscle
    region = connected(band & _dilate(core, REGROW_HALF), core)
    # the atria below the LV may reach the bottom of the field; fat bands reach the sides
    if region[0].any() or region[:, [0, -1]].any() or region.sum() > MAX_CAVITY * h * w:
        return None
    plain = fill_holes(region)
    closed = fill_holes(close(region, CLOSE_HALF))
    if _run_width(closed[sy], sx) > _run_width(region[sy], sx) + 2 * JUMP_PX + 4:
        closed = plain                  # the closing bridged the septum into the RV
    return closed, low, blood, plain


def _run_width(line: np.ndarray, x: int) -> int:
    """Length of the run of True in ``line`` that holds ``x``."""
    if not line[x]:
        return 0
    left = x - int(np.argmin(line[x::-1])) if not line[:x + 1].all() else -1
    right = x + int(np.argmin(line[x:])) if not line[x:].all() else len(line)
    return right - left - 1


def _walled(line: np.ndarray, edge: int, step: int, low: float) -> bool:
    """Whether myocardium (below ``low``) lies beside the cavity edge at ``edge``: most
    of the :data:`WALL_PX` pixels from one pixel past it in direction ``step``."""
    idx = edge + step * np.arange(2, 2 + STRIP_PX)
    idx = idx[(idx >= 0) & (idx < len(line))]
    if idx.size < STRIP_PX:
        return False
    dark = line[idx] < low
    return float(np.mean(dark[:WALL_PX])) >= 0.6 or int(dark.sum()) >= 2 * WALL_PX


def _trace(region: np.ndarray, sm: np.ndarray, low: float, blood: float, plain: np.ndarray,
           sy: int, sx: int) -> Cavity | None:
    """The cavity row by row from the seed row: up to the apex, and down while both sides
    are walled by myocardium, no side jumps outwards and the row is mostly blood (the
    valve plane, below which the blood opens into the atria, the outflow tract or the
    right heart, or which lies across the base: :data:`VALVE_COVER`).
    Each row spans the region's runs that overlap the row before; where that jumps, the
    unclosed region's (``plain``: the closing can bridge a thin septum into the RV)."""
    apical = region | ((sm > low) & (sm < _upper(blood, low)))

    def span(y: int, left: int, right: int, mask: np.ndarray = region
             ) -> tuple[int, int] | None:
        on = mask[y, max(left - 1, 0):right + 1]
        if not on.any():
            return None
        runs = np.flatnonzero(np.diff(np.r_[0, on.astype(np.int8), 0]))
        first, last = runs[0] + max(left - 1, 0), runs[-1] - 1 + max(left - 1, 0)
        row = mask[y]
        while first > 0 and row[first - 1]:
            first -= 1
        while last < len(row) - 1 and row[last + 1]:
            last += 1
        return int(first), int(last) + 1

    start = span(sy, sx, sx)
    if start is None:
        return None
    rows = {sy: start}
    y, (left, right) = sy, start
    while y > 0:
        nxt = span(y - 1, left, right)
        if nxt is None:       # beyond the region: the narrow apex that the opening removed
            nxt = span(y - 1, left, right, apical)
            if nxt is None or nxt[0] < left - APEX_STEP or nxt[1] > right + APEX_STEP:
                break
        y, (left, right) = y - 1, nxt
        rows[y] = nxt
    top = y
    y, (left, right) = sy, start
    outer = (min(a for a, _ in rows.values()), max(b for _, b in rows.values()))

    def jumps(run: tuple[int, int]) -> bool:
        return run[0] < outer[0] - JUMP_PX or run[1] > outer[1] + JUMP_PX

    while y < region.shape[0] - 1:
        nxt = span(y + 1, left, right)
        if nxt is not None and jumps(nxt):
            nxt = span(y + 1, left, right, plain)     # the closing bridged a thin wall
        if nxt is None or jumps(nxt):
            break
        line = sm[y + 1]
        if not (_walled(line, nxt[0], -1, low) and _walled(line, nxt[1] - 1, 1, low)):
            break
        above = np.concatenate([sm[k, a:b] for k, (a, b) in rows.items() if k > y - VALVE_ROWS])
        level = 0.5 * (low + float(np.median(above)))
        if float(np.mean(line[nxt[0]:nxt[1]] > level)) < VALVE_COVER:
            break
        y, (left, right) = y + 1, nxt
        rows[y] = nxt
        outer = (min(outer[0], left), max(outer[1], right))
    if y - top < 10:
        return None
    ordered = [rows[k] for k in range(top, y + 1)]
    left_edge = -_concave_hull(-np.array([a for a, _ in ordered], float))
    return Cavity(top, left_edge, _concave_hull(np.array([b for _, b in ordered], float)))


def _concave_hull(values: np.ndarray) -> np.ndarray:
    """The least concave majorant of ``values`` (over their index): the cavity's side
    seen from outside, so a papillary muscle that lies against the wall (a dent of the
    edge) counts as cavity, as in the volume it belongs to."""
    hull: list[int] = []
    for k in range(len(values)):
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            if (values[b] - values[a]) * (k - a) <= (values[k] - values[a]) * (b - a):
                hull.pop()
            else:
                break
        hull.append(k)
    return np.interp(np.arange(len(values)), hull, values[hull])


def wall_level(sm: np.ndarray, cavity: Cavity) -> float:
    """Median of the pixels :data:`WALL_NEAR` px beside both sides of the cavity: the
    myocardium of the side walls (their blurred edge is left out)."""
    rows = cavity.top + np.arange(len(cavity.left))
    w = sm.shape[1]
    out = []
    for y, a, b in zip(rows, cavity.left.astype(int), cavity.right.astype(int), strict=True):
        out.append(sm[y, max(a - WALL_NEAR[1], 0):max(a - WALL_NEAR[0] + 1, 0)])
        out.append(sm[y, min(b - 1 + WALL_NEAR[0], w):min(b + WALL_NEAR[1], w)])
    values = np.concatenate(out)
    return float(np.median(values)) if values.size else float("nan")


def pool_level(sm: np.ndarray, cavity: Cavity) -> float:
    """Median of the pixels inside the cavity: the pool's blood with its dimmer slow-flow
    boundary layer and trabecular recesses (the seed box is its brightest, most even part)."""
    rows = cavity.top + np.arange(len(cavity.left))
    return float(np.median(np.concatenate(
        [sm[y, int(a):max(int(b), int(a) + 1)] for y, a, b in
         zip(rows, cavity.left, cavity.right, strict=True)])))


def find_cavity(image: np.ndarray) -> Cavity | None:
    """The LV cavity of a bright-blood long-axis frame, or None if not found: the traced
    region (:func:`_trace`) of the first candidate seed (:func:`_seeds`) that is an
    enclosed cavity, traced again with its border at :data:`BORDER_CUT` between the
    myocardium beside the first trace (:func:`wall_level`) and the pool inside it
    (:func:`pool_level`): the first threshold, halfway to the field's darker quartile, finds
    the cavity but sits wherever the field's tissue mix puts it (above the myocardium
    where a large heart fills the field); the second follows the frame's own contrast."""
    sm = smooth3(image)
    body, lift = _levels(sm)
    for sy, sx in _seeds(sm, SEED_TRIES):
        found = _region(sm, sy, sx, body, lift)
        cavity = None if found is None else _trace(found[0], sm, *found[1:], sy, sx)
        if cavity is None:
            continue
        myo = wall_level(sm, cavity)
        pool = pool_level(sm, cavity)
        if np.isfinite(myo) and myo < pool:
            again = _region(sm, sy, sx, body, lift, myo + BORDER_CUT * (pool - myo))
            traced = None if again is None else _trace(again[0], sm, *again[1:], sy, sx)
            if traced is not None:
                return traced
        return cavity
    return None


def apical_wall_px(image: np.ndarray, cavity: Cavity) -> tuple[float, float]:
    """Median horizontal thickness (px) of the wall left and right of the apical cavity:
    the run of myocardium-level pixels that starts at the cavity edge (after at most 3
    partial-volume pixels) and ends where the signal rises towards blood or body."""
    sm = smooth3(image)
    n = len(cavity.left)
    first = int(APICAL_ROWS[0] * n)
    rows = range(first, max(int(APICAL_ROWS[1] * n), first + 1))
    out = []
    for side in (0, 1):
        runs = []
        for k in rows:
            y = cavity.top + k
            left, right = int(cavity.left[k]), int(cavity.right[k])
            line = sm[y, left - 1::-1] if side == 0 else sm[y, right:]
            if len(line) < 8 or right <= left:
                continue
            blood = float(np.median(sm[y, left:right]))
            myo = float(np.median(line[2:6]))
            high, low = myo + 0.35 * (blood - myo), myo - 0.35 * (blood - myo)
            start = 0
            while start < 4 and line[start] >= high:
                start += 1
            end = start
            while end < len(line) and low < line[end] < high:
                end += 1
            runs.append(end - start)
        out.append(float(np.median(runs)) if runs else 0.0)
    return out[0], out[1]
