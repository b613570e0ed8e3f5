"""What the scanner's acquisition and reconstruction do to a drawn image.

The renderer draws noise-free frames from anatomy and contrast; this module turns them
into what a scanner stores (docs/phantom_images.md, "Scanner profile"):

- **phase-encode ghosts:** what moves or pulsates between the heartbeats of a segmented
  acquisition (the beating heart, pulsatile blood, the chest wall with residual
  breathing) modulates k-space along the phase-encode direction (image rows), which puts
  faint shifted replicas of that tissue, not of the still body, at a fixed distance along
  the rows, wrapping round the field of view;
- **Rician noise** correlated as a zero-filled reconstruction correlates it, amplified by
  a parallel-imaging **g-factor** that peaks at the centre of the field of view along the
  phase-encode direction (where the coils' sensitivities are weakest and most alike);
- **background handling by vendor:** about half of the studies (GE-like) zero a circle's
  outside (the circular field-of-view mask), the curved margins where gradient-warp
  correction has no acquired data, and blocks of air outside the body (background-noise
  suppression); the others keep the noise floor.

Each study draws one :class:`ScannerProfile` from its own seed, before and apart from
anything that depends on a finding; the masks come from the field of view and the
body's air (thorax parameters), never from pixel values, so they never touch the heart.
"""

from __future__ import annotations

import cmath
import math
from dataclasses import dataclass

import numpy as np

Rng = np.random.Generator
FFT_OUT = np.lib.NumpyVersion(np.__version__) >= "2.0.0"
"""numpy's FFTs take ``out`` and keep single precision (complex64 in, complex64 out)."""
BLOCK = 4                   # pixels per side of a background-suppression block
AIR_MARGIN = 3              # suppression keeps this many pixels of air next to the body


@dataclass(frozen=True)
class ScannerProfile:
    """How one study's scanner acquires and reconstructs (drawn by :func:`draw_profile`).

    ``ghost`` is the amplitude of each first-order phase-encode ghost relative to its
    source, ``ghost_shift`` its distance as a share of the phase field of view and
    ``ghost_phase`` its phase (radians). ``g_max`` is the g-factor at the centre of the
    phase field of view (1: no parallel imaging), ``g_width`` the bell's width (share of
    the phase FOV). ``zero_background`` selects the GE-like background handling with a
    circular mask of ``mask_diameter`` (share of the readout FOV), gradient-warp
    distortion ``gradwarp`` (relative radial stretch at the readout FOV's edge) and
    background suppression of about ``suppression`` of the air outside the body.
    ``footprint`` is a segmented cine frame's temporal footprint in frame intervals
    (:func:`temporal_footprint`).
    """

    zero_background: bool
    mask_diameter: float
    gradwarp: float
    suppression: float
    ghost: float
    ghost_shift: float
    ghost_phase: float
    g_max: float
    g_width: float
    footprint: float = 0.0


def draw_profile(rng: Rng) -> ScannerProfile:
    """One study's scanner profile; every field is drawn whatever the branch, so the
    stream (and each field's distribution) is the same for every study."""
    zero = bool(rng.random() < 0.5)
    diameter = float(rng.uniform(0.83, 0.9))
    gradwarp = float(rng.uniform(0.01, 0.04))
    suppression = float(rng.uniform(0.3, 0.9))
    ghost = float(math.exp(rng.uniform(math.log(0.005), math.log(0.03))))
    shift = float(rng.uniform(0.12, 0.35))
    phase = float(rng.uniform(0.0, 2.0 * math.pi))
    parallel = bool(rng.random() < 0.7)
    g_max = float(rng.uniform(1.15, 1.5))
    g_width = float(rng.uniform(0.18, 0.28))
    footprint = float(rng.uniform(0.8, 1.6))     # drawn last: the fields above keep their draws
    return ScannerProfile(zero, diameter, gradwarp, suppression, ghost, shift, phase,
                          g_max if parallel else 1.0, g_width, footprint)


