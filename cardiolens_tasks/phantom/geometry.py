"""The phantom's continuous heart model and the planes that cut it.

The LV is a truncated ellipsoidal shell along the long axis u (0 at the base, growing to
the apex); its wall thickness and motion are tabulated per level and per degree. Every
image plane, short-axis or long-axis, is a set of pixels with coordinates (u, rho, phi):
distance along the long axis, distance from it and anatomical angle (see
:mod:`cardiolens.data.anatomy`). Along each ray the tissue classes are consecutive radial
intervals (LV blood, LV myocardium, RV blood, RV wall, effusion), so their soft-edged
fractions add up to one and partial volume comes for free.

Through-plane motion (docs/phantom.md, "Long-axis motion"): in systole the base (the
AV plane) descends towards the fixed epicardial apex by ``Heart.base_descent * phase``.
Image planes stay fixed in the patient; the ventricle is compressed uniformly along its
axis, so the pixel at axial position ``u`` shows the tissue that sat at
:meth:`HeartModel.material_u` at end-diastole, with its level, wall thickness and motion.
Above the descended base the atria and great-vessel roots stretch down to meet it
(:meth:`HeartModel.background_u`), so a basal slice shows atrium and LVOT at end-systole.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cardiolens.data.anatomy import LEVELS, WALL_CENTRE_DEG, WALLS6, slice_levels
from cardiolens.data.vocabulary import LEVELS as LEVEL
from cardiolens.phantom.params import Heart, Lesion

RV_WALL_MM = 3.0
PAPILLARY_DEG = (195.0, 285.0)
ATRIAL_MM = 30.0
"""Height above the base plane over which the atria and roots stretch as the base descends
(their roofs stay, their floors follow the AV plane)."""
LEVEL_INDEX = {name: i for i, name in enumerate(LEVELS)}


def _smooth_circular(table: np.ndarray, width: int) -> np.ndarray:
    """Box-smooth each row of a (levels, 360) table around the circle."""
    if width <= 1:
        return table
    kernel = np.ones(width) / width
    padded = np.concatenate([table[:, -width:], table, table[:, :width]], axis=1)
    out = np.stack([np.convolve(row, kernel, mode="same") for row in padded])
    return out[:, width:-width]


def wall_table(values: dict[str, float] | list[float] | tuple[float, ...],
               smooth_deg: int = 9) -> np.ndarray:
    """A 360-entry angular profile from six per-wall values (smooth at the borders)."""
    row = np.empty(360)
    for i, wall in enumerate(WALLS6):
        centre = int(WALL_CENTRE_DEG[wall])
        idx = np.arange(centre - 30, centre + 30) % 360
        row[idx] = values[wall] if isinstance(values, dict) else values[i]
    return _smooth_circular(row[None], smooth_deg)[0]


@dataclass(frozen=True)
class HeartModel:
    """Lookup tables derived once per study from :class:`Heart`."""

    heart: Heart
    thickness: np.ndarray   # (4, 360) by level index, mm
    motion: np.ndarray      # (4, 360)
    apex_thickness: float
    slice_u: tuple[float, ...]
    level_bounds: tuple[float, ...]   # u where Basal->Mid, Mid->Apical, Apical->Apex

    @classmethod
    def build(cls, heart: Heart, n_slices: int) -> HeartModel:
        thick = np.stack([wall_table(row) for row in heart.thickness])
        apex = float(np.mean(heart.thickness[2]))
        thick = np.concatenate([thick, np.full((1, 360), apex)])
        motion = np.stack([wall_table(row, smooth_deg=25) for row in heart.motion])
        length = heart.long_axis
        cavity = n_slices - 1
        slice_u = [(k + 0.5) / cavity * length * 0.95 for k in range(cavity)]
        slice_u.append(length + 0.45 * apex)
        levels = slice_levels(n_slices)
        bounds = []
        for k in range(1, n_slices):
            if levels[k] != levels[k - 1]:
                bounds.append(0.5 * (slice_u[k] + slice_u[k - 1]))
        return cls(heart, thick, motion, apex, tuple(slice_u), tuple(bounds))

    def level_of(self, u: np.ndarray) -> np.ndarray:
        return np.searchsorted(np.asarray(self.level_bounds), u).astype(np.int8)

    @property
    def apex_u(self) -> float:
        """Axial position of the epicardial apex, fixed through the cycle (mm)."""
        return self.heart.long_axis + self.apex_thickness

    def descent(self, phase: np.ndarray | float) -> np.ndarray:
        """Descent of the base towards the apex (mm) at systolic phase factors (1 = ES)."""
        return np.float32(self.heart.base_descent) * np.asarray(phase, np.float32)

    def compression(self, descent: np.ndarray | float) -> np.ndarray:
        """Axial length of the ventricle over its end-diastolic length at a descent."""
        apex = np.float32(self.apex_u)
        return (apex - np.asarray(descent, np.float32)) / apex

    def material_u(self, u: np.ndarray, descent: np.ndarray | float) -> np.ndarray:
        """End-diastolic axial position of the ventricular tissue seen at ``u``."""
        return (u - descent) / self.compression(descent)

    def background_u(self, u: np.ndarray | float,
                     descent: np.ndarray | float) -> np.ndarray:
        """End-diastolic axial position of the atria and roots seen at ``u`` (identity
        outside the stretched band from ``ATRIAL_MM`` above the base to the descended base)."""
        d = np.asarray(descent, np.float32)
        stretched = -ATRIAL_MM + (u + ATRIAL_MM) * (ATRIAL_MM / (ATRIAL_MM + d))
        return np.where((u >= -ATRIAL_MM) & (u < d), stretched, u).astype(np.float32)


@dataclass(frozen=True)
class Plane:
    """Pixel coordinates of one image plane in the heart's frame (all (H, W) arrays)."""

    u: np.ndarray
    rho: np.ndarray
    phi: np.ndarray      # degrees, anatomical
    level: np.ndarray    # level index 0..3 per pixel
    pixel_mm: float

    @property
    def deg(self) -> np.ndarray:
        return np.mod(self.phi.astype(np.int32), 360)


