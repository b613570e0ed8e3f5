"""Label truth: measure the phantom's written pixels and check them against its written labels.

The generator's geometry tells where the heart is (centre, myocardium, sectors); the voxels
come from the NIfTI files and the answers from items.jsonl. A label that the pixels do not
show fails here.

The cohort is seed 7's (the README's); ``LABEL_TRUTH_SEED=S`` reads another. The tests were
built on seeds 7 and 3 and are checked on seeds 3, 5, 7, 11 and 13 with main's images and
round 7's; where a seed found a measurement too blunt, its limit now comes from physics or
from noise measured in the image, not from the seed: the LGE clean-wall limit adds the share
the study's own noise lights, the EF is read from hole-filled, partial-volume pool areas
against the drawn EF, the long-axis wall ends are read in a band fitted to the drawn wall,
the layer profile reads the lesion's own sites, the end-systolic ring's minimum run
follows the thinnest basal wall, the cine's myocardium-level band comes from the study's
own core myocardium (:func:`_myo_band`) and the edema clean-wall limit adds the share the
study's own noise lights, as the LGE one. Both noise allowances are a one-sided bound on
the lit share at ``NOISE_FALSE_ALARM`` per site, from the pixels' Rice tails and the noise
correlation of the point-spread function (:func:`_noise_pixels`; README, "The phantom
cohort"); T2's, which counts only pixels in clusters of 3, bounds those
(:func:`_clustered_noise_pixels`).
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage, signal, special, stats

from cardiolens.data.anatomy import WALL6_TO_4, WALL_CENTRE_DEG, WALLS6, slice_levels
from cardiolens.data.cutoffs import EF_CUTOFFS
from cardiolens.data.dataset import read_dataset
from cardiolens.data.findings import ef_band
from cardiolens.data.masks import connected, dilate4, fill_holes, in_clusters
from cardiolens.data.volumes import SeriesVolume
from cardiolens.phantom.cohort import cohort_params, generate_cohort
from cardiolens.phantom.geometry import tissue
from cardiolens.phantom.labels import findings_from_params
from cardiolens.phantom.scanner import correlated_noise
from cardiolens.phantom.sequences import Renderer, psf_kernels
from cardiolens.phantom.visibility import MIN_CLUSTER, READING_SHARE

from conftest import COHORT_SEED, COHORT_STUDIES
from helpers import read_all

SEED, STUDIES = int(os.environ.get("LABEL_TRUTH_SEED", 7)), 40
CORE_MARGIN_DEG = 3.0


@pytest.fixture(scope="module")
def cohort(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shared README cohort, or a fresh one when LABEL_TRUTH_SEED asks for another seed."""
    if SEED == COHORT_SEED and STUDIES == COHORT_STUDIES:
        shared: Path = request.getfixturevalue("cohort40")
        return shared
    root = tmp_path_factory.mktemp("label_truth") / "cohort"
    return generate_cohort(root, studies=STUDIES, seed=SEED, progress=False)


@pytest.fixture(scope="module")
def answers(cohort: Path) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = defaultdict(dict)
    for line in (cohort / "items.jsonl").read_text().splitlines():
        item = json.loads(line)
        out[item["study_id"]][item["subtask"]] = item.get("answer")
    return out


def _index(study_id: str) -> int:
    return int(study_id[1:])


def _frames(cohort: Path, study_id: str, series: str) -> np.ndarray:
    """(slices, frames, H, W) float voxels of one written series."""
    info = read_dataset(cohort).studies[study_id].series[series]
    volume = SeriesVolume.open(cohort, info)
    data = read_all(volume)
    return data.transpose(2, 3, 0, 1)


CORE_MYO = 0.95
"""Least slab-mean myocardium fraction of a core-myocardium pixel (no partial volume)."""


class SliceGeometry:
    """Where to look in one short-axis slice at end-diastole (from the drawing geometry).

    A slice is a slab (its sub-planes, ``Renderer.sax_offsets``): a pixel is myocardium or
    blood by the slab's mean fraction, and its depth in the wall is measured between the
    slab's mean endocardial and epicardial radii (where an oblique wall or the apical cap
    leaves the slab, the pixel holds partial volume, as on a real thick slice)."""

    def __init__(self, renderer: Renderer, k: int) -> None:
        plane = renderer.sax_plane(k)
        slab = [tissue(renderer.model, renderer.sub_plane(plane, None, d), np.zeros(1))
                for d in renderer.sax_offsets]
        self.window = renderer.sax_window
        self.centre = renderer.slice_centre(k)
        self.gain = renderer.sax_gain(k)
        self.myo_fraction = np.mean([t.lv_myo[0] for t in slab], axis=0)
        self.core_myo = self.myo_fraction > CORE_MYO
        endo = np.mean([t.endo[0] for t in slab], axis=0)
        epi = np.mean([t.epi[0] for t in slab], axis=0)
        self.depth = np.clip((plane.rho - endo) / np.maximum(epi - endo, 1e-3), 0, 1)
        self.blood = np.mean([t.lv_blood[0] for t in slab], axis=0) > 0.95
        self.phi = plane.phi
        self.rho = plane.rho

    def crop(self, frame: np.ndarray) -> np.ndarray:
        r0, r1, c0, c1 = self.window
        return frame[r0:r1, c0:c1]

    def wall_core(self, wall: str) -> np.ndarray:
        """Pixels well inside a wall's 60-degree sector (away from its borders)."""
        delta = (self.phi - WALL_CENTRE_DEG[wall] + 180.0) % 360.0 - 180.0
        return np.abs(delta) <= 30.0 - CORE_MARGIN_DEG


def _study_ids(answers: dict, subtask: str, value: object) -> list[str]:
    return [sid for sid, a in answers.items() if a.get(subtask) == value]


NOISE_FALSE_ALARM = 1e-4
"""Chance that noise alone takes one clean (slice, level, wall) site over its limit. A test
run checks 450-1,350 such sites per cohort (each slice of a level counts), but in quiet
studies noise lights no pixel, and an integer bound's own tail lies far under this: summed
over a cohort's clean sites (the expected number of noise failures per run, from the model,
itself conservative) 0.004 for LGE and 0.009 for T2 even if every site held 2% of bleed on
top (tuning seeds 3, 7, 11, 17, 23, 29, 43; T2's from the lit-count model of round 10, an
overestimate for clusters), so noise fails a run of both tests about 1% of the time at
most."""


def _noise_correlation(share: float) -> np.ndarray:
    """(21, 21) correlation of the written noise between pixels (rows, cols) apart, centre
    (10, 10): the noise passes the reconstruction's k-space window
    (``scanner.correlated_noise``), so it is the autocorrelation of the point-spread
    function along rows (phase encode, keeping ``share`` of k-space: ``scan.kspace``,
    0.62-0.8) times that along columns (the readout keeps more: ``psf_kernels``); one row apart
    0.31-0.54."""
    axes = []
    for kernel in (k.astype(np.float64) for k in psf_kernels(share, False)):
        axes.append(np.correlate(kernel, kernel, "full") / float(np.sum(kernel**2)))
    return np.outer(axes[0], axes[1])


def _noise_count(tails: np.ndarray, mask: np.ndarray, rho: np.ndarray) -> tuple[float, float]:
    """Mean and variance of the number of ``mask`` pixels that noise alone lights.

    Each pixel is lit by noise with chance ``tails``. Neighbours light together: two
    pixels apart by an offset of correlation ``rho`` exceed a threshold at the site's mean
    tail p jointly with the bivariate-normal chance p - 2 T(z, sqrt((1 - rho) / (1 + rho)))
    (Owen's T, z the normal quantile of p). That bounds a magnitude pair's (both of its
    noise components are correlated alike, and near zero signal the magnitude keeps less
    of the correlation); negative covariances are left out. The variance is the pixels'
    binomial variances plus these covariances over every pair of pixels in the mask."""
    p = tails[mask].astype(np.float64)
    p_mean = min(float(p.mean()), 0.5)
    a = np.sqrt(np.clip(1.0 - rho, 0.0, None) / (1.0 + rho))
    joint = p_mean - 2.0 * special.owens_t(stats.norm.isf(p_mean), a)
    cov = np.maximum(joint - p_mean**2, 0.0)
    half_r, half_c = rho.shape[0] // 2, rho.shape[1] // 2
    cov[half_r, half_c] = 0.0
    m = mask.astype(np.float64)
    pairs = signal.fftconvolve(m, m[::-1, ::-1])
    cr, cc = m.shape[0] - 1, m.shape[1] - 1
    pairs = np.round(pairs[cr - half_r:cr + half_r + 1, cc - half_c:cc + half_c + 1])
    return float(p.sum()), float(np.sum(p * (1.0 - p))) + float(np.sum(cov * pairs))


def _noise_pixels(tails: np.ndarray, mask: np.ndarray, rho: np.ndarray, cluster: int = 1
                  ) -> float:
    """Lit pixels of ``mask`` that noise alone exceeds with chance ``NOISE_FALSE_ALARM``:
    the tail of a negative binomial of the count's mean and variance
    (:func:`_noise_count`), a Poisson number of noise excursions each lighting a clump of
    pixels (a Poisson count where no pixels light together). Where only clusters of
    ``cluster`` pixels count, noise lights none unless that many pixels light (0 when
    fewer than ``cluster`` is the bound)."""
    mu, variance = _noise_count(tails, mask, rho)
    if mu <= 0.0:
        return 0.0
    if variance <= mu * (1.0 + 1e-6):
        bound = float(stats.poisson.ppf(1.0 - NOISE_FALSE_ALARM, mu))
    else:
        clump = variance / mu
        bound = float(stats.nbinom.ppf(1.0 - NOISE_FALSE_ALARM, mu / (clump - 1.0),
                                       1.0 / clump))
    return bound if bound >= cluster else 0.0


def _connected_triples() -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """The 20 shapes of three 8-connected pixels, each as the offsets (rows, cols) of its
    second and third pixel from its first in raster order."""
    after = [(r, c) for r in range(-2, 3) for c in range(-2, 3) if (r, c) > (0, 0)]

    def touch(a: tuple[int, int], b: tuple[int, int]) -> bool:
        return max(abs(a[0] - b[0]), abs(a[1] - b[1])) == 1

    return [(a, b) for i, a in enumerate(after) for b in after[i + 1:]
            if touch((0, 0), a) + touch((0, 0), b) + touch(a, b) >= 2]


TRIPLES = _connected_triples()
GAUSS_LEGENDRE = np.polynomial.legendre.leggauss(20)


