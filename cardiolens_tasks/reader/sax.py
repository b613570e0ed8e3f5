"""Short-axis LV segmentation in polar coordinates around the LV centre.

Each frame is resampled on rays (2 degree bins, half-pixel steps) around a centre guess.
The endocardium is where a ray first leaves the blood-pool intensity; a robust circle fit
to those points moves the centre, and the fit is repeated. The epicardium is where the
ray enters the tissue outside the heart, with a rule per sequence (see
:func:`with_epi`). Angles are image angles: 0 points up and they grow counter-clockwise,
the short-axis display convention (anterior wall up, septum left).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import pairwise

import numpy as np

ANGLE_STEP = 2.0
ANGLES = np.arange(0.0, 360.0, ANGLE_STEP)
R_STEP = 0.5
MIN_RUN = 6            # samples (3 px) a boundary class must last
ROUND_ENDO = ("lge", "t2", "perf")
"""Static sequences: the endocardium is taken as the fitted circle, so bright scar on the
endocardial border cannot pull it outward."""
LESION_Z = 1.1
"""LGE scar is brighter than the blood pool (z > 1 on the myocardium-0, blood-1 scale)."""
SCAR_Z = 1.25
"""Median z of a light run that makes it scar rather than RV blood (z about 0.95)."""
SATURATED = 0.96
OUTSIDE_WALL = 0.8
"""A light run after myocardium that starts beyond this share of the series' typical wall
thickness lies outside the wall (epicardial fat, bright on LGE), not in it."""
ISLAND_PX, ISLAND_SHARE = 3.0, 0.15
"""Cine: a ray whose first wall sample lies this far (px, or share of the radius) inside
the endocardial circle, with blood again beyond it before the circle, met a papillary
muscle or a strand crossing the pool, not the wall; its endocardium is the circle's
(papillary muscles count as cavity, as in the labels). A wall that moved inwards in
systole has no blood behind it and keeps its own radius."""
BLOOD_BRIGHT = {"cine": True, "lge": True, "perf": True, "t2": False}
EVEN_BLOOD = 2.0
"""Weight of a box's unevenness against it as the short-axis centre guess."""


@dataclass(frozen=True)
class Ring:
    """The LV of one short-axis frame: centre, radii per ray and tissue levels."""

    cy: float
    cx: float
    endo: np.ndarray      # (A,) px per ray
    epi: np.ndarray       # (A,) px per ray
    radius: float         # fitted endocardial circle radius, px
    blood: float
    myo: float
    profile: np.ndarray   # (A, R) smoothed polar samples
    valid: bool
    scar: np.ndarray | None = None   # (A, R) LGE scar samples found while tracing the wall
    raw: np.ndarray | None = None    # (A, R) unsmoothed polar samples
    first: np.ndarray | None = None  # (A,) cine: first wall radius, papillary muscles kept

    def z(self) -> np.ndarray:
        """Polar samples scaled so myocardium is 0 and blood 1."""
        scale = self.blood - self.myo
        return (self.profile - self.myo) / (scale if abs(scale) > 1e-3 else 1e-3)

    @property
    def thickness(self) -> np.ndarray:
        return self.epi - self.endo


def polar(image: np.ndarray, cy: float, cx: float, r_max: float) -> np.ndarray:
    """Bilinear samples on (angle, radius) rays from (cy, cx); (A, R)."""
    radii = np.arange(0.0, r_max, R_STEP)
    theta = np.radians(ANGLES)[:, None]
    rows = np.clip(cy - radii[None] * np.cos(theta), 0, image.shape[0] - 1.001)
    cols = np.clip(cx - radii[None] * np.sin(theta), 0, image.shape[1] - 1.001)
    r0, c0 = np.floor(rows).astype(int), np.floor(cols).astype(int)
    fr, fc = rows - r0, cols - c0
    top = image[r0, c0] * (1 - fc) + image[r0, c0 + 1] * fc
    bottom = image[r0 + 1, c0] * (1 - fc) + image[r0 + 1, c0 + 1] * fc
    return top * (1 - fr) + bottom * fr


