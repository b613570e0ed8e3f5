"""Through-plane partial volume (phantom/sequences.py): a slice is the mean of sub-planes
spread over its slice-select profile, drawn through a 3D texture, averaged before the
scanner acts; phase-encode ghosts come from what moves (phantom/scanner.py)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from cardiolens.phantom.cohort import plan_diagnoses, sample_params
from cardiolens.phantom.scanner import acquire, draw_profile
from cardiolens.phantom.sequences import (
    Renderer,
    _fractal_kernel,
    _smooth_kernel,
    _spectral_field,
    _white_spectrum,
    slab_offsets,
    spectral_grid,
)

SEED, STUDIES = 4, 16


def test_sub_planes_split_the_slice_profile_into_equal_thirds() -> None:
    for thickness in (6.0, 8.0, 10.0):
        lo, mid, hi = slab_offsets(thickness)
        assert mid == 0.0 and lo == -hi
        # a box would put them at +-t/3; the profile's soft tails push them a little out
        assert thickness / 3.0 < hi < 0.45 * thickness
    assert slab_offsets(8.0, transition=1e-3)[2] == pytest.approx(8.0 / 3.0, abs=0.01)


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def test_texture_is_three_dimensional_coarse_grain_runs_through_the_slab() -> None:
    """Fields of parallel planes: identical at depth 0, less alike further away, and fine
    grain decorrelates faster than coarse structure (structures as deep as they are wide)."""
    shape = (96, 131)             # drawn on a 96 x 135 grid and cropped
    grid = spectral_grid(shape)
    assert grid == (96, 135)

    def field(kernel: np.ndarray, depth: float, other: int = 1) -> np.ndarray:
        return _spectral_field(shape, kernel, _white_spectrum(np.random.default_rng(5), grid),
                               _white_spectrum(np.random.default_rng([5, other]), grid), depth)

    fine, coarse = _smooth_kernel(grid, 1.0), _smooth_kernel(grid, 6.0)
    assert _correlation(field(fine, 0.0), field(fine, 0.0)) == pytest.approx(1.0)
    near, far = (_correlation(field(fine, 0.0), field(fine, d)) for d in (0.5, 2.0))
    assert 0.1 < far < near < 0.95
    assert _correlation(field(coarse, 0.0), field(coarse, 2.0)) > far + 0.3
    # the planes on either side are consistent: less alike with each other than with the
    # centre plane (exponential correlation per Fourier mode)
    one = _fractal_kernel(grid)
    minus, plus = field(one, 2.0, other=2), field(one, 2.0, other=3)
    assert _correlation(minus, plus) < _correlation(field(one, 0.0), plus)
    for f in (minus, plus):
        assert f.std() == pytest.approx(1.0, abs=1e-3)


def _renderer(index: int, offsets: tuple[float, ...] | None = None) -> Renderer:
    renderer = Renderer(sample_params(SEED, index, plan_diagnoses(STUDIES, SEED)[index]))
    if offsets is not None:
        renderer.sax_offsets = offsets
    return renderer


def test_a_slice_is_the_mean_of_its_sub_planes_heart_and_thorax() -> None:
    """The noise-free slice equals the mean of the same slice drawn at each sub-plane
    alone (heart and thorax both move; the point-spread function is linear), and the
    sub-planes differ, so the slab does average something."""
    full = _renderer(0)
    k = full.p.acq.n_slices // 2
    values = full.values["lge"]

    def draw(renderer: Renderer) -> np.ndarray:
        return renderer._sax_frames(k, np.zeros(1), values, (), None, k)[0]

    slab = draw(full)
    subs = [draw(_renderer(0, (d,))) for d in full.sax_offsets]
    np.testing.assert_allclose(slab, np.mean(subs, axis=0), atol=2e-5)
    r0, r1, c0, c1 = full.sax_window
    heart = [s[r0:r1, c0:c1] for s in subs]
    assert np.abs(heart[0] - heart[2]).max() > 0.1 * np.abs(heart[1]).max()
    outside = [np.delete(s, np.s_[r0:r1], axis=0) for s in subs]
    assert np.abs(outside[0] - outside[2]).mean() > 1e-3 * np.abs(outside[1]).mean()


def test_ghosts_come_from_moving_tissue_only() -> None:
    profile = replace(draw_profile(np.random.default_rng(7)), ghost=0.02, ghost_shift=0.2,
                      ghost_phase=0.0, g_max=1.0)
    clean = np.zeros((1, 1, 80, 60), np.float32)
    clean[..., 10, 30] = 100.0           # a moving structure
    clean[..., 50, 10] = 100.0           # a still one
    moving = np.zeros((1, 80, 60), np.float32)
    moving[0, 10, 30] = 1.0
    out = acquire(profile, clean, np.random.default_rng(0), 1e-6, None, None,
                  moving=moving)[0, 0]
    assert out[26, 30] == pytest.approx(2.0, rel=1e-3)      # 16 rows down (20% of 80)
    assert out[74, 30] == pytest.approx(2.0, rel=1e-3)      # wrapped round
    assert out[66, 10] < 1e-4 and out[34, 10] < 1e-4        # the still one: no ghost


def test_renderer_ghost_source_is_the_heart_blood_and_chest_wall() -> None:
    renderer = _renderer(1)
    renderer.cine_sax()
    k = renderer.p.acq.n_slices // 2
    moving = renderer.moving([k])[0]
    r0, r1, c0, c1 = renderer.sax_window
    centre = renderer.slice_centre(k)
    assert moving[int(centre[0]), int(centre[1])] == pytest.approx(1.0)    # the heart
    air = renderer._slab[k][0]["air"]
    assert moving[air > 0.99].max() < 0.01                   # not the air outside the body
    still = np.ones(moving.shape, bool)
    still[r0:r1, c0:c1] = False
    assert np.median(moving[still & (air < 0.01)]) < 0.2    # most of the body is still
