"""Long-axis cine: the LV cavity's width per image row, for volumes and regional motion.

The cavity is the bright blood region through the image centre (the LV sits centred in
the long-axis planes, apex up). Row by row from the centre, the run of blood-bright
pixels is followed up to the apex and down to the base.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Cavity:
    """Left and right cavity borders per row, from the apex row down to the base row."""

    top: int
    left: np.ndarray
    right: np.ndarray

    @property
    def widths(self) -> np.ndarray:
        return self.right - self.left


def _row_run(row: np.ndarray, x: int, threshold: float) -> tuple[int, int] | None:
    if not 0 <= x < len(row) or row[x] < threshold:
        return None
    below = np.flatnonzero(row[:x] < threshold)
    above = np.flatnonzero(row[x:] < threshold)
    left = int(below[-1]) + 1 if below.size else 0
    right = x + int(above[0]) if above.size else len(row)
    return left, right


def find_cavity(image: np.ndarray) -> Cavity | None:
    """The LV cavity of a bright-blood long-axis frame, or None if not found."""
    h, w = image.shape
    sm = image.copy()
    sm[1:-1] = (image[:-2] + image[1:-1] + image[2:]) / 3.0
    cy, cx = h // 2, w // 2
    blood = float(np.median(sm[cy - 7:cy + 8, cx - 7:cx + 8]))
    myo = float(np.percentile(sm[cy, max(cx - 70, 0):cx + 70], 10))
    if blood - myo < 0.15:
        return None
    threshold = 0.5 * (blood + myo)
    rows: dict[int, tuple[int, int]] = {}
    for direction in (-1, 1):
        x, y = cx, cy
        width = None
        while 0 <= y < h:
            run = _row_run(sm[y], x, threshold)
            if run is None or (width is not None and run[1] - run[0] > 1.3 * width + 4):
                break
            rows[y] = run
            width = run[1] - run[0]
            x = (run[0] + run[1]) // 2
            y += direction
    if len(rows) < 10:
        return None
    top, bottom = min(rows), max(rows)
    keys = range(top, bottom + 1)
    left = np.array([rows[k][0] for k in keys], float)
    right = np.array([rows[k][1] for k in keys], float)
    return Cavity(top, left, right)
