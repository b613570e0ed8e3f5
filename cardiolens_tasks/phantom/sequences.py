"""Render the phantom's series: cine, LGE, T2 and perfusion, short and long axis.

Geometry gives class fractions per pixel; each sequence gives each class an intensity
(constant, or a curve over time for perfusion). A pixel is the fraction-weighted sum,
then coil shading and Rician-like noise (a folded normal) are applied.
"""

from __future__ import annotations

import numpy as np

from cardiolens.data.anatomy import slice_levels
from cardiolens.phantom.geometry import (
    HeartModel,
    Plane,
    Tissue,
    Window,
    lax_base_row,
    lax_plane,
    lesion_fraction,
    sax_plane,
    tissue,
)
from cardiolens.phantom.params import Lesion, StudyParams

# Class intensities relative to the brightest tissue of each sequence.
CINE = {"lv_blood": 1.0, "papillary": 0.28, "lv_myo": 0.28, "rv_blood": 0.95, "rv_wall": 0.28,
        "effusion": 0.85, "atrium": 0.95, "body": 0.55, "lung": 0.04}
LGE = {"lv_blood": 0.42, "papillary": 0.05, "lv_myo": 0.05, "rv_blood": 0.40, "rv_wall": 0.08,
       "effusion": 0.15, "atrium": 0.42, "body": 0.22, "lung": 0.02, "lesion": 1.0}
T2 = {"lv_blood": 0.05, "papillary": 0.32, "lv_myo": 0.32, "rv_blood": 0.05, "rv_wall": 0.32,
      "effusion": 0.90, "atrium": 0.05, "body": 0.28, "lung": 0.03, "lesion": 0.62}
LAX_VIEWS = ("4ch", "3ch", "2ch")


def cine_phases(n_phases: int, es_phase: int) -> np.ndarray:
    """Systolic factor per phase: 0 at end-diastole (phase 0), 1 at end-systole."""
    t = np.arange(n_phases, dtype=np.float64)
    rise = 0.5 * (1.0 - np.cos(np.pi * t / es_phase))
    fall = 0.5 * (1.0 + np.cos(np.pi * (t - es_phase) / (n_phases - es_phase)))
    return np.where(t <= es_phase, rise, fall)


def perfusion_curves(n: int, start: int) -> dict[str, np.ndarray]:
    """Signal over dynamics per class: RV then LV bolus, myocardium, and a defect."""
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
    return {"rv_blood": 0.06 + 0.94 * rv + 0.15 * myo, "lv_blood": 0.06 + 0.88 * lv + 0.15 * myo,
            "atrium": 0.06 + 0.88 * lv, "lv_myo": 0.08 + 0.34 * myo,
            "papillary": 0.08 + 0.34 * myo, "rv_wall": 0.08 + 0.3 * myo,
            "lesion": 0.08 + 0.12 * late, "effusion": np.full(n, 0.06),
            "body": 0.11 + 0.04 * myo, "lung": np.full(n, 0.02)}


def _smooth_field(rng: np.random.Generator, shape: tuple[int, int], sigma_px: float) -> np.ndarray:
    """Unit-variance smooth random field (Gaussian blur in Fourier space)."""
    noise = rng.standard_normal(shape)
    fy = np.fft.fftfreq(shape[0])[:, None]
    fx = np.fft.rfftfreq(shape[1])[None, :]
    kernel = np.exp(-2.0 * (np.pi * sigma_px) ** 2 * (fx**2 + fy**2))
    field = np.fft.irfft2(np.fft.rfft2(noise) * kernel, s=shape)
    return (field - field.mean()) / (field.std() + 1e-9)


