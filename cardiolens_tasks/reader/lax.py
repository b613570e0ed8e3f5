"""Long-axis cine: the LV cavity's width per image row, for volumes and regional motion.

The cavity is the blood-bright region around the most blood-like spot near the image
centre (the LV sits centred in the long-axis planes, apex up). Blood is told from the
surrounding body by a threshold halfway between the two levels. The papillary muscles,
dark islands inside the cavity or, in systole, bays from the wall, are filled in (a
closing, then hole filling), so each row's cavity spans from its leftmost to its
rightmost blood pixel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cardiolens.data.masks import connected, fill_holes
from cardiolens.reader.sax import blood_guess, box_means

SEED_HALF = 6
"""Half size (px) of the box whose mean gives the seed point and the blood level."""
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


def find_cavity(image: np.ndarray) -> Cavity | None:
    """The LV cavity of a bright-blood long-axis frame, or None if not found."""
    h, w = image.shape
    sm = smooth3(image)
    sy, sx = (int(v) for v in blood_guess(image, True, SEED_HALF))
    blood = float(sm[sy - SEED_HALF:sy + SEED_HALF + 1, sx - SEED_HALF:sx + SEED_HALF + 1].mean())
    body = float(np.median(sm[int(0.2 * h):int(0.8 * h), int(0.2 * w):int(0.8 * w)]))
    if blood - body < 0.15:
        return None
    seed = np.zeros((h, w), bool)
    seed[sy, sx] = True
    cavity = fill_holes(close(connected(sm > 0.5 * (blood + body), seed), CLOSE_HALF))
    rows = np.flatnonzero(cavity.any(axis=1))
    if rows.size < 10:
        return None
    span = cavity[rows[0]:rows[-1] + 1]
    left = np.argmax(span, axis=1).astype(float)
    right = (w - np.argmax(span[:, ::-1], axis=1)).astype(float)
    return Cavity(int(rows[0]), left, right)



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