def temporal_footprint(clean: np.ndarray, footprint: float) -> np.ndarray:
    """(S, T, H, W) cine frames as a segmented acquisition sees them: each frame's
    k-space lines are read over ``footprint`` frame intervals centred on its time (views
    per segment x TR, 10-16 x 3.6 ms = 36-58 ms against 34-50 ms between frames), so
    what moves during that window is averaged. With the object linear in time between
    frames, a box of width ``f`` (<= 2) intervals weights each neighbour ``f / 8``; the
    cycle wraps (retrospective gating covers the whole R-R interval). What stands still
    is unchanged."""
    w = min(footprint, 2.0) / 8.0
    if clean.shape[1] < 3 or w <= 0.0:
        return clean
    out = np.empty_like(clean)              # the two neighbours' sum, then the blend
    np.add(clean[:, 2:], clean[:, :-2], out=out[:, 1:-1])
    np.add(clean[:, 1], clean[:, -1], out=out[:, 0])
    np.add(clean[:, 0], clean[:, -2], out=out[:, -1])
    out *= np.float32(w / (1.0 - 2.0 * w))
    out += clean
    out *= np.float32(1.0 - 2.0 * w)
    return out


def fov_mask(profile: ScannerProfile, rows: int, cols: int) -> np.ndarray:
    """(rows, cols) boolean: pixels the reconstruction keeps (all of them without the
    GE-like background handling).

    The circular display mask is centred with a diameter of ``mask_diameter`` times the
    readout field of view. Gradient-warp correction resamples the image through the
    gradients' radial distortion ``r_source = r (1 + k r^2)`` (``r`` normalised to the
    readout half-FOV); where the source falls outside the acquired rectangle there are no
    data, which leaves curved zero margins at the edges, widest towards the corners. The
    corrected image itself is geometrically true, which is how the phantom draws it.
    """
    if not profile.zero_background:
        return np.ones((rows, cols), bool)
    half = 0.5 * cols
    y = (np.arange(rows, dtype=np.float64)[:, None] - 0.5 * (rows - 1)) / half
    x = (np.arange(cols, dtype=np.float64)[None, :] - 0.5 * (cols - 1)) / half
    r2 = x**2 + y**2
    stretch = 1.0 + profile.gradwarp * r2
    inside_acquired = (np.abs(x * stretch) <= 1.0) & (np.abs(y * stretch) <= rows / cols)
    return inside_acquired & (r2 <= profile.mask_diameter**2)


