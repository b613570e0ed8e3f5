"""How much of every site a lesion label names the drawn lesion shows, as the label-truth
tests read it.

A label names (level, wall) sites; a lesion is drawn as a radial band of the wall, maybe
in arcs or blotches, then seen through a thick slice (the slab's sub-planes) and the
point-spread function. :func:`site_visibility` measures, per named site, the share of
the site's core myocardium that reads as lesion in the written image for certain: the
noise-free lesion share reaches the sequence's reading level plus a margin for the
study's own noise (:data:`NOISE_MARGIN` SDs at each pixel's coil gain), in connected
clusters as the tests count them (:data:`READING_CLUSTER`), on the best slice of the
site's level. docs/phantom.md, "Every named site shows its lesion", gives the rule the
generator keeps (:data:`VISIBLE_SHARE`) and why.
"""

from __future__ import annotations

import numpy as np

from cardiolens.data.anatomy import WALL_CENTRE_DEG, Site, slice_levels
from cardiolens.data.masks import in_clusters
from cardiolens.data.vocabulary import LEVELS as LEVEL
from cardiolens.phantom.geometry import lesion_fraction, tissue
from cardiolens.phantom.params import Lesion, StudyParams
from cardiolens.phantom.scanner import g_factor
from cardiolens.phantom.sequences import (
    LGE_TEXTURE_KEY,
    T2_TEXTURE_KEY,
    Renderer,
    blur,
)

READING_SHARE = {"lge_sax": 0.35, "t2_sax": 0.5, "perf_sax": 0.6}
"""Share of a lesion's contrast a pixel must carry to read as lesion: the label-truth
tests' levels (LGE 0.35 of what scar adds; T2 remote + 0.5 of what edema adds, the
half-maximum edge; perfusion a defect peak under 0.6 of normal)."""
READING_MYO = {"lge_sax": 0.5, "t2_sax": 0.95, "perf_sax": 0.95}
"""Least slab-mean myocardium fraction of a pixel the tests read: LGE reads what the
lesion adds, so partial-volume pixels count; T2 and perfusion read intensities, so only
core myocardium (blood and fat would pull a partial-volume pixel down)."""
MIN_CLUSTER = 3
"""Connected bright pixels (8-neighbours) that make a T2 finding in the label-truth test:
the noise is correlated over the point-spread function, so one noise excursion lights two
neighbouring pixels."""
READING_CLUSTER = {"lge_sax": 1, "t2_sax": MIN_CLUSTER, "perf_sax": 1}
"""Least connected pixels a bright pixel needs to count, as each label-truth test reads:
T2 in clusters of :data:`MIN_CLUSTER`, LGE and perfusion pixel by pixel."""
NOISE_MARGIN = 1.0
"""Noise SDs above the reading level a pixel's noise-free lesion share must reach: a
cluster of such pixels stays above the reading level in the written image (each pixel
with probability 0.84, correlated with its neighbours)."""
NOISE_REFERENCE = {"lge_sax": ("lge", None), "t2_sax": ("t2", "lv_myo")}
"""The signal whose 1/SNR is a series' noise SD (``Renderer.lge_sax``: 1.0;
``Renderer.t2_sax``: twice the myocardium) as (values key, tissue or None for 1.0).
Perfusion reads the defect's peak over dynamics, against no single-frame noise: no
margin."""
VISIBLE_SHARE = 0.10
"""Least share of a named site's read myocardium that reads as lesion for certain: twice
the 5% at which the label-truth tests call a site lit (docs/phantom.md)."""
CORE_HALF_DEG = 27.0
"""A wall's core: its 60-degree sector less 3 degrees each side (as the tests read)."""


def drawn_lesions(p: StudyParams, series: str) -> tuple[Lesion, ...]:
    """The lesions a short-axis series draws: scar on ``lge_sax``, edema on ``t2_sax``, the
    defect on ``perf_sax``."""
    if series == "lge_sax":
        return p.scar
    if series == "t2_sax":
        return p.edema
    if series == "perf_sax":
        return (p.defect,) if p.defect is not None else ()
    raise ValueError(f"no lesions drawn on {series}")


def _slices(renderer: Renderer, series: str) -> list[tuple[int, str]]:
    """(slice index, level) of every short-axis slice of ``series``."""
    if series == "perf_sax":
        return list(zip(renderer.perf_slices(), LEVEL[:3], strict=True))
    return list(enumerate(slice_levels(renderer.p.acq.n_slices)))