Window = tuple[int, int, int, int]
"""Pixel window ``(row0, row1, col0, col1)`` of an image that a plane covers."""


def _grid(window: Window) -> tuple[np.ndarray, np.ndarray]:
    r0, r1, c0, c1 = window
    rows, cols = np.mgrid[r0:r1, c0:c1].astype(np.float32)
    return rows, cols


def sax_plane(model: HeartModel, slice_index: int, window: Window, pixel_mm: float,
              centre: tuple[float, float], rotation: float) -> Plane:
    """The short-axis plane of one slice; anterior is image-up, septum image-left."""
    rows, cols = _grid(window)
    dy = (rows - centre[0]) * pixel_mm
    dx = (cols - centre[1]) * pixel_mm
    rho = np.hypot(dx, dy)
    phi = np.mod(np.degrees(np.arctan2(-dx, -dy)) - rotation, 360.0)
    u = np.full_like(rho, model.slice_u[slice_index])
    level = np.full(rho.shape, LEVEL_INDEX[slice_levels(len(model.slice_u))[slice_index]],
                    np.int8)
    return Plane(u, rho, phi, level, pixel_mm)


LAX_ANGLE = {"4ch": 300.0, "3ch": 240.0, "2ch": 0.0}
"""Anatomical angle shown on the image right of each long-axis view (left is +180)."""


def lax_base_row(model: HeartModel, pixel_mm: float, centre: tuple[float, float]) -> float:
    """Image row of the base plane in long-axis views (the LV is centred vertically)."""
    return centre[0] + 0.5 * (model.heart.long_axis + model.apex_thickness) / pixel_mm


def lax_plane(model: HeartModel, view: str, window: Window, pixel_mm: float,
              centre: tuple[float, float], tilt: float) -> tuple[Plane, np.ndarray, np.ndarray]:
    """A long-axis plane, apex at the top; also returns its in-plane (x, u) grids in mm."""
    rows, cols = _grid(window)
    base_row = lax_base_row(model, pixel_mm, centre)
    y = (base_row - rows) * pixel_mm
    x = (cols - centre[1]) * pixel_mm
    t = math.radians(tilt)      # a Python float: x and y stay float32
    x, y = x * math.cos(t) - y * math.sin(t), x * math.sin(t) + y * math.cos(t)
    psi = LAX_ANGLE[view]
    phi = np.where(x >= 0, psi, (psi + 180.0) % 360.0).astype(np.float32)
    plane = Plane(y, np.abs(x), phi, model.level_of(y), pixel_mm)
    return plane, x, y