def smooth(profile: np.ndarray) -> np.ndarray:
    """3-tap smoothing along the radius and around the circle."""
    out = profile.copy()
    out[:, 1:-1] = (profile[:, :-2] + profile[:, 1:-1] + profile[:, 2:]) / 3.0
    return (np.roll(out, 1, axis=0) + out + np.roll(out, -1, axis=0)) / 3.0


def circle_fit(ys: np.ndarray, xs: np.ndarray) -> tuple[float, float, float]:
    """Least-squares circle (cy, cx, r) through points."""
    a = np.column_stack([2 * ys, 2 * xs, np.ones_like(ys)])
    b = ys**2 + xs**2
    (cy, cx, c), *_ = np.linalg.lstsq(a, b, rcond=None)
    return float(cy), float(cx), float(np.sqrt(max(c + cy**2 + cx**2, 0.0)))


def robust_circle(radii: np.ndarray, cy: float, cx: float) -> tuple[float, float, float, float]:
    """Circle fit to ray end points with two rounds of outlier rejection; also the inlier
    share."""
    theta = np.radians(ANGLES)
    ys, xs = cy - radii * np.cos(theta), cx - radii * np.sin(theta)
    keep = np.isfinite(radii)
    if keep.sum() < 10:
        return cy, cx, 0.0, 0.0
    fit = circle_fit(ys[keep], xs[keep])
    for tol in (4.0, 2.0):
        resid = np.abs(np.hypot(ys - fit[0], xs - fit[1]) - fit[2])
        inliers = keep & (resid < max(tol, 0.08 * fit[2]))
        if inliers.sum() < 10:
            break
        keep = inliers
        fit = circle_fit(ys[keep], xs[keep])
    return fit[0], fit[1], fit[2], float(keep.mean())


def circle_radii(dy: float, dx: float, radius: float) -> np.ndarray:
    """Distance along each ray from the origin to a circle centred at (dy, dx)."""
    theta = np.radians(ANGLES)
    uy, ux = -np.cos(theta), -np.sin(theta)
    p = dy * uy + dx * ux
    q2 = dy**2 + dx**2 - p**2
    return p + np.sqrt(np.maximum(radius**2 - q2, 0.0))


def first_true(mask: np.ndarray, start: np.ndarray | int = 0) -> np.ndarray:
    """Index of the first True per row at or after ``start`` (NaN if none)."""
    idx = np.arange(mask.shape[1])[None]
    m = mask & (idx >= np.asarray(start).reshape(-1, 1))
    found = m.any(axis=1)
    return np.where(found, m.argmax(axis=1), np.nan).astype(float)


def sustained(mask: np.ndarray, run: int = MIN_RUN) -> np.ndarray:
    """True where ``mask`` holds for ``run`` consecutive samples starting there."""
    out = mask.copy()
    for k in range(1, run):
        out[:, :-k] &= mask[:, k:]
        out[:, -k:] = False
    return out