def _upper_orthant(h: np.ndarray, k: np.ndarray, r: float) -> np.ndarray:
    """P(X > h, Y > k) for a standard bivariate normal of correlation ``r`` (Owen's T)."""
    h = np.where(h == 0.0, 1e-12, -h)
    k = np.where(k == 0.0, 1e-12, -k)
    s = np.sqrt(1.0 - r * r)
    out = 0.5 * (special.ndtr(h) + special.ndtr(k)) - special.owens_t(h, (k - r * h) / (h * s)) \
        - special.owens_t(k, (h - r * k) / (k * s)) - 0.5 * (h * k < 0.0)
    return np.asarray(np.clip(out, 0.0, 1.0))


def _triple_lit(z: np.ndarray, r12: float, r13: float, r23: float) -> np.ndarray:
    """P(X1 > z[0], X2 > z[1], X3 > z[2]) for standard normals of these correlations
    (``z``: (3, n), z[0] the highest threshold): the bivariate orthant of X2, X3 given X1,
    integrated over X1 from z[0] to z[0] + 5 (20 Gauss-Legendre nodes; scipy's trivariate
    normal to 3 digits)."""
    nodes, weights = GAUSS_LEGENDRE
    s2, s3 = np.sqrt(1.0 - r12**2), np.sqrt(1.0 - r13**2)
    x = z[0][:, None] + 2.5 * (nodes + 1.0)
    given = _upper_orthant((z[1][:, None] - r12 * x) / s2, (z[2][:, None] - r13 * x) / s3,
                           (r23 - r12 * r13) / (s2 * s3))
    return np.asarray(2.5 * np.sum(weights * stats.norm.pdf(x) * given, axis=1))


def _shifted(a: np.ndarray, offset: tuple[int, int], fill: float) -> np.ndarray:
    """``a`` at each pixel plus ``offset`` (``fill`` beyond its border)."""
    padded = np.pad(a, 2, constant_values=fill)
    r, c = 2 + offset[0], 2 + offset[1]
    return padded[r:r + a.shape[0], c:c + a.shape[1]]


def _triple_maps(tails: np.ndarray, core: np.ndarray, rho: np.ndarray) -> list[np.ndarray]:
    """Per shape of :data:`TRIPLES`, the chance that noise lights all three of its pixels
    with its first pixel at each position (0 where one lies outside ``core``): each
    pixel's normal quantile of its tail, jointly normal with the correlation ``rho``
    (:func:`_noise_correlation`), as :func:`_noise_count` for pairs."""
    z = np.where(core, stats.norm.isf(np.clip(tails, 1e-300, 0.5)), np.inf)
    cr, cc = rho.shape[0] // 2, rho.shape[1] // 2
    maps = []
    for second, third in TRIPLES:
        pts = [(0, 0), second, third]
        zs = np.stack([_shifted(z, o, np.inf) for o in pts])
        inside = np.all(np.isfinite(zs), axis=0)
        values = zs[:, inside]
        first = np.argmax(values, axis=0)   # condition on the highest threshold
        lit = np.zeros(values.shape[1])
        for i in range(3):
            sel = first == i
            j, k = (n for n in range(3) if n != i)
            r = [rho[cr + pts[b][0] - pts[a][0], cc + pts[b][1] - pts[a][1]]
                 for a, b in ((i, j), (i, k), (j, k))]
            if sel.any():
                lit[sel] = _triple_lit(values[[i, j, k]][:, sel], *r)
        out = np.zeros(z.shape)
        out[inside] = lit
        maps.append(out)
    return maps


def _cluster_rate(maps: list[np.ndarray], mask: np.ndarray) -> float:
    """Expected number of lit connected triples with a pixel in ``mask`` (:func:`_triple_maps`):
    a bound on the chance that noise lights a cluster of 3 or more reaching ``mask`` (such a
    cluster holds a connected triple through each of its pixels)."""
    total = 0.0
    for (second, third), lit in zip(TRIPLES, maps, strict=True):
        touch = mask | _shifted(mask, second, False) | _shifted(mask, third, False)
        total += float(lit[touch].sum())
    return total


SIZE_CONFIDENCE = 0.95
"""One-sided confidence at which :func:`_clustered_tail` reads the simulated cluster sizes."""


def _clustered_tail(rate: float, sizes: np.ndarray, ceiling: int) -> np.ndarray:
    """P(count > x) for x = 0..``ceiling`` of the pixels in noise clusters at a site: a
    Poisson number (mean ``rate``, :func:`_cluster_rate`) of clusters, each of a size
    whose chance to exceed x is the upper ``SIZE_CONFIDENCE`` limit (Clopper-Pearson) from
    the simulated ``sizes`` (:func:`_noise_cluster_sizes`; what lies beyond ``ceiling`` is
    put at ``ceiling`` + 1, so a tail the simulation missed stays in); the compound
    Poisson's pmf by Panjer's recursion."""
    x = np.arange(ceiling + 1)
    over = np.array([np.sum(sizes > v) for v in x])
    sf = np.where((x < MIN_EDEMA_CLUSTER) | (over >= len(sizes)), 1.0,
                  stats.beta.ppf(SIZE_CONFIDENCE, over + 1, np.maximum(len(sizes) - over, 1)))
    sf = np.minimum.accumulate(np.minimum(sf, 1.0))
    size_pmf = np.append(np.concatenate([[0.0], -np.diff(sf)]), sf[-1])
    size_pmf[0] = 1.0 - sf[0]
    pmf = np.zeros(ceiling + 1)
    pmf[0] = np.exp(-rate)
    for n in range(1, ceiling + 1):
        j = np.arange(1, n + 1)
        pmf[n] = rate / n * float(np.sum(j * size_pmf[j] * pmf[n - j]))
    return np.asarray(1.0 - np.cumsum(pmf))


def _clustered_noise_pixels(rate: float, sizes: np.ndarray, ceiling: float) -> float:
    """Pixels in noise clusters that a site's count exceeds with chance at most
    ``NOISE_FALSE_ALARM`` (:func:`_clustered_tail`): 0 where ``rate`` is at most
    ``NOISE_FALSE_ALARM``, never more than ``ceiling``, the lit-count bound of
    :func:`_noise_pixels` (a clustered count is at most the lit count)."""
    if rate <= NOISE_FALSE_ALARM or ceiling <= 0.0:
        return 0.0
    within = np.nonzero(_clustered_tail(rate, sizes, int(ceiling)) <= NOISE_FALSE_ALARM)[0]
    return float(within[0]) if within.size else float(ceiling)


def _noise_cluster_sizes(free: np.ndarray, level: np.ndarray, core: np.ndarray, sigma: float,
                         share: float, rng: np.random.Generator, draws: int) -> np.ndarray:
    """Sizes of the clusters of at least ``MIN_EDEMA_CLUSTER`` pixels (8-neighbours, as
    ``in_clusters``) that noise alone lights in ``core`` over ``draws`` noise draws: the
    scanner's own ``correlated_noise`` (k-space ``share``) of SD ``sigma`` on the noise-free
    ``free``, a pixel lit where its magnitude passes ``level``. On the core's bounding box
    with 10 pixels more on each side (the field is stationary, so cropping keeps it)."""
    if not core.any():
        return np.zeros(0, int)
    rows, cols = np.nonzero(core)
    r0, r1, c0, c1 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    box = (slice(r0, r1), slice(c0, c1))
    psf = psf_kernels(share, False)
    structure = np.zeros((3, 3, 3), bool)
    structure[1] = True
    sizes = []
    for start in range(0, draws, 250):
        n = min(250, draws - start)
        noise = correlated_noise(rng, (n, r1 - r0 + 20, c1 - c0 + 20), psf)[:, 10:-10, 10:-10]
        bright = (np.hypot(free[box] + sigma * noise.real, sigma * noise.imag) > level[box]) \
            & core[box]
        labels, _ = ndimage.label(bright, structure)
        found = np.bincount(labels.ravel())[1:]
        sizes.append(found[found >= MIN_EDEMA_CLUSTER])
    return np.concatenate(sizes)


CLUSTER_DRAWS, CLUSTER_DRAWS_MAX = 500, 4000
"""Noise draws per T2 slice and round, and at most per slice, from which
:func:`_edema_sites` takes the sizes of noise clusters."""