def _edge(distance_mm: np.ndarray, pixel_mm: float) -> np.ndarray:
    """Soft inside-fraction of a boundary at signed distance (positive = inside)."""
    out = distance_mm / pixel_mm
    if not (isinstance(out, np.ndarray) and out.dtype.kind == "f"):
        return np.clip(out + 0.5, 0.0, 1.0)
    out += 0.5                      # in place: the same values, one array fewer
    return np.clip(out, 0.0, 1.0, out=out)


def _edge_times(distance_mm: np.ndarray, pixel_mm: float, factor: np.ndarray) -> np.ndarray:
    """``_edge(distance_mm, pixel_mm) * factor``, multiplied in place where the product
    has the edge's shape and type (the same values without another array)."""
    edge = _edge(distance_mm, pixel_mm)
    if (isinstance(edge, np.ndarray) and np.result_type(edge, factor) == edge.dtype
            and np.broadcast_shapes(edge.shape, np.shape(factor)) == edge.shape):
        edge *= factor
        return edge
    return edge * factor


def cos_sum(weights: np.ndarray, spatial: list[np.ndarray], temporal: np.ndarray
            ) -> np.ndarray:
    """``sum_i weights[i] * cos(spatial[i] + temporal[i, t])`` as a (T, H, W) array.

    Args:
        weights: (n,) amplitude of each term.
        spatial: n angles over the plane, each (H, W) or (1, H, W).
        temporal: (n, T) angles, one per frame.

    ``cos(a + b) = cos a cos b - sin a sin b`` makes the sum one contraction of the
    per-pixel (cos a, sin a) with per-frame weights, instead of a pass over (T, H, W) for
    every term and factor.
    """
    per_pixel = np.stack([f(np.reshape(a, np.shape(a)[-2:])) for a in spatial
                          for f in (np.cos, np.sin)]).astype(np.float32, copy=False)
    w = np.asarray(weights, np.float64)[:, None]
    b = np.asarray(temporal, np.float64)
    per_frame = np.stack([w * np.cos(b), -w * np.sin(b)], axis=1).reshape(-1, b.shape[1])
    return np.einsum("kt,khw->thw", per_frame.astype(np.float32), per_pixel)


@dataclass
class Tissue:
    """Fractions of each class per pixel, shape (T, H, W); they sum to one with ``outside``."""

    lv_blood: np.ndarray
    papillary: np.ndarray
    lv_myo: np.ndarray
    rv_blood: np.ndarray
    rv_wall: np.ndarray
    effusion: np.ndarray
    epi_fat: np.ndarray   # epicardial fat beyond the heart, then the pericardium
    pericardium: np.ndarray
    outside: np.ndarray
    trabecular: np.ndarray   # trabeculae carneae in the LV pool along the endocardium
    endo: np.ndarray      # endocardial radius per pixel ray, mm
    epi: np.ndarray       # epicardial radius, mm
    level: np.ndarray     # level index of the tissue each pixel shows, (T or 1, H, W)


def draw_trabeculae(rng: np.random.Generator, strands: int = 3) -> np.ndarray:
    """(strands, 4) trabecular strand families: angular harmonic (14-30 around the
    ventricle: strands 4-8 mm apart on a 25 mm cavity), axial wavenumber (per mm: they run
    obliquely towards the apex), phase, weight."""
    return np.stack([rng.integers(14, 31, strands).astype(np.float64),
                     rng.uniform(-0.12, 0.12, strands), rng.uniform(0.0, 2.0 * np.pi, strands),
                     rng.uniform(0.7, 1.0, strands)], axis=-1)


