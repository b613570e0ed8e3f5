"""Binary-mask morphology on 2-D boolean arrays, 4-connected, numpy only."""

from __future__ import annotations

import numpy as np


def dilate4(mask: np.ndarray) -> np.ndarray:
    """The mask and its 4-connected neighbours (one-pixel dilation)."""
    out = mask.copy()
    out[1:, :] |= mask[:-1, :]
    out[:-1, :] |= mask[1:, :]
    out[:, 1:] |= mask[:, :-1]
    out[:, :-1] |= mask[:, 1:]
    return out


def connected(mask: np.ndarray, seed: np.ndarray) -> np.ndarray:
    """The part of ``mask`` 4-connected to ``seed`` (repeated one-pixel dilation)."""
    reach = seed & mask
    while True:
        grown = dilate4(reach) & mask
        if np.array_equal(grown, reach):
            return reach
        reach = grown


def fill_holes(region: np.ndarray) -> np.ndarray:
    """``region`` with every enclosed gap (not connected to the image border) filled."""
    border = np.zeros_like(region)
    border[[0, -1]] = True
    border[:, [0, -1]] = True
    return ~connected(~region, border)
