"""Binary-mask helpers (cardiolens.data.masks) against hand-made and scipy references."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from cardiolens.data.masks import in_clusters


def test_in_clusters_keeps_8_connected_components_of_the_minimum_size() -> None:
    mask = np.zeros((6, 7), bool)
    mask[0, 0] = True                       # a single pixel
    mask[2, 2] = mask[3, 3] = True          # a diagonal pair: one 8-connected component
    mask[1, 5] = mask[2, 5] = mask[3, 6] = True   # three, touching only diagonally at the end
    triple = np.zeros_like(mask)
    triple[1, 5] = triple[2, 5] = triple[3, 6] = True
    assert np.array_equal(in_clusters(mask, 3), triple)
    pair_and_triple = mask.copy()
    pair_and_triple[0, 0] = False
    assert np.array_equal(in_clusters(mask, 2), pair_and_triple)
    assert np.array_equal(in_clusters(mask, 1), mask)
    assert not in_clusters(mask, 4).any()


def test_in_clusters_matches_scipy_labelling() -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        mask = rng.random((30, 40)) < rng.uniform(0.05, 0.6)
        labels, _ = ndimage.label(mask, structure=np.ones((3, 3), bool))
        sizes = np.bincount(labels.ravel())
        sizes[0] = 0
        for size in (2, 3, 5):
            assert np.array_equal(in_clusters(mask, size), sizes[labels] >= size)