def _trabecular_share(model: HeartModel, plane: Plane, u: np.ndarray, endo: np.ndarray,
                      s: np.ndarray, trabeculae: np.ndarray) -> np.ndarray:
    """Share of the LV pool taken by trabeculae: strands of myocardium in a layer inside
    the endocardial (compact-wall) border, 0.8 mm thick at the base and up to 4 mm at the
    apex (the apical trabecular zone); in systole the strands are pressed together and the
    blood between them is squeezed out (their share rises, the layer keeps its depth). The
    septal surface stays smooth, the free wall and the apex are trabeculated. Partial volume turns
    the strands into an irregular, less crisp endocardial border."""
    length = model.heart.long_axis
    axial = np.clip(u / length, 0.0, 1.0)
    layer = 0.8 + 3.2 * axial**1.5
    inner = endo - layer
    phi = np.radians(plane.phi)[None]
    strands_f32 = trabeculae.astype(np.float32)
    # each strand is cos(a + kz u): the angular part a is evaluated once per plane, and on
    # a short-axis plane (u one value per phase) cos(a + b) = cos a cos b - sin a sin b
    angular = [k * phi + ph + 1.2 * np.sin(3.0 * phi + 2.0 * ph) for k, _, ph, _ in strands_f32]
    if u.shape[-2:] == (1, 1):
        pattern = cos_sum(strands_f32[:, 3], angular,
                          strands_f32[:, 1:2] * u.reshape(1, -1))
    else:
        pattern = sum(w * np.cos(a + kz * u)
                      for a, (_, kz, _, w) in zip(angular, strands_f32, strict=True))
    pattern = pattern / float(np.sum(trabeculae[:, 3]))
    strands = np.clip((pattern + 0.1 + 0.3 * s) * 2.5, 0.0, 1.0)   # systole: squeezed
    # the septal surface is smooth; the free wall and the apex are trabeculated
    free_wall = np.maximum(0.5 * (1.0 - np.cos(phi - math.radians(90.0))), axial**2)
    depth = np.clip((plane.rho - inner) / np.maximum(layer, 1e-3), 0.0, 1.0)
    band = _edge(plane.rho - inner, plane.pixel_mm)
    return (band * strands * free_wall * (0.3 + 0.6 * depth)).astype(np.float32)


def _harmonics(terms: np.ndarray, phi: np.ndarray, uu: np.ndarray) -> np.ndarray:
    """``sum_k amp_k cos(k phi + p_k + kz_k u)`` of (n, 4) rows (harmonic, amplitude, phase,
    axial wavenumber per mm) over a plane; one contraction on a short-axis plane."""
    if uu.shape[-2:] == (1, 1):     # short axis: one axial position per phase
        t32 = terms.astype(np.float32)
        return cos_sum(t32[:, 1], [k * phi + ph for k, _, ph, _ in t32],
                       t32[:, 3:4] * uu.reshape(1, -1))
    return sum(amp * np.cos(k * phi + ph + kz * uu)
               for k, amp, ph, kz in terms.astype(np.float32))


def draw_epicardial_patches(rng: np.random.Generator, terms: int = 4
                            ) -> tuple[float, np.ndarray]:
    """The epicardial fat over the LV free wall: its share of the groove thickness
    (0.06-0.2; 0.35 over the RV) and (terms, 4) harmonics (5-10 around the heart, axial
    wavenumber up to 0.05/mm, amplitudes 0.45-0.75) that break it into patches: where
    their sum falls below -1 the wall has no fat (coronary branches in fat, bare muscle
    between them)."""
    share = float(rng.uniform(0.06, 0.2))
    harmonics = rng.choice(np.arange(5.0, 11.0), size=terms, replace=False)
    return share, np.stack([harmonics, rng.uniform(0.45, 0.75, terms),
                            rng.uniform(0.0, 2.0 * np.pi, terms),
                            rng.uniform(-0.05, 0.05, terms)], axis=-1)