def _texture_key(series: str) -> int | None:
    return {"lge_sax": LGE_TEXTURE_KEY, "t2_sax": T2_TEXTURE_KEY}.get(series)


def noise_share(renderer: Renderer, series: str, k: int) -> np.ndarray | float:
    """The written image's noise SD over the lesion's contrast in each pixel of short-axis
    slice ``k`` (its heart window), as the label-truth tests see it after dividing by the
    coil gain: ``reference / snr * g-factor / (coil * |lesion - myocardium|)``; 0 for
    perfusion (:data:`NOISE_REFERENCE`)."""
    if series not in NOISE_REFERENCE:
        return 0.0
    key, tissue_name = NOISE_REFERENCE[series]
    values = renderer.values[key]
    reference = 1.0 if tissue_name is None else 2.0 * abs(complex(values[tissue_name]))
    contrast = abs(complex(values["lesion"])) - abs(complex(values["lv_myo"]))
    r0, r1, c0, c1 = renderer.sax_window
    coil = renderer.sax_gain(k)[r0:r1, c0:c1] / np.float32(renderer.stored_gain)
    g = g_factor(renderer.scanner, renderer.scan.rows)[r0:r1]
    sigma = reference / renderer.scan.snr * g / np.maximum(coil, 1e-3)
    return np.asarray(sigma / max(contrast, 1e-6), np.float32)


def site_visibility(renderer: Renderer, series: str) -> dict[Site, float]:
    """Per site the series' lesions name: the largest share, over the slices of its
    level, of the site's myocardium (pixels above ``READING_MYO``, in the wall's core
    sector) whose noise-free lesion share reaches the reading level plus
    ``NOISE_MARGIN`` noise SDs (:func:`noise_share`), counted in connected clusters of
    ``READING_CLUSTER`` pixels of the slice's read myocardium.

    Args:
        renderer: the study's renderer (its geometry, slab, textures and PSF).
        series: ``lge_sax`` (scar), ``t2_sax`` (edema) or ``perf_sax`` (defect).

    Returns:
        ``{(level, wall): share}`` for every named site (apex: ``(Apex, "")``); 0 where no
        slice of the level holds core myocardium.
    """
    lesions = drawn_lesions(renderer.p, series)
    named = {site for lesion in lesions for site in lesion.sites}
    out: dict[Site, float] = dict.fromkeys(named, 0.0)
    if not lesions:
        return out
    sharp = series == "perf_sax"
    k_rows, k_cols = renderer.psf(sharp)
    key = _texture_key(series)
    reading = READING_SHARE[series]
    patchy = any(lesion.patchy for lesion in lesions)
    for k, level in _slices(renderer, series):
        sites = [s for s in named if s[0] == level]
        if not sites:
            continue
        plane = renderer.sax_plane(k)
        texture = (renderer.lesion_texture(key + k, renderer.sax_window)
                   if patchy and key is not None else None)
        myo = np.zeros(plane.rho.shape, np.float32)
        drawn = np.zeros(plane.rho.shape, np.float32)
        for depth in renderer.sax_offsets:
            sub = renderer.sub_plane(plane, None, depth)
            t = tissue(renderer.model, sub, np.zeros(1), renderer.scan.epi_fat_mm,
                       renderer.epi_lobes, renderer.trabeculae, renderer.epi_patches)
            myo += t.lv_myo[0]
            drawn += t.lv_myo[0] * lesion_fraction(lesions, sub, t, texture)[0]
        n = len(renderer.sax_offsets)
        core = myo / n > READING_MYO[series]
        level_needed = reading + NOISE_MARGIN * noise_share(renderer, series, k)
        seen = blur((drawn / n)[None], k_rows, k_cols)[0] >= level_needed
        seen = in_clusters(seen & core, READING_CLUSTER[series])
        for site in sites:
            mask = core
            if site[1]:
                delta = (plane.phi - WALL_CENTRE_DEG[site[1]] + 180.0) % 360.0 - 180.0
                mask = core & (np.abs(delta) <= CORE_HALF_DEG)
            if mask.any():
                out[site] = max(out[site], float(seen[mask].mean()))
    return out
