"""The body around the phantom heart: pose, field of view, thorax tissues and affines.

Patient coordinates are RAS+ in mm (docs/geometry.md) with the origin at the centre of the
LV base plane. The heart frame has the unit long axis ``a`` (base to apex), ``sep`` (90 degrees: the
nominal septal direction of docs/geometry.md projected on the short-axis plane, image
left) and ``ant = sep x a`` (0 degrees, the anterior wall, image up), so the short-axis
display has a right-handed affine. Every image plane maps its
pixels to patient coordinates; the thorax (body wall, subcutaneous fat, chest-wall
muscle, lungs, mediastinal fat, spine, descending aorta, liver and stomach below the
diaphragm, atria and great vessels above the base) is a set of soft-edged solids there, so
every plane cuts one consistent body.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from cardiolens.data.orientation import sax_display_axes
from cardiolens.phantom.params import Scan, StudyParams

Rng = np.random.Generator
THORAX_CLASSES = ("air", "fat", "muscle", "lung", "liver", "stomach", "marrow", "csf",
                  "blood", "atrial_wall")


def _uniform(rng: Rng, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def draw_scan(rng: Rng, p: StudyParams) -> tuple[Scan, float, tuple[float, float], float]:
    """Draw the body, pose, field of view and sequence settings of one study.

    Returns the scan, the pixel size (mm), the heart centre (row, col) and the in-plane
    rotation (degrees) that replace the study's acquisition fields.
    """
    size = _uniform(rng, 0.0, 1.0)                   # body habitus, 0 slim .. 1 large
    half_x = 140.0 + 50.0 * size + _uniform(rng, -8, 8)
    half_y = 95.0 + 40.0 * size + _uniform(rng, -6, 6)
    fov = float(np.clip(2.0 * half_x * _uniform(rng, 0.95, 1.1), 300.0, 400.0))
    pixel = _uniform(rng, 1.4, 1.9)
    cols = round(fov / pixel / 2.0) * 2
    rows = round(cols * _uniform(rng, 0.75, 0.85) / 2.0) * 2
    centre = (rows / 2 + _uniform(rng, -0.06, 0.06) * rows,
              cols / 2 + _uniform(rng, -0.06, 0.06) * cols)
    rotation = _uniform(rng, -15.0, 15.0)
    # long axis: (-0.6, 0.5, -0.6) normalised, tilted by up to ~12 degrees
    axis = np.array([-0.6, 0.5, -0.6]) + rng.normal(0.0, 0.12, 3)
    axis /= np.linalg.norm(axis)
    body = (_uniform(rng, 25.0, 45.0), -_uniform(rng, 25.0, 45.0))
    roll = rng.random()
    ti = (_uniform(rng, 0.97, 1.03) if roll < 0.6 else
          _uniform(rng, 0.82, 0.9) if roll < 0.8 else _uniform(rng, 1.1, 1.25))
    blood = _uniform(rng, 270.0, 340.0)
    t1 = (blood, blood * _uniform(rng, 1.45, 1.65), blood * _uniform(rng, 0.78, 0.9))
    if p.diagnosis == "amyloidosis":   # myocardium nulls with or before the blood
        ti = _uniform(rng, 0.9, 1.05)
        t1 = (blood, blood * _uniform(rng, 0.85, 0.95), blood * _uniform(rng, 0.68, 0.76))
    shifts = tuple((float(rng.normal(0.0, 1.0)), float(rng.normal(0.0, 1.0)))
                   for _ in range(p.acq.n_slices))
    scan = Scan(
        rows=rows, cols=cols, body_centre=body, body_half=(half_x, half_y),
        fat_mm=6.0 + 22.0 * size + _uniform(rng, -3, 3),
        muscle_mm=_uniform(rng, 8.0, 16.0),
        epi_fat_mm=_uniform(rng, 2.0, 7.0),
        apex=(float(axis[0]), float(axis[1]), float(axis[2])),
        diaphragm_z=_uniform(rng, -32.0, -18.0),
        slice_shift=tuple((s[0] / pixel * 1.5, s[1] / pixel * 1.5) for s in shifts),
        lge_ti=ti, t1_post=t1, snr=_uniform(rng, 22.0, 35.0),
        coil=(_uniform(rng, 0.3, 0.8), _uniform(rng, 60.0, 100.0)),
        kspace=_uniform(rng, 0.8, 0.92), perf_kspace=_uniform(rng, 0.6, 0.7),
    )
    return scan, pixel, centre, rotation


def with_scan(p: StudyParams, rng: Rng) -> StudyParams:
    """``p`` with its scan drawn and the acquisition's matrix, pixel, pose replaced."""
    scan, pixel, centre, rotation = draw_scan(rng, p)
    acq = replace(p.acq, matrix=scan.cols, pixel_mm=pixel, centre=centre, rotation=rotation)
    return replace(p, acq=acq, scan=scan)