def tissue(model: HeartModel, plane: Plane, phase: np.ndarray, epi_fat_mm: float = 0.0,
           epi_lobes: np.ndarray | None = None, trabeculae: np.ndarray | None = None,
           epi_patches: tuple[float, np.ndarray] | None = None) -> Tissue:
    """Class fractions of a plane at the given systolic phase factors (0 = ED, 1 = ES).

    The base descends with the phase (through-plane motion, see the module docstring);
    walls keep their volume, so they thicken as the ventricle shortens. ``epi_fat_mm`` is
    the epicardial fat in the atrioventricular and interventricular grooves (0.35 of it
    over the RV free wall), thickest at the base; a 1 mm pericardium follows. ``epi_lobes``
    (n, 4: angular harmonic, amplitude, phase, axial wavenumber per mm) make its thickness
    lobulated and uneven around the heart and along it, as real epicardial fat is.
    ``epi_patches`` (:func:`draw_epicardial_patches`) make it a thin, patchy layer over the
    LV free wall above the apical third (without them it is 0.35 there too).
    ``trabeculae`` (:func:`draw_trabeculae`) draws trabeculae carneae inside the
    endocardial border (they belong to the blood pool's labelled volume, as in clinical
    contouring, so labels do not move).
    """
    heart = model.heart
    px = plane.pixel_mm
    s = np.asarray(phase, np.float32)[:, None, None]
    deg, rho = plane.deg, plane.rho
    if heart.base_descent > 0 and np.any(s > 0):
        d = model.descent(s)
        stretch = 1.0 / model.compression(d)
        flat = plane.u.min() == plane.u.max()    # a short-axis plane: one u, one level
        u_plane = plane.u[:1, :1] if flat else plane.u
        u = model.material_u(u_plane, d)         # (T, H, W): the tissue each pixel shows
        lvl = model.level_of(u)
        on_lv = _edge(u_plane - d, px)           # 0 above the descended base (atria side)
    else:
        stretch = np.ones((1, 1, 1), np.float32)
        u, lvl = plane.u[None], plane.level[None]
        on_lv = _edge(u, px)
        flat = False
    if flat:     # per-level tables of the plane's angles, one level per phase
        thick = model.thickness[:, deg].astype(np.float32)[lvl[:, 0, 0]]
        motion = model.motion[:, deg].astype(np.float32)[lvl[:, 0, 0]]
    else:
        thick = model.thickness[lvl, deg].astype(np.float32)
        motion = model.motion[lvl, deg].astype(np.float32)
    length = heart.long_axis
    uu = np.maximum(u, 0.0)
    endo_ed = heart.r_endo * np.sqrt(np.clip(1.0 - (uu / length) ** 2, 0.0, None))
    epi_ed = (heart.r_endo + thick) * np.sqrt(
        np.clip(1.0 - (uu / (length + model.apex_thickness)) ** 2, 0.0, None))
    endo = endo_ed * (1.0 - heart.shortening * motion * s)
    epi = np.sqrt(np.maximum(endo**2 + (epi_ed**2 - endo_ed**2) * stretch, 0.0))

    a0, a1 = heart.rv_arc
    frac = np.clip((plane.phi - a0) / (a1 - a0), 0.0, 1.0)
    crescent = np.clip(np.sin(np.pi * frac), 0.0, 1.0) ** 0.6
    profile = np.where((plane.phi > a0) & (plane.phi < a1), crescent, 0.0)[None]
    taper = np.sqrt(np.clip(1.0 - (uu / (0.9 * length)) ** 2, 0.0, None))
    rv_d = (heart.rv_depth * profile * taper) * (1.0 - heart.rv_shortening * s)
    in_arc = np.clip(profile * 6.0, 0.0, 1.0) * (taper > 0)
    b2 = epi + rv_d
    b3 = b2 + RV_WALL_MM * in_arc
    b4 = b3 + heart.effusion
    groove = np.clip(np.maximum(np.cos(np.radians(plane.phi - 30.0)),
                                np.cos(np.radians(plane.phi - 150.0))), 0.0, 1.0) ** 4
    phi = np.radians(plane.phi)[None]
    cover: np.ndarray | float = 0.35
    if epi_patches is not None and epi_fat_mm > 0:
        # over the LV free wall (outside the RV arc, away from the grooves) a thin layer
        # broken into patches; the RV free wall keeps its cover
        share, terms = epi_patches
        thin = share * np.clip(1.0 + _harmonics(terms, phi, uu), 0.0, None)
        # the fat of the grooves reaches round the apex: full cover again over the apical
        # third (from 0.6 to 0.85 of the long axis)
        apex = np.clip((uu / length - 0.6) / 0.25, 0.0, 1.0)
        lv = thin + (0.35 - thin) * apex
        cover = 0.35 * in_arc + lv * (1.0 - in_arc)
    fat = epi_fat_mm * (cover + (1.0 - cover) * groove) * (
        1.0 + 0.6 * np.clip(1.0 - uu / length, 0.0, 1.0))
    if epi_lobes is not None and epi_fat_mm > 0:
        fat = fat * np.clip(1.0 + _harmonics(epi_lobes, phi, uu), 0.1, None)
    b5 = b4 + fat
    b6 = b5 + (1.0 if epi_fat_mm > 0 else 0.0)

    on_lv = on_lv * (epi_ed > 0)             # nothing beyond the epicardial apex
    e0, e1, e2, e3, e4, e5, e6 = (_edge_times(b - rho, px, on_lv)
                                  for b in (endo, epi, b2, b3, b4, b5, b6))
    pap = np.zeros_like(e0)
    mid = lvl == LEVEL_INDEX[LEVEL.mid]
    if mid.any():
        r_pap = 0.13 * heart.r_endo
        rc = 0.55 * endo
        squares, product = rho**2 + rc**2, 2.0 * rho * rc     # the same for both muscles
        for angle in PAPILLARY_DEG:
            d2 = squares - product * np.cos(np.radians(plane.phi - angle))
            pap = np.maximum(pap, _edge_times(r_pap - np.sqrt(np.maximum(d2, 0.0)), px, mid))
    trab = np.zeros_like(e0)
    if trabeculae is not None:
        trab = e0 * (1.0 - pap) * _trabecular_share(model, plane, uu, endo, s, trabeculae)
    return Tissue(
        lv_blood=e0 * (1.0 - pap) - trab, papillary=e0 * pap, lv_myo=e1 - e0,
        rv_blood=e2 - e1, rv_wall=e3 - e2, effusion=e4 - e3, epi_fat=e5 - e4,
        pericardium=e6 - e5, outside=1.0 - e6, endo=endo, epi=epi, level=lvl,
        trabecular=trab,
    )


