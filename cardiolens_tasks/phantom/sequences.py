"""Render the phantom's series from tissue properties: cine, LGE, T2 and perfusion.

Geometry gives class fractions per pixel (the heart model inside a window around the
heart, :mod:`cardiolens.phantom.thorax` everywhere else). Each class has a proton density,
T1 and T2 (post-contrast T1 for LGE, a gadolinium curve for perfusion); each sequence turns
them into a signal with its own equation:

- cine bSSFP: ``PD sin a / (1 + cos a + (1 - cos a) T1/T2)`` (bright fat and fluid, blood
  with inflow 3.3x myocardium);
- LGE (magnitude inversion recovery): ``PD |1 - 2 exp(-TI/T1) + exp(-TR/T1)|`` with a
  per-study inversion time around the myocardial null (good, early or late nulling);
  amyloid has its own kinetics (myocardium T1 below the blood's, TI set near the blood's
  null: dark pool, grey myocardium);
- T2 black-blood STIR: ``PD exp(-TE/T2) (1 - exp(-TR/T1)) |1 - 2 exp(-TI/T1)|``, fat and
  flowing blood suppressed, a slow-flow rim of blood along the endocardium;
- perfusion saturation recovery: ``PD (1 - exp(-TS R1(t)))`` with ``R1 = 1/T1 + r1 C(t)``.

Signals are composed with fat's chemical-shift phase at each sequence's echo time
(:func:`fat_phase`: opposed on bSSFP), so partial volume at fat/water boundaries cancels
into a dark line after the magnitude. Thorax tissues carry their own 1/f texture
(:data:`TEXTURE`). Then a k-space truncation point-spread function (sharp in perfusion,
so the bright first pass rings as a dark endocardial rim), phased-array coil sensitivity
(:func:`cardiolens.phantom.thorax.coil_sensitivity`), then the study's scanner
(:mod:`cardiolens.phantom.scanner`: ghosts, Rician noise with its g-factor, the vendor's
background handling). Intensities
never depend on which findings a study has, except in the findings' own pixels: gains and
noise are set from fixed tissues (fat, blood), never from the image.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from cardiolens.data.anatomy import slice_levels
from cardiolens.data.vocabulary import LEVELS as LEVEL
from cardiolens.phantom.geometry import (
    ATRIAL_MM,
    LAX_ANGLE,
    HeartModel,
    Plane,
    Tissue,
    Window,
    blood_flow,
    draw_epicardial_patches,
    draw_flow,
    draw_trabeculae,
    lax_base_row,
    lax_plane,
    lesion_fraction,
    sax_plane,
    tissue,
)
from cardiolens.phantom.params import Lesion, Scan, StudyParams
from cardiolens.phantom.scanner import (
    acquire,
    draw_profile,
    fast_length,
    fov_mask,
    ghosts,
    suppression_mask,
    uniform_unit,
)
from cardiolens.phantom.thorax import (
    THORAX_CLASSES,
    HeartFrame,
    PlaneMap,
    affine,
    body_waves,
    coil_sensitivity,
    draw_structures,
    lax_map,
    sax_map,
    thorax,
    with_scan,
)

LAX_VIEWS = ("4ch", "3ch", "2ch")
LAX_THICKNESS_MM = 8.0

# proton density, T1 (ms, 1.5 T), T2 (ms); post-contrast T1 for LGE where fixed. Myocardial
# T2 is in vivo T2 mapping at 1.5 T (52 ms; 40 ms is an ex vivo figure and made the cine
# pool 4.1x the myocardium against 2.5-3.5 on real cine); edema's is acute edema at 1.5 T
# (72 ms, 1.38x remote myocardium): docs/phantom_images.md, "Contrast from tissue properties"
TISSUES: dict[str, tuple[float, float, float]] = {
    "blood": (0.95, 1550.0, 250.0), "myo": (0.80, 950.0, 52.0), "fat": (0.90, 260.0, 80.0),
    "muscle": (0.75, 1000.0, 35.0), "liver": (0.75, 580.0, 45.0), "lung": (0.12, 1200.0, 30.0),
    "stomach": (0.95, 3000.0, 900.0), "csf": (1.0, 4000.0, 1500.0),
    "marrow": (0.80, 550.0, 70.0), "effusion": (0.95, 3000.0, 300.0),
    "pericardium": (0.10, 900.0, 30.0), "air": (0.0, 1000.0, 1.0), "edema": (0.85, 1100.0, 72.0),
    "bone": (0.05, 1000.0, 1.0),                  # cortical bone: few protons, T2* < 1 ms
}
T1_POST_FIXED = {"fat": 260.0, "muscle": 650.0, "liver": 420.0, "lung": 700.0,
                 "stomach": 3000.0, "csf": 4000.0, "marrow": 500.0, "effusion": 2500.0,
                 "pericardium": 600.0, "air": 1000.0, "bone": 1000.0}
HEART_CLASSES = ("lv_blood", "papillary", "lv_myo", "rv_blood", "rv_wall", "effusion",
                 "epi_fat", "pericardium")
TISSUE_OF = {"lv_blood": "blood", "rv_blood": "blood", "blood": "blood", "papillary": "myo",
             "lv_myo": "myo", "rv_wall": "myo", "atrial_wall": "myo", "epi_fat": "fat"}
FLIP_SSFP = math.radians(55.0)
INFLOW_SSFP = 1.25
TR_LGE, TE_T2, TI_STIR, TS_PERF = 1700.0, 65.0, 160.0, 100.0
R1_GD = 0.0045                                  # 1/(ms mM)
# texture of each thorax class: (SD of its multiplicative 1/f field, which of two fields);
# lung parenchyma is the most heterogeneous (airways, vessels below the voxel, partial
# volume), liver, stomach contents and muscle less, fluids least
TEXTURE: dict[str, tuple[float, int]] = {
    "lung": (0.45, 1), "liver": (0.2, 1), "stomach": (0.3, 1), "muscle": (0.2, 0),
    "fat": (0.15, 0), "marrow": (0.22, 0), "blood": (0.05, 1), "atrial_wall": (0.08, 0),
    "csf": (0.04, 0)}
# fat-water chemical shift at 1.5 T: the main fat peak (3.5 ppm of 63.9 MHz) lies 224 Hz
# below water; fat's signal carries the phase it has gathered relative to water at TE
FAT_SHIFT_HZ = 224.0
TR_SSFP = 3.6                  # ms; bSSFP reads out at TE = TR/2
TE_LGE, TE_PERF = 3.2, 1.0     # ms; segmented IR fast gradient echo, shortest-TE SR-GRE
FAT_CLASSES = ("fat", "epi_fat")
LGE_TEXTURE_KEY, T2_TEXTURE_KEY = 100, 300
"""Keys of the patchy-lesion blotches of short-axis LGE and T2 (plus the slice index)."""
# through-plane partial volume: a slice is the signal-weighted mean of SUBPLANES parallel
# planes over its slice-select profile (slab_offsets); the profile's transitions have an SD
# of SLICE_TRANSITION of its nominal thickness (a windowed-sinc pulse of time-bandwidth
# product about 3: 10-90% transitions over a third of the thickness)
SUBPLANES = 3
SLICE_TRANSITION = 0.13


def fat_phase(sequence: str) -> complex:
    """Phase factor of fat's signal relative to water's at the sequence's echo time.

    bSSFP at ``TE = TR/2`` gives real signals whose sign alternates between the bands of its
    off-resonance profile (every ``1/TR``): fat 224 Hz off with ``TR`` 3.6 ms lies in the
    next band (``224 TR = 0.81``), so it is opposed, ``-1``. A gradient echo gathers
    ``exp(-2 pi i df TE)``: LGE at 3.2 ms (GE IR-FGRE) is turned by -258 degrees (cos -0.21),
    perfusion at 1.0 ms by -81 degrees. The STIR T2 is a spin echo (the refocusing pulse
    undoes the shift at TE) with fat nulled by the inversion: no phase.
    """
    if sequence == "cine":
        return complex((-1.0) ** round(FAT_SHIFT_HZ * TR_SSFP * 1e-3))
    te = {"lge": TE_LGE, "perf": TE_PERF}.get(sequence)
    if te is None:
        return 1.0 + 0.0j
    return complex(np.exp(-2j * np.pi * FAT_SHIFT_HZ * te * 1e-3))


def _with_fat_phase(values: dict, sequence: str) -> dict:
    """``values`` with the fat classes' signals turned by :func:`fat_phase` (kept real
    when the phase is 0 or 180 degrees)."""
    phase = fat_phase(sequence)
    if phase.imag == 0.0:
        return {n: (v * phase.real if n in FAT_CLASSES else v) for n, v in values.items()}
    return {n: (v * phase if n in FAT_CLASSES else v) for n, v in values.items()}


def _tissue(name: str) -> str:
    return TISSUE_OF.get(name, name)


def bssfp(pd: float, t1: float, t2: float) -> float:
    return pd * math.sin(FLIP_SSFP) / (1 + math.cos(FLIP_SSFP)
                                       + (1 - math.cos(FLIP_SSFP)) * t1 / t2)


def inversion_recovery(pd: float, t1: float, ti: float) -> float:
    return pd * abs(1.0 - 2.0 * math.exp(-ti / t1) + math.exp(-TR_LGE / t1))


def null_time(t1: float) -> float:
    """Inversion time that nulls a tissue of this T1."""
    return t1 * math.log(2.0 / (1.0 + math.exp(-TR_LGE / t1)))


def cine_values() -> dict[str, float]:
    names = set(THORAX_CLASSES) | set(HEART_CLASSES)
    out = {n: bssfp(*TISSUES[_tissue(n)]) for n in names}
    for n in ("lv_blood", "rv_blood", "blood"):
        out[n] *= INFLOW_SSFP                       # unsaturated spins flowing into the slice
    gain = 1.0 / out["fat"]
    return _with_fat_phase({n: v * gain for n, v in out.items()}, "cine")


def lge_values(scan: Scan, amyloid: bool) -> dict[str, float]:
    blood, myo, scar = scan.t1_post
    ti = scan.lge_ti * null_time(blood if amyloid else myo)
    t1 = {**T1_POST_FIXED, "blood": blood, "myo": myo, "lesion": scar}
    names = set(THORAX_CLASSES) | set(HEART_CLASSES) | {"lesion"}
    out = {n: inversion_recovery(TISSUES[_tissue(n) if n != "lesion" else "myo"][0],
                                 t1[_tissue(n)] if n != "lesion" else scar, ti) for n in names}
    gain = 1.0 / max(out[n] for n in ("fat", "muscle", "liver"))   # never a finding
    return _with_fat_phase({n: v * gain for n, v in out.items()}, "lge")


def t2_values() -> dict[str, float]:
    def stir(name: str) -> float:
        pd, t1, t2 = TISSUES[name]
        value = pd * math.exp(-TE_T2 / t2) * (1.0 - math.exp(-1800.0 / t1))
        if name in ("fat", "marrow"):       # nulled by the inversion (imperfectly)
            return value * 0.08
        return value * abs(1.0 - 2.0 * math.exp(-TI_STIR / t1))

    names = set(THORAX_CLASSES) | set(HEART_CLASSES)
    out = {n: stir(_tissue(n)) for n in names}
    for n in ("lv_blood", "rv_blood", "blood"):
        out[n] *= 0.06                              # flowing blood is nulled
    out["lesion"] = stir("edema")
    out["rim"] = 0.75 * out["lv_myo"]               # slow flow along the endocardium
    gain = 1.0 / stir("effusion")
    return {n: v * gain for n, v in out.items()}


def cine_phases(n_phases: int, es_phase: int) -> np.ndarray:
    """Systolic factor per phase: 0 at end-diastole (phase 0), 1 at end-systole."""
    t = np.arange(n_phases, dtype=np.float64)
    rise = 0.5 * (1.0 - np.cos(np.pi * t / es_phase))
    fall = 0.5 * (1.0 + np.cos(np.pi * (t - es_phase) / (n_phases - es_phase)))
    return np.where(t <= es_phase, rise, fall)


def perfusion_curves(n: int, start: int) -> dict[str, np.ndarray]:
    """Signal over dynamics per class (saturation recovery of a gadolinium first pass)."""
    t = np.arange(n, dtype=np.float64)

    def bolus(t0: float, width: float = 2.0) -> np.ndarray:
        x = np.clip((t - t0) / width, 0.0, None)
        g = x**3 * np.exp(-x)
        return g / g.max()

    rv, lv = bolus(start), bolus(start + 3)
    myo = np.zeros(n)
    for i in range(1, n):
        myo[i] = 0.8 * myo[i - 1] + 0.2 * lv[i - 1]
    myo /= myo.max()
    late = np.concatenate([np.zeros(3), myo[:-3]])
    conc = {"rv_blood": 6.0 * rv + 0.6 * myo, "lv_blood": 6.0 * lv + 0.6 * myo,
            "blood": 6.0 * lv + 0.6 * myo, "lv_myo": 0.75 * myo, "papillary": 0.75 * myo,
            "rv_wall": 0.6 * myo, "atrial_wall": 0.6 * myo, "lesion": 0.3 * late,
            "liver": 0.3 * late, "muscle": 0.25 * myo, "marrow": 0.2 * myo,
            "epi_fat": 0.0 * t, "fat": 0.0 * t}
    out = {}
    for name in set(THORAX_CLASSES) | set(HEART_CLASSES) | {"lesion"}:
        pd, t1, _ = TISSUES[_tissue(name) if name != "lesion" else "myo"]
        c = conc.get(name, 0.0 * t)
        out[name] = pd * (1.0 - np.exp(-TS_PERF * (1.0 / t1 + R1_GD * c)))
    return _with_fat_phase(out, "perf")


def _spectral_field(shape: tuple[int, int], kernel: np.ndarray, white: np.ndarray,
                    fresh: np.ndarray | None = None, depth_px: float = 0.0) -> np.ndarray:
    """Unit-variance random field of ``shape``: white noise shaped by ``kernel``.

    Args:
        shape: the field's (rows, cols).
        kernel: rfft2 amplitude on :func:`spectral_grid` of ``shape``.
        white: the rfft2 of white noise on that grid (:func:`_white_spectrum`); not
            modified, so a caller may keep it for the plane's other depths.
        fresh: another such spectrum, independent of ``white``: what a plane
            ``depth_px`` away adds of its own.
        depth_px: the field of a parallel plane that far away (pixels) through a 3D
            texture whose structures are about as deep as they are wide. Each Fourier
            mode of in-plane wavenumber ``k`` (radians per pixel) keeps
            ``rho = exp(-k |depth_px|)`` of ``white`` and takes ``sqrt(1 - rho^2)`` of
            ``fresh``: coarse structure runs through a slab, fine grain changes within
            it (an exponential correlation along the depth per mode, so planes at -d, 0
            and +d are mutually consistent).

    The field is drawn on the grid and cropped to ``shape`` (a stationary field keeps its
    statistics when cropped; the grid's FFT is fast).
    """
    grid = spectral_grid(shape)
    if depth_px and fresh is not None:
        keep, weight = _depth_weights(grid, round(abs(depth_px), 4))
        spectrum = white * keep
        spectrum += weight * fresh
        spectrum *= kernel
    else:
        spectrum = white * kernel
    field = np.fft.irfft2(spectrum, s=grid)[:shape[0], :shape[1]]
    field = field - field.mean()
    field /= field.std() + 1e-9
    return field


def spectral_grid(shape: tuple[int, int]) -> tuple[int, int]:
    """The FFT grid a random field of ``shape`` is drawn on (sides of 2, 3 and 5)."""
    return fast_length(shape[0]), fast_length(shape[1])


def _white_spectrum(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """The rfft2 of white noise, drawn directly (complex64): uniform, unit-variance parts,
    which the inverse transform sums into a Gaussian field (as in
    :func:`~cardiolens.phantom.scanner.correlated_noise`)."""
    half = (shape[0], shape[1] // 2 + 1)
    return uniform_unit((*half, 2), rng).view(np.complex64)[..., 0]


@functools.lru_cache(maxsize=64)
def _depth_weights(shape: tuple[int, int], depth_px: float) -> tuple[np.ndarray, np.ndarray]:
    fy = np.fft.fftfreq(shape[0])[:, None]
    fx = np.fft.rfftfreq(shape[1])[None, :]
    rho = np.exp(-2.0 * np.pi * np.sqrt(fx**2 + fy**2) * depth_px)
    return rho.astype(np.float32), np.sqrt(1.0 - rho**2).astype(np.float32)


@functools.lru_cache(maxsize=64)
def _smooth_kernel(shape: tuple[int, int], sigma_px: float | tuple[float, ...]) -> np.ndarray:
    fy = np.fft.fftfreq(shape[0])[:, None]
    fx = np.fft.rfftfreq(shape[1])[None, :]
    f2 = fx**2 + fy**2
    sigmas = sigma_px if isinstance(sigma_px, tuple) else (sigma_px,)
    kernel = sum(s * np.exp(-2.0 * (np.pi * s) ** 2 * f2) for s in sigmas)
    return np.asarray(kernel, np.float32)


@functools.lru_cache(maxsize=64)
def _fractal_kernel(shape: tuple[int, int], beta: float = 2.0,
                    largest_px: float = 64.0) -> np.ndarray:
    fy = np.fft.fftfreq(shape[0])[:, None]
    fx = np.fft.rfftfreq(shape[1])[None, :]
    return ((fx**2 + fy**2 + largest_px**-2) ** (-beta / 4.0)).astype(np.float32)


def _smooth_field(rng: np.random.Generator, shape: tuple[int, int],
                  sigma_px: float | tuple[float, ...]) -> np.ndarray:
    """Unit-variance smooth random field (Gaussian blur in Fourier space); several sigmas
    mix scales of equal strength in one transform."""
    grid = spectral_grid(shape)
    return _spectral_field(shape, _smooth_kernel(grid, sigma_px), _white_spectrum(rng, grid))


def fractal_field(rng: np.random.Generator, shape: tuple[int, int], beta: float = 2.0,
                  largest_px: float = 64.0) -> np.ndarray:
    """Unit-variance random field with a ``1/f^beta`` power spectrum (flat beyond
    ``largest_px``): structure at every scale down to the pixel, as in real tissue."""
    grid = spectral_grid(shape)
    return _spectral_field(shape, _fractal_kernel(grid, beta, largest_px),
                           _white_spectrum(rng, grid))


def patch_texture(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Blotchy 0..1 mask covering about two thirds of the plane in small blobs.

    Blobs are small next to a wall sector, so every drawn site keeps visible enhancement.
    """
    return np.clip((_smooth_field(rng, shape, 1.5) + 0.45) * 1.5 + 0.5, 0.0, 1.0)


def slab_offsets(thickness_mm: float, transition: float = SLICE_TRANSITION,
                 n: int = SUBPLANES) -> tuple[float, ...]:
    """Through-plane offsets (mm) of ``n`` sub-planes that stand for a slice of nominal
    thickness ``thickness_mm``, each carrying an equal share of the slice's signal.

    A 2D slice-select pulse excites a profile, not a box: a windowed-sinc pulse of
    modest time-bandwidth product has a flat top, soft transitions and weak tails. It is
    modelled as a box of full width at half maximum ``thickness_mm`` convolved with a
    Gaussian of SD ``transition * thickness_mm``; the sub-planes sit at the centroids of
    its ``n`` equal-signal parts (the outer ones a little beyond ``thickness / 3`` for
    ``n = 3``: the tails count).
    """
    sd = transition * thickness_mm
    x = np.linspace(-thickness_mm, thickness_mm, 4001)
    erf = np.vectorize(math.erf)
    profile = 0.5 * (erf((x + 0.5 * thickness_mm) / (math.sqrt(2.0) * sd))
                     - erf((x - 0.5 * thickness_mm) / (math.sqrt(2.0) * sd)))
    cdf = np.cumsum(profile) / profile.sum()
    part = np.minimum((cdf * n).astype(int), n - 1)
    centroid = np.array([np.sum(x[part == i] * profile[part == i]) / np.sum(profile[part == i])
                         for i in range(n)])
    return tuple(round(float(o), 4) for o in 0.5 * (centroid - centroid[::-1]))


def psf_kernel(share: float, sharp: bool) -> np.ndarray:
    """1D point-spread function of keeping ``share`` of k-space (pixels of the output).

    ``sharp`` truncation rings (Gibbs); otherwise a Hann-filtered readout blurs smoothly.
    """
    half = (math.ceil(4.0 / share) + 6) if sharp else 5
    n = np.arange(-half, half + 1, dtype=np.float64)
    kernel = share * np.sinc(share * n)
    taper = np.cos(0.5 * np.pi * n / (half + 1)) ** (1 if sharp else 2)
    kernel = kernel * taper
    return (kernel / kernel.sum()).astype(np.float32)


READOUT_EXTRA_SHARE = 0.15
"""The readout keeps this much more of k-space than the phase-encode direction."""


def psf_kernels(share: float, sharp: bool) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) point-spread functions of an acquisition keeping ``share`` of k-space
    along phase encode (:func:`psf_kernel`); the readout keeps ``READOUT_EXTRA_SHARE``
    more, at most all of it."""
    return psf_kernel(share, sharp), psf_kernel(min(1.0, share + READOUT_EXTRA_SHARE), sharp)


def blur(frames: np.ndarray, k_rows: np.ndarray, k_cols: np.ndarray) -> np.ndarray:
    """Separable convolution of (..., H, W) with edge padding."""
    out = frames
    for axis, kernel in ((-2, k_rows), (-1, k_cols)):
        half = len(kernel) // 2
        pad = [(0, 0)] * out.ndim
        pad[axis] = (half, half)
        padded = np.pad(out, pad, mode="edge")
        acc = np.zeros_like(out)
        term = np.empty_like(out)       # one buffer for every tap's product
        size = out.shape[axis]
        for i, w in enumerate(kernel):
            index = [slice(None)] * out.ndim
            index[axis] = slice(i, i + size)
            np.multiply(w, padded[tuple(index)], out=term)
            acc += term
        out = acc
    return out


class Renderer:
    """Draws every series of one study; deterministic given the study's parameters.

    The heart is evaluated inside a window around it; the thorax everywhere. Blur is
    linear, so the thorax and the heart's difference from it are blurred separately.
    """

    def __init__(self, p: StudyParams) -> None:
        if p.scan is None:
            p = with_scan(p, np.random.default_rng([p.texture_seed, 9]))
        assert p.scan is not None
        self.p = p
        self.scan: Scan = p.scan
        self.frame = HeartFrame.of(p.scan)
        self.model = HeartModel.build(p.heart, p.acq.n_slices)
        self.phases = cine_phases(p.acq.n_phases, p.acq.es_phase)
        h = p.heart
        px, (cy, cx) = p.acq.pixel_mm, p.acq.centre
        reach = (h.r_endo + max(max(row) for row in h.thickness) + h.rv_depth + 3.0
                 + h.effusion + 2.0 * p.scan.epi_fat_mm + 2.0)
        self.reach = reach
        half = reach / px + 6
        self.sax_window = self._clip(cy - half, cy + half, cx - half, cx + half)
        top = cy - 0.5 * (h.long_axis + self.model.apex_thickness) / px - 4
        below = ATRIAL_MM / px + 4 if h.base_descent > 0 else 8   # the stretching atria
        bottom = lax_base_row(self.model, px, p.acq.centre) + below
        wide = reach / px + 4
        self.lax_window = self._clip(top, bottom, cx - wide, cx + wide)
        self._memo: dict[tuple[int, bool], tuple[dict[str, np.ndarray],
                                                 dict[str, np.ndarray]]] = {}
        self._coil_memo: dict[int, np.ndarray] = {}
        self._moving: dict[int, np.ndarray] = {}
        self._kept: dict[tuple[int, bool], np.ndarray] = {}
        self._still: dict[tuple[int, int], Tissue] = {}
        self.waves = body_waves(self._rng(11))
        self.fine = body_waves(self._rng(12), fields=2, waves=10, wavelength=(12.0, 40.0))
        lobe_rng = self._rng(13)        # the epicardial fat's uneven thickness
        self.epi_lobes = np.stack([np.arange(2.0, 8.0), lobe_rng.uniform(0.08, 0.18, 6),
                                   lobe_rng.uniform(0.0, 2.0 * np.pi, 6),
                                   lobe_rng.uniform(-0.02, 0.02, 6)], axis=-1)
        self.structures = draw_structures(self._rng(14))   # ribs, bowel, vessel trees (3D)
        self.trabeculae = draw_trabeculae(self._rng(15))
        self.flow = draw_flow(self._rng(16))          # the cine pool's uneven inflow
        self.epi_patches = draw_epicardial_patches(self._rng(18))   # thin over the LV
        self._fields: dict[tuple[tuple[int, ...], int], np.ndarray] = {}
        self._spectra: dict[tuple[int, ...], np.ndarray] = {}
        self._atria: dict[tuple[int, int, int], dict[str, np.ndarray]] = {}
        self._slab: dict[int, tuple[dict[str, np.ndarray], list[dict[str, np.ndarray]]]] = {}
        # the slice thickness: short-axis slices contiguous or with a gap of up to 20%,
        # 6-10 mm; long-axis slices at most 8 mm
        spacing = float(self.model.slice_u[1] - self.model.slice_u[0])
        self.thickness = float(np.clip(spacing * self._rng(17).uniform(0.8, 1.0), 6.0, 10.0))
        self.sax_offsets = slab_offsets(self.thickness)
        self.lax_offsets = slab_offsets(min(self.thickness, LAX_THICKNESS_MM))
        self.values = {"cine": cine_values(), "lge": lge_values(self.scan,
                                                                 p.diagnosis == "amyloidosis"),
                       "t2": t2_values()}
        self.scanner = draw_profile(self._rng(2000))     # vendor, ghosts, g-factor

    def _clip(self, r0: float, r1: float, c0: float, c1: float) -> Window:
        return (max(0, int(r0)), min(self.scan.rows, int(np.ceil(r1))), max(0, int(c0)),
                min(self.scan.cols, int(np.ceil(c1))))

    def _rng(self, *key: int) -> np.random.Generator:
        return np.random.default_rng([self.p.texture_seed, *key])

    # ------------------------------------------------------------------ planes

    def slice_centre(self, k: int) -> tuple[float, float]:
        """Heart centre (row, col) in short-axis slice ``k`` (with its breath-hold shift)."""
        cy, cx = self.p.acq.centre
        dr, dc = self.scan.slice_shift[k]
        return cy + dr, cx + dc

    def sax_plane(self, k: int) -> Plane:
        """The heart-window plane of short-axis slice ``k`` (tests measure pixels with it)."""
        a = self.p.acq
        return sax_plane(self.model, k, self.sax_window, a.pixel_mm, self.slice_centre(k),
                         a.rotation)

    def _sax_map(self, k: int, shifted: bool = True) -> PlaneMap:
        a = self.p.acq
        centre = self.slice_centre(k) if shifted else a.centre
        return sax_map(self.frame, self.model.slice_u[k], a.pixel_mm, centre, a.rotation)

    def _lax(self, view: str) -> tuple[Plane, PlaneMap]:
        a = self.p.acq
        tilt = a.rotation / 3.0
        plane, _, _ = lax_plane(self.model, view, self.lax_window, a.pixel_mm, a.centre, tilt)
        base_row = lax_base_row(self.model, a.pixel_mm, a.centre)
        return plane, lax_map(self.frame, LAX_ANGLE[view], a.pixel_mm, a.centre[1], base_row,
                              tilt)

    def lax_plane(self, view: str) -> tuple[Plane, np.ndarray, np.ndarray]:
        """The heart-window plane of a long-axis view and its in-plane (x, u) grids in mm
        (u from the end-diastolic base towards the apex; tests measure pixels with it)."""
        a = self.p.acq
        return lax_plane(self.model, view, self.lax_window, a.pixel_mm, a.centre,
                         a.rotation / 3.0)

    def affine(self, series: str) -> np.ndarray:
        """NIfTI affine of a series in the canonical frame (docs/geometry.md)."""
        a = self.p.acq
        if series.endswith("_sax"):
            slices = self.perf_slices() if series == "perf_sax" else [0, 1]
            u = [self.model.slice_u[k] for k in slices]
            step = (u[-1] - u[0]) / (len(u) - 1)
            plane = sax_map(self.frame, u[0], a.pixel_mm, a.centre, a.rotation)
            return affine(plane, step * self.frame.a)
        _, plane = self._lax(series.split("_")[1])
        normal = np.cross(plane.d_row, plane.d_col)
        return affine(plane, 8.0 * normal / np.linalg.norm(normal))

    def _field(self, *key: int, sigma: float | tuple[float, ...],
               depth: float = 0.0) -> np.ndarray:
        """A seeded smooth field of the whole image (memoised: atria planes reuse it);
        ``depth``: in the parallel plane that many mm through the body's 3D texture."""
        return self._random_field(key, depth, lambda shape: _smooth_kernel(shape, sigma))

    def _fractal(self, *key: int, depth: float = 0.0) -> np.ndarray:
        """A seeded 1/f texture field of the whole image (memoised), at ``depth``."""
        return self._random_field(key, depth, _fractal_kernel)

    def _random_field(self, key: tuple[int, ...], depth: float,
                      kernel: Callable[[tuple[int, int]], np.ndarray]) -> np.ndarray:
        """The field ``key`` of the plane ``depth`` mm away along its normal: correlated
        with the plane's own field as a 3D texture is (:func:`_spectral_field`)."""
        tag = round(depth * 1000.0)
        field = self._fields.get((key, tag))
        if field is None:
            shape = (self.scan.rows, self.scan.cols)
            grid = spectral_grid(shape)
            white = self._spectra.get(key)
            if white is None:       # the plane's own noise, shared by its depths
                white = self._spectra[key] = _white_spectrum(self._rng(*key), grid)
            fresh = (_white_spectrum(self._rng(*key, 900, 2 * abs(tag) + int(tag < 0)), grid)
                     if tag else None)
            field = _spectral_field(shape, kernel(grid), white, fresh,
                                    depth / self.p.acq.pixel_mm).astype(np.float32)
            self._fields[(key, tag)] = field
        return field

    def _textured(self, parts: dict[str, np.ndarray], key: int,
                  window: tuple[slice, slice] = (slice(None), slice(None)),
                  depth: float = 0.0) -> dict[str, np.ndarray]:
        """Thorax fractions times each tissue's own texture (a 1/f field of the plane at
        the tissue's strength, :data:`TEXTURE`, ``depth`` mm through the 3D texture) and a
        slow bias field of 10% (shared by the slab)."""
        bias = 1.0 + 0.1 * self._field(key, 8, sigma=12.0)[window]
        fields = [self._fractal(key, 7, i, depth=depth)[window] for i in range(2)]
        out = {}
        grain: dict[tuple[float, int], np.ndarray] = {}     # classes of the same texture
        for name, part in parts.items():
            texture = TEXTURE.get(name, (0.05, 0))
            if texture not in grain:
                amp, which = texture
                grain[texture] = np.clip(1.0 + amp * fields[which], 0.1, None)
            out[name] = part * bias * grain[texture]
        return out

    def _thorax(self, plane_map: PlaneMap, key: int, depth: float = 0.0
                ) -> dict[str, np.ndarray]:
        return thorax(self.scan, self.frame, plane_map, self.p.acq.pixel_mm, self.p.heart.r_endo,
                      self._field(key, sigma=1.2, depth=depth), self.waves,
                      self._vessels(key, depth), self.fine, self._hepatic(key, depth),
                      self.structures)

    def _hepatic(self, key: int, depth: float = 0.0) -> np.ndarray:
        """The smooth field whose peaks draw the hepatic and portal veins of a plane."""
        return self._field(key, 6, sigma=5.0 / self.p.acq.pixel_mm, depth=depth)

    def _vessels(self, key: int, depth: float = 0.0) -> np.ndarray:
        """The smooth field whose zero lines draw the lung vessels of a plane."""
        return self._field(key, 5, sigma=2.5 / self.p.acq.pixel_mm, depth=depth)

    def _slab_parts(self, plane_map: PlaneMap, key: int, window: Window,
                    offsets: tuple[float, ...], normal: np.ndarray
                    ) -> tuple[dict[str, np.ndarray], list[dict[str, np.ndarray]]]:
        """Textured thorax fractions of a slice averaged over its sub-planes (``offsets``
        mm along ``normal``), and each sub-plane's own fractions in the heart ``window``
        (memoised per plane ``key``: every series of the slice shares them)."""
        memo = self._slab.get(key)
        if memo is None:
            r0, r1, c0, c1 = window
            mean: dict[str, np.ndarray] = {}
            subs = []
            for depth in offsets:
                sub = PlaneMap(plane_map.origin + depth * normal, plane_map.d_row,
                               plane_map.d_col)
                parts = self._textured({n: f for n, f in self._thorax(sub, key, depth).items()
                                        if f.any()}, key, depth=depth)
                for name, part in parts.items():
                    if name in mean:
                        mean[name] += part
                    else:
                        mean[name] = part.copy()
                subs.append({n: f[r0:r1, c0:c1] for n, f in parts.items()})
            scale = np.float32(1.0 / len(offsets))
            for part in mean.values():
                part *= scale
            memo = self._slab[key] = (mean, subs)
        return memo

    def _parts(self, plane_map: PlaneMap, key: int, sharp: bool, k_rows: np.ndarray,
               k_cols: np.ndarray, window: Window, offsets: tuple[float, ...],
               normal: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray],
                                            list[dict[str, np.ndarray]]]:
        """Thorax fractions of a slice (its slab's mean) times a tissue grain and a smooth
        bias field (outside the heart only), a memo of their blurred copies (per plane and
        point-spread function, filled by :meth:`_render` when it needs them) and each
        sub-plane's fractions in the heart window."""
        mean, subs = self._slab_parts(plane_map, key, window, offsets, normal)
        memo = self._memo.get((key, sharp))
        if memo is None:
            memo = self._memo[(key, sharp)] = (mean, {})
        return memo[0], memo[1], subs

    @property
    def stored_gain(self) -> float:
        """Stored integer units per unit signal (before coil shading)."""
        return self.p.acq.scale * 0.2

    def sax_gain(self, k: int) -> np.ndarray:
        """Stored units per unit signal of every pixel of short-axis slice ``k`` (H, W)."""
        return self._coil(self._sax_map(k)) * np.float32(self.stored_gain)

    def psf(self, sharp: bool) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cols) point-spread functions of this study's acquisitions: the perfusion
        readout with ``sharp``, else the segmented cine/LGE/T2 one (:func:`psf_kernels`)."""
        return psf_kernels(self.scan.perf_kspace if sharp else self.scan.kspace, sharp)

    def lesion_free(self, series: str, k: int) -> np.ndarray:
        """Noise-free (H, W) short-axis slice ``k`` of ``lge_sax`` or ``t2_sax`` drawn without
        its lesions (:meth:`noise_free`); label-truth tests measure what lesions add to it."""
        return self.noise_free(series, k, lesions=False)

    def noise_free(self, series: str, k: int, lesions: bool = True) -> np.ndarray:
        """Noise-free (H, W) short-axis slice ``k`` of ``lge_sax`` or ``t2_sax`` in stored
        units: the written slice before noise (same drawing, point-spread function and
        phase-encode ghosts of its segmented acquisition), with its lesions or without
        them (the ghosts are there whether or not the slice holds a lesion)."""
        sequence = series.split("_")[0]
        frame = (self._sax_series_frame(sequence, k) if lesions else
                 self._sax_frames(k, np.zeros(1), self.values[sequence], (), None, k,
                                  rim=sequence == "t2"))
        if self.scanner.ghost > 0.0:
            real, imag = ghosts(self.scanner, frame[None], self.moving([k])[:, None])
            return np.hypot(real[0, 0], imag[0, 0]) * np.float32(self.stored_gain)
        return np.abs(frame[0]) * np.float32(self.stored_gain)

    def _coil(self, plane_map: PlaneMap, key: int | None = None) -> np.ndarray:
        """Receive sensitivity of the plane's pixels (phased arrays), 1 at the heart centre;
        memoised per plane ``key``."""
        memo = self._coil_memo.get(key) if key is not None else None
        if memo is None:
            centre = 0.5 * self.p.heart.long_axis * self.frame.a
            memo = coil_sensitivity(self.scan, plane_map, centre, self.waves)
            if key is not None:
                self._coil_memo[key] = memo
        return memo

    # ------------------------------------------------------------------ drawing

    def _carried(self, rho_mm: np.ndarray) -> np.ndarray:
        """Share of the base's motion that the surroundings at ``rho_mm`` from the long axis
        follow: 1 for the heart and its atria, 0 for the thorax beyond the heart window."""
        return np.clip((self.reach + 3.0 - rho_mm) / 8.0, 0.0, 1.0).astype(np.float32)

    def _atria_parts(self, k: int, u_mm: int, depth: float = 0.0) -> dict[str, np.ndarray]:
        """Thorax fractions (with grain) in the heart window of short-axis slice ``k`` moved
        to the end-diastolic axial position ``u_mm`` (memoised per whole millimetre), with
        the texture of its sub-plane ``depth``."""
        tag = round(depth * 1000.0)
        parts = self._atria.get((k, u_mm, tag))
        if parts is None:
            a = self.p.acq
            r0, r1, c0, c1 = self.sax_window
            full = sax_map(self.frame, float(u_mm), a.pixel_mm, self.slice_centre(k), a.rotation)
            sub = PlaneMap(full.origin + r0 * full.d_row + c0 * full.d_col, full.d_row,
                           full.d_col)
            scan = replace(self.scan, rows=r1 - r0, cols=c1 - c0)
            raw = thorax(scan, self.frame, sub, a.pixel_mm, self.p.heart.r_endo,
                         self._field(k, sigma=1.2, depth=depth)[r0:r1, c0:c1], self.waves,
                         self._vessels(k, depth)[r0:r1, c0:c1], self.fine,
                         self._hepatic(k, depth)[r0:r1, c0:c1], self.structures)
            window = (slice(r0, r1), slice(c0, c1))
            parts = self._atria[(k, u_mm, tag)] = self._textured(
                {n: f for n, f in raw.items() if f.any()}, k, window, depth)
        return parts

    def _sax_background(self, k: int, phases: np.ndarray, values: dict,
                        static: np.ndarray, depth: float = 0.0) -> np.ndarray:
        """Window background of short-axis slice ``k`` (its sub-plane ``depth`` mm towards
        the apex) per phase: where the base has descended past it, the stretched atria and
        roots (``background_u``)."""
        u_k = float(self.model.slice_u[k]) + depth
        descent = self.model.descent(phases)
        above = np.nonzero(descent > u_k)[0]
        if not above.size:
            return static
        out = np.array(np.broadcast_to(static, (len(phases), *static.shape[1:])))
        weight = self._carried(self.sax_plane(k).rho)
        for t in above:
            u_mm = round(float(self.model.background_u(u_k, descent[t])))
            atria = sum(f * _at(values[n], int(t))
                        for n, f in self._atria_parts(k, u_mm, depth).items())
            out[t] = weight * atria + (1.0 - weight) * static[min(int(t), len(static) - 1)]
        return out

    def _lax_background(self, view: str, phases: np.ndarray, static: np.ndarray) -> np.ndarray:
        """Window background of a long-axis view per phase: the static thorax resampled
        along the long axis so that the atria and roots stretch down to the descended base."""
        descent = self.model.descent(phases)
        if not np.any(descent > 0):
            return static
        _, x, u = self.lax_plane(view)
        rows_moving = np.nonzero(((u >= -ATRIAL_MM) & (u < descent.max())).any(axis=1))[0]
        frames = np.array(np.broadcast_to(static, (len(phases), *static.shape[1:])))
        if not rows_moving.size:
            return frames
        band = slice(int(rows_moving[0]), int(rows_moving[-1]) + 1)
        x, u = x[band], u[band]
        u_src = u + self._carried(np.abs(x)) * (
            self.model.background_u(u, descent[:, None, None]) - u)
        a = self.p.acq
        t = math.radians(a.rotation / 3.0)
        x0 = x * math.cos(t) + u_src * math.sin(t)          # undo the in-plane tilt
        y0 = -x * math.sin(t) + u_src * math.cos(t)
        r0, _, c0, _ = self.lax_window
        rows = lax_base_row(self.model, a.pixel_mm, a.centre) - y0 / a.pixel_mm - r0
        cols = a.centre[1] + x0 / a.pixel_mm - c0
        moved = np.abs(u_src - u) > 1e-3
        frames[:, band] = np.where(moved, _bilinear(frames, rows, cols), frames[:, band])
        return frames

    def _render(self, plane: Plane, plane_map: PlaneMap, window: Window, key: int,
                phases: np.ndarray,
                values: dict, lesions: tuple[Lesion, ...], texture_key: int | None,
                papillary: bool = False, rim: bool = False,
                sharp: bool = False, view: str | None = None, textured: bool = False
                ) -> np.ndarray:
        """Blurred noise-free (T, H, W) frames of one slice (``view`` names a long-axis
        plane; otherwise ``key`` is the short-axis slice; ``textured``: cine, whose
        myocardium carries a mild texture).

        The slice is the mean of its sub-planes (:func:`slab_offsets` along its normal):
        heart, thorax and their 3D texture are drawn in each, then averaged as complex
        signals before the point-spread function (through-plane partial volume)."""
        r0, r1, c0, c1 = window
        # signals per frame (perfusion) or one per class (cine: only the heart moves, so
        # the thorax is drawn once and broadcast over the phases at the end)
        n = max(np.size(v) for v in values.values())
        dtype = _dtype(values)

        def v(name: str) -> np.ndarray:
            return np.asarray(values[name], dtype).reshape(-1, 1, 1)

        k_rows, k_cols = self.psf(sharp)
        offsets = self.lax_offsets if view else self.sax_offsets
        normal = self._normal(plane_map)
        mean, blurred, subs = self._parts(plane_map, key, sharp, k_rows, k_cols, window,
                                          offsets, normal)
        background: np.ndarray = np.zeros((n, self.scan.rows, self.scan.cols), dtype)
        if n == 1:        # one signal per class: blur their sum once (blur is linear)
            for name, part in mean.items():
                background += part[None] * v(name)
            background = blur(background, k_rows, k_cols)
        else:             # per-frame signals (perfusion): blur each class once, memoised
            for name, part in mean.items():
                if name not in blurred:
                    blurred[name] = blur(part, k_rows, k_cols)
                background += blurred[name][None] * v(name)
        texture = None
        if lesions and texture_key is not None and any(les.patchy for les in lesions):
            texture = self.lesion_texture(texture_key, window)
        weight = np.float32(1.0 / len(offsets))
        heart_sum: np.ndarray | None = None
        for depth, sub in zip(offsets, subs, strict=True):
            window_bg: np.ndarray = np.zeros((n, r1 - r0, c1 - c0), dtype)
            for name, part in sub.items():
                window_bg += part[None] * v(name)
            heart = self._heart(self.sub_plane(plane, view, depth), key, phases, values,
                                lesions, texture, window_bg, depth, papillary, rim, view,
                                textured)
            heart -= window_bg
            heart_sum = heart * weight if heart_sum is None else heart_sum + heart * weight
        assert heart_sum is not None
        margin = len(k_rows) // 2 + 1
        big: np.ndarray = np.zeros((heart_sum.shape[0], r1 - r0 + 2 * margin,
                                    c1 - c0 + 2 * margin), dtype)
        big[:, margin:-margin, margin:-margin] = heart_sum
        diff = blur(big, k_rows, k_cols)
        rr0, cc0 = r0 - margin, c0 - margin
        sr0, sc0 = max(rr0, 0), max(cc0, 0)
        sr1, sc1 = min(r1 + margin, self.scan.rows), min(c1 + margin, self.scan.cols)
        background = np.broadcast_to(background, (heart_sum.shape[0],
                                                  *background.shape[1:])).copy()
        background[:, sr0:sr1, sc0:sc1] += diff[:, sr0 - rr0:sr1 - rr0, sc0 - cc0:sc1 - cc0]
        background *= self._coil(plane_map, key)[None]
        return background

    def lesion_texture(self, texture_key: int, window: Window) -> np.ndarray:
        """The blotches of patchy lesions in one slice (:func:`patch_texture`), cropped to
        ``window``; ``texture_key`` is the series' key plus the slice index
        (``LGE_TEXTURE_KEY``, ``T2_TEXTURE_KEY``)."""
        r0, r1, c0, c1 = window
        return patch_texture(self._rng(texture_key),
                             (self.scan.rows, self.scan.cols))[r0:r1, c0:c1]

    def _heart(self, plane: Plane, key: int, phases: np.ndarray, values: dict,
               lesions: tuple[Lesion, ...], texture: np.ndarray | None,
               window_bg: np.ndarray, depth: float, papillary: bool, rim: bool,
               view: str | None, textured: bool) -> np.ndarray:
        """Unblurred (T, h, w) heart window of one sub-plane over its own thorax
        ``window_bg`` (with the atria that follow the descending base)."""
        n = window_bg.shape[0]
        dtype = _dtype(values)
        moving_bg = window_bg
        if self.p.heart.base_descent > 0 and np.any(phases > 0):
            moving_bg = (self._lax_background(view, phases, window_bg) if view else
                         self._sax_background(key, phases, values, window_bg, depth))
        # rows that can hold heart tissue (long axis: not the atria below the base)
        rows = np.nonzero((plane.u >= -plane.pixel_mm).any(axis=1))[0]
        if not rows.size:
            return np.array(np.broadcast_to(moving_bg, (max(n, len(phases)),
                                                        *moving_bg.shape[1:])))
        band = slice(int(rows[0]), int(rows[-1]) + 1)
        plane = Plane(plane.u[band], plane.rho[band], plane.phi[band], plane.level[band],
                      plane.pixel_mm)
        t = self._tissue(plane, phases, (key, round(depth * 1000.0)))
        lesion = None
        if lesions:
            lesion = lesion_fraction(lesions, plane, t,
                                     None if texture is None else texture[band])
        heart: np.ndarray = np.array(np.broadcast_to(moving_bg, (max(n, t.lv_myo.shape[0]),
                                                     *moving_bg.shape[1:])), dtype)
        r0, r1, c0, c1 = self.lax_window if view else self.sax_window
        crop = (slice(r0, r1), slice(c0, c1))
        myo_gain = ((1.0 + 0.03 * self._fractal(key, 21, depth=depth)[crop])[band]
                    if textured else None)
        pool = (blood_flow(self.model, plane, t, phases, self.flow, INFLOW_SSFP)
                if textured else None)
        heart[:, band] = _compose(t, values, moving_bg[:, band], lesion, papillary, myo_gain,
                                  pool)
        if rim:
            rim_depth = np.clip(1.0 - (t.endo - plane.rho[None]) / 4.0, 0.0, 1.0)
            heart[:, band] += t.lv_blood * rim_depth * (
                np.asarray(values["rim"], dtype).reshape(-1, 1, 1)
                - np.asarray(values["lv_blood"], dtype).reshape(-1, 1, 1))
        return heart

    def _tissue(self, plane: Plane, phases: np.ndarray, memo: tuple[int, int]) -> Tissue:
        """:func:`tissue` of a heart-window sub-plane (``memo``: its render key and depth
        in micrometres). At end-diastole alone (LGE, T2, perfusion) it is memoised: every
        sequence of a slice shows the same fractions (callers only read them)."""
        still = phases.shape == (1,) and float(phases[0]) == 0.0
        t = self._still.get(memo) if still else None
        if t is None:
            t = tissue(self.model, plane, phases, self.scan.epi_fat_mm, self.epi_lobes,
                       self.trabeculae, self.epi_patches)
            if still:
                self._still[memo] = t
        return t

    def _normal(self, plane_map: PlaneMap) -> np.ndarray:
        """Unit normal of a plane (short axis: the long axis, towards the apex)."""
        normal = np.cross(plane_map.d_row, plane_map.d_col)
        normal = normal / np.linalg.norm(normal)
        return normal if float(normal @ self.frame.a) >= 0.0 else -normal

    def sub_plane(self, plane: Plane, view: str | None, depth: float) -> Plane:
        """The heart-window ``plane`` moved ``depth`` mm along its normal (as
        :meth:`_normal`): a short-axis plane moves along the long axis; a long-axis plane
        moves sideways, so its pixels' distance from the axis and angle change."""
        if not depth:
            return plane
        if view is None:
            return Plane(plane.u + np.float32(depth), plane.rho, plane.phi, plane.level,
                         plane.pixel_mm)
        _, x, _ = self.lax_plane(view)
        normal = self._normal(self._lax(view)[1])
        psi = math.radians(LAX_ANGLE[view])
        ant = x * math.cos(psi) + depth * float(normal @ self.frame.ant)
        sep = x * math.sin(psi) + depth * float(normal @ self.frame.sep)
        phi = np.mod(np.degrees(np.arctan2(sep, ant)), 360.0).astype(np.float32)
        return Plane(plane.u, np.hypot(ant, sep).astype(np.float32), phi, plane.level,
                     plane.pixel_mm)

    def _sax_frames(self, k: int, phases: np.ndarray, values: dict,
                    lesions: tuple[Lesion, ...], texture_key: int | None, key: int,
                    papillary: bool = False, rim: bool = False,
                    sharp: bool = False, textured: bool = False) -> np.ndarray:
        return self._render(self.sax_plane(k), self._sax_map(k), self.sax_window, key, phases,
                            values, lesions, texture_key, papillary=papillary, rim=rim,
                            sharp=sharp, textured=textured)

    def _lax_frames(self, view: str, phases: np.ndarray, values: dict,
                    lesions: tuple[Lesion, ...], texture_key: int | None,
                    papillary: bool = False, textured: bool = False) -> np.ndarray:
        plane, plane_map = self._lax(view)
        return self._render(plane, plane_map, self.lax_window, 50 + LAX_VIEWS.index(view),
                            phases, values, lesions, texture_key, papillary=papillary,
                            view=view, textured=textured)

    def cine_sax(self) -> np.ndarray:
        frames = [self._sax_frames(k, self.phases, self.values["cine"], (), None, k, textured=True)
                  for k in range(self.p.acq.n_slices)]
        return self._stack(frames, 1, self.values["cine"]["lv_blood"],
                           list(range(self.p.acq.n_slices)))

    def cine_lax(self, view: str) -> np.ndarray:
        frames = self._lax_frames(view, self.phases, self.values["cine"], (), None, textured=True)
        return self._stack([frames], 2 + LAX_VIEWS.index(view), self.values["cine"]["lv_blood"],
                           [50 + LAX_VIEWS.index(view)])

    def lge_sax(self) -> np.ndarray:
        frames = [self._sax_series_frame("lge", k) for k in range(self.p.acq.n_slices)]
        return self._stack(frames, 10, 1.0, list(range(self.p.acq.n_slices)))

    def lge_lax(self, view: str) -> np.ndarray:
        values = self.values["lge"]
        if self.p.atrial_lge:          # amyloid atrial infiltration: the atrial walls enhance
            values = {**values, "atrial_wall": values["lesion"]}
        frame = self._lax_frames(view, np.zeros(1), values, self.p.scar,
                                 200 + LAX_VIEWS.index(view), papillary=self.p.papillary_scar)
        return self._stack([frame], 11 + LAX_VIEWS.index(view), 1.0, [50 + LAX_VIEWS.index(view)])

    def t2_sax(self) -> np.ndarray:
        frames = [self._sax_series_frame("t2", k) for k in range(self.p.acq.n_slices)]
        return self._stack(frames, 20, self.values["t2"]["lv_myo"] * 2.0,
                           list(range(self.p.acq.n_slices)))

    def _sax_series_frame(self, sequence: str, k: int) -> np.ndarray:
        """Noise-free (1, H, W) end-diastolic slice ``k`` of ``lge`` or ``t2`` with its lesions,
        as its series draws it (:meth:`lge_sax`, :meth:`t2_sax`, :meth:`noise_free`)."""
        if sequence == "lge":
            return self._sax_frames(k, np.zeros(1), self.values["lge"], self.p.scar,
                                    LGE_TEXTURE_KEY + k, k, papillary=self.p.papillary_scar)
        return self._sax_frames(k, np.zeros(1), self.values["t2"], self.p.edema,
                                T2_TEXTURE_KEY + k, k, rim=True)

    def perf_slices(self) -> list[int]:
        """SAX slice indices imaged by perfusion: the middle of the basal, mid, apical thirds."""
        levels = slice_levels(self.p.acq.n_slices)
        out = []
        for name in LEVEL[:3]:           # basal, mid, apical
            idx = [i for i, lv in enumerate(levels) if lv == name]
            out.append(idx[len(idx) // 2])
        return out

    def perf_sax(self) -> np.ndarray:
        curves = perfusion_curves(self.p.acq.n_dynamics, self.p.acq.bolus_start)
        defect = (self.p.defect,) if self.p.defect else ()
        frames = [self._sax_frames(k, np.zeros(1), curves, defect, None, k, sharp=True)
                  for k in self.perf_slices()]
        return self._stack(frames, 30, abs(complex(curves["fat"][0])) * 2.0, self.perf_slices(),
                           sharp=True)

    def _stack(self, per_slice: list[np.ndarray], key: int, reference: float,
               planes: list[int], sharp: bool = False) -> np.ndarray:
        """(slices, frames, H, W) clean frames of ``planes`` (their render keys) -> stored
        (H, W, slices, frames) as the study's scanner acquires them
        (:func:`cardiolens.phantom.scanner.acquire`); ``sharp``: perfusion's single-shot
        readout with a sharp k-space truncation.

        Noise sigma is ``reference / snr`` (a fixed tissue's signal, never the image's);
        the zero-filled reconstruction correlates it as its point-spread function does.
        """
        psf = self.psf(sharp)
        out = acquire(self.scanner, np.stack(per_slice), self._rng(1000 + key),
                      reference / self.scan.snr, psf, self.kept(planes, sharp),
                      segmented=not sharp, moving=None if sharp else self.moving(planes))
        out *= np.float32(self.stored_gain)
        return out.transpose(2, 3, 0, 1)      # a view: the NIfTI writer reorders once

    def moving(self, planes: list[int]) -> np.ndarray:
        """(len(planes), H, W) share of each pixel's signal that moves or pulsates between
        the heartbeats of a segmented acquisition, the source of its phase-encode ghosts:
        the heart and what follows it (:meth:`_carried`), the thorax's blood (aorta, venae
        cavae, atria, lung and liver vessels: pulsatile flow) and, for residual breathing,
        the anterior chest wall (half of its signal at the skin, falling over 25 mm)."""
        return np.stack([self._moving_plane(key) for key in planes])

    def _moving_plane(self, key: int) -> np.ndarray:
        """(H, W) :meth:`moving` share of one plane (memoised: cine, LGE and T2 of a slice
        ghost from the same source)."""
        out = self._moving.get(key)
        if out is None:
            out = self._moving[key] = self._draw_moving(key)
        return out

    def _draw_moving(self, key: int) -> np.ndarray:
        """(H, W) :meth:`moving` share of the plane of render ``key``."""
        out = np.empty((self.scan.rows, self.scan.cols), np.float32)
        bx, by = self.scan.body_centre
        hx, hy = self.scan.body_half
        if key >= 50:
            view = LAX_VIEWS[key - 50]
            plane_map = self._lax(view)[1]
            _, x, _ = self.lax_plane(view)
            heart, (r0, r1, c0, c1) = self._carried(np.abs(x)), self.lax_window
        else:
            plane_map = self._sax_map(key)
            heart, (r0, r1, c0, c1) = self._carried(self.sax_plane(key).rho), self.sax_window
        pts = plane_map.points(self.scan.rows, self.scan.cols)
        dx, dy = pts[..., 0] - bx, pts[..., 1] - by
        front = hy * np.sqrt(np.clip(1.0 - (dx / hx) ** 2, 0.0, None)) - dy
        wall = 0.5 * np.exp(-np.clip(front, 0.0, None) / 25.0)
        parts = self._slab[key][0]
        blood = np.clip(parts.get("blood", 0.0), 0.0, 1.0)
        out[:] = np.maximum(wall * (1.0 - parts.get("air", 0.0)), blood)
        out[r0:r1, c0:c1] = np.maximum(out[r0:r1, c0:c1], heart)
        return out

    def kept(self, planes: list[int], sharp: bool = False) -> np.ndarray | None:
        """(len(planes), H, W) pixels the background handling keeps on rendered ``planes``:
        the field of view's mask and, per plane, the air outside the body it does not
        suppress; None when the study's scanner keeps every pixel."""
        if not self.scanner.zero_background:
            return None
        fov = fov_mask(self.scanner, self.scan.rows, self.scan.cols)
        out = np.empty((len(planes), *fov.shape), bool)
        for i, plane in enumerate(planes):
            kept = self._kept.get((plane, sharp))
            if kept is None:        # memoised: cine, LGE and T2 of a slice share it
                air = self._memo[(plane, sharp)][0].get("air", np.zeros(fov.shape, np.float32))
                kept = self._kept[(plane, sharp)] = fov & ~suppression_mask(
                    self.scanner, air, self._rng(2001, plane))
            out[i] = kept
        return out

    def series(self) -> dict[str, np.ndarray]:
        """Every series of the study keyed by series name, (H, W, slices, frames)."""
        return {name: draw() for name, draw in self.series_drawers().items()}

    def series_drawers(self) -> dict[str, Callable[[], np.ndarray]]:
        """The function that draws each series, in drawing order (later series reuse
        what earlier ones memoised for the same slice)."""
        drawers: dict[str, Callable[[], np.ndarray]] = {"cine_sax": self.cine_sax}
        for view in LAX_VIEWS:
            drawers[f"cine_{view}"] = functools.partial(self.cine_lax, view)
        drawers["lge_sax"] = self.lge_sax
        for view in ("4ch", "2ch"):
            drawers[f"lge_{view}"] = functools.partial(self.lge_lax, view)
        drawers["t2_sax"] = self.t2_sax
        drawers["perf_sax"] = self.perf_sax
        return drawers


def _at(value: np.ndarray | complex, t: int) -> complex:
    """A class's signal at frame ``t`` (a constant, or one value per frame; real values
    stay real)."""
    flat = np.ravel(value)
    return flat[min(t, flat.size - 1)].item()


def _dtype(values: dict) -> type:
    """complex64 when any class's signal carries a phase (fat on gradient echo), else
    float32 (signs are enough for bSSFP's opposed fat)."""
    return np.complex64 if any(np.iscomplexobj(v) for v in values.values()) else np.float32


def _bilinear(frames: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Sample (T, H, W) frames at fractional (T, H, W) positions (clamped to the frame)."""
    n, h, w = frames.shape
    r = np.clip(rows, 0.0, h - 1.0)
    c = np.clip(cols, 0.0, w - 1.0)
    r0 = np.minimum(r.astype(np.intp), h - 2)
    c0 = np.minimum(c.astype(np.intp), w - 2)
    fr, fc = r - r0, c - c0
    tt = np.arange(n)[:, None, None]
    top = frames[tt, r0, c0] * (1.0 - fc) + frames[tt, r0, c0 + 1] * fc
    low = frames[tt, r0 + 1, c0] * (1.0 - fc) + frames[tt, r0 + 1, c0 + 1] * fc
    return top * (1.0 - fr) + low * fr


def _compose(t: Tissue, values: dict[str, np.ndarray | float], background: np.ndarray,
             lesion: np.ndarray | None, papillary_lesion: bool,
             myo_gain: np.ndarray | None = None,
             blood_gain: np.ndarray | None = None) -> np.ndarray:
    """Fraction-weighted sum of class signals; values may be per frame (T,). ``myo_gain``
    (H, W): a per-pixel factor on the myocardium, papillary muscles and trabeculae
    (texture); ``blood_gain`` (T, H, W): a per-pixel factor on the ventricles' blood
    (cine flow, :func:`cardiolens.phantom.geometry.blood_flow`)."""

    dtype = _dtype(values)

    def v(name: str) -> np.ndarray:
        return np.asarray(values[name], dtype).reshape(-1, 1, 1)

    myo = t.lv_myo if myo_gain is None else t.lv_myo * myo_gain
    lv_blood, rv_blood = ((t.lv_blood, t.rv_blood) if blood_gain is None else
                          (t.lv_blood * blood_gain, t.rv_blood * blood_gain))
    out = lv_blood * v("lv_blood") + rv_blood * v("rv_blood") + t.rv_wall * v("rv_wall")
    out = out + t.effusion * v("effusion") + t.epi_fat * v("epi_fat")
    out = out + t.pericardium * v("pericardium")
    if lesion is not None:
        out = out + myo * (1.0 - lesion) * v("lv_myo") + myo * lesion * v("lesion")
    else:
        out = out + myo * v("lv_myo")
    papillary = t.papillary if myo_gain is None else t.papillary * myo_gain
    out = out + papillary * v("lesion" if papillary_lesion else "papillary")
    trabecular = t.trabecular if myo_gain is None else t.trabecular * myo_gain
    out = out + trabecular * v("papillary")
    return (out + t.outside * background).astype(dtype)
