"""The LV centre of a short-axis series by radial-symmetry voting.

Every strong edge votes for the points that lie one cavity radius away from it, across
the edge towards the blood side (brighter for bright-blood sequences, darker for
black-blood T2). The round cavity's border sends its votes to one point, its centre;
the lungs, the body wall and the RV crescent are larger or not round and spread theirs
out. Votes are summed over every frame of the series, so one frame whose darkest or
brightest box lies in the lung cannot move the series' centre, and a crop a few percent
larger or smaller moves the peak with the image instead of to another structure.
"""

from __future__ import annotations

import numpy as np

from cardiolens.reader.sax import box_means

RADII_PX = np.arange(8.0, 44.0, 2.0)
"""Cavity radii voted for (px at the reader's 0.8125 mm scale: 6.5-35 mm)."""
EDGE_SHARE = 0.1
"""Share of a frame's near-centre pixels, the strongest edges, that vote."""
NEAR = 0.2
"""The centre lies within this share of the image size of the image centre (CMR fields of
view are centred on the heart)."""
SPREAD = 2
"""Half-width (px) of the box that pools nearby votes of one radius."""


def votes(image: np.ndarray, bright: bool) -> np.ndarray:
    """Radial-symmetry votes of one frame (same shape as ``image``): at every point the
    best over the radii of the edge strength voting for it from that radius, pooled over
    :data:`SPREAD` px and divided by the root of the radius (a larger circle has more edge
    to vote with)."""
    h, w = image.shape
    smooth = np.pad(box_means(image, 2), 2, mode="edge")
    gy, gx = np.gradient(smooth)
    mag = np.hypot(gy, gx)
    ys, xs = np.mgrid[0:h, 0:w]
    near = (np.abs(ys - h / 2) < (NEAR + 0.2) * h) & (np.abs(xs - w / 2) < (NEAR + 0.2) * w)
    cut = float(np.quantile(mag[near], 1.0 - EDGE_SHARE))
    keep = near & (mag > max(cut, 1e-6))
    py, px, m = ys[keep], xs[keep], mag[keep]
    uy, ux = gy[keep] / m, gx[keep] / m
    sign = 1.0 if bright else -1.0      # towards the blood side of the edge
    best = np.zeros((h, w))
    for r in RADII_PX:
        vy = np.rint(py + sign * r * uy).astype(int)
        vx = np.rint(px + sign * r * ux).astype(int)
        ok = (vy >= 0) & (vy < h) & (vx >= 0) & (vx < w)
        acc = np.bincount(vy[ok] * w + vx[ok], m[ok], h * w).reshape(h, w)
        pooled = np.pad(box_means(acc, SPREAD), SPREAD, mode="constant")
        best = np.maximum(best, pooled / np.sqrt(r))
    return best / max(float(best.max()), 1e-9)


def peak(acc: np.ndarray, around: tuple[float, float] | None = None,
         within: float | None = None) -> tuple[float, float]:
    """The strongest vote near the image centre, or within ``within`` px of ``around``."""
    h, w = acc.shape
    ys, xs = np.mgrid[0:h, 0:w]
    if around is None or within is None:
        mask = (np.abs(ys - h / 2) < NEAR * h) & (np.abs(xs - w / 2) < NEAR * w)
    else:
        mask = np.hypot(ys - around[0], xs - around[1]) <= within
    score = np.where(mask, acc, -np.inf)
    r, c = np.unravel_index(int(np.argmax(score)), score.shape)
    return float(r), float(c)


def peaks(acc: np.ndarray, count: int, apart: float) -> list[tuple[float, float]]:
    """Up to ``count`` strongest votes near the image centre, at least ``apart`` px apart."""
    acc = acc.copy()
    ys, xs = np.mgrid[0:acc.shape[0], 0:acc.shape[1]]
    found: list[tuple[float, float]] = []
    for _ in range(count):
        y, x = peak(acc)
        if not np.isfinite(acc[int(y), int(x)]) or acc[int(y), int(x)] <= 0:
            break
        found.append((y, x))
        acc[np.hypot(ys - y, xs - x) < apart] = -np.inf
    return found


def frame_votes(images: list[np.ndarray], bright: bool) -> list[np.ndarray]:
    """Each frame's votes (:func:`votes`)."""
    return [votes(image, bright) for image in images]


def follow(each: list[np.ndarray], centre: tuple[float, float], within: float = 10.0
           ) -> list[tuple[float, float]]:
    """Each frame's own centre: its votes' peak within ``within`` px of the series centre
    (the slices of a series are misregistered by breathing and the LV axis is oblique)."""
    return [peak(acc, centre, within) for acc in each]