def draw_flow(rng: np.random.Generator, waves: int = 6) -> np.ndarray:
    """(waves, 5) slow intracavitary flow pattern: wave vector in the heart frame (x, y
    in the short-axis plane, u along the axis; wavelengths 40-80 mm, the scale of the
    cavity's diastolic ring vortex), phase, and its
    drift over the cardiac cycle (radians per cycle)."""
    direction = rng.normal(size=(waves, 3))
    direction /= np.linalg.norm(direction, axis=-1, keepdims=True)
    k = direction * (2.0 * np.pi / rng.uniform(40.0, 80.0, (waves, 1)))
    return np.concatenate([k, rng.uniform(0.0, 2.0 * np.pi, (waves, 1)),
                           rng.uniform(-3.0, 3.0, (waves, 1))], axis=-1)


MITRAL_DEG = 230.0
"""Anatomical angle of the mitral inflow in the cavity (posterolateral, away from the
LVOT under the anterior septum)."""
LVOT_DEG = 60.0


def blood_flow(model: HeartModel, plane: Plane, t: Tissue, phase: np.ndarray,
               flow: np.ndarray, inflow: float) -> np.ndarray:
    """Per-pixel factor (T, H, W) on the bSSFP blood signal of a cine plane, whose mean
    flow enhancement is ``inflow`` (fresh, unsaturated spins carried into the slice).

    The enhancement scales with how much fresh blood a voxel receives per TR: it is
    weakest in the slow boundary layer along the endocardium and in the trabecular
    recesses, and towards the apex (apical blood moves least), strongest in the core;
    the diastolic mitral inflow jet (early filling, while the ventricle relaxes) and the
    systolic outflow towards the LVOT at the base are brighter, and a slowly drifting
    vortex pattern makes the pool uneven from frame to frame. Only geometry and the
    cardiac phase enter (normalised to the cavity's own size), never a finding; the mean
    enhancement over the plane's blood and the cycle stays ``inflow``.
    """
    s = np.asarray(phase, np.float32)
    n = len(s)
    rate = np.gradient(s) if n > 1 else np.zeros(1, np.float32)
    filling = np.clip(-rate / max(float(np.max(-rate)), 1e-6), 0.0, 1.0) if n > 1 else rate
    ejection = np.clip(rate / max(float(np.max(rate)), 1e-6), 0.0, 1.0) if n > 1 else rate
    rho, phi = plane.rho[None], np.radians(plane.phi)[None]
    x, y = rho * np.cos(phi), rho * np.sin(phi)
    u = plane.u[None]
    cycle = (np.arange(n, dtype=np.float32) / max(n, 1))[:, None, None]
    # the spatial part once per plane, the drift once per frame
    flow_f32 = flow.astype(np.float32)
    vortex = cos_sum(np.full(len(flow), np.sqrt(2.0 / len(flow))),
                     [kx * x + ky * y + ku * u + ph for kx, ky, ku, ph, _ in flow_f32],
                     flow_f32[:, 4:5] * (2.0 * np.pi) * cycle.reshape(1, -1))
    endo = np.maximum(t.endo, 1.0)
    rel = rho / endo
    wall = np.clip((rel - 0.55) / 0.45, 0.0, 1.0) ** 2
    apical = np.clip((u / model.apex_u - 0.4) / 0.6, 0.0, 1.0)
    basal = np.clip(1.0 - u / (0.5 * model.heart.long_axis), 0.0, 1.0)

    def jet(angle: float, offset: float, width: float, endo: np.ndarray) -> np.ndarray:
        c = math.radians(angle)     # Python floats: the jet stays float32
        d2 = (x - offset * endo * math.cos(c)) ** 2 + (y - offset * endo * math.sin(c)) ** 2
        return np.exp(-d2 / (2.0 * (width * endo) ** 2))

    def pulse(scale: float, weight: np.ndarray, angle: float, offset: float, width: float,
              factor: np.ndarray) -> np.ndarray:
        """``scale * weight * jet * factor`` per frame, drawn only on the frames whose
        weight is not zero (on the others it is exactly zero: systole has no filling,
        diastole no ejection)."""
        frames = np.flatnonzero(weight) if endo.shape[0] == n else np.arange(n)
        part = (scale * weight[frames, None, None]
                * jet(angle, offset, width, endo[frames] if endo.shape[0] == n else endo)
                * factor)
        out = np.zeros((n, *part.shape[1:]), part.dtype)
        out[frames] = part
        return out

    g = (1.0 + 0.2 * vortex - 0.8 * wall - 0.5 * apical
         + pulse(0.9, filling, MITRAL_DEG, 0.3, 0.35,
                 np.exp(-np.clip(u, 0.0, None) / (0.6 * model.heart.long_axis)))
         + pulse(0.6, ejection, LVOT_DEG, 0.45, 0.3, basal))
    g = np.clip(np.where(t.rv_blood > 0, 1.0 + 0.2 * vortex - 0.5 * apical, g), 0.0, 2.0)
    # ``inflow`` is the pool's mean enhancement: the cine's nominal blood signal keeps its
    # mean over the plane's blood and cycle (a weighted mean of geometry, no pixel value)
    weight = t.lv_blood + t.rv_blood
    g = g / max(float(np.sum(g * weight) / max(float(np.sum(weight)), 1e-6)), 1e-3)
    return ((1.0 + (inflow - 1.0) * g) / inflow).astype(np.float32)