@dataclass(frozen=True)
class HeartFrame:
    """Unit vectors of the heart frame in patient coordinates."""

    a: np.ndarray
    ant: np.ndarray
    sep: np.ndarray

    @classmethod
    def of(cls, scan: Scan) -> HeartFrame:
        """The display frame of docs/geometry.md for this study's long axis: the nominal
        septal direction projected on the short-axis plane is 90 degrees (image left),
        0 degrees (image up, the anterior wall) is ``left x apex``."""
        a, left, up = sax_display_axes(np.asarray(scan.apex, np.float64))
        return cls(a, up, left)

    def direction(self, phi_deg: float) -> np.ndarray:
        """In-plane unit vector at anatomical angle ``phi_deg``."""
        t = np.radians(phi_deg)
        return np.cos(t) * self.ant + np.sin(t) * self.sep


@dataclass(frozen=True)
class PlaneMap:
    """Pixel (row, col) to patient coordinates: ``origin + row * d_row + col * d_col``."""

    origin: np.ndarray
    d_row: np.ndarray
    d_col: np.ndarray

    def points(self, rows: int, cols: int) -> np.ndarray:
        r = np.arange(rows, dtype=np.float32)[:, None, None]
        c = np.arange(cols, dtype=np.float32)[None, :, None]
        return (self.origin.astype(np.float32) + r * self.d_row.astype(np.float32)
                + c * self.d_col.astype(np.float32))


def sax_map(frame: HeartFrame, u: float, pixel: float, centre: tuple[float, float],
            rotation: float) -> PlaneMap:
    """Short-axis plane at distance ``u`` from the base; anterior wall up, septum left."""
    up, left = frame.direction(-rotation), frame.direction(90.0 - rotation)
    d_row, d_col = -pixel * up, -pixel * left
    origin = u * frame.a - centre[0] * d_row - centre[1] * d_col
    return PlaneMap(origin, d_row, d_col)


def lax_map(frame: HeartFrame, psi: float, pixel: float, centre_col: float, base_row: float,
            tilt: float) -> PlaneMap:
    """Long-axis plane through the LV axis, apex up, anatomical angle ``psi`` on the right.

    Matches :func:`cardiolens.phantom.geometry.lax_plane`: in-plane (x, u) rotated by ``tilt``.
    """
    t = np.radians(tilt)
    right = frame.direction(psi)

    def at(row: float, col: float) -> np.ndarray:
        x, y = (col - centre_col) * pixel, (base_row - row) * pixel
        x, y = x * np.cos(t) - y * np.sin(t), x * np.sin(t) + y * np.cos(t)
        return y * frame.a + x * right

    origin = at(0.0, 0.0)
    return PlaneMap(origin, at(1.0, 0.0) - origin, at(0.0, 1.0) - origin)


def affine(plane: PlaneMap, slice_step: np.ndarray) -> np.ndarray:
    """4x4 NIfTI affine: array axes (row, col, slice) to RAS+ mm."""
    out = np.eye(4)
    out[:3, 0], out[:3, 1], out[:3, 2], out[:3, 3] = (plane.d_row, plane.d_col, slice_step,
                                                     plane.origin)
    return out


def _soft(distance: np.ndarray, pixel: float) -> np.ndarray:
    """Inside fraction from a signed distance in mm (positive inside)."""
    return np.clip(distance / pixel + 0.5, 0.0, 1.0).astype(np.float32)


def _ellipse_depth(dx: np.ndarray, dy: np.ndarray, rx: float, ry: float) -> np.ndarray:
    """Approximate signed distance (mm) inside an axis-aligned ellipse."""
    return (1.0 - np.sqrt((dx / rx) ** 2 + (dy / ry) ** 2)) * min(rx, ry)


def _ellipsoid_depth(q: np.ndarray, radii: tuple[float, float, float]) -> np.ndarray:
    d = np.sqrt(sum((q[..., i] / radii[i]) ** 2 for i in range(3)))
    return (1.0 - d) * min(radii)


class Painter:
    """Class fractions painted in order; each solid replaces what lies under it."""

    def __init__(self, shape: tuple[int, int]) -> None:
        self.parts = {name: np.zeros(shape, np.float32) for name in THORAX_CLASSES}
        self.parts["air"][:] = 1.0

    def paint(self, name: str, inside: np.ndarray) -> None:
        keep = 1.0 - inside
        for part in self.parts.values():
            part *= keep
        self.parts[name] += inside


