"""The per-study scanner profile (phantom/scanner.py): seeded, blind to findings, its masks
never touch the heart, ghosts and g-factor act along the phase-encode direction (rows)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from cardiolens.phantom.cohort import plan_diagnoses, sample_params
from cardiolens.phantom.geometry import tissue
from cardiolens.phantom.params import StudyParams
from cardiolens.phantom.scanner import ScannerProfile, acquire, draw_profile, fov_mask
from cardiolens.phantom.sequences import LAX_VIEWS, Renderer

SEED, STUDIES = 4, 16


def _params(index: int) -> StudyParams:
    return sample_params(SEED, index, plan_diagnoses(STUDIES, SEED)[index])


def _worst_case(profile: ScannerProfile) -> ScannerProfile:
    """The GE-like handling at its most aggressive drawn settings."""
    return replace(profile, zero_background=True, mask_diameter=0.83, gradwarp=0.04,
                   suppression=0.9)


def test_profile_is_seeded_and_mixes_vendors() -> None:
    profiles = [draw_profile(np.random.default_rng([s, 2000])) for s in range(400)]
    again = [draw_profile(np.random.default_rng([s, 2000])) for s in range(400)]
    assert profiles == again
    zero = np.mean([p.zero_background for p in profiles])
    parallel = np.mean([p.g_max > 1.0 for p in profiles])
    assert 0.42 < zero < 0.58 and 0.62 < parallel < 0.78
    assert all(0.005 <= p.ghost <= 0.03 and 0.12 <= p.ghost_shift <= 0.35 for p in profiles)


def test_profile_and_masks_do_not_depend_on_findings() -> None:
    p = next(q for q in map(_params, range(STUDIES)) if q.scar and q.edema)
    bare = replace(p, diagnosis="normal", scar=(), edema=(), defect=None, papillary_scar=False)
    r, b = Renderer(p), Renderer(bare)
    assert r.scanner == b.scanner
    r.scanner = b.scanner = _worst_case(r.scanner)
    r.lge_sax(), b.lge_sax()
    slices = list(range(p.acq.n_slices))
    assert np.array_equal(r.kept(slices), b.kept(slices))
    # the same study rendered twice stores the same bytes
    assert np.array_equal(Renderer(p).t2_sax(), Renderer(p).t2_sax())


@pytest.mark.parametrize("index", [0, 1, 2])
def test_background_masks_leave_the_heart_untouched(index: int) -> None:
    r = Renderer(_params(index))
    r.scanner = _worst_case(r.scanner)
    lge = r.lge_sax()
    kept = r.kept(list(range(r.p.acq.n_slices)))
    assert kept is not None
    assert (lge.transpose(2, 3, 0, 1)[:, 0][~kept] == 0).all()     # the masks are applied
    assert 0.05 < 1.0 - kept.mean() < 0.6
    for k in range(r.p.acq.n_slices):
        plane = r.sax_plane(k)
        heart = 1.0 - tissue(r.model, plane, np.zeros(1), r.scan.epi_fat_mm).outside[0]
        r0, r1, c0, c1 = r.sax_window
        assert kept[k, r0:r1, c0:c1][heart > 0].all(), (index, k)
    for i, view in enumerate(LAX_VIEWS):
        r.cine_lax(view)
        plane, _, _ = r.lax_plane(view)
        heart = 1.0 - tissue(r.model, plane, r.phases, r.scan.epi_fat_mm).outside.min(axis=0)
        r0, r1, c0, c1 = r.lax_window
        lax_kept = r.kept([50 + i])
        assert lax_kept is not None
        assert lax_kept[0, r0:r1, c0:c1][heart > 0].all(), (index, view)


def test_fov_mask_is_a_centred_circle_with_curved_gradwarp_margins() -> None:
    base = draw_profile(np.random.default_rng(1))
    assert fov_mask(replace(base, zero_background=False), 150, 190).all()
    ge = replace(base, zero_background=True, mask_diameter=0.86, gradwarp=0.0)
    mask = fov_mask(ge, 200, 200)
    assert mask[100, 100] and mask[100, 15] and not mask[100, 12] and not mask[0, 0]
    assert mask.mean() == pytest.approx(np.pi * 0.43**2, abs=0.01)
    wide = replace(ge, mask_diameter=2.0, gradwarp=0.04)    # no circle: the warp's margin
    warped = fov_mask(wide, 160, 200)
    top = np.argmax(warped, axis=0)                          # first kept row per column
    assert top[100] >= 1 and top[5] > top[50] > top[100]     # curved: widest at the corners
    assert not warped[:, :4].any() and warped[80, 4]         # the sides too


def test_ghosts_and_g_factor_act_along_the_phase_encode_rows() -> None:
    base = draw_profile(np.random.default_rng(7))
    profile = replace(base, ghost=0.02, ghost_shift=0.2, ghost_phase=0.0, g_max=1.4,
                      g_width=0.2)
    clean = np.zeros((1, 1, 80, 60), np.float32)
    clean[..., 10, 30] = 100.0
    out = acquire(profile, clean, np.random.default_rng(0), 1e-6, None, None)[0, 0]
    assert out[26, 30] == pytest.approx(2.0, rel=1e-3)      # 16 rows down (20% of 80)
    assert out[74, 30] == pytest.approx(2.0, rel=1e-3)      # 16 rows up, wrapped round
    assert out[42, 30] == pytest.approx(2.0 / 3.0, rel=1e-3)    # second order, 32 rows
    assert out[58, 30] == pytest.approx(2.0 / 3.0, rel=1e-3)
    assert out[10, 45] < 1e-4 and out[10, 15] < 1e-4             # nothing along the readout
    flat = np.full((1, 40, 80, 60), 1000.0, np.float32)
    noisy = acquire(profile, flat, np.random.default_rng(1), 1.0, None, None,
                    segmented=False)[0]
    sd = noisy.std(axis=(0, 2))
    assert sd[38:42].mean() == pytest.approx(1.0, rel=0.05)     # the SNR holds at the centre
    assert sd[:4].mean() < 0.8 * sd[38:42].mean()                # the edges are quieter


def test_noise_is_correlated_as_the_reconstruction_window_correlates_it() -> None:
    """Noise passes the same k-space window as the object: unit variance per part, and
    the neighbour correlation of the point-spread function along rows and columns."""
    from cardiolens.phantom.scanner import correlated_noise
    from cardiolens.phantom.sequences import psf_kernel

    k_rows, k_cols = psf_kernel(0.65, False), psf_kernel(0.8, False)
    noise = correlated_noise(np.random.default_rng(3), (8, 96, 128), (k_rows, k_cols))
    for part in (noise.real, noise.imag):
        assert abs(float(part.std()) - 1.0) < 0.02
        for axis, kernel in ((1, k_rows), (2, k_cols)):
            expected = float(np.dot(kernel[:-1], kernel[1:]) / np.dot(kernel, kernel))
            shifted = np.roll(part, 1, axis=axis)
            measured = float(np.mean(part * shifted) / np.mean(part * part))
            assert abs(measured - expected) < 0.03, (axis, measured, expected)
    assert abs(float(np.mean(noise.real * noise.imag))) < 0.02     # independent parts
    # k-space samples are uniform, the image noise is Gaussian: its tails and kurtosis
    for part in (noise.real, noise.imag):
        z = part.ravel() / part.std()
        assert float(np.mean(np.abs(z) > 2.0)) == pytest.approx(0.0455, abs=0.004)
        assert abs(float(np.mean(z**4)) - 3.0) < 0.1
    white = correlated_noise(np.random.default_rng(3), (8, 96, 128), None)
    assert abs(float(np.mean(white.real * np.roll(white.real, 1, axis=1)))) < 0.02


def test_temporal_footprint_blurs_what_moves_and_keeps_what_stands_still() -> None:
    from cardiolens.phantom.scanner import temporal_footprint

    frames = np.zeros((1, 20, 4, 4), np.float32)
    frames[:, :, 0] = 3.0                       # still tissue
    frames[:, 5, 2, 2] = 1.0                    # something present in one frame only
    out = temporal_footprint(frames, 1.2)
    np.testing.assert_allclose(out[:, :, 0], 3.0, rtol=1e-6)
    w = 1.2 / 8.0
    np.testing.assert_allclose(out[0, 4:7, 2, 2], [w, 1.0 - 2.0 * w, w], rtol=1e-5)
    np.testing.assert_allclose(out.sum(axis=1), frames.sum(axis=1), rtol=1e-5)
    np.testing.assert_allclose(temporal_footprint(frames[:, :1], 1.2), frames[:, :1])
    assert all(0.8 <= draw_profile(np.random.default_rng([s, 2000])).footprint <= 1.6
               for s in range(50))
