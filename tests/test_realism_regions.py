"""scripts/realism_regions.py: regions come from intensities, statistics mean what they say."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import load_script


@pytest.fixture(scope="module")
def regions_script():
    return load_script("realism_regions")


def _body(noise: float, seed: int = 0) -> np.ndarray:
    """A 128-pixel frame: a bright body disc of radius 50 on zero air, with noise inside."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:128, :128]
    body = np.hypot(yy - 64, xx - 64) < 50
    image = np.where(body, 120.0 + rng.normal(0.0, noise, body.shape), 0.0)
    return np.clip(image, 0, 255).astype(np.uint8)


def test_regions_split_body_edge_heart_and_air(regions_script):
    masks = regions_script.regions(_body(0.0) / 255.0)
    total = sum(m.astype(int) for m in masks.values())
    assert np.all(total == 1)                            # a partition of the frame
    assert masks["air"][0, 0] and not masks["air"][64, 64]
    assert masks["heart"][64, 64]                        # the centre disc
    assert masks["body_edge"][64, 14] and masks["body_edge"][64, 15]    # the skin (col 14)
    assert not masks["body_edge"][64, 30] and masks["interior"][64, 30]
    outside = 1 - np.pi * 50**2 / 128**2       # the smoothed outline lies a few pixels out
    assert outside - 0.1 < masks["air"].mean() < outside


def test_noise_shows_as_pixel_scale_lbp_codes_only_where_it_is(regions_script):
    flat = regions_script.frame_regions(_body(0.0))
    noisy = regions_script.frame_regions(_body(8.0))
    assert noisy["interior"]["lbp_9"] > 0.2 > flat["interior"]["lbp_9"]
    assert noisy["interior"]["grad_p50"] > flat["interior"]["grad_p50"]
    assert noisy["air"]["lbp_9"] == flat["air"]["lbp_9"] == 0.0    # the air stays flat
    assert flat["body_edge"]["strong"] > 0.1 > 0.01 > flat["interior"]["strong"]