def thorax(scan: Scan, frame: HeartFrame, plane: PlaneMap, pixel: float, r_endo: float,
           texture: np.ndarray) -> dict[str, np.ndarray]:
    """Thorax class fractions (each (rows, cols)) of one plane; they sum to one.

    ``texture`` is a unit-variance smooth field of the plane (lung vessels, liver grain).
    """
    pts = plane.points(scan.rows, scan.cols)
    x, y, z = pts[..., 0], pts[..., 1], pts[..., 2]
    bx, by = scan.body_centre
    hx, hy = scan.body_half
    dx, dy = x - bx, y - by
    p = Painter(x.shape)
    p.paint("fat", _soft(_ellipse_depth(dx, dy, hx, hy), pixel))
    wall = scan.fat_mm
    p.paint("muscle", _soft(_ellipse_depth(dx, dy, hx - wall, hy - wall), pixel))
    inner = wall + scan.muscle_mm
    cavity = _soft(_ellipse_depth(dx, dy - 0.1 * hy, hx - inner, hy - inner - 0.1 * hy), pixel)
    spine_y = by - hy + inner + 52.0
    diaphragm = scan.diaphragm_z - np.where(dx > -20.0, 0.0, 12.0) - (dx**2 + dy**2) / 520.0
    above = _soft(z - diaphragm, pixel)
    p.paint("lung", cavity * above)
    # mediastinum: fat from the sternum to the spine, and around the heart
    p.paint("fat", cavity * above * _soft(18.0 - np.abs(dx + 8.0), pixel)
            * _soft(y - spine_y + 10.0, pixel))
    q = pts - (0.45 * 85.0) * frame.a
    local = np.stack([q @ frame.a, q @ frame.ant, q @ frame.sep], axis=-1)
    sac = _ellipsoid_depth(local, (62.0, 1.25 * r_endo + 8.0, 1.5 * r_endo + 8.0))
    p.paint("fat", _soft(sac, pixel) * above)
    # below the diaphragm: liver (right and centre) and stomach (left)
    below = (1.0 - above) * _soft(_ellipse_depth(dx, dy, hx - inner, hy - inner), pixel)
    p.paint("liver", below)
    stomach = _ellipsoid_depth(np.stack([dx + 85.0, dy - 10.0, z - diaphragm + 60.0], -1),
                               (40.0, 32.0, 35.0))
    p.paint("stomach", below * _soft(stomach, pixel))
    # spine, spinal canal, paraspinal muscle and the descending aorta
    p.paint("muscle", _soft(_ellipse_depth(dx, y - spine_y + 8.0, 50.0, 38.0), pixel))
    p.paint("marrow", _soft(17.0 - np.hypot(dx, y - spine_y), pixel))
    p.paint("csf", _soft(7.0 - np.hypot(dx, y - spine_y + 27.0), pixel))
    aorta = _soft(12.0 - np.hypot(dx + 24.0, y - spine_y - 12.0), pixel) * _soft(z + 120.0,
                                                                              pixel)
    p.paint("blood", aorta)
    # above the base: atria, aortic root and pulmonary trunk (walls first, then blood)
    for centre, radii, name in _base_vessels(frame, r_endo):
        q = pts - centre
        local = np.stack([q @ frame.a, q @ frame.ant, q @ frame.sep], axis=-1)
        depth = _ellipsoid_depth(local, radii)
        p.paint("atrial_wall", _soft(depth + 2.5, pixel))
        p.paint(name, _soft(depth, pixel))
    # lung vessels: small bright branches
    vessels = np.clip((texture - 2.4) * 1.5, 0.0, 0.8).astype(np.float32)
    p.parts["blood"] += p.parts["lung"] * vessels
    p.parts["lung"] *= 1.0 - vessels
    return p.parts


def _base_vessels(frame: HeartFrame, r: float) -> list[tuple[np.ndarray, tuple[float, float,
                                                                               float], str]]:
    """(centre, radii along (a, ant, sep), class) of the chambers above the LV base."""
    return [
        (-22.0 * frame.a + 0.8 * r * frame.direction(215.0), (20.0, 22.0, 26.0), "blood"),
        (-16.0 * frame.a + 1.6 * r * frame.direction(125.0), (22.0, 24.0, 20.0), "blood"),
        (-18.0 * frame.a + 0.45 * r * frame.direction(45.0), (24.0, 12.0, 12.0), "blood"),
        (-20.0 * frame.a + 1.7 * r * frame.direction(10.0), (22.0, 11.0, 11.0), "blood"),
    ]