PATCHY_FOCUS_DEG = 10.0
"""Least half-width (degrees) of the confluent focus a patchy lesion keeps at the centre
of every wall it names (docs/phantom.md, "Every named site shows its lesion")."""
PATCHY_FOCUS_MM = 7.0
"""Half-length (mm, along the wall at each pixel's radius) of that focus: a patch of the
same size at every level, so a small apical ring gets the pixels a basal one gets (10
degrees are 3.5 mm at a 20 mm radius: two or three pixels of a thin apical wall after
the slab and the point-spread function)."""
PATCHY_FOCUS_DEPTH_MM = 5.0
"""Least radial thickness (mm) of the focus of a layer at the wall's surface: the outer
(or inner) pixel of a thin wall is partial volume with fat (or blood) across the slab, so
a 3 mm subepicardial band of an 8 mm apical wall leaves no core pixel fully lit."""
PATCHY_FOCUS_REACH = 0.65
"""Furthest the focus of a surface layer reaches into the wall (share of the wall from
its own surface): it never reaches the opposite third, where the layer profile of the
label-truth tests reads the other layer."""
PATCHY_FOCUS_MAX_DEG = 22.0
"""Widest half-width of the focus (degrees): 8 inside the wall's 30, so the focus's soft
edge and the point-spread function stay out of the neighbouring walls' cores."""


