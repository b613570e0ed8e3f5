"""Binary-mask morphology on 2-D boolean arrays, numpy only (4-connected unless named
otherwise)."""

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


def in_clusters(mask: np.ndarray, min_size: int) -> np.ndarray:
    """Pixels of ``mask`` whose 8-connected component holds at least ``min_size`` pixels.

    Each pixel takes the largest label among its 8 neighbours in ``mask`` until no label
    changes, so a component ends with one label (its largest pixel index)."""
    rows, cols = mask.shape
    labels = np.where(mask, np.arange(1, mask.size + 1).reshape(mask.shape), 0)
    while True:
        padded = np.pad(labels, 1)
        grown = labels
        for dr in (0, 1, 2):
            for dc in (0, 1, 2):
                grown = np.maximum(grown, padded[dr:dr + rows, dc:dc + cols])
        grown = np.where(mask, grown, 0)
        if np.array_equal(grown, labels):
            break
        labels = grown
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    return np.asarray(sizes[labels] >= min_size)