def box_means(image: np.ndarray, half: int) -> np.ndarray:
    """Mean of every (2 half + 1)-pixel square box; entry (r, c) is centred at
    (r + half, c + half)."""
    ii = np.pad(image, ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    k = 2 * half + 1
    return (ii[k:, k:] - ii[:-k, k:] - ii[k:, :-k] + ii[:-k, :-k]) / k**2


def blood_guess(image: np.ndarray, bright: bool, half: int = 12,
                even: float = 0.0) -> tuple[float, float]:
    """Centre guess: the most blood-like box (25x25 by default) near the image centre:
    the brightest (darkest for dark blood) mean, less ``even`` times the box's standard
    deviation, so a box straddling a bright scar band loses to plain blood."""
    h, w = image.shape
    box = box_means(image, half)
    cy, cx = np.mgrid[half:h - half, half:w - half]
    near = (np.abs(cy - h / 2) < 0.14 * h) & (np.abs(cx - w / 2) < 0.14 * w)
    level = box if bright else -box
    if even:
        spread = np.sqrt(np.maximum(box_means(image * image, half) - box * box, 0.0))
        level = level - even * spread
    score = np.where(near, level, -np.inf)
    r, c = np.unravel_index(int(np.argmax(score)), score.shape)
    return float(r + half), float(c + half)


def _endo(profile: np.ndarray, bright: bool, r_idx_min: int = 4) -> tuple[np.ndarray, float, float]:
    """Per-ray endocardial index, blood and myocardium levels from a smoothed profile.

    The blood level is the profile near the centre; the first sustained step a third of
    the way towards the darker (bright-blood sequences) or brighter (T2) quartile of the
    whole neighbourhood marks the wall, whose level is read just beyond that step.
    """
    centre = float(np.median(profile[:, :r_idx_min + 2]))
    other = float(np.percentile(profile, 25 if bright else 75))
    step = profile < centre - 0.35 * (centre - other) if bright else (
        profile > centre + 0.35 * (other - centre))
    edge = first_true(sustained(step, 4), r_idx_min)
    ok = np.isfinite(edge)
    if ok.sum() < 10:
        return np.full(profile.shape[0], np.nan), centre, other
    e = edge[ok].astype(int)
    inside = [profile[i, :max(k // 2, 2)].mean() for i, k in zip(np.flatnonzero(ok), e,
                                                                  strict=True)]
    blood = float(np.median(inside))
    wall = np.clip(e + 6, 0, profile.shape[1] - 1)
    myo = float(np.median(profile[np.flatnonzero(ok), wall]))
    away = np.abs(profile - blood) > 0.5 * abs(myo - blood)
    return first_true(sustained(away, 3), r_idx_min), blood, myo


def _refine(image: np.ndarray, bright: bool, cy: float, cx: float, r_max: float
            ) -> tuple[float, float]:
    """Move the centre to the endocardial circle fitted around it (up to 3 rounds)."""
    for _ in range(3):
        profile = smooth(polar(image, cy, cx, r_max))
        endo_idx, _, _ = _endo(profile, bright)
        ncy, ncx, radius, _ = robust_circle(endo_idx * R_STEP, cy, cx)
        moved = np.hypot(ncy - cy, ncx - cx)
        if radius <= 0 or moved > 0.25 * r_max:
            break
        cy, cx = ncy, ncx
        if moved < 0.5:
            break
    return cy, cx


def _valid_ring(radius: float, share: float, blood: float, myo: float) -> bool:
    """A ring is valid when its endocardial circle (at least 4 px) passes through 60% of
    the rays and blood differs from myocardium."""
    return bool(radius >= 4.0 and share >= 0.6 and abs(blood - myo) > 0.05)


def ring_check(image: np.ndarray, sequence: str, centre: tuple[float, float]
               ) -> tuple[float, float, bool]:
    """Where a ring started at ``centre`` settles and whether it is valid (a circle through
    60% of the rays, blood against myocardium), without tracing the epicardium: a cheap
    test of a candidate LV centre."""
    bright = BLOOD_BRIGHT.get(sequence, True)
    r_max = 0.42 * min(image.shape)
    cy, cx = _refine(image, bright, *centre, r_max)
    endo_idx, blood, myo = _endo(smooth(polar(image, cy, cx, r_max)), bright)
    _, _, radius, share = robust_circle(endo_idx * R_STEP, cy, cx)
    return cy, cx, _valid_ring(radius, share, blood, myo)


def fit_ring(image: np.ndarray, sequence: str, centre: tuple[float, float] | None = None,
             fixed: bool = False) -> Ring:
    """Segment the LV of one short-axis frame (``sequence`` sets the contrast rules);
    ``fixed`` keeps the given centre instead of refitting it."""
    bright = BLOOD_BRIGHT.get(sequence, True)
    cy, cx = centre if centre is not None else blood_guess(image, bright, even=EVEN_BLOOD)
    r_max = 0.42 * min(image.shape)
    if not fixed:
        cy, cx = _refine(image, bright, cy, cx, r_max)
    raw = polar(image, cy, cx, r_max)
    profile = smooth(raw)
    endo_idx, blood, myo = _endo(profile, bright)
    fy, fx, radius, share = robust_circle(endo_idx * R_STEP, cy, cx)
    first = None
    if sequence in ROUND_ENDO and radius > 0:
        endo = circle_radii(fy - cy, fx - cx, radius)
    else:
        endo = np.where(np.isfinite(endo_idx), endo_idx * R_STEP, radius)
        first = endo
        if radius > 0:     # papillary muscles inside the pool belong to the cavity
            circle = circle_radii(fy - cy, fx - cx, radius)
            pool = sustained(np.abs(profile - blood) < 0.5 * abs(myo - blood), 3)
            wall_idx = np.nan_to_num(endo_idx, nan=profile.shape[1]).astype(int)
            again = first_true(pool, wall_idx + 1) * R_STEP
            island = (endo < circle - max(ISLAND_PX, ISLAND_SHARE * radius)) & (again < circle)
            endo = np.where(island, circle, endo)
    ring = Ring(cy, cx, endo, endo.copy(), radius, blood, myo, profile,
                _valid_ring(radius, share, blood, myo), raw=raw)
    ring = with_epi(ring, sequence)
    return ring if first is None or sequence in ROUND_ENDO else replace(ring, first=first)


T2_FLUID = 2.2
"""On black-blood T2 (STIR) samples brighter than this ratio to the myocardium are fluid
(pericardial effusion, whose T2 of well over 150 ms against the myocardium's 52 ms gives
it several times the myocardium's signal, against edema's 1.3-1.6x), as are samples the
window clips to white."""
FLUID_RUN = 4
"""Samples (2 px) of fluid that end the T2 wall: a thin effusion's bright rim, blurred by
the point-spread function, is a few pixels wide."""


def with_epi(ring: Ring, rule: str) -> Ring:
    """Add the epicardial radius per ray by the sequence's outside-tissue rule."""
    z = ring.z()
    if rule == "cine":
        outside = z < -0.25
    elif rule == "lge":
        return _lge_epi(ring)
    elif rule == "t2":
        outside = (z > 0.5) | (z < -1.7)
        fluid = ring.profile >= min(T2_FLUID * ring.myo, SATURATED)
    else:                                  # perfusion: the wall ends where it darkens
        outside = z < -0.5
    start = np.round(ring.endo / R_STEP).astype(int) + 3
    hit = first_true(sustained(outside), start)
    if rule == "t2":
        hit = np.fmin(hit, first_true(sustained(fluid, FLUID_RUN), start))
    if rule == "cine":
        hit = np.fmin(hit, _rise_edge(z, start))
    hit = hit * R_STEP
    thick = hit - ring.endo
    limit = 40.0                           # px, beyond any wall (about 32 mm)
    ok = np.isfinite(thick) & (thick > 1.5) & (thick < limit)
    default = float(np.median(thick[ok])) if ok.sum() >= 10 else 10.0
    thick = np.where(ok, thick, default)
    return Ring(ring.cy, ring.cx, ring.endo, ring.endo + thick, ring.radius, ring.blood,
                ring.myo, ring.profile, ring.valid)


EPI_RISE = 0.15
"""Cine: a rise of the wall's profile by this much (myocardium 0, blood 1) above its
darkest sample so far is the tissue beyond the epicardium (fat, RV blood, fluid). A thin
epicardial fat line or a slow-flow apical RV cavity, averaged over a 6-10 mm slab and the
point-spread function, peaks well below the blood level, so a fixed level (z > 0.2 for
3 px) missed it and the wall ran on into the next dark layer (diaphragm, RV wall, lung);
the myocardium's own texture varies by a few hundredths. The edge is placed at half the
rise, as the endocardium is placed half-way between blood and myocardium."""


def _rise_edge(z: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Per ray, where the profile past ``start`` first rises :data:`EPI_RISE` above its
    running minimum: the index at half the height the rise reaches within 3 px, on its
    inner flank (the outer edge of the dark wall); NaN where it never rises."""
    idx = np.arange(z.shape[1])[None]
    past = idx >= start.reshape(-1, 1)
    low = np.minimum.accumulate(np.where(past, z, np.inf), axis=1)
    top = first_true(past & (z - low >= EPI_RISE))
    out = np.full(z.shape[0], np.nan)
    for a in np.flatnonzero(np.isfinite(top)):
        k = int(top[a])
        trough = float(low[a, k])
        peak = float(z[a, k:k + 6].max())
        half = trough + 0.5 * (peak - trough)
        j = k
        while z[a, j] < half:
            j += 1
        while j > start[a] and z[a, j - 1] >= half:
            j -= 1
        out[a] = j
    return out


def _runs(classes: np.ndarray) -> list[tuple[int, int, int]]:
    """(class, start, end) runs of a 1-D class array."""
    if len(classes) == 0:
        return []
    edges = np.flatnonzero(np.diff(classes)) + 1
    bounds = [0, *edges.tolist(), len(classes)]
    return [(int(classes[a]), a, b) for a, b in pairwise(bounds)]


def fraction_true(flags: np.ndarray) -> float:
    """Fraction of True in ``flags``; 0 for none (a circle beyond the sampled rays)."""
    return float(flags.mean()) if flags.size else 0.0


def is_scar(z: np.ndarray, raw: np.ndarray) -> bool:
    """A light run is scar when clearly brighter than blood, or mostly saturated (the
    series window clips small scars to white while only the tail of the blood does). An
    empty run (a ray cut short at the image edge) is no scar."""
    if z.size == 0:
        return False
    return float(np.median(z)) >= SCAR_Z or fraction_true(raw >= SATURATED) >= 0.4


def lge_ray(z: np.ndarray, raw: np.ndarray, circle: int, wall: float = 0.0,
            pool: int | None = None) -> tuple[int, np.ndarray]:
    """Epicardium index and scar samples of one LGE ray (z: myocardium 0, blood 1).

    Samples are dark (myocardium), mid (body, fluid) or high (blood, scar, RV blood).
    Blood that runs on past the endocardial circle is subendocardial scar; a short high run
    inside the wall is mid-wall or subepicardial scar; the wall ends at the first mid run
    or at a high run too long to be scar (the RV cavity). With the series' typical wall
    thickness ``wall`` (samples), light that fills most of the expected wall from the
    endocardium is scar even when it runs on into the RV cavity (transmural septal scar),
    and a short light band closed by dark on both sides inside the expected wall is a
    mid-wall stripe even when the window greys it to the blood level. Light that runs on
    at least 1.5 px past both the endocardial circle and ``pool`` (the circle fitted to
    where the light ends on every ray, so an off-centre circle does not count) is thin
    subendocardial scar the window has greyed to the blood level.
    """
    classes = np.where(z < 0.25, 0, np.where(z < 0.6, 1, 2))
    light = classes == 2
    for gap in (1, 2):                 # close noise dips inside light runs
        bridged = light[:-gap - 1] & light[gap + 1:]
        for g in range(1, gap + 1):
            light[g:len(light) - gap - 1 + g] |= bridged
    classes = np.where(light, 2, classes)
    scar = np.zeros(len(z), bool)
    k = max(circle - 4, 0)
    while k < len(z) and classes[k] == 2:
        k += 1
    if k - circle >= 3 and is_scar(z[circle:k], raw[circle:k]):
        scar[circle:k] = True
    elif k - max(circle, pool or 0) >= 3 and fraction_true(light[circle // 2:circle]) >= 0.9:
        end = min(k, circle + int(wall)) if wall >= 6 else k
        scar[circle:end] = True
        k = end
    elif fraction_true(raw[max(circle - 6, 0):circle + 2] >= SATURATED) >= 0.5:
        scar[circle:circle + 2] = True    # a thin saturated rim at the endocardium
    epi = None
    seen_dark = False
    for cls, a, b in _runs(classes[k:]):
        a, b = a + k, b + k
        if cls == 0:
            seen_dark = seen_dark or b - a >= 2
            continue
        if cls == 1 and b - a < MIN_RUN and b < len(z):
            continue
        inside = wall < 6 or a - circle < OUTSIDE_WALL * wall
        if cls == 2 and seen_dark and inside and 4 <= b - a <= 22 and is_scar(z[a:b], raw[a:b]):
            scar[a:b] = True
            continue
        if (cls == 2 and seen_dark and wall >= 6 and 3 <= b - a <= 0.6 * wall
                and a - circle < 0.6 * wall and b < len(z) and classes[b] == 0):
            scar[a:b] = True
            continue
        epi = a
        break
    return (epi if epi is not None else -1), scar


def _pool_edge(ring: Ring, z: np.ndarray) -> np.ndarray:
    """Per ray, the index of a circle fitted robustly to where the light blood pool ends
    (scar that bulges the pool on a minority of rays is left out as outliers)."""
    circle = np.round(ring.endo / R_STEP).astype(int)
    start = np.maximum(circle - 4, 0)
    edge = first_true(z < 0.6, start)
    fy, fx, radius, share = robust_circle(edge * R_STEP, ring.cy, ring.cx)
    if radius <= 0 or share < 0.5:
        return circle
    return np.round(circle_radii(fy - ring.cy, fx - ring.cx, radius) / R_STEP).astype(int)


def _lge_epi(ring: Ring) -> Ring:
    """LGE epicardium per ray by :func:`lge_ray`; the scar mask is kept on the ring."""
    z = ring.z()
    epi = np.full(z.shape[0], np.nan)
    scar = np.zeros(z.shape, bool)
    wall = 0.0
    pool = _pool_edge(ring, z)
    for _ in range(2):
        for a in range(z.shape[0]):
            circle = int(ring.endo[a] / R_STEP + 0.5)
            raw = ring.raw[a] if ring.raw is not None else ring.profile[a]
            e, scar[a] = lge_ray(z[a], raw, circle, wall, int(pool[a]))
            epi[a] = e * R_STEP if e > circle else np.nan
        thick = (epi - ring.endo) / R_STEP
        ok = np.isfinite(thick) & (thick > 3) & (thick < 80)
        plain = ok & ~scar.any(axis=1)    # bright fat outside the wall is not part of it
        ok = plain if plain.sum() >= 10 else ok
        wall = float(np.median(thick[ok])) if ok.sum() >= 10 else 0.0
    thick = epi - ring.endo
    ok = np.isfinite(thick) & (thick > 1.5) & (thick < 40.0)
    default = float(np.median(thick[ok])) if ok.sum() >= 10 else 10.0
    return Ring(ring.cy, ring.cx, ring.endo, ring.endo + np.where(ok, thick, default),
                ring.radius, ring.blood, ring.myo, ring.profile, ring.valid, scar, ring.raw)


RV_SEARCH = (60.0, 120.0)
"""Image angles searched for the RV crescent's centre: the septum at anatomical 90 degrees,
give or take the in-plane rotation of a planned short-axis stack (30 degrees)."""


def rv_angle(ring: Ring) -> float | None:
    """Image angle (degrees) of the RV crescent's centre, from the tissue just outside the
    epicardium; None when no clear arc stands out, or when the best arc lies at either end
    of :data:`RV_SEARCH`: a score still rising past the plausible rotations has no peak
    among them (lung, liver or chest wall beside the LV, not the crescent), and reading it
    as the limit turned the series by 25-45 degrees (seed 7: 11 of 40 T2 series and 9 of
    40 LGE series off by more than 20 degrees; see :data:`series.MIN_CRESCENTS`)."""
    z = ring.z()
    idx = np.arange(z.shape[1])[None]
    lo = np.round(ring.epi / R_STEP)[:, None] + 4
    band = (idx >= lo) & (idx < lo + 16)
    counts = np.maximum(band.sum(axis=1), 1)
    outside = np.where(band, z, 0.0).sum(axis=1) / counts
    dev = outside - np.median(outside)
    best, best_score = None, 0.0
    for centre in np.arange(RV_SEARCH[0], RV_SEARCH[1] + 1.0, 2.0):
        diff = (ANGLES - centre + 180) % 360 - 180
        arc = np.abs(diff) < 50
        score = abs(float(dev[arc].mean() - dev[~arc].mean()))
        if score > best_score:
            best, best_score = centre, score
    if best is None or best_score <= 0.15 or best in RV_SEARCH:
        return None
    return best