def patch_texture(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Blotchy 0..1 mask covering about two thirds of the plane in small blobs.

    Blobs are small next to a wall sector, so every drawn site keeps visible enhancement.
    """
    return np.clip((_smooth_field(rng, shape, 1.5) + 0.45) * 1.5 + 0.5, 0.0, 1.0)


def _ellipse(rows: np.ndarray, cols: np.ndarray, centre: tuple[float, float],
             radii: tuple[float, float]) -> np.ndarray:
    d = np.sqrt(((rows - centre[0]) / radii[0]) ** 2 + ((cols - centre[1]) / radii[1]) ** 2)
    return np.clip((1.0 - d) * min(radii) + 0.5, 0.0, 1.0)


def body_fractions(p: StudyParams) -> tuple[np.ndarray, np.ndarray]:
    """Chest body and lung fractions around the heart, (H, W) each."""
    m = p.acq.matrix
    rows, cols = np.mgrid[0:m, 0:m].astype(np.float64)
    body = _ellipse(rows, cols, (m * 0.5, m * 0.5), (m * 0.42, m * 0.48))
    lung_r = _ellipse(rows, cols, (m * 0.42, m * 0.17), (m * 0.22, m * 0.09))
    lung_l = _ellipse(rows, cols, (m * 0.42, m * 0.86), (m * 0.20, m * 0.07))
    lung = np.maximum(lung_r, lung_l) * body
    return body - lung, lung


ATRIAL_WALL_MM = 2.5


def atria_fraction(p: StudyParams, view: str, x: np.ndarray, y: np.ndarray,
                   grow_mm: float = 0.0) -> np.ndarray:
    """Atrial (and aortic root) blood below the base in a long-axis plane; x, y in mm.

    ``grow_mm`` widens every blob (the atrial wall is the widened minus the plain blobs).
    """
    r = p.heart.r_endo
    blobs = [((-0.7 * r, 0.25 * r), (0.6 * r, 0.75 * r))]
    if view == "4ch":
        blobs.append(((-0.6 * r, -1.15 * r), (0.55 * r, 0.6 * r)))
    if view == "3ch":
        blobs.append(((-0.45 * r, -0.6 * r), (0.35 * r, 0.3 * r)))
    out = np.zeros_like(x)
    for (cy, cx), (ry, rx) in blobs:
        out = np.maximum(out, _ellipse(y, x, (cy, cx), (ry + grow_mm, rx + grow_mm)))
    return out


def atrial_wall(p: StudyParams, view: str, x: np.ndarray, y: np.ndarray,
                atria: np.ndarray) -> np.ndarray:
    """The atrial wall around the blobs below the base, (H, W); drawn only where it
    enhances (amyloid atrial infiltration)."""
    wall = atria_fraction(p, view, x, y, ATRIAL_WALL_MM) - atria
    return np.clip(wall * (y < 0), 0.0, 1.0)


def _compose(t: Tissue, values: dict[str, np.ndarray | float], background: np.ndarray,
             atria: np.ndarray | None, lesion: np.ndarray | None,
             papillary_lesion: bool, wall: np.ndarray | None = None) -> np.ndarray:
    """Fraction-weighted sum of class intensities; values may be per frame (T,)."""

    def v(name: str) -> np.ndarray:
        return np.asarray(values[name], np.float32).reshape(-1, 1, 1)

    myo = t.lv_myo
    out = t.lv_blood * v("lv_blood") + t.rv_blood * v("rv_blood") + t.rv_wall * v("rv_wall")
    out = out + t.effusion * v("effusion")
    if lesion is not None:
        out = out + myo * (1.0 - lesion) * v("lv_myo") + myo * lesion * v("lesion")
    else:
        out = out + myo * v("lv_myo")
    out = out + t.papillary * v("lesion" if papillary_lesion else "papillary")
    rest = t.outside
    if wall is not None:
        out = out + rest * wall * v("lesion")
        rest = rest * (1.0 - wall)
    if atria is not None:
        out = out + rest * atria * v("atrium")
        rest = rest * (1.0 - atria)
    return (out + rest * background).astype(np.float32)


def _finish(frames: np.ndarray, p: StudyParams, rng: np.random.Generator) -> np.ndarray:
    """Coil shading and folded-normal noise, scaled to the stored integer range."""
    m = p.acq.matrix
    amp, angle, bump = p.acq.shading
    rows, cols = np.mgrid[0:m, 0:m].astype(np.float32) / m - 0.5
    shade = 1.0 + amp * (np.cos(angle) * cols + np.sin(angle) * rows) * 2.0
    shade = (shade + bump * np.exp(-((rows + 0.1) ** 2 + (cols - 0.1) ** 2) / 0.05)) * np.float32(
        p.acq.scale)
    noise = rng.standard_normal(frames.shape, np.float32)
    noise *= np.float32(p.acq.noise)
    noise += frames
    np.abs(noise, out=noise)
    noise *= shade.astype(np.float32)
    return noise


class Renderer:
    """Draws every series of one study; deterministic given the study's parameters.

    Heart geometry is evaluated only inside a window around the heart; the rest of each
    frame is the chest background.
    """

    def __init__(self, p: StudyParams) -> None:
        self.p = p
        self.model = HeartModel.build(p.heart, p.acq.n_slices)
        self.body, self.lung = body_fractions(p)
        self.phases = cine_phases(p.acq.n_phases, p.acq.es_phase)
        h = p.heart
        px, (cy, cx) = p.acq.pixel_mm, p.acq.centre
        reach = (h.r_endo + max(max(row) for row in h.thickness) + h.rv_depth + 3.0
                 + h.effusion)
        half = reach / px + 3
        self.sax_window = self._clip(cy - half, cy + half, cx - half, cx + half)
        top = cy - 0.5 * (h.long_axis + self.model.apex_thickness) / px - 4
        bottom = lax_base_row(self.model, px, p.acq.centre) + 1.6 * h.r_endo / px + 3
        wide = max(reach, 1.8 * h.r_endo) / px + 4
        self.lax_window = self._clip(top, bottom, cx - wide, cx + wide)

    def _clip(self, r0: float, r1: float, c0: float, c1: float) -> Window:
        m = self.p.acq.matrix
        return (max(0, int(r0)), min(m, int(np.ceil(r1))), max(0, int(c0)),
                min(m, int(np.ceil(c1))))

    def _rng(self, *key: int) -> np.random.Generator:
        return np.random.default_rng([self.p.texture_seed, *key])

    def _render(self, plane: Plane, window: Window, phases: np.ndarray, values: dict,
                lesions: tuple[Lesion, ...], texture_key: int | None,
                atria: np.ndarray | None = None, papillary: bool = False,
                wall: np.ndarray | None = None) -> np.ndarray:
        """Full (T, H, W) frames: background everywhere, the heart inside ``window``."""
        r0, r1, c0, c1 = window

        def v(name: str) -> np.ndarray:
            return np.asarray(values[name], np.float32).reshape(-1, 1, 1)

        background = self.body * v("body") + self.lung * v("lung")
        frames = np.broadcast_to(background, (max(len(phases), background.shape[0]),
                                              *self.body.shape)).copy()
        t = tissue(self.model, plane, phases)
        lesion = None
        if lesions:
            texture = None
            if texture_key is not None and any(les.patchy for les in lesions):
                m = self.p.acq.matrix
                texture = patch_texture(self._rng(texture_key), (m, m))[r0:r1, c0:c1]
            lesion = lesion_fraction(lesions, plane, t, texture)
        frames[:, r0:r1, c0:c1] = _compose(t, values, background[:, r0:r1, c0:c1], atria,
                                           lesion, papillary, wall)
        return frames

    def sax_plane(self, k: int) -> Plane:
        """The heart-window plane of short-axis slice ``k`` (tests measure pixels with it)."""
        return self._sax(k)

    def _sax(self, k: int) -> Plane:
        a = self.p.acq
        return sax_plane(self.model, k, self.sax_window, a.pixel_mm, a.centre, a.rotation)

    def _lax(self, view: str) -> tuple[Plane, np.ndarray, np.ndarray]:
        """The plane, its atria and its atrial wall fractions."""
        a = self.p.acq
        plane, x, y = lax_plane(self.model, view, self.lax_window, a.pixel_mm, a.centre,
                                tilt=a.rotation / 3.0)
        atria = atria_fraction(self.p, view, x, y)
        return plane, atria, atrial_wall(self.p, view, x, y, atria)

    def cine_sax(self) -> np.ndarray:
        frames = [self._render(self._sax(k), self.sax_window, self.phases, CINE, (), None)
                  for k in range(self.p.acq.n_slices)]
        return self._stack(frames, 1)

    def cine_lax(self, view: str) -> np.ndarray:
        plane, atria, _ = self._lax(view)
        frames = self._render(plane, self.lax_window, self.phases, CINE, (), None, atria)
        return self._stack([frames], 2 + LAX_VIEWS.index(view))

    def lge_sax(self) -> np.ndarray:
        ed = np.zeros(1)
        frames = [self._render(self._sax(k), self.sax_window, ed, LGE, self.p.scar, 100 + k,
                               papillary=self.p.papillary_scar)
                  for k in range(self.p.acq.n_slices)]
        return self._stack(frames, 10)

    def lge_lax(self, view: str) -> np.ndarray:
        plane, atria, wall = self._lax(view)
        frame = self._render(plane, self.lax_window, np.zeros(1), LGE, self.p.scar,
                             200 + LAX_VIEWS.index(view), atria, self.p.papillary_scar,
                             wall if self.p.atrial_lge else None)
        return self._stack([frame], 11 + LAX_VIEWS.index(view))

    def t2_sax(self) -> np.ndarray:
        frames = [self._render(self._sax(k), self.sax_window, np.zeros(1), T2, self.p.edema,
                               300 + k)
                  for k in range(self.p.acq.n_slices)]
        return self._stack(frames, 20)

    def perf_slices(self) -> list[int]:
        """SAX slice indices imaged by perfusion: the middle of the basal, mid, apical thirds."""
        levels = slice_levels(self.p.acq.n_slices)
        out = []
        for name in ("Basal", "Mid", "Apical"):
            idx = [i for i, lv in enumerate(levels) if lv == name]
            out.append(idx[len(idx) // 2])
        return out

    def perf_sax(self) -> np.ndarray:
        curves = perfusion_curves(self.p.acq.n_dynamics, self.p.acq.bolus_start)
        defect = (self.p.defect,) if self.p.defect else ()
        frames = [self._render(self._sax(k), self.sax_window, np.zeros(1), curves, defect,
                               None)
                  for k in self.perf_slices()]
        return self._stack(frames, 30)

    def _stack(self, per_slice: list[np.ndarray], key: int) -> np.ndarray:
        """(slices, frames, H, W) float frames -> noisy (H, W, slices, frames)."""
        data = _finish(np.stack(per_slice), self.p, self._rng(1000 + key))
        return np.ascontiguousarray(data.transpose(2, 3, 0, 1))

    def series(self) -> dict[str, np.ndarray]:
        """Every series of the study keyed by series name, (H, W, slices, frames)."""
        out = {"cine_sax": self.cine_sax()}
        for view in LAX_VIEWS:
            out[f"cine_{view}"] = self.cine_lax(view)
        out["lge_sax"] = self.lge_sax()
        for view in ("4ch", "2ch"):
            out[f"lge_{view}"] = self.lge_lax(view)
        out["t2_sax"] = self.t2_sax()
        out["perf_sax"] = self.perf_sax()
        return out