class ClusterPool:
    """Sizes of simulated noise clusters, drawn in rounds (``draw_round``) only as far as a
    site needs them: until a size tail unseen in n clusters (under 3 / n at
    ``SIZE_CONFIDENCE``) takes at most half of ``NOISE_FALSE_ALARM`` at the site's cluster
    rate, or ``rounds`` rounds."""

    def __init__(self, draw_round: Callable[[], np.ndarray],
                 rounds: int = CLUSTER_DRAWS_MAX // CLUSTER_DRAWS) -> None:
        self.draw_round, self.rounds, self.sizes = draw_round, rounds, np.zeros(0, int)
        self.drawn = 0

    def for_rate(self, rate: float) -> np.ndarray:
        """The sizes drawn so far, after more rounds if ``rate`` needs them."""
        while (rate > NOISE_FALSE_ALARM and self.drawn < self.rounds
               and len(self.sizes) < 6.0 * rate / NOISE_FALSE_ALARM):
            self.sizes = np.concatenate([self.sizes, self.draw_round()])
            self.drawn += 1
        return self.sizes


def _site_shares(lit: list[np.ndarray], geoms: list[SliceGeometry], min_myo: float,
                 noise_bound: Callable[[int, np.ndarray], float], stray: int
                 ) -> dict[tuple[str, str], tuple[float, float]]:
    """Per (level, wall), the highest over its slices of the share of myocardium pixels
    (slab fraction above ``min_myo``, in the wall's core) that are ``lit``, less ``stray``
    pixels per site (a stray noisy pixel is not a finding), and of the share that noise
    alone may light there (``noise_bound`` of the slice and the site's mask, pixels, less
    the same ``stray``)."""
    levels = slice_levels(len(lit))
    out: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for k, g in enumerate(geoms):
        for wall in (WALLS6 if levels[k] != "Apex" else ("",)):
            mask = (g.myo_fraction > min_myo) & (g.wall_core(wall) if wall else True)
            if mask.sum() >= 5:
                share = max(int(lit[k][mask].sum()) - stray, 0) / int(mask.sum())
                noise = max(noise_bound(k, mask) - stray, 0.0) / int(mask.sum())
                out[(levels[k], wall)].append((share, noise))
    return {site: (max(s for s, _ in v), max(n for _, n in v)) for site, v in out.items()}


def _lge_sites(cohort: Path, study_id: str, frames: np.ndarray | None = None
               ) -> dict[tuple[str, str], tuple[float, float]]:
    """Per (level, wall) of an LGE stack: the share of myocardium pixels (slab fraction >
    0.5) whose lesion signal passes :func:`_lge_threshold`, and the share that the image's
    own noise may light there (:func:`_site_shares`, :func:`_noise_pixels`).

    The lesion signal is the written pixels minus the same slice drawn noise-free without
    lesions, with the acquisition's own phase-encode ghosts (``Renderer.lesion_free``),
    over each pixel's coil gain (in LGE blood, fat and scar are all bright, so a
    threshold on the blood would not separate them). Without the ghosts in the reference,
    seed 23 P0029 (amyloid, whose inversion time leaves the chest wall at full signal) lit
    4 of the 150 pixels of its unlabelled apex cap with or without its scar drawn.

    The noise is measured, not assumed:
    sigma is the robust SD (1.4826 MAD) of the written minus the noise-free pixels in the
    LV blood pool, in stored units (a magnitude image; the pool is far above the noise, so
    there it is Gaussian, and before coil shading it is the same in every pixel of the
    heart). A pixel's chance to pass the threshold by noise is then the Rice tail of its
    noise-free lesion-free value (scipy.stats.rice). ``frames``: the written stack, read
    from ``cohort`` when None (a test passes an edited copy).
    """
    if frames is None:
        frames = _frames(cohort, study_id, "lge_sax")
    renderer = Renderer(cohort_params(SEED, _index(study_id), STUDIES))
    geoms = [SliceGeometry(renderer, k) for k in range(frames.shape[0])]
    free = [g.crop(renderer.lesion_free("lge_sax", k)) for k, g in enumerate(geoms)]
    excess = [g.crop(frames[k, 0]) - free[k] for k, g in enumerate(geoms)]
    pool = np.concatenate([e[g.blood] for e, g in zip(excess, geoms, strict=True)])
    sigma = 1.4826 * float(np.median(np.abs(pool - np.median(pool))))
    threshold = _lge_threshold(study_id)
    gains = [g.crop(g.gain) for g in geoms]
    tails = [stats.rice.sf((f + threshold * gain) / sigma, f / sigma)
             for f, gain in zip(free, gains, strict=True)]
    lit = [e / gain > threshold for e, gain in zip(excess, gains, strict=True)]
    rho = _noise_correlation(renderer.scan.kspace)
    return _site_shares(lit, geoms, 0.5, lambda k, mask: _noise_pixels(tails[k], mask, rho),
                        stray=1)


def _labelled_site(site: tuple[str, str], levels: list[str], walls: list[str],
                   level_names: dict[str, str]) -> bool:
    """Whether a (level, wall) site lies in a labelled level and a labelled wall (the apex
    cap: its level alone)."""
    level, wall = site
    return level_names[level] in levels and (wall in walls or level == "Apex")


def _check_regional(fractions: dict[tuple[str, str], float], levels: list[str],
                    walls: list[str], level_names: dict[str, str], study_id: str,
                    noise: dict[tuple[str, str], float] | None = None) -> None:
    """Signal only at labelled levels x walls; every labelled level and wall shows signal.

    A site is lit at >= 5% of its core pixels (>= 2% for the small apex cap) and clean at
    <= 2% plus the share that noise alone may light there (``noise``, per site, the bound
    of :func:`_noise_pixels`; none when not given); labelled level x wall pairs may be
    either (a label names levels and walls, not pairs). An unlabelled site fails over its
    clean limit, as signal where it is also lit: where noise may light more than 5% (the
    noisiest studies), a lit share under the limit is noise, not a finding, and only
    labelled sites count as showing their level and wall.
    """
    def labelled(level: str, wall: str) -> bool:
        return _labelled_site((level, wall), levels, walls, level_names)

    for (level, wall), frac in fractions.items():
        limit = 0.02 + (noise or {}).get((level, wall), 0.0)
        if labelled(level, wall) or frac <= limit:
            continue
        if frac >= (0.02 if level == "Apex" else 0.05):
            assert level_names[level] in levels, f"{study_id}: signal at unlabelled level {level}"
            raise AssertionError(f"{study_id}: signal in unlabelled wall {wall}")
        raise AssertionError(f"{study_id}: faint signal at {level} {wall} "
                             f"({frac:.3f} > {limit:.3f})")
    lit = {site for site, frac in fractions.items() if labelled(*site)
           and frac >= (0.02 if site[0] == "Apex" else 0.05)}
    shown_levels = {level_names[lv] for lv, _ in lit}
    shown_walls = {w for _, w in lit if w}
    assert set(levels) - {"Papillary muscle"} <= shown_levels, f"{study_id}: level not shown"
    assert set(walls) <= shown_walls, f"{study_id}: labelled wall shows no signal"


LGE_LEVELS = {"Basal": "Basal segment", "Mid": "Mid segment", "Apical": "Apical segment",
              "Apex": "Apex"}
PLAIN_LEVELS = {lv: lv for lv in ("Basal", "Mid", "Apical", "Apex")}


def _lge_threshold(study_id: str) -> float:
    """0.35 of what scar adds over myocardium in this study (its own inversion time).

    It was half until each slice became a slab (docs/phantom_images.md, through-plane
    partial volume): a subendocardial layer of 18% of the wall moves radially across the
    sub-planes of a 10 mm slice and keeps 30-45% of its contrast in its brightest pixels,
    still plain to a reader (seed 3 P0008, mid anterior wall: 0 lit pixels at half, lit
    at 0.35); unenhanced myocardium stays far below (noise only)."""
    values = Renderer(cohort_params(SEED, _index(study_id), STUDIES)).values["lge"]
    return 0.35 * (values["lesion"] - values["lv_myo"])


def _check_lge(sites: dict[tuple[str, str], tuple[float, float]], answer: dict,
               study_id: str) -> None:
    """:func:`_check_regional` of an LGE study's sites (:func:`_lge_sites`), each clean
    limit raised by the share the study's own noise may light there."""
    _check_regional({site: share for site, (share, _) in sites.items()},
                    list(answer["lge_levels"]), list(answer["lge_walls"]), LGE_LEVELS,
                    study_id, {site: noise for site, (_, noise) in sites.items()})


def test_lge_enhancement_sits_in_labelled_levels_and_walls(cohort: Path, answers: dict) -> None:
    """LGE lights the labelled levels and walls and leaves the others clean. A clean site
    may hold 2% plus the share of pixels that the study's own noise may light
    (:func:`_lge_sites`): the threshold (0.35 of the scar contrast) is 2.3 noise SDs above
    zero in the noisiest studies (seed 11 P0001 lit 2.7% of its basal inferolateral core
    on main's images, all of it noise: 0.000 drawn noise-free), so a fixed 2% failed on
    noise, not bleed. The allowance is a bound at ``NOISE_FALSE_ALARM``, not the noise's
    mean share: with the mean, seed 43 P0006 (amyloid, no LGE) failed at 2.53% against
    2.47%, 5 of 158 basal anterior pixels lit where noise lights 0.61 on average and, with
    its correlation along the phase-encode direction, 5 or more with chance 2.3e-3
    (20,000 simulated noise draws)."""
    with_lge = _study_ids(answers, "lge_presence", "Yes")
    without = _study_ids(answers, "lge_presence", "No")
    assert len(with_lge) >= 10 and len(without) >= 5
    for sid in with_lge:
        _check_lge(_lge_sites(cohort, sid), answers[sid], sid)
    for sid in without[:5]:
        for site, (share, noise) in _lge_sites(cohort, sid).items():
            assert share <= 0.02 + noise, (f"{sid}: enhancement without an LGE label at "
                                           f"{site} ({share:.3f} > {0.02 + noise:.3f})")


def _unlabelled_wall_at_labelled_level(
        answers: dict, finding: str, level_names: dict[str, str],
        sites_of: Callable[[str], dict[tuple[str, str], tuple[float, float]]],
) -> tuple[str, dict[tuple[str, str], tuple[float, float]], tuple[str, str]]:
    """The first study with ``finding`` (``lge``, ``t2_edema``) that has an unlabelled wall
    at a labelled ring level, its ``sites_of`` (the check's site shares), and its
    unlabelled (level, wall) at a labelled level with the widest noise allowance (the first
    in order where they are equal): where a noise-allowance test puts its added signal
    (seed 17's first LGE study has no such wall)."""
    ring = {level_names[lv] for lv in ("Basal", "Mid", "Apical")}
    for sid in _study_ids(answers, f"{finding}_presence", "Yes"):
        levels, walls = answers[sid][f"{finding}_levels"], answers[sid][f"{finding}_walls"]
        if not (set(WALLS6) - set(walls) and ring & set(levels)):
            continue
        sites = sites_of(sid)
        candidates = [site for site in sorted(sites) if site[1]
                      and level_names[site[0]] in levels and site[1] not in walls]
        if candidates:
            return sid, sites, max(candidates, key=lambda site: sites[site][1])
    raise AssertionError(f"no {finding} study with an unlabelled wall at a labelled level")


def test_lge_noise_allowance_still_catches_faint_bleed(cohort: Path, answers: dict) -> None:
    """The noise allowance hides no lesion: scar signal added to one point more of an
    unlabelled wall's core than its clean limit (2% plus what noise may light there, the
    site with the widest allowance of the study; under the 5% of a lit wall where the
    wall is large and the study quiet) fails the check of a study that passes as
    written."""
    sid, sites, (level, wall) = _unlabelled_wall_at_labelled_level(
        answers, "lge", LGE_LEVELS, lambda sid: _lge_sites(cohort, sid))
    a = answers[sid]
    _check_lge(sites, a, sid)
    frames = _frames(cohort, sid, "lge_sax").copy()
    renderer = Renderer(cohort_params(SEED, _index(sid), STUDIES))
    k = slice_levels(frames.shape[0]).index(level)
    g = SliceGeometry(renderer, k)
    core = (g.myo_fraction > 0.5) & g.wall_core(wall)
    count = int(np.ceil((0.03 + sites[(level, wall)][1]) * core.sum())) + 1
    inner = np.argsort(np.where(core, g.depth, np.inf), axis=None)[:count]   # subendocardial
    values = renderer.values["lge"]
    r0, _, c0, _ = g.window
    rows, cols = np.unravel_index(inner, core.shape)
    frames[k, 0, rows + r0, cols + c0] += (values["lesion"] - values["lv_myo"]) * \
        g.gain[rows + r0, cols + c0]
    with pytest.raises(AssertionError, match=f"{sid}: (faint )?signal"):
        _check_lge(_lge_sites(cohort, sid, frames), a, sid)


def _lge_drawn_sites(study_id: str, renderer: Renderer | None = None
                     ) -> dict[tuple[str, str], float]:
    """Per (level, wall) of an LGE stack drawn without noise: the share of myocardium
    pixels (slab fraction > 0.5) whose lesion signal passes :func:`_lge_threshold`
    (:func:`_site_shares`, no noise term and no stray pixel: there is no noise).

    The lesion signal is the slice drawn noise-free with its lesions minus the same slice
    without them (``Renderer.noise_free``, ``Renderer.lesion_free``: the same drawing,
    point-spread function and phase-encode ghosts as the written series), over each
    pixel's coil gain, as :func:`_lge_sites` reads the written pixels. ``renderer``: the
    study's own when None (a test passes one of edited parameters)."""
    if renderer is None:
        renderer = Renderer(cohort_params(SEED, _index(study_id), STUDIES))
    geoms = [SliceGeometry(renderer, k) for k in range(renderer.p.acq.n_slices)]
    threshold = _lge_threshold(study_id)
    lit = [g.crop(renderer.noise_free("lge_sax", k) - renderer.lesion_free("lge_sax", k))
           / g.crop(g.gain) > threshold for k, g in enumerate(geoms)]
    sites = _site_shares(lit, geoms, 0.5, lambda k, mask: 0.0, stray=0)
    return {site: share for site, (share, _) in sites.items()}


def _check_lge_drawn(sites: dict[tuple[str, str], float], answer: dict, study_id: str
                     ) -> None:
    """:func:`_check_regional` of an LGE study's noise-free sites (:func:`_lge_drawn_sites`):
    a clean site at most 2% (no noise term), every labelled level and wall lit."""
    _check_regional(sites, list(answer.get("lge_levels") or []),
                    list(answer.get("lge_walls") or []), LGE_LEVELS, study_id)


def _lge_sax_studies(cohort: Path) -> list[str]:
    """The cohort's studies with an LGE short-axis stack."""
    return sorted(sid for sid, study in read_dataset(cohort).studies.items()
                  if "lge_sax" in study.series)


def test_lge_drawing_without_noise_sits_in_labelled_levels_and_walls(
        cohort: Path, answers: dict) -> None:
    """The LGE drawing, without noise, lights the labelled levels and walls and leaves every
    other site clean at 2% (no noise term): every LGE short-axis study, with or without an
    LGE label (:func:`_lge_drawn_sites`, the same sites, threshold and "lesion shows" rule
    as the written-pixel test).

    Both tests exist because they check different things. The written-pixel test
    (:func:`test_lge_enhancement_sits_in_labelled_levels_and_walls`) checks what a model
    sees, noise included, so its clean limit adds what the study's own noise may light: up
    to 13.6 points at the noisiest amyloid sites (seed 11 P0001), where lesion signal
    bleeding into a clean wall could hide under the noise. This one checks the drawing
    itself, where no noise can hide a bleed and none excuses it."""
    sids = _lge_sax_studies(cohort)
    assert len(sids) >= 10 and len(_study_ids(answers, "lge_presence", "Yes")) >= 10
    clean: list[tuple[float, str, tuple[str, str]]] = []
    shown: list[tuple[float, str, str]] = []
    for sid in sids:
        a = answers[sid]
        levels, walls = list(a.get("lge_levels") or []), list(a.get("lge_walls") or [])
        sites = _lge_drawn_sites(sid)
        clean += [(share, sid, site) for site, share in sites.items()
                  if not _labelled_site(site, levels, walls, LGE_LEVELS)]
        inside = {site: share for site, share in sites.items()
                  if _labelled_site(site, levels, walls, LGE_LEVELS)}
        shown += [(max((s for (lv, _), s in inside.items() if LGE_LEVELS[lv] == level),
                       default=0.0), sid, level) for level in levels
                  if level != "Papillary muscle"]
        shown += [(max((s for (_, w), s in inside.items() if w == wall), default=0.0), sid,
                   wall) for wall in walls]
        _check_lge_drawn(sites, a, sid)
    top = max(clean, key=lambda c: c[0])
    print(f"\nnoise-free LGE, seed {SEED}: {len(sids)} studies, {len(clean)} clean sites "
          f"({sum(c[0] > 0.0 for c in clean)} above 0), largest clean share {top[0]:.4f} "
          f"({top[1]} {top[2]}), smallest labelled level/wall share "
          + (f"{min(shown)[0]:.4f} ({min(shown)[1]} {min(shown)[2]})" if shown else "none"))


SPILL_DEG = 15.0
"""How far past a lesion's wall border the counter-test draws it into the neighbouring
wall (that wall's core starts ``CORE_MARGIN_DEG`` past the border)."""


def test_lge_drawing_check_catches_a_lesion_spilling_into_a_clean_wall(
        cohort: Path, answers: dict) -> None:
    """The noise-free check (:func:`_check_lge_drawn`) is not blind: the first LGE study
    with a lesion wall next to an unlabelled wall at a labelled ring level passes as drawn,
    and fails once the lesion (its layer and band) is drawn ``SPILL_DEG`` past the border
    into that clean wall, its labels unchanged."""
    ring = ("Basal", "Mid", "Apical")
    for sid in _study_ids(answers, "lge_presence", "Yes"):
        params = cohort_params(SEED, _index(sid), STUDIES)
        walls = list(answers[sid].get("lge_walls") or [])
        spill = [(lesion, level, wall, side) for lesion in params.scar
                 for level, wall in lesion.sites if level in ring for side in (-1, 1)
                 if WALLS6[(WALLS6.index(wall) + side) % 6] not in walls]
        if spill:
            break
    else:
        raise AssertionError("no LGE study with a lesion wall next to an unlabelled wall")
    lesion, level, wall, side = spill[0]
    neighbour = WALLS6[(WALLS6.index(wall) + side) % 6]
    edge = WALL_CENTRE_DEG[neighbour] - 30.0 * side       # the shared border
    arc = (edge, edge + SPILL_DEG) if side == 1 else (edge - SPILL_DEG, edge)
    bled = replace(lesion, sites=((level, neighbour),), patchy=False, arcs=(arc,))
    a = answers[sid]
    _check_lge_drawn(_lge_drawn_sites(sid), a, sid)
    renderer = Renderer(replace(params, scar=(*params.scar, bled)))
    sites = _lge_drawn_sites(sid, renderer)
    assert sites[(level, neighbour)] > 0.02, (sid, level, neighbour, sites[(level, neighbour)])
    print(f"\nspilled {SPILL_DEG:.0f} deg: {sid} {level} {neighbour} "
          f"{sites[(level, neighbour)]:.4f} lit")
    with pytest.raises(AssertionError, match=f"{sid}: (faint )?signal"):
        _check_lge_drawn(sites, a, sid)


def test_noise_count_model_bounds_simulated_correlated_noise() -> None:
    """The clean limit's noise model (:func:`_noise_count`, :func:`_noise_pixels`) against
    noise drawn as the scanner draws it (``scanner.correlated_noise``, the most correlated
    reconstruction, 0.62 of k-space): on a wall-like band of 155 pixels with Rice tails of
    1.7-3.0% (as noisy as seed 43 P0006's nulled amyloid myocardium), the model's mean is
    the simulated one, its variance covers the simulated variance (which correlation
    raises well above a binomial's: the limit needs it) without doubling it, and its tail
    covers the simulated tail wherever 20,000 draws resolve it; a Poisson tail (no
    covariance) falls under it."""
    share = 0.62
    yy, xx = np.indices((40, 40))
    radius = np.hypot(yy - 20.0, xx - 5.0)
    mask = (radius > 24.0) & (radius < 30.0) & (np.abs(yy - 20.0) < 13.0)
    assert 130 <= mask.sum() <= 170, int(mask.sum())
    signal_level = 0.3 + 0.1 * (xx % 7)                      # noise-free level over sigma
    threshold = 2.4
    tails = stats.rice.sf(signal_level + threshold, signal_level)
    rho = _noise_correlation(share)
    mu, variance = _noise_count(tails, mask, rho)
    psf = psf_kernels(share, False)
    rng = np.random.default_rng(5)
    counts = []
    for _ in range(20):
        noise = correlated_noise(rng, (1000, 40, 40), psf)
        lit = np.hypot(signal_level + noise.real, noise.imag) - signal_level > threshold
        counts.append(lit[:, mask].sum(axis=1))
    drawn = np.concatenate(counts)
    assert abs(drawn.mean() - mu) <= 0.05 * mu, (drawn.mean(), mu)
    binomial = float(np.sum(tails[mask] * (1.0 - tails[mask])))
    assert drawn.var() >= 1.15 * binomial, (drawn.var(), binomial)
    assert drawn.var() <= variance <= 2.0 * drawn.var(), (variance, drawn.var())
    clump = variance / mu
    model = stats.nbinom(mu / (clump - 1.0), 1.0 / clump)
    resolved = [k for k in range(1, int(drawn.max()) + 1) if np.mean(drawn >= k) >= 2e-3]
    assert len(resolved) >= 4, resolved
    for k in resolved:
        assert model.sf(k - 1) >= 0.9 * np.mean(drawn >= k), (k, model.sf(k - 1))
    assert stats.poisson.sf(resolved[-1] - 1, mu) < np.mean(drawn >= resolved[-1])
    bound = _noise_pixels(tails, mask, rho)
    assert np.mean(drawn > bound) <= 1e-3 and bound <= mu + 8.0 * np.sqrt(variance), bound


def test_cluster_bound_covers_simulated_clustered_noise() -> None:
    """The T2 clean limit's noise model for pixels in clusters of 3 (:func:`_cluster_rate`,
    :func:`_clustered_tail`, :func:`_clustered_noise_pixels`) against the check's own
    count (``in_clusters``) of noise drawn as the scanner draws it
    (``scanner.correlated_noise``, 0.62 of k-space): on a ring of core myocardium (1,016
    pixels, as a slice's) with a 54-degree wall of 153 pixels, T2-like (noise-free level
    10 SDs, a pixel lit 2.3-2.7 SDs above it: Rice tails 0.4-1.2%, as seed 17 P0000's
    noisiest walls; cluster sizes from rounds of 2,000 draws, a few slices' worth), the
    rate of lit connected triples bounds the chance that a cluster reaches the wall
    without doubling it, the model's tail covers the simulated tail wherever 10,000 draws
    resolve it, and the bound, which the simulation exceeds no more than it resolves, is
    tighter than the lit-count bound (:func:`_noise_pixels`)."""
    share = 0.62
    yy, xx = np.indices((72, 72))
    core = np.abs(np.hypot(yy - 36.0, xx - 36.0) - 27.0) < 3.0
    wall = core & (np.abs(np.degrees(np.arctan2(yy - 36.0, xx - 36.0))) < 27.0)
    assert core.sum() == 1016 and wall.sum() == 153, (int(core.sum()), int(wall.sum()))
    free = np.full(core.shape, 10.0)
    level = free + 2.3 + 0.1 * (xx % 5)
    tails = stats.rice.sf(level, free)
    rho = _noise_correlation(share)
    rate = _cluster_rate(_triple_maps(tails, core, rho), wall)
    pool_rng = np.random.default_rng(3)
    pool = ClusterPool(lambda: _noise_cluster_sizes(free, level, core, 1.0, share, pool_rng,
                                                    4 * CLUSTER_DRAWS))
    ceiling = _noise_pixels(tails, wall, rho, MIN_EDEMA_CLUSTER)
    tail = _clustered_tail(rate, pool.for_rate(rate), int(ceiling))
    psf = psf_kernels(share, False)
    rng = np.random.default_rng(5)
    counts = []
    for _ in range(10):
        noise = correlated_noise(rng, (1000, 72, 72), psf)
        bright = (np.hypot(free + noise.real, noise.imag) > level) & core
        clustered = np.array([in_clusters(b, MIN_EDEMA_CLUSTER) for b in bright])
        counts.append(clustered[:, wall].sum(axis=1))
    drawn = np.concatenate(counts)
    assert np.mean(drawn > 0) <= rate <= 2.0 * np.mean(drawn > 0), (rate, np.mean(drawn > 0))
    resolved = [x for x in range(int(ceiling) + 1) if np.mean(drawn > x) >= 2e-3]
    assert len(resolved) >= 4, resolved
    for x in resolved:
        assert tail[x] >= np.mean(drawn > x), (x, tail[x], np.mean(drawn > x))
    bound = _clustered_noise_pixels(rate, pool.for_rate(rate), ceiling)
    assert np.mean(drawn > bound) < 2e-3 and bound < ceiling, (bound, ceiling)


MIN_BAND_PIXELS = 5
"""Core-myocardium pixels each depth band needs for a study's layer profile to count."""


def test_lge_layer_profile_matches_labelled_layer(cohort: Path, answers: dict) -> None:
    checked = defaultdict(int)
    for sid in _study_ids(answers, "lge_presence", "Yes"):
        layers = answers[sid]["lge_layer"]
        if len(layers) != 1 or answers[sid]["lge_rv_insertion"] == "Yes":
            continue
        layer = layers[0]
        frames = _frames(cohort, sid, "lge_sax")
        params = cohort_params(SEED, _index(sid), STUDIES)
        renderer = Renderer(params)
        # the lesion's own (level, wall) sites: the answers name levels and walls, not
        # pairs, and a labelled wall at another labelled level is normal myocardium.
        # Pooled in, it weighs each band by where the pixel grid leaves core myocardium,
        # which decides the profile when the lesion's own walls are thin (seed 5 P0008,
        # transmural in 4.3-4.5 mm walls: 15.8/43.0/27.8 with normal 8.6-9.0 mm walls
        # pooled in, 64.0/68.5/57.3 on its own sites; seed 7 P0012 before round 6
        # measured it: docs/realism_gap.md, "Round 6")
        lesion = findings_from_params(params).lge
        assert lesion is not None, sid
        sites = set(lesion.sites)
        levels = slice_levels(frames.shape[0])
        bands: dict[str, list[float]] = {"inner": [], "middle": [], "outer": []}
        for k in range(frames.shape[0]):
            walls = [w for level, w in sites if level == levels[k] and w]
            if levels[k] == "Apex" or not walls:
                continue
            g = SliceGeometry(renderer, k)
            pixels = g.crop(frames[k, 0])
            sector = np.zeros_like(g.core_myo)
            for wall in walls:
                sector |= g.wall_core(wall)
            # the outer band stops short of the epicardium: the fat-water chemical-shift
            # line of the LGE gradient echo darkens the last pixel against epicardial fat
            # (seed 3 P0018: outer/inner 1.48 with the band at 0.8-0.97, 1.84 without the
            # line, 1.63 at 0.7-0.9)
            for name, (lo, hi) in {"inner": (0.03, 0.22), "middle": (0.4, 0.6),
                                   "outer": (0.7, 0.9)}.items():
                # only where the slab is myocardium throughout (an oblique wall moves
                # across the sub-planes: its endocardial pixels hold bright LGE blood)
                sel = sector & g.core_myo & (g.depth >= lo) & (g.depth <= hi) & (g.rho > 0)
                bands[name].extend(pixels[sel].tolist())
        # a wall thinned to 4-5 mm leaves almost no core pixels in the inner and outer
        # bands: its layer cannot be read by depth (seed 13 P0012: 0 and 1 pixels), so
        # the study is not counted rather than judged on one pixel
        if min(len(v) for v in bands.values()) < MIN_BAND_PIXELS:
            continue
        mean = {name: float(np.mean(v)) for name, v in bands.items()}
        if layer == "Subendocardial":
            assert mean["inner"] > 1.5 * mean["outer"], (sid, mean)
        elif layer == "Subepicardial":
            assert mean["outer"] > 1.5 * mean["inner"], (sid, mean)
        elif layer == "Mid-wall":
            assert mean["middle"] > 1.3 * max(mean["inner"], mean["outer"]), (sid, mean)
        else:
            assert min(mean.values()) > 0.6 * max(mean.values()), (sid, mean)
        checked[layer] += 1
    assert checked["Subendocardial"] >= 2 and checked["Mid-wall"] + checked["Subepicardial"] >= 2


EDEMA_READING = READING_SHARE["t2_sax"]
"""Share of what edema adds over remote myocardium at which a T2 pixel reads as edema
(0.5: the half-maximum edge a reader traces; the level the phantom's visibility rule
keeps, docs/phantom.md, "Every named site shows its lesion")."""


def _edema_threshold(study_id: str) -> float:
    """Remote myocardium plus half of what edema adds over it on this sequence (the STIR
    signal equation of the drawn T2, T1 and proton density: 1.51x at T2 72 against 52 ms,
    so 1.255).

    The threshold follows the physics instead of a constant (it was 1.6 when edema was
    drawn at 2.5x myocardium, with T2 85 against 40 ms). It was 0.6 of the excess (1.30)
    while single noisy pixels were read as edema: seed 7 P0025's basal inferolateral
    core, far from its anterior edema, lit 2.9% at the midpoint, taken then for an edema
    border. It is noise (none lit noise-free), which clusters now remove
    (:data:`MIN_EDEMA_CLUSTER`); at 0.6 a thin apical subepicardial band, plain to the eye
    at 1.2-1.46 over 1.0, lit no cluster (seed 3 P0004: the slab and the point-spread
    function keep 0.7-0.8 of its contrast in its brightest pixels). Both ends fail by 0.1:
    at 0.4 noise clusters light 8.7% of a basal wall of seed 7 P0025 (edema only mid and
    apical), at 0.6 seed 3 P0004's apical level shows nothing; 0.5 passes both on seeds
    3, 5, 7 and 11."""
    values = Renderer(cohort_params(SEED, _index(study_id), STUDIES)).values["t2"]
    return 1.0 + EDEMA_READING * (values["lesion"] / values["lv_myo"] - 1.0)


MIN_EDEMA_CLUSTER = MIN_CLUSTER
"""Connected bright core-myocardium pixels (8-neighbours, 3) that make a T2 finding."""


def _edema_sites(cohort: Path, study_id: str, frames: np.ndarray | None = None
                 ) -> dict[tuple[str, str], tuple[float, float]]:
    """Per (level, wall): the share of core myocardium pixels that read as edema and the
    share that the study's own noise may light there (its clean allowance, as
    :func:`_lge_sites`), the highest over the level's slices.

    A pixel reads as edema over its coil gain, over the stack's median core myocardium,
    above :func:`_edema_threshold` (the surface coil brightens the apex near the chest wall,
    a known mimic of edema that a reader corrects for), but only in a cluster of at least
    ``MIN_EDEMA_CLUSTER`` connected bright pixels, not after one stray pixel per site: the
    noise is correlated over the point-spread function (k-space share 0.62-0.8), so one
    excursion lights neighbours together (with clusters of two, noise lit 3.2-4.0% of a wall
    in studies without edema, seeds 3 and 5). Edema is a region: the smallest drawn, a
    patchy lesion's confluent focus in an apical subepicardial band (seed 3 P0004), lights a
    connected run along the wall.

    The noise share is measured, not assumed: sigma (stored units, the same in every
    pixel before coil shading) is the half-normal SD of the negative differences between
    the written and the lesion-free noise-free core myocardium (edema only adds signal,
    so it cannot inflate it; remote myocardium's noise SD is 0.08-0.10 of its level, so
    there the noise is Gaussian), and a pixel's chance to pass the threshold by noise is
    the Rice tail of its lesion-free value. The allowance bounds the pixels in noise
    clusters, not the noise-lit ones (README, "Round 10b"): noise reaches a site with a
    cluster of 3 or more at most with the chance of the expected number of lit connected
    triples there (:func:`_cluster_rate`: trivariate normal orthants of the pixels' tails
    with the point-spread function's correlation; no allowance where that is at most
    ``NOISE_FALSE_ALARM``), the clusters' sizes are simulated with the scanner's own noise
    on the study's slices (:class:`ClusterPool`, seeded by the study), and the allowance is
    their compound Poisson's bound (:func:`_clustered_noise_pixels`), never above the
    lit-count bound (:func:`_noise_pixels`). ``frames``: the written stack, read from
    ``cohort`` when None (a test passes an edited copy)."""
    if frames is None:
        frames = _frames(cohort, study_id, "t2_sax")
    renderer = Renderer(cohort_params(SEED, _index(study_id), STUDIES))
    geoms = [SliceGeometry(renderer, k) for k in range(frames.shape[0])]
    written = [g.crop(frames[k, 0]) for k, g in enumerate(geoms)]
    free = [g.crop(renderer.lesion_free("t2_sax", k)) for k, g in enumerate(geoms)]
    gains = [g.crop(g.gain) for g in geoms]
    ref = float(np.median(np.concatenate([(w / gain)[g.core_myo] for w, gain, g
                                          in zip(written, gains, geoms, strict=True)])))
    below = np.concatenate([(w - f)[g.core_myo] for w, f, g
                            in zip(written, free, geoms, strict=True)])
    sigma = float(np.median(-below[below < 0])) / 0.6745
    threshold = _edema_threshold(study_id)
    lit = [in_clusters((w / gain / ref > threshold) & g.core_myo, MIN_EDEMA_CLUSTER)
           for w, gain, g in zip(written, gains, geoms, strict=True)]
    tails = [stats.rice.sf(threshold * ref * gain / sigma, f / sigma)
             for f, gain in zip(free, gains, strict=True)]
    rho = _noise_correlation(renderer.scan.kspace)
    cutoffs = [threshold * ref * gain for gain in gains]
    rng = np.random.default_rng([SEED, _index(study_id)])
    pool = ClusterPool(lambda: np.concatenate([
        _noise_cluster_sizes(f, lv, g.core_myo, sigma, renderer.scan.kspace, rng, CLUSTER_DRAWS)
        for f, lv, g in zip(free, cutoffs, geoms, strict=True)]))
    maps: dict[int, list[np.ndarray]] = {}

    def noise_bound(k: int, mask: np.ndarray) -> float:
        ceiling = _noise_pixels(tails[k], mask, rho, MIN_EDEMA_CLUSTER)
        if ceiling <= 0.0:
            return 0.0
        if k not in maps:
            maps[k] = _triple_maps(tails[k], geoms[k].core_myo, rho)
        rate = _cluster_rate(maps[k], mask)
        return _clustered_noise_pixels(rate, pool.for_rate(rate), ceiling)

    return _site_shares(lit, geoms, CORE_MYO, noise_bound, stray=0)


def _check_edema(sites: dict[tuple[str, str], tuple[float, float]], answer: dict,
                 study_id: str) -> None:
    """:func:`_check_regional` of an edema study's sites (:func:`_edema_sites`), each
    clean limit raised by the share the study's own noise may light there."""
    _check_regional({site: share for site, (share, _) in sites.items()},
                    list(answer["t2_edema_levels"]), list(answer["t2_edema_walls"]),
                    PLAIN_LEVELS, study_id, {site: noise for site, (_, noise) in sites.items()})


def test_edema_sectors_are_brighter_on_t2(cohort: Path, answers: dict) -> None:
    """T2 lights the labelled levels and walls and leaves the others clean. A clean site
    may hold 2% plus the share the study's own noise may light there (:func:`_edema_sites`):
    the threshold (remote + half the edema excess) is a few noise SDs above remote
    myocardium, fewer where the coil gain is low, and held-out seed 17's P0000
    (amyloidosis, no edema) lit 2.9% of its basal inferior core with one cluster of three
    noise pixels (1.28-1.31, noise-free 0.98-1.00), where its noise lights 1.1% on
    average (limit 3.1% with that mean; one cluster of three is 2.9-4.8% of a wall, so the
    allowance is a bound at ``NOISE_FALSE_ALARM``: on the lit count, 7.77% there, and since
    round 10b on the pixels in noise clusters, 5.85%)."""
    with_edema = _study_ids(answers, "t2_edema_presence", "Yes")
    assert len(with_edema) >= 3
    for sid in with_edema:
        _check_edema(_edema_sites(cohort, sid), answers[sid], sid)
    for sid in _study_ids(answers, "t2_edema_presence", "No")[:5]:
        for site, (share, noise) in _edema_sites(cohort, sid).items():
            assert share <= 0.02 + noise, (f"{sid}: bright T2 signal without edema label at "
                                           f"{site} ({share:.3f} > {0.02 + noise:.3f})")


def test_edema_noise_allowance_still_catches_faint_signal(cohort: Path, answers: dict
                                                          ) -> None:
    """The noise allowance hides no edema: the full edema contrast added to a compact
    endocardial focus of an unlabelled wall's core, one pixel more than its clean limit
    (2% plus what noise may light there, at the site of the study with the widest
    allowance) and at least one cluster (``MIN_EDEMA_CLUSTER``),
    fails the check of a study that passes as written."""
    sid, sites, (level, wall) = _unlabelled_wall_at_labelled_level(
        answers, "t2_edema", PLAIN_LEVELS, lambda sid: _edema_sites(cohort, sid))
    a = answers[sid]
    _check_edema(sites, a, sid)
    frames = _frames(cohort, sid, "t2_sax").copy()
    renderer = Renderer(cohort_params(SEED, _index(sid), STUDIES))
    levels = slice_levels(frames.shape[0])
    values = renderer.values["t2"]
    r0, _, c0, _ = SliceGeometry(renderer, 0).window
    for k in (k for k, lv in enumerate(levels) if lv == level):
        g = SliceGeometry(renderer, k)
        core = g.core_myo & g.wall_core(wall)
        count = max(MIN_EDEMA_CLUSTER,
                    int(np.ceil((0.02 + sites[(level, wall)][1]) * core.sum())) + 1)
        # a compact focus at the endocardium: the core pixels nearest its innermost one
        first = np.unravel_index(np.argmin(np.where(core, g.depth, np.inf)), core.shape)
        yy, xx = np.indices(core.shape)
        near = np.where(core, np.hypot(yy - first[0], xx - first[1]), np.inf)
        rows, cols = np.unravel_index(np.argsort(near, axis=None)[:count], core.shape)
        frames[k, 0, rows + r0, cols + c0] += (values["lesion"] - values["lv_myo"]) * \
            g.gain[rows + r0, cols + c0]
    with pytest.raises(AssertionError, match=f"{sid}: (faint )?signal"):
        _check_edema(_edema_sites(cohort, sid, frames), a, sid)


POOL_LEVEL = 0.64
"""A cine pixel over its LV pool's median reads as blood above this (flood fill, ring, apex)."""


def _lv_blood_area(frame: np.ndarray, g: SliceGeometry, blood: float, myo: float) -> float:
    """LV blood-pool area in pixels, read at half maximum as a contouring reader does: the
    region connected to the LV centre (flood fill, 4-neighbours) brighter than half-way
    from the myocardium to this frame's own pool level, with its holes filled (trabeculae
    and papillary muscles belong to the labelled blood volume, as in clinical contouring),
    plus the blood share of the ring of pixels around it by partial volume, (pixel -
    myocardium) / (pool - myocardium) in [0, 1]. The pool level is the median of the
    region above ``POOL_LEVEL``; ``blood`` and ``myo``: the slice's end-diastolic pool
    median and the study's myocardium over it.

    A fixed ``POOL_LEVEL`` counted a slab of half blood, half myocardium as all blood: at
    end-systole an akinetic wall whose level boundary crosses the slab leaves a wedge of
    such pixels (0.6-1.0 of the end-diastolic pool, the systolic pool 1.4-1.6), and
    held-out seed 41 P0021 (ischemic, drawn EF 59.4) read 51.8."""
    rel = g.crop(frame) / blood
    seed = np.zeros_like(rel, dtype=bool)
    seed[np.unravel_index(np.argmin(g.rho), g.rho.shape)] = True
    bright = connected(rel > POOL_LEVEL, seed)
    pool_level = float(np.median(rel[bright])) if bright.any() else 1.0
    pool = fill_holes(connected(rel > 0.5 * (myo + pool_level), seed))
    ring = dilate4(pool) & ~pool
    share = np.clip((rel[ring] - myo) / (pool_level - myo), 0.0, 1.0)
    return float(pool.sum() + share.sum())


def _es_descent(renderer: Renderer) -> float:
    """Drawn descent of the base at end-systole (mm); the long-axis test below checks that
    the long-axis pixels show it."""
    return float(renderer.model.descent(renderer.phases[renderer.p.acq.es_phase]))


def _pixel_ef(cohort: Path, study_id: str, renderer: Renderer) -> float:
    """Ejection fraction (%) from the cine's blood-pool areas (:func:`_lv_blood_area`) by
    slice summation as a reader does it with the long-axis cross-reference: at ES only
    slices below the descended base count (a slice that is atrium at ES is left out), and
    the most basal counted slice's slab is trimmed or extended to the base plane."""
    info = read_dataset(cohort).studies[study_id].series["cine_sax"]
    frames = _frames(cohort, study_id, "cine_sax")
    ed_frames = frames[:, info.ed_frame or 0]
    slice_u = renderer.model.slice_u
    step = slice_u[1] - slice_u[0]
    base = _es_descent(renderer)
    geoms = [SliceGeometry(renderer, k) for k in range(info.slices - 1)]
    bloods = [float(np.median(g.crop(ed_frames[k])[g.blood])) for k, g in enumerate(geoms)]
    myo = float(np.median(np.concatenate([g.crop(ed_frames[k])[g.core_myo] / bloods[k]
                                          for k, g in enumerate(geoms)])))
    ed = es = 0.0
    first = True
    for k, g in enumerate(geoms):
        ed += _lv_blood_area(ed_frames[k], g, bloods[k], myo)
        if slice_u[k] < base + max(renderer.sax_offsets) + 0.5 * renderer.p.acq.pixel_mm:
            continue     # atrium, or a slab that straddles the annulus, at ES
        area = _lv_blood_area(frames[k, info.es_frame or 0], g, bloods[k], myo)
        es += area * ((slice_u[k] + 0.5 * step - base) / step if first else 1.0)
        first = False
    return 100.0 * (1.0 - es / ed)


EF_TOLERANCE = 3.5
"""Largest |pixel EF - drawn EF| (points) a study may show: over the 400 studies of seeds 3,
5, 7, 11 and 13 (main's and the round-7 images) the pixel EF read -0.07 to +2.91 points
from the drawn one (mean +1.0: slice summation alone reads about +0.8), and 3.5 is that
largest error and about one SD more. The flood fill without holes filled or partial
volume read +2.1 on average (+0.8 to +4.4 over 120 studies of seeds 5, 11 and 13), which
took two drawn mild EFs 2.6 points under the 50% cut into the normal band. Read at half
maximum (:func:`_lv_blood_area`), the 440 studies of the 11 seeds 3-37 read -0.21 to +2.12
(mean +0.79), and held-out seed 41 -2.44 to +1.44 (P0021 -7.59 before); the tolerance is
unchanged."""


def test_ejection_fraction_band_matches_blood_pool_areas(cohort: Path, answers: dict) -> None:
    """The EF read from the pixels (:func:`_pixel_ef`) is the drawn EF within
    ``EF_TOLERANCE``, and its band is the label's wherever the drawn EF is further than
    that from a band cut (nearer, the pixels cannot tell the band apart)."""
    for sid, a in answers.items():
        renderer = Renderer(cohort_params(SEED, _index(sid), STUDIES))
        measured, drawn = _pixel_ef(cohort, sid, renderer), renderer.p.ef_percent
        assert abs(measured - drawn) <= EF_TOLERANCE, (sid, round(measured, 1), round(drawn, 1))
        if min(abs(drawn - cut) for cut in EF_CUTOFFS) > EF_TOLERANCE:
            assert ef_band(measured) == a["cine_lv_function"], (sid, round(measured, 1))


MYO_NOISE_SDS = 3.0
"""Spread (robust SDs of the study's own core myocardium) that a myocardium pixel keeps
under: the band's top, so about one pixel in 740 of plain myocardium rises out of it."""


def _myo_band(level: tuple[float, float]) -> tuple[float, float]:
    """The open interval of cine intensities (over the coil gain and the LV pool's median)
    that read as myocardium in a study whose own core myocardium measures ``level`` =
    (median, robust SD) of the pool (:func:`_cine_myo_level`, :func:`_lax_myo_level`):
    from half the median (half-way to lung and air, which are black) to
    ``MYO_NOISE_SDS`` SDs above it.

    A fixed 0.12-0.42 held myocardium at 0.25 of the pool, 0.17 above it; at the round-7
    contrast (myocardial T2 52 ms: core myocardium 0.30-0.33 of the pool) and with the
    coil brightening the anterior wall, thick walls' pixels climbed over 0.42 and cut
    walls and rings short (seed 11 P0039's anterior wall read 11.0 mm against a drawn
    14.7-15.2, seed 5 P0019's ES ring 0.69). A top half-way to the pool threshold
    (0.47-0.49) let the blurred partial-volume pixel of a thin fat plane pass and joined
    the wall to the chest-wall muscle beyond (seed 5 P0003's apical anterior wall 14.0 mm
    against a drawn 9.8)."""
    median, sd = level
    return 0.5 * median, median + MYO_NOISE_SDS * sd


def _flat(frame: np.ndarray, g: SliceGeometry) -> np.ndarray:
    """A short-axis cine frame over each pixel's coil gain (as the other sites of this
    file read): the surface coil brightens the anterior wall against the pool's median by
    up to a fifth (seed 11 P0039: its thick anterior wall 0.35-0.44 of the pool median,
    the study's core myocardium 0.33) and darkens the back."""
    return frame / g.gain


def _robust_level(values: np.ndarray) -> tuple[float, float]:
    """Median and robust SD (1.4826 MAD) of ``values``."""
    median = float(np.median(values))
    return median, 1.4826 * float(np.median(np.abs(values - median)))


def _cine_myo_level(frames: np.ndarray, geoms: list[SliceGeometry]) -> tuple[float, float]:
    """The study's short-axis cine myocardium over its pool (:func:`_robust_level`): the
    core-myocardium pixels (where the drawing says myocardium) over their slice's LV pool
    median, in the end-diastolic frames ``frames`` (slices, H, W) over the coil gain
    (:func:`_flat`), pooled over the slices of ``geoms``."""
    flat = [g.crop(_flat(frames[k], g)) for k, g in enumerate(geoms)]
    return _robust_level(np.concatenate([f[g.core_myo] / np.median(f[g.blood])
                                         for f, g in zip(flat, geoms, strict=True)
                                         if g.blood.any() and g.core_myo.any()]))


def _ring_coverage(frame: np.ndarray, g: SliceGeometry, blood: float, pixel_mm: float,
                   reach_mm: float, band: tuple[float, float], min_run_mm: float = 3.5
                   ) -> float:
    """Share of 72 rays from the LV centre that leave the blood pool into a run of at least
    ``min_run_mm`` of myocardium-level pixels (inside ``band``, :func:`_myo_band`; a full
    ring gives 1)."""
    steps = np.arange(0.0, reach_mm, 0.5)
    hits = 0
    for angle in np.radians(np.arange(0.0, 360.0, 5.0)):
        rows = np.round(g.centre[0] - steps * np.cos(angle) / pixel_mm).astype(int)
        cols = np.round(g.centre[1] - steps * np.sin(angle) / pixel_mm).astype(int)
        v = frame[np.clip(rows, 0, frame.shape[0] - 1), np.clip(cols, 0, frame.shape[1] - 1)]
        v = v / blood
        bright, dark = v > POOL_LEVEL, (v > band[0]) & (v < band[1])
        if not bright[:4].any():
            continue
        after = dark[int(np.argmin(bright)):]
        begin = int(np.argmax(after)) if after.any() else len(after)
        run = after[begin:]
        length = int(np.argmin(run)) if (~run).any() else len(run)
        hits += length * 0.5 >= min_run_mm
    return hits / 72


def test_basal_slices_above_the_descended_base_show_no_ring_at_end_systole(
        cohort: Path, answers: dict) -> None:
    """Through-plane motion: a basal slice that the base has left by ES shows atrium and
    LVOT instead of a myocardial ring; slices still below the base keep their ring.

    Above the base a ring counts only with runs of 0.6 of the study's thinnest basal wall
    (the wall the slice would cut if the LV were still there; no 3.5 mm cap): the atrial
    wall is drawn at the myocardium's level (0.30 of the pool, as atrial myocardium is),
    and with the liver and skeletal muscle beside it filled 0.56-0.63 of the rays with
    3.5 mm runs where the slab held no LV myocardium at all (seed 19 P0033, held-out seed
    67 P0019). Over seeds 3, 7, 11, 17, 19, 23, 29, 43 and 67, 230 such slices read at
    most 0.43 at ES with this rule; at ED the same rule finds their ring (0.875 or more),
    as the test asserts, so a base that did not descend would fail."""
    data = read_dataset(cohort)
    above = below = 0
    for sid in answers:
        info = data.studies[sid].series["cine_sax"]
        frames = _frames(cohort, sid, "cine_sax")
        renderer = Renderer(cohort_params(SEED, _index(sid), STUDIES))
        heart, px = renderer.p.heart, renderer.p.acq.pixel_mm
        reach = heart.r_endo + max(max(row) for row in heart.thickness) + 6.0
        # below the base, a run of 3.5 mm, or 0.6 of the thinnest basal wall where that is
        # less: 4.4-4.8 mm dilated or scarred walls at 1.8 mm pixels leave 1.5-3 mm runs of
        # myocardium-level pixels around a complete ring (seed 5 P0019, seed 11 P0011)
        wall_run = 0.6 * min(heart.thickness[0])
        min_run = min(3.5, wall_run)
        base = _es_descent(renderer)
        ed_frames = frames[:, info.ed_frame or 0]
        band = _myo_band(_cine_myo_level(ed_frames, [SliceGeometry(renderer, k)
                                                     for k in range(frames.shape[0] - 1)]))
        for k in range(3):
            gap = renderer.model.slice_u[k] - base
            if abs(gap) < max(renderer.sax_offsets) + 0.5 * px:
                continue     # the slab (its outer sub-planes) straddles the annulus
            g = SliceGeometry(renderer, k)
            ed_flat = _flat(ed_frames[k], g)
            blood = float(np.median(g.crop(ed_flat)[g.blood]))
            run = wall_run if gap < 0 else min_run
            ed = _ring_coverage(ed_flat, g, blood, px, reach, band, run)
            es = _ring_coverage(_flat(frames[k, info.es_frame or 0], g), g, blood, px, reach,
                                band, run)
            if gap < 0:   # the atrial and aortic-root walls leave some short runs
                assert ed >= 0.8 and es <= 0.6, (sid, k, round(ed, 2), round(es, 2))
                above += 1
            else:   # the thinnest basal walls lose a ray or two to bSSFP's dark
                # chemical-shift line at the epicardial fat (lowest below the base / highest
                # above it, round-7 images, band from the study's myocardium: seed 3
                # 0.97 / 0.26, 5 0.94 / 0.53, 7 0.89 / 0.39, 11 0.86 / 0.12, 13 0.96 / 0.29,
                # 17 0.92 / 0.47, 19 0.93 / 0.56; with the fixed 0.12-0.42 band seed 5's
                # P0019 read 0.69 and seed 11's P0011 0.74)
                assert es >= 0.8, (sid, k, round(ed, 2), round(es, 2))
                below += 1
    assert above >= 20 and below >= 40, (above, below)


MIN_WALL_SHARE = 0.3
"""Mid-ventricular share of myocardium-level pixels below which a wall band is unreadable."""


def _wall_base_mm(rel: np.ndarray, band: np.ndarray, u: np.ndarray, px: float,
                  myo_band: tuple[float, float]) -> float:
    """Axial position (mm from the ED base) where the LV wall in one side's ``band`` of a
    long-axis view ends: walking from mid-ventricle towards the base in bins of two pixel
    rows moved by one, the first of two bins whose share of myocardium-level pixels
    (inside ``myo_band``, :func:`_myo_band`) falls below 60% of the mid-ventricular share.
    NaN when the band shows too little wall at mid-ventricle (under ``MIN_WALL_SHARE``) to
    tell where it ends."""
    dark = (rel > myo_band[0]) & (rel < myo_band[1])

    def share(lo: float) -> float:
        sel = band & (u >= lo) & (u < lo + 2.0 * px)
        return float(dark[sel].mean()) if sel.sum() >= 3 else float("nan")

    reference = np.nanmedian([share(lo) for lo in np.arange(20.0, 40.0, px)])
    if not reference >= MIN_WALL_SHARE:
        return float("nan")
    for lo in np.arange(20.0, -20.0, -px):
        if share(lo) < 0.6 * reference and share(lo - px) < 0.6 * reference:
            return float(lo + 2.0 * px)
    return float("nan")


def _wall_bands(renderer: Renderer, view: str, phase: float) -> dict[int, np.ndarray]:
    """Per side of a long-axis view (+1, -1), the pixels from 2 mm inside the drawn
    endocardium to 1 mm beyond the drawn epicardium at a systolic phase factor: the wall
    itself, whatever its thickness, and little of the pool or of what lies beyond it
    (above the base the band goes on at the base's radii, over the atria)."""
    plane, x, _ = renderer.lax_plane(view)
    t = tissue(renderer.model, plane, np.array([phase], np.float32))
    wall = (plane.rho > t.endo[0] - 2.0) & (plane.rho < t.epi[0] + 1.0)
    return {side: wall & (side * x > 0) for side in (1, -1)}


def _lax_myo_level(renderer: Renderer, view: str, rel: np.ndarray
                   ) -> tuple[float, float]:
    """A long-axis cine's myocardium over its pool (:func:`_robust_level`): the
    end-diastolic pixels ``rel`` (over the pool) where the view's slab is myocardium
    throughout (mean fraction over its sub-planes above 0.95, as :class:`SliceGeometry`
    for short axis)."""
    plane, _, _ = renderer.lax_plane(view)
    ed = np.zeros(1, np.float32)
    fraction = np.mean([tissue(renderer.model, renderer.sub_plane(plane, view, d), ed).lv_myo[0]
                        for d in renderer.lax_offsets], axis=0)
    return _robust_level(rel[fraction > 0.95])


def _apex_mm(rel: np.ndarray, x: np.ndarray, u: np.ndarray, bin_mm: float) -> float:
    """Axial position of the top of the LV blood pool on the long axis (|x| < 3 mm),
    walking up from mid-ventricle to the first row band that is mostly not blood."""
    axis = np.abs(x) < 3.0
    for lo in np.arange(30.0, 150.0, bin_mm):
        band = axis & (u >= lo) & (u < lo + bin_mm)
        if band.sum() and (rel[band] > POOL_LEVEL).mean() < 0.5:
            return float(lo)
    return float("nan")


def _annulus_moves(cohort: Path, study_id: str, renderer: Renderer
                   ) -> tuple[list[float], list[float]]:
    """From ED to ES, the moves (mm) of the four LV wall ends in the 4CH and 2CH cines
    (:func:`_wall_base_mm`, NaN where unreadable) and of the apex in each view."""
    p = renderer.p
    px, es = p.acq.pixel_mm, p.acq.es_phase
    r0, r1, c0, c1 = renderer.lax_window
    moves, apex_moves = [], []
    for view in ("4ch", "2ch"):
        frames = _frames(cohort, study_id, f"cine_{view}")[0]
        _, x, u = renderer.lax_plane(view)
        rel = []
        for f in (0, es):
            frame = frames[f, r0:r1, c0:c1]
            blood = np.median(frame[(np.abs(x) < 0.5 * p.heart.r_endo) & (u > 10) & (u < 40)])
            rel.append(frame / blood)
        bands = [_wall_bands(renderer, view, phase)
                 for phase in (0.0, float(renderer.phases[es]))]
        myo_band = _myo_band(_lax_myo_level(renderer, view, rel[0]))
        for side in (1, -1):
            ends = [_wall_base_mm(r, b[side], u, px, myo_band)
                    for r, b in zip(rel, bands, strict=True)]
            moves.append(ends[1] - ends[0])
        apex_moves.append(_apex_mm(rel[1], x, u, px) - _apex_mm(rel[0], x, u, px))
    return moves, apex_moves


def test_long_axis_annulus_descends_by_the_drawn_amount(cohort: Path, answers: dict) -> None:
    """In the 4CH and 2CH cines the basal end of both LV walls moves towards the apex from
    ED to ES by the drawn descent (bins of two pixel rows moved by one at each end: a median
    error within one pixel, 80% of studies within two and at most one in 40 beyond five or
    unreadable; a ghost or the fat's chemical-shift line can shift one view's reading), the
    apex barely moves, and long-axis function is lower in amyloidosis than in normal
    hearts (the read gap between their mean descents at least half the drawn one)."""
    by_diagnosis: dict[str, list[float]] = defaultdict(list)
    drawn_by_diagnosis: dict[str, list[float]] = defaultdict(list)
    apex: list[float] = []
    close: list[bool] = []         # within two pixels of the drawn descent
    errors: list[float] = []       # in pixels
    far: list[tuple] = []          # studies read more than five pixels off
    for sid in answers:
        renderer = Renderer(cohort_params(SEED, _index(sid), STUDIES))
        p, px = renderer.p, renderer.p.acq.pixel_mm
        moves, apex_moves = _annulus_moves(cohort, sid, renderer)
        if np.sum(np.isfinite(moves)) < 2:              # of four wall ends: unreadable
            far.append((sid, moves, _es_descent(renderer)))
            continue
        measured = float(np.nanmedian(moves))
        error = abs(measured - _es_descent(renderer))
        if error > 5.0 * px:
            far.append((sid, moves, _es_descent(renderer)))
        close.append(error <= 2.0 * px)
        errors.append(error / px)
        assert max(abs(m) for m in apex_moves) <= 3.0 * px, (sid, apex_moves)
        apex.extend(abs(m) for m in apex_moves)
        by_diagnosis[p.diagnosis].append(measured)
        drawn_by_diagnosis[p.diagnosis].append(_es_descent(renderer))
    # read in the band fitted to the drawn wall, 0.95-1.0 of the studies of seeds 3, 5, 7,
    # 11 and 13 are within two pixels (median 0.35-0.48 px, main's and round 7's images).
    # The band before (0.5 r_endo to the thickest wall + 3 mm, 25 mm wide) was mostly blood
    # for a 5 mm wall and held atrial and groove tissue above the base: seed 7 0.825, and
    # seed 5's P0029 and P0039 and seed 13's P0005 and P0037 unreadable or 7-16 mm off
    assert np.median(errors) <= 1.0 and np.mean(close) >= 0.8, (np.median(errors),
                                                                np.mean(close))
    # at most one study in 40 read more than five pixels off or unreadable (fewer than two
    # of its four wall ends found): a phase-encode ghost or the bSSFP chemical-shift line
    # at the groove fat can hide or move a wall end (before the fitted band, seed 7's P0035
    # read 13.7, -8.5, 1.7 and -6.8 mm against a drawn 9.2 mm; now 10.3, 13.7, 1.7, 6.8)
    assert len(far) <= max(1, (len(errors) + len(far)) // 40), far
    bases = [m for v in by_diagnosis.values() for m in v]
    assert np.mean(apex) < 0.3 * np.mean(bases), (np.mean(apex), np.mean(bases))
    normal = float(np.mean(by_diagnosis["normal"]))
    assert 10.0 <= normal <= 16.0, by_diagnosis["normal"]
    # amyloid's reduced long-axis function shows: the pixels keep at least half of the drawn
    # gap between the classes' mean descents. A fixed 3 mm gap was a statement about the
    # draws: held-out seed 43's three amyloid studies had EF 61-70 (drawn gap 4.05 mm, read
    # 2.78; the tuning seeds read 0.92-0.95 of theirs, gaps of about 7 mm)
    drawn_gap = (np.mean(drawn_by_diagnosis["normal"])
                 - np.mean(drawn_by_diagnosis["amyloidosis"]))
    read_gap = normal - np.mean(by_diagnosis["amyloidosis"])
    assert drawn_gap > 0.0 and read_gap >= 0.5 * drawn_gap, (read_gap, drawn_gap)


def test_perfusion_defect_sectors_enhance_later_and_less(cohort: Path, answers: dict) -> None:
    defects = _study_ids(answers, "perf_defect_presence", "Yes")
    assert len(defects) >= 4
    for sid in defects + _study_ids(answers, "perf_defect_presence", "No")[:4]:
        frames = _frames(cohort, sid, "perf_sax")
        renderer = Renderer(cohort_params(SEED, _index(sid), STUDIES))
        labelled = set(answers[sid].get("perf_defect_walls") or [])
        labelled_levels = set(answers[sid].get("perf_defect_levels") or [])
        peaks: dict[tuple[str, str], tuple[float, int]] = {}
        for j, k in enumerate(renderer.perf_slices()):
            g = SliceGeometry(renderer, k)
            level = ("Basal", "Mid", "Apical")[j]
            for wall in WALLS6:
                mask = g.core_myo & g.wall_core(wall) & (g.depth > 0.1) & (g.depth < 0.45)
                if not mask.any():
                    continue     # the slab leaves no core myocardium here (apical slice)
                # over each pixel's coil gain, as the other sites of this file: the
                # surface coil's fall-off towards the back made seed 7's P0008 basal
                # inferolateral peak 0.66 of the median (0.72 with other noise) with it
                curve = np.array([g.crop(frames[j, t] / g.gain)[mask].mean()
                                  for t in range(frames.shape[1])])
                enhancement = curve - curve[:3].mean()
                peaks[(level, wall)] = (float(enhancement.max()), int(enhancement.argmax()))
        normal = [p for (lv, w), p in peaks.items()
                  if not (lv in labelled_levels and w in labelled)]
        ref_peak = float(np.median([p for p, _ in normal]))
        ref_time = float(np.median([t for _, t in normal]))
        for (lv, w), (peak, _when) in peaks.items():
            if lv in labelled_levels and w in labelled:
                continue
            assert peak > 0.7 * ref_peak, f"{sid}: {lv} {w} enhances too little unlabelled"
        lit = [peaks[(lv, w)] for lv in labelled_levels for w in labelled
               if (lv, w) in peaks and peaks[(lv, w)][0] < 0.6 * ref_peak]
        if labelled:
            assert lit, f"{sid}: no labelled defect sector enhances less"
            assert all(when >= ref_time for _, when in lit), f"{sid}: defect not later"


def _wall_thickness_mm(frame: np.ndarray, g: SliceGeometry, wall: str, renderer: Renderer,
                       start_mm: float, band: tuple[float, float]) -> float:
    """Median radial run of myocardium-level pixels (inside ``band``, :func:`_myo_band`)
    beyond ``start_mm``, across a sector."""
    acq = renderer.p.acq
    pixel_mm = acq.pixel_mm
    ref = np.median(g.crop(frame)[g.blood])
    runs = []
    centre = WALL_CENTRE_DEG[wall]
    for delta in np.arange(-30 + CORE_MARGIN_DEG, 30 - CORE_MARGIN_DEG, 2.0):
        angle = np.radians(centre + delta + acq.rotation)
        steps = np.arange(start_mm, start_mm + 40.0, 0.25)
        rows = g.centre[0] - steps * np.cos(angle) / pixel_mm
        cols = g.centre[1] - steps * np.sin(angle) / pixel_mm
        values = frame[np.clip(np.round(rows).astype(int), 0, frame.shape[0] - 1),
                       np.clip(np.round(cols).astype(int), 0, frame.shape[1] - 1)] / ref
        dark = (values > band[0]) & (values < band[1])   # myocardium, not blood or lung
        start = int(np.argmax(dark)) if dark.any() else 0
        end = start + int(np.argmin(dark[start:])) if (~dark[start:]).any() else len(dark)
        runs.append((end - start) * 0.25)
    return float(np.median(runs))


def test_wall_thickness_pattern_in_labelled_walls(cohort: Path, answers: dict) -> None:
    """Labelled thickened walls read at least 12.5 mm at their thickest ring slice, other
    walls at most 12 (the myocardium-level run along rays of each wall's core sector in
    the band :func:`_myo_band` derives from the study's own myocardium). Smallest margins
    over seeds 3, 5, 7, 11, 13, 17 and 19: thickened 0.5 mm (seed 17 P0029 inferior 13.0,
    drawn 14.5), normal 0.25 mm (seed 17 P0008 apical anterior 11.75, drawn 9.1: the most
    apical ring slice cuts the curving wall obliquely)."""
    checked = defaultdict(int)
    for sid, a in answers.items():
        if a.get("cine_wall_thickness") not in ("Thickened", "Normal"):
            continue
        frames = _frames(cohort, sid, "cine_sax")
        renderer = Renderer(cohort_params(SEED, _index(sid), STUDIES))
        levels = slice_levels(frames.shape[0])
        thick4 = set(a.get("cine_thickened_walls") or [])
        measured: dict[str, list[float]] = defaultdict(list)
        geoms = [SliceGeometry(renderer, k) for k in range(frames.shape[0])]
        band = _myo_band(_cine_myo_level(frames[:-1, 0], geoms[:-1]))
        for k, level in enumerate(levels):
            if level == "Apex":
                continue
            g = geoms[k]
            start = float(g.rho[g.blood].max()) - 4.0 if g.blood.any() else 0.0
            for wall in WALLS6:
                measured[WALL6_TO_4[wall]].append(
                    _wall_thickness_mm(_flat(frames[k, 0], g), g, wall, renderer,
                                       max(start, 0.0), band))
        peak = {w: max(v) for w, v in measured.items()}
        if a["cine_wall_thickness"] == "Normal":
            assert max(peak.values()) <= 12.0, (sid, peak)
            checked["normal"] += 1
            continue
        for wall, value in peak.items():
            if wall in thick4:
                assert value >= 12.5, (sid, wall, peak)
            else:
                assert value <= 12.0, (sid, wall, peak)
        checked["thickened"] += 1
    assert checked["thickened"] >= 4 and checked["normal"] >= 10