def suppression_mask(profile: ScannerProfile, air: np.ndarray, rng: Rng) -> np.ndarray:
    """(rows, cols) boolean: air the scanner's background suppression zeroes.

    Scanners zero low-signal background in blocks; what they see as low varies with the
    local noise floor, so here a smooth random field (about 15 pixels across, seeded per
    plane) picks about ``suppression`` of the air, and only whole blocks of
    ``BLOCK`` pixels that lie in air at least ``AIR_MARGIN`` pixels from the body
    (``air``: the thorax air fraction of the plane, from the body's parameters).
    """
    rows, cols = air.shape
    if not profile.zero_background:
        return np.zeros((rows, cols), bool)
    body = air < 0.5
    near = body.copy()
    for axis in (0, 1):                      # dilate the body by AIR_MARGIN pixels
        grown = near.copy()
        for step in range(1, AIR_MARGIN + 1):
            grown |= np.roll(near, step, axis) | np.roll(near, -step, axis)
        near = grown
    field = _smooth(rng, (rows, cols), 5.0)
    threshold = float(np.quantile(field, 1.0 - profile.suppression))
    candidate = ~near & (field > threshold)
    pr, pc = -rows % BLOCK, -cols % BLOCK
    padded = np.pad(candidate, ((0, pr), (0, pc)), constant_values=False)
    blocks = padded.reshape(padded.shape[0] // BLOCK, BLOCK, -1, BLOCK).all(axis=(1, 3))
    full = np.repeat(np.repeat(blocks, BLOCK, 0), BLOCK, 1)
    return full[:rows, :cols]


def g_factor(profile: ScannerProfile, rows: int) -> np.ndarray:
    """(rows, 1) noise amplification relative to the centre of the phase FOV (1 there):
    ``g(y) / g_max`` with ``g`` a bell of height ``g_max`` over the phase direction."""
    y = (np.arange(rows, dtype=np.float64) - 0.5 * (rows - 1)) / rows
    g = 1.0 + (profile.g_max - 1.0) * np.exp(-0.5 * (y / profile.g_width) ** 2)
    return (g / profile.g_max).astype(np.float32)[:, None]


def ghosts(profile: ScannerProfile, clean: np.ndarray,
           moving: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Real and imaginary parts (float32, (..., H, W)) of ``clean`` frames (real or
    complex) with phase-encode ghosts.

    First-order ghosts (amplitude ``ghost`` of their source) sit ``ghost_shift`` of the
    phase FOV above and below the source, second-order ones (a third of that) twice as
    far; they wrap round the field of view as the discrete Fourier transform does. The
    source is ``clean * moving`` (``moving``: (..., H, W) share of each pixel's signal that
    changes between the acquisition's heartbeats, broadcast over frames), or the whole
    image without it.
    """
    rows = clean.shape[-2]
    shift = max(1, round(profile.ghost_shift * rows))
    source = clean if moving is None else clean * moving
    complex_in = np.iscomplexobj(clean)
    real = np.array(clean.real, np.float32)
    imag = (np.array(clean.imag, np.float32) if complex_in
            else np.zeros(clean.shape, np.float32))
    src_re = np.real(source).astype(np.float32, copy=False)
    src_im = np.imag(source).astype(np.float32, copy=False) if complex_in else None
    buffer = np.empty(real.shape, np.float32)     # each term's product, in turn
    for order, amp in ((1, profile.ghost), (2, profile.ghost / 3.0)):
        for sign in (1, -1):
            weight = amp * cmath.exp(1j * profile.ghost_phase * order * sign)
            step = (sign * order * shift) % rows       # np.roll by views, without a copy
            for lo, hi, s_lo, s_hi in ((step, rows, 0, rows - step),
                                       (0, step, rows - step, rows)):
                if hi <= lo:
                    continue
                sre = src_re[..., s_lo:s_hi, :]
                term = buffer[..., :hi - lo, :]
                # (w_re + i w_im)(s_re + i s_im)
                real[..., lo:hi, :] += np.multiply(np.float32(weight.real), sre, out=term)
                imag[..., lo:hi, :] += np.multiply(np.float32(weight.imag), sre, out=term)
                if src_im is not None:
                    sim = src_im[..., s_lo:s_hi, :]
                    real[..., lo:hi, :] -= np.multiply(np.float32(weight.imag), sim, out=term)
                    imag[..., lo:hi, :] += np.multiply(np.float32(weight.real), sim, out=term)
    return real, imag


def acquire(profile: ScannerProfile, clean: np.ndarray, rng: Rng, sigma: float,
            psf: tuple[np.ndarray, np.ndarray] | None, keep: np.ndarray | None,
            segmented: bool = True, moving: np.ndarray | None = None) -> np.ndarray:
    """Noisy magnitude (S, T, H, W) of ``clean`` frames as the scanner stores them.

    Args:
        profile: the study's scanner profile.
        clean: noise-free frames, (slices, frames, rows, cols), real or complex (fat's
            chemical-shift phase); rows are phase-encode.
        rng: the series' noise generator.
        sigma: noise sigma at the centre of the phase field of view.
        psf: the reconstruction's point-spread function along rows and columns (the
            kernels that blurred ``clean``). Noise is acquired in k-space and passes the
            same k-space window as the object (:func:`correlated_noise`; sigma is per
            pixel after it); None leaves it white.
        keep: (slices, rows, cols) pixels kept by the background handling, or None.
        segmented: a segmented (multi-heartbeat) acquisition that ghosts; single-shot
            perfusion does not.
        moving: (slices, rows, cols) share of each pixel's signal that moves or pulsates
            between heartbeats, the ghosts' source (:func:`ghosts`); None: all of it.
    """
    if segmented:
        clean = temporal_footprint(clean, profile.footprint)
    noise = correlated_noise(rng, clean.shape, psf)
    gain = g_factor(profile, clean.shape[-2]) * np.float32(sigma)
    if segmented and profile.ghost > 0.0:
        real, imag = ghosts(profile, clean, None if moving is None else moving[:, None])
        term = np.multiply(noise.imag, gain)
        imag += term
    else:
        real = np.array(clean.real, np.float32)
        imag = noise.imag * gain
        if np.iscomplexobj(clean):
            imag += clean.imag
        term = np.empty_like(real)
    real += np.multiply(noise.real, gain, out=term)     # the same sum, one array fewer
    np.hypot(real, imag, out=real)
    if keep is not None:
        real *= keep[:, None]
    return real


def correlated_noise(rng: Rng, shape: tuple[int, ...],
                     psf: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
    """Complex Gaussian noise (..., H, W), unit variance in each of its real and imaginary
    parts, correlated as a zero-filled reconstruction correlates it: white in k-space,
    weighted by the k-space window whose image is ``psf`` (the kernels' transfer
    functions along rows and columns), then transformed to the image (one inverse FFT).

    Two shortcuts keep this cheap, neither visible in the image:

    - The field is drawn on the next grid whose sides factor into 2, 3 and 5 and cropped
      to ``shape``: a stationary field keeps its statistics when cropped, and an FFT of
      such a size is several times faster than one of, say, 212 = 4 x 53 columns.
    - The k-space samples are uniform (zero mean, unit variance), five times cheaper to
      draw than Gaussian ones: every image pixel is a weighted sum of thousands of them,
      so the image noise is Gaussian (central limit theorem), as thermal noise is.
    """
    if psf is None:
        return rng.standard_normal((*shape[:-1], 2 * shape[-1]),
                                   np.float32).view(np.complex64)
    rows, cols = shape[-2], shape[-1]
    grid = (fast_length(rows), fast_length(cols))
    noise: np.ndarray = uniform_unit((*shape[:-2], grid[0], 2 * grid[1]), rng)
    noise = noise.view(np.complex64)
    window = np.outer(_transfer(psf[0], grid[0]), _transfer(psf[1], grid[1]))
    window *= math.sqrt(grid[0] * grid[1] / float(np.sum(psf[0] ** 2) * np.sum(psf[1] ** 2)))
    noise *= window.astype(np.float32)
    if not FFT_OUT:
        return np.fft.ifft2(noise).astype(np.complex64, copy=False)[..., :rows, :cols]
    # ifft2 transforms the rows, then the columns: the same two passes, the first in
    # place and the second over the kept columns only (each column is its own transform,
    # so the kept ones are bit for bit what ifft2 gives)
    np.fft.ifft(noise, axis=-1, out=noise)
    return np.fft.ifft(noise[..., :cols], axis=-2)[..., :rows, :]


def uniform_unit(shape: tuple[int, ...], rng: Rng) -> np.ndarray:
    """float32 samples, uniform with zero mean and unit variance: a cheap stand-in for
    Gaussian ones wherever a Fourier transform sums many of them into each output value."""
    values = rng.random(shape, np.float32)
    values -= np.float32(0.5)
    values *= np.float32(math.sqrt(12.0))
    return values


def fast_length(n: int) -> int:
    """The smallest length >= ``n`` whose only prime factors are 2, 3 and 5."""
    while True:
        m = n
        for p in (2, 3, 5):
            while m % p == 0:
                m //= p
        if m == 1:
            return n
        n += 1


def _transfer(kernel: np.ndarray, n: int) -> np.ndarray:
    """Discrete transfer function (length ``n``) of a centred, symmetric 1D kernel."""
    taps = np.zeros(n)
    half = len(kernel) // 2
    for i, weight in enumerate(kernel):
        taps[(i - half) % n] += weight
    return np.fft.fft(taps).real


def _smooth(rng: Rng, shape: tuple[int, int], sigma_px: float) -> np.ndarray:
    """Unit-variance Gaussian random field of correlation length ``sigma_px``."""
    fy = np.fft.fftfreq(shape[0])[:, None]
    fx = np.fft.rfftfreq(shape[1])[None, :]
    kernel = np.exp(-2.0 * (np.pi * sigma_px) ** 2 * (fx**2 + fy**2))
    field = np.fft.irfft2(np.fft.rfft2(rng.standard_normal(shape)) * kernel, s=shape)
    return (field - field.mean()) / (field.std() + 1e-9)