def site_table(lesion: Lesion) -> np.ndarray:
    """(4, 360) angular coverage of a lesion per level index, soft at sector borders."""
    table = np.zeros((4, 360))
    for level, wall in lesion.sites:
        row = LEVEL_INDEX[level]
        if level == LEVEL.apex:
            table[row] = 1.0
            continue
        centre = int(WALL_CENTRE_DEG[wall])
        arcs = lesion.arcs or ((centre - 30.0, centre + 30.0),)
        for lo, hi in arcs:
            if lo >= centre + 30 or hi <= centre - 30:
                continue
            lo_i, hi_i = max(int(lo), centre - 30), min(int(hi), centre + 30)
            table[row, np.arange(lo_i, hi_i) % 360] = 1.0
    return _smooth_circular(table, 5)


def patchy_focus(lesion: Lesion, plane: Plane, t: Tissue) -> np.ndarray:
    """(T, H, W) confluent focus of a patchy lesion: in every named wall (the apex cap has
    none), ``PATCHY_FOCUS_MM`` either side of the wall's centre along the wall at each
    pixel's radius, at least ``PATCHY_FOCUS_DEG`` and at most ``PATCHY_FOCUS_MAX_DEG``,
    soft over a pixel at its ends."""
    out = np.zeros(t.level.shape, np.float32)
    rho = np.maximum(plane.rho, 1.0)
    half = np.clip(np.degrees(PATCHY_FOCUS_MM / rho), PATCHY_FOCUS_DEG, PATCHY_FOCUS_MAX_DEG)
    px_deg = np.degrees(plane.pixel_mm / rho)
    for level, wall in lesion.sites:
        if level == LEVEL.apex:
            continue
        delta = np.abs((plane.phi - WALL_CENTRE_DEG[wall] + 180.0) % 360.0 - 180.0)
        inside = np.clip((half - delta) / px_deg + 0.5, 0.0, 1.0)
        out = np.maximum(out, np.where(t.level == LEVEL_INDEX[level], inside, 0.0))
    return out


def _radial(depth: np.ndarray, wall: np.ndarray, lo: float | np.ndarray,
            hi: float | np.ndarray, px: float) -> np.ndarray:
    """Inside-fraction of the radial band ``lo``-``hi`` of the wall (fractions from
    endocardium to epicardium), soft over a pixel; a bound at the wall's surface (0 or 1)
    is no edge."""
    radial = np.ones_like(depth)
    if np.any(np.asarray(lo) > 0.0):
        radial = radial * _edge(depth - lo * wall, px)
    if np.any(np.asarray(hi) < 1.0):
        radial = radial * _edge(hi * wall - depth, px)
    return radial


def _focus_band(band: tuple[float, float], wall: np.ndarray
                ) -> tuple[float | np.ndarray, float | np.ndarray]:
    """The radial band of a patchy lesion's focus: a layer at the wall's surface
    (subepicardial or subendocardial) thickened away from it to ``PATCHY_FOCUS_DEPTH_MM``
    where the wall is thin, never beyond ``PATCHY_FOCUS_REACH`` of the wall; a mid-wall
    band is kept."""
    lo, hi = band
    reach = np.minimum(PATCHY_FOCUS_DEPTH_MM / wall, PATCHY_FOCUS_REACH)
    if lo > 0.0 and hi >= 1.0:
        return np.minimum(lo, 1.0 - reach), hi
    if lo <= 0.0 and hi < 1.0:
        return lo, np.maximum(hi, reach)
    return lo, hi


def lesion_fraction(lesions: tuple[Lesion, ...], plane: Plane, t: Tissue,
                    texture: np.ndarray | None) -> np.ndarray:
    """Fraction of the myocardium in each pixel that belongs to any lesion, (T, H, W)."""
    out = np.zeros_like(t.lv_myo)
    px = plane.pixel_mm
    depth = plane.rho - t.endo
    wall = np.maximum(t.epi - t.endo, 1e-3)
    for lesion in lesions:
        angular = site_table(lesion)[t.level, plane.deg]
        radial = _radial(depth, wall, *lesion.band, px)
        if lesion.patchy and texture is not None:
            # blotchy, but confluent in a compact focus at the centre of each named wall,
            # so that a thin layer shows in every site its label names whatever the
            # blotches' draw (docs/phantom.md, "Every named site shows its lesion")
            focus = (_radial(depth, wall, *_focus_band(lesion.band, wall), px)
                     * patchy_focus(lesion, plane, t))
            part = angular * np.maximum(radial * texture[None], focus)
        else:
            part = angular * radial
        out = np.maximum(out, part)
    return out.astype(np.float32)
