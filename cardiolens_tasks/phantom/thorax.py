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
                  "blood", "atrial_wall", "bone")
RIB_PITCH_MM = 26.0
"""Rib spacing along the body axis (rib about 12 mm tall, intercostal space the rest)."""


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
    rows = round(cols * _uniform(rng, 0.75, 1.0) / 2.0) * 2
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
        fat_mm=3.0 + 14.0 * size + _uniform(rng, -2, 2),
        muscle_mm=_uniform(rng, 8.0, 16.0),
        epi_fat_mm=_uniform(rng, 2.0, 7.0),
        apex=(float(axis[0]), float(axis[1]), float(axis[2])),
        diaphragm_z=_uniform(rng, -32.0, -18.0),
        slice_shift=tuple((s[0] / pixel * 1.5, s[1] / pixel * 1.5) for s in shifts),
        lge_ti=ti, t1_post=t1, snr=_uniform(rng, 22.0, 35.0),
        coil=(_uniform(rng, 0.5, 2.0), _uniform(rng, 12.0, 22.0), _uniform(rng, 0.0, 0.6),
              _uniform(rng, 0.25, 0.55)),
        kspace=_uniform(rng, 0.62, 0.8), perf_kspace=_uniform(rng, 0.6, 0.7),
    )
    return _behind_chest_wall(scan, p, _uniform(rng, 3.0, 12.0)), pixel, centre, rotation


def _behind_chest_wall(scan: Scan, p: StudyParams, gap: float) -> Scan:
    """``scan`` with the body moved forward (anterior) until the whole heart, RV and
    epicardial fat included, lies at least ``gap`` mm behind the chest-wall muscle."""
    h = p.heart
    frame = HeartFrame.of(scan)
    thick = max(max(row) for row in h.thickness)
    length = h.long_axis + thick
    angles = np.radians(np.arange(0.0, 360.0, 10.0))
    rv = np.array([h.rv_depth + 3.0 if h.rv_arc[0] <= a <= h.rv_arc[1] else 0.0
                   for a in np.degrees(angles)])
    u = np.linspace(0.0, length, 16)[:, None]
    radius = (h.r_endo + thick + h.effusion + 2.0 * scan.epi_fat_mm + rv[None]) * np.sqrt(
        np.clip(1.0 - (u / length) ** 2, 0.0, None))
    pts = (u[..., None] * frame.a + radius[..., None]
           * (np.cos(angles)[None, :, None] * frame.ant + np.sin(angles)[None, :, None]
              * frame.sep))
    bx, by = scan.body_centre
    hx, hy = scan.body_half
    dx, dy = pts[..., 0] - bx, pts[..., 1] - by
    front = hy * np.sqrt(np.clip(1.0 - (dx / hx) ** 2, 0.0, None)) - dy
    deficit = float(np.max(scan.fat_mm + scan.muscle_mm + gap - front))
    return replace(scan, body_centre=(bx, by + max(deficit, 0.0)))


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

    def crop(self, box: tuple[slice, slice]) -> PlaneMap:
        """The map of the pixels in ``box`` (rows, cols), indexed from the box's corner."""
        r0, c0 = box[0].start or 0, box[1].start or 0
        return PlaneMap(self.origin + r0 * self.d_row + c0 * self.d_col, self.d_row,
                        self.d_col)

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
    out = distance / pixel
    out += 0.5                      # in place: the same values, no further array
    np.clip(out, 0.0, 1.0, out=out)
    return out.astype(np.float32, copy=False)


def _ellipse_depth(dx: np.ndarray, dy: np.ndarray, rx: float, ry: float) -> np.ndarray:
    """Approximate signed distance (mm) inside an axis-aligned ellipse."""
    return (1.0 - np.sqrt((dx / rx) ** 2 + (dy / ry) ** 2)) * min(rx, ry)


def _ellipsoid_depth(q: list[np.ndarray], radii: tuple[float, float, float]) -> np.ndarray:
    """Approximate signed distance (mm) inside an axis-aligned ellipsoid of the three
    coordinate arrays ``q`` (offsets from its centre along its axes)."""
    d = np.sqrt(sum((q[i] / radii[i]) ** 2 for i in range(3)))
    return (1.0 - d) * min(radii)


class Painter:
    """Class fractions painted in order; each solid replaces what lies under it."""

    def __init__(self, shape: tuple[int, int]) -> None:
        self.parts = {name: np.zeros(shape, np.float32) for name in THORAX_CLASSES}
        self.parts["air"][:] = 1.0

    def paint(self, name: str, inside: np.ndarray) -> None:
        box = nonzero_box(inside)      # only where the solid is: most are small
        if box is None:
            return
        inside = inside[box]
        keep = 1.0 - inside
        for part in self.parts.values():
            part[box] *= keep
        self.parts[name][box] += inside


def nonzero_box(values: np.ndarray) -> tuple[slice, slice] | None:
    """The smallest (rows, cols) box holding every nonzero pixel of ``values``, or None."""
    rows = np.flatnonzero(values.any(axis=1))
    if not rows.size:
        return None
    cols = np.flatnonzero(values.any(axis=0))
    return slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1)


def body_waves(rng: Rng, fields: int = 5, waves: int = 8,
               wavelength: tuple[float, float] = (40.0, 160.0)) -> np.ndarray:
    """Random plane waves (fields, waves, 5: k_x, k_y, k_z, phase, unused) of smooth fields
    in patient coordinates, wavelengths 40-160 mm by default, for :func:`wave_field`."""
    direction = rng.normal(size=(fields, waves, 3))
    direction /= np.linalg.norm(direction, axis=-1, keepdims=True)
    k = direction * (2.0 * np.pi / rng.uniform(*wavelength, (fields, waves, 1)))
    phase = rng.uniform(0.0, 2.0 * np.pi, (fields, waves, 1))
    return np.concatenate([k, phase, np.zeros((fields, waves, 1))], axis=-1)


def wave_field(pts: np.ndarray, waves: np.ndarray) -> np.ndarray:
    """Unit-variance smooth field of patient points (..., 3): a sum of plane waves, so every
    plane that cuts the body sees the same field."""
    out = np.zeros(pts.shape[:-1], np.float32)
    for kx, ky, kz, phase, _ in waves.astype(np.float32):
        out += np.cos(pts[..., 0] * kx + pts[..., 1] * ky + pts[..., 2] * kz + phase)
    return out * np.float32(np.sqrt(2.0 / len(waves)))


def plane_wave_field(plane: PlaneMap, rows: int, cols: int, waves: np.ndarray) -> np.ndarray:
    """:func:`wave_field` of every pixel of a plane, fast: a plane wave's phase is linear in
    row and column, so ``cos(a + b) = cos a cos b - sin a sin b`` makes each wave a sum of
    two outer products, and all waves together one matrix product."""
    k = waves[:, :3]
    row_phase = np.outer(k @ plane.d_row, np.arange(rows)) + (k @ plane.origin + waves[:, 3])[:,
                                                                                            None]
    col_phase = np.outer(k @ plane.d_col, np.arange(cols))
    by_row = np.concatenate([np.cos(row_phase), -np.sin(row_phase)]).astype(np.float32)
    by_col = np.concatenate([np.cos(col_phase), np.sin(col_phase)]).astype(np.float32)
    by_row *= np.float32(np.sqrt(2.0 / len(waves)))
    # einsum's own loop: a BLAS product this small would start threads that contend
    # with the cohort's worker processes
    return np.einsum("wr,wc->rc", by_row, by_col)


def _surface(scan: Scan, plane: PlaneMap, pts: np.ndarray, waves: np.ndarray | None,
             fine: np.ndarray | None = None
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]]:
    """Lateral and anterior offsets from the body axis, the body's depth below the skin
    (mm, lobulated) and the outline fields of the plane (zero without ``waves``). ``fine``
    waves (short wavelengths) roughen the skin and the subcutaneous fat's thickness."""
    bx, by = scan.body_centre
    hx, hy = scan.body_half
    dx, dy = pts[..., 0] - bx, pts[..., 1] - by
    fields: list[np.ndarray] = ([plane_wave_field(plane, scan.rows, scan.cols, w)
                                 for w in waves[:4]] if waves is not None
                                else [np.zeros(dx.shape, np.float32)] * 4)
    if fine is not None:        # skin folds and fat lobules of 12-40 mm
        rough = [plane_wave_field(plane, scan.rows, scan.cols, w) for w in fine[:2]]
        fields[0] = fields[0] + 0.25 * rough[0]
        fields[1] = fields[1] + 0.5 * rough[1]
    # the patient lies on the table: the back is flattened
    depth = np.minimum(_ellipse_depth(dx, dy, hx, hy), dy + 0.9 * hy) + 5.0 * fields[0]
    return dx, dy, depth, fields


def coil_sensitivity(scan: Scan, plane: PlaneMap, heart: np.ndarray,
                     waves: np.ndarray | None = None) -> np.ndarray:
    """Receive sensitivity of an anterior and a posterior phased array after the scanner's
    intensity normalisation, 1 at the heart centre ``heart`` (3,).

    The arrays lie on the skin of the chest and back over the middle 60% of the body's
    width (the flanks are farther from them). A loop of radius ``a`` sees tissue at
    distance ``d`` with ``(a^2 / (a^2 + d^2))^1.5`` (Biot-Savart on its axis); its elements
    differ in gain across the chest. What survives normalisation is an excess near the
    skin (anterior strongest) over a slow fall-off with depth from the chest, and a few
    percent of smooth B1 ripple.
    """
    excess, loop, posterior, falloff = scan.coil
    bx, by = scan.body_centre
    hx, hy = scan.body_half

    def field(p: np.ndarray, ripple: np.ndarray | float) -> np.ndarray:
        dx, dy = p[..., 0] - bx, p[..., 1] - by
        half_depth = hy * np.sqrt(np.clip(1.0 - (dx / hx) ** 2, 0.0, None))
        front = np.clip(half_depth - dy, 0.0, None)         # below the anterior skin
        back = np.clip(dy + half_depth, 0.0, None)          # above the posterior skin
        beyond = np.clip(np.abs(dx) - 0.6 * hx, 0.0, None) ** 2   # past the arrays' sides
        elements = 1.0 + 0.35 * np.cos(2.0 * np.pi * dx / (0.9 * hx) + 3.0 * excess)
        near = ((loop**2 / (loop**2 + front**2 + beyond)) ** 1.5
                + posterior * (loop**2 / (loop**2 + back**2 + beyond)) ** 1.5)
        slow = np.exp(-front * (falloff / 100.0))
        return (slow * (1.0 + excess * elements * near) * ripple).astype(np.float32)

    ripple: np.ndarray | float = 1.0
    at_heart = 1.0
    if waves is not None:
        ripple = 1.0 + 0.05 * plane_wave_field(plane, scan.rows, scan.cols, waves[4])
        at_heart = 1.0 + 0.05 * float(wave_field(heart.reshape(1, 3), waves[4])[0])
    pts = plane.points(scan.rows, scan.cols)
    return field(pts, ripple) / field(heart.reshape(1, 3), at_heart)[0]


@dataclass(frozen=True)
class Structures:
    """Seeded 3D fields (plane waves, :func:`body_waves` rows) of the small oriented
    anatomy of one study: bowel loops, the liver's and the lungs' vessel trees, and the
    ribs' phase. Tubes are where two independent fields are both near zero (the
    intersection of two level surfaces is a curve in 3D), so every plane cuts the same
    vessels: across as ovals, along as bands."""

    bowel: np.ndarray        # (2, waves, 5): loop surfaces, content mixture
    liver: np.ndarray        # (2, waves, 5): hepatic and portal veins
    lung: np.ndarray         # (2, waves, 5): pulmonary vessels
    rib_phase: float


def draw_structures(rng: Rng) -> Structures:
    """The study's :class:`Structures` (wavelengths from the organs' scale: bowel loops
    of 25-40 mm diameter, vessels curving over 50-120 mm)."""
    return Structures(bowel=body_waves(rng, 2, 10, (25.0, 55.0)),
                      liver=body_waves(rng, 2, 8, (60.0, 140.0)),
                      lung=body_waves(rng, 2, 8, (50.0, 120.0)),
                      rib_phase=float(rng.uniform(0.0, 1.0)))


def _in_plane_gradient(waves: np.ndarray) -> float:
    """RMS in-plane gradient (per mm) of a :func:`wave_field`: sqrt(2/3 mean |k|^2)."""
    return float(np.sqrt(2.0 / 3.0 * np.mean(np.sum(waves[:, :3] ** 2, axis=-1))))


def _tube_distance(plane: PlaneMap, rows: int, cols: int, waves: np.ndarray) -> np.ndarray:
    """Approximate distance (mm) of each pixel from the curves where both fields of
    ``waves`` (2, n, 5) vanish: the centre lines of a tree of tubes."""
    d = [plane_wave_field(plane, rows, cols, w) / np.float32(_in_plane_gradient(w))
         for w in waves[:2]]
    return np.sqrt(d[0] ** 2 + d[1] ** 2)


def _ribs(p: Painter, scan: Scan, ribs: Structures, z: np.ndarray, dx: np.ndarray,
          dy: np.ndarray, depth: np.ndarray, wall: np.ndarray, pixel: float) -> None:
    """Ribs in the inner chest wall: cortical bone (dark on every sequence) around fatty
    marrow, 12 mm tall and 8 mm thick, one every :data:`RIB_PITCH_MM` along the body axis
    and sloping down towards the front; anteriorly (the costal cartilages, near the
    sternum) hyaline cartilage with muscle-like signal and no marrow. Intercostal muscle
    fills the spaces between them; a fascial fat plane separates the chest-wall muscles
    from the rib layer."""
    hx, hy = scan.body_half
    # deep fascia between the pectoral/latissimus layer and the ribs (oriented fat line)
    fascia = wall + 0.4 * scan.muscle_mm
    plane = np.clip(1.0 - np.abs(depth - fascia) / 0.8, 0.0, 0.7) * p.parts["muscle"]
    p.parts["fat"] += plane
    p.parts["muscle"] -= plane
    centre = wall + scan.muscle_mm + 1.0           # ribs sit on the pleura
    phase = (z + 0.45 * dy) / RIB_PITCH_MM + ribs.rib_phase
    dz = (phase - np.round(phase)) * RIB_PITCH_MM
    e = np.sqrt((dz / 6.0) ** 2 + ((depth - centre) / 4.0) ** 2)
    dist = (1.0 - e) * 4.0
    near_back = _soft(np.abs(dx) - 30.0, pixel)    # the spine takes the middle of the back
    front = np.clip((dy / hy - 0.55) / 0.25, 0.0, 1.0) * np.clip(1.0 - np.abs(dx) / (0.45 * hx),
                                                                0.0, 1.0)
    rib = _soft(dist, pixel) * near_back
    p.paint("bone", rib * (1.0 - front))
    p.paint("muscle", rib * front)                  # costal cartilage
    p.paint("marrow", _soft(dist - 1.5, pixel) * near_back * (1.0 - front))


def _abdomen(p: Painter, s: Structures, plane: PlaneMap, rows: int, cols: int,
             below: np.ndarray, dx: np.ndarray, dy: np.ndarray, z: np.ndarray,
             diaphragm: np.ndarray, lobes: np.ndarray, pixel: float) -> None:
    """Below the diaphragm left of the liver: small bowel and colon loops (walls of
    muscle-like signal around fluid or chyme) in mesenteric fat. The loop surfaces are the
    level sets of a 3D field, so neighbouring planes cut the same loops."""
    liver_edge = (-20.0 - 0.35 * np.clip(dy, 0.0, None)
                  + 0.5 * np.clip(z - diaphragm + 40.0, None, 0.0) + 12.0 * lobes)
    gut = below * _soft(liver_edge - dx, pixel) * _soft(diaphragm - 25.0 - z, pixel)
    if not gut.any():
        return
    p.paint("fat", gut)
    f = plane_wave_field(plane, rows, cols, s.bowel[0]) / np.float32(
        _in_plane_gradient(s.bowel[0]))
    mix = plane_wave_field(plane, rows, cols, s.bowel[1])
    depth = f - 2.0                               # mm inside a loop
    p.paint("muscle", gut * _soft(depth, pixel))
    content = gut * _soft(depth - 2.5, pixel)
    p.paint("stomach", content)
    chyme = content * np.clip(0.65 - 0.35 * mix, 0.0, 1.0)   # semi-solid and fluid contents
    p.parts["liver"] += chyme
    p.parts["stomach"] -= chyme


def thorax(scan: Scan, frame: HeartFrame, plane: PlaneMap, pixel: float, r_endo: float,
           texture: np.ndarray, waves: np.ndarray | None = None,
           vessels: np.ndarray | None = None, fine: np.ndarray | None = None,
           hepatic: np.ndarray | None = None,
           structures: Structures | None = None) -> dict[str, np.ndarray]:
    """Thorax class fractions (each (rows, cols)) of one plane; they sum to one.

    ``texture`` is a unit-variance smooth field of the plane (lung vessel dots, liver
    grain); ``vessels`` another (curvilinear vessels: its zero crossings; its other level
    lines draw fibrous septa in the subcutaneous fat and fat planes between muscles);
    ``hepatic`` a coarser one whose peaks are the hepatic and portal veins and whose high
    level lines are fibrous septa in the fat; ``waves``
    (:func:`body_waves`) lobulate the outlines of the body, its fat, the lungs and the
    diaphragm consistently across planes, ``fine`` waves roughen the skin and fat.
    """
    pts = plane.points(scan.rows, scan.cols)
    z = pts[..., 2]
    dx, dy, body, (_, f_fat, f_lung, f_dia) = _surface(scan, plane, pts, waves, fine)
    hx, hy = scan.body_half
    y = dy + scan.body_centre[1]
    p = Painter(dx.shape)
    p.paint("fat", _soft(body, pixel))
    wall = scan.fat_mm * np.clip(1.0 + 0.35 * f_fat, 0.4, None)
    p.paint("muscle", _soft(body - wall, pixel))
    inner = scan.fat_mm + scan.muscle_mm
    cavity = _soft(_ellipse_depth(dx, dy - 0.1 * hy, hx - inner, hy - inner - 0.1 * hy)
                   + 6.0 * f_lung, pixel)
    spine_y = scan.body_centre[1] - hy + inner + 52.0
    drop = np.where(dx > -20.0, np.float32(0.0), np.float32(12.0))   # float32, as dx is
    diaphragm = scan.diaphragm_z - drop - (dx**2 + dy**2) / 520.0 + 6.0 * f_dia
    above = _soft(z - diaphragm, pixel)
    p.paint("lung", cavity * above)
    if structures is not None:
        _ribs(p, scan, structures, z, dx, dy, body, wall, pixel)
    # mediastinum: fat from the sternum to the spine, and around the heart
    p.paint("fat", cavity * above * _soft(18.0 - np.abs(dx + 8.0) + 4.0 * f_lung, pixel)
            * _soft(y - spine_y + 10.0, pixel))
    axes = np.stack([frame.a, frame.ant, frame.sep], axis=1).astype(np.float32)
    heart_pts = pts @ axes           # (a, ant, sep) coordinates, once for every solid below
    along = [heart_pts[..., i] for i in range(3)]       # each solid takes its own offsets

    def local(centre: np.ndarray) -> list[np.ndarray]:
        offset = (centre @ axes).astype(np.float32)
        return [along[i] - offset[i] for i in range(3)]

    sac = _ellipsoid_depth(local((0.45 * 85.0) * frame.a),
                           (62.0, 1.25 * r_endo + 8.0, 1.5 * r_endo + 8.0))
    p.paint("fat", _soft(sac + 3.0 * f_fat, pixel) * above)
    # below the diaphragm: liver (right and centre) and stomach (left)
    below = (1.0 - above) * _soft(_ellipse_depth(dx, dy, hx - inner, hy - inner)
                                  + 6.0 * f_lung, pixel)
    p.paint("liver", below)
    offsets = [dx + 85.0, dy - 10.0, z - diaphragm + 60.0]
    common = np.result_type(*offsets)       # float32 (the diaphragm's drop was float64)
    stomach = _ellipsoid_depth([q.astype(common, copy=False) for q in offsets],
                               (40.0, 32.0, 35.0))
    if structures is not None:
        _abdomen(p, structures, plane, scan.rows, scan.cols, below, dx, dy, z, diaphragm,
                 f_dia, pixel)
        p.paint("muscle", below * _soft(stomach + 5.0 * f_dia, pixel))    # gastric wall
        p.paint("stomach", below * _soft(stomach + 5.0 * f_dia - 4.0, pixel))
    else:
        p.paint("stomach", below * _soft(stomach + 5.0 * f_dia, pixel))
    # spine, spinal canal, paraspinal muscle and the descending aorta
    p.paint("muscle", _soft(_ellipse_depth(dx, y - spine_y + 8.0, 50.0, 38.0), pixel))
    p.paint("marrow", _soft(17.0 - np.hypot(dx, y - spine_y), pixel))
    p.paint("csf", _soft(7.0 - np.hypot(dx, y - spine_y + 27.0), pixel))
    aorta = _soft(12.0 - np.hypot(dx + 24.0, y - spine_y - 12.0), pixel) * _soft(z + 120.0,
                                                                              pixel)
    p.paint("blood", aorta)
    # vessels along the body: internal mammary pair behind the sternum, azygos, oesophagus,
    # and the inferior vena cava below the heart
    sternum_y = scan.body_centre[1] + hy - inner
    small = np.maximum(_soft(2.5 - np.hypot(np.abs(dx) - 28.0, y - sternum_y + 4.0), pixel),
                       _soft(4.0 - np.hypot(dx - 10.0, y - spine_y - 20.0), pixel))
    ivc = (_soft(12.0 - np.hypot(dx - 22.0, y - spine_y - 40.0), pixel)
           * _soft(-5.0 - z, pixel) * _soft(z + 110.0, pixel))
    p.paint("muscle", _soft(7.0 - np.hypot(dx + 8.0, y - spine_y - 30.0), pixel))
    p.paint("blood", np.maximum(small * (1.0 - p.parts["air"]), ivc))
    # above the base: atria, aortic root and pulmonary trunk (walls first, then blood)
    for centre, radii, name in _base_vessels(frame, r_endo):
        depth = _ellipsoid_depth(local(centre), radii)
        p.paint("atrial_wall", _soft(depth + 2.5, pixel))
        p.paint(name, _soft(depth, pixel))
    # lung vessels: a few bright dots (vessels cut across) and short branches along the
    # zero lines of a smooth field where a second field is high (vessels run in bundles)
    dots = np.clip((texture - 2.4) * 1.5, 0.0, 0.8)
    if vessels is not None:
        lines = np.clip(1.0 - np.abs(vessels) / 0.1, 0.0, 1.0) * np.clip(texture - 0.6, 0, 1)
        dots = np.maximum(dots, 0.6 * lines)
    dots = dots.astype(np.float32)
    share = dots * p.parts["lung"]
    p.parts["blood"] += share
    p.parts["lung"] -= share
    if structures is not None:
        _vessel_trees(p, structures, plane, scan, frame, pts, dx, y, spine_y, pixel)
    if hepatic is not None and structures is None:   # hepatic and portal veins, 4-12 mm
        veins = np.clip((hepatic - 1.7) * 2.0, 0.0, 0.9).astype(np.float32) * p.parts["liver"]
        p.parts["blood"] += veins
        p.parts["liver"] -= veins
    if vessels is not None:
        # fat planes between the muscles of the chest wall and back
        planes = np.clip(1.0 - np.abs(vessels - 1.0) / 0.15, 0.0, 0.7) * p.parts["muscle"]
        p.parts["fat"] += planes
        p.parts["muscle"] -= planes
    if hepatic is not None:     # a few thin fibrous septa (short T2, dark) through the fat
        septa = np.clip(1.0 - np.abs(hepatic - 1.5) / 0.06, 0.0, 0.6) * p.parts["fat"]
        p.parts["muscle"] += septa
        p.parts["fat"] -= septa
    return p.parts


def _vessel_trees(p: Painter, s: Structures, plane: PlaneMap, scan: Scan,
                  frame: HeartFrame, pts: np.ndarray, dx: np.ndarray, y: np.ndarray,
                  spine_y: float, pixel: float) -> None:
    """Hepatic and portal veins in the liver (3-7 mm in radius, widest near the porta
    hepatis) and pulmonary arteries and veins in the lungs (from about 6 mm in radius at
    the hila, above the base of the heart on both sides of the mediastinum, to below the
    voxel in the periphery, where they fade into the parenchyma's grey)."""
    box = nonzero_box(p.parts["liver"])      # each tree is drawn only inside its organ
    if box is not None:
        liver, sub = p.parts["liver"][box], plane.crop(box)
        radius = 3.0 + 4.0 * np.clip(1.0 - np.hypot(dx[box] - 40.0, pts[box][..., 2]
                                                    - scan.diaphragm_z + 60.0) / 120.0,
                                     0.0, 1.0)
        tubes = _tube_distance(sub, liver.shape[0], liver.shape[1], s.liver)
        veins = _soft(radius - tubes, pixel) * liver
        p.parts["blood"][box] += veins
        p.parts["liver"][box] -= veins
    box = nonzero_box(p.parts["lung"])
    if box is not None:
        lung, sub = p.parts["lung"][box], plane.crop(box)
        base_z = pts[box][..., 2] - (-15.0 * frame.a[2])
        right, back = dx[box], y[box] - spine_y - 30.0
        hilum = np.minimum(np.hypot(np.hypot(right - 50.0, back), base_z),
                           np.hypot(np.hypot(right + 45.0, back), base_z))
        radius = 0.6 + 5.5 * np.exp(-hilum / 45.0)
        share = np.clip(radius / 2.0, 0.0, 1.0) * 0.9   # sub-voxel vessels: partial volume
        vessels = (_soft(radius - _tube_distance(sub, lung.shape[0], lung.shape[1], s.lung), pixel)
                   * share * lung)
        p.parts["blood"][box] += vessels
        p.parts["lung"][box] -= vessels


def _base_vessels(frame: HeartFrame, r: float) -> list[tuple[np.ndarray, tuple[float, float,
                                                                               float], str]]:
    """(centre, radii along (a, ant, sep), class) of the chambers above the LV base."""
    return [
        (-22.0 * frame.a + 0.8 * r * frame.direction(215.0), (20.0, 22.0, 26.0), "blood"),
        (-16.0 * frame.a + 1.6 * r * frame.direction(125.0), (22.0, 24.0, 20.0), "blood"),
        (-18.0 * frame.a + 0.45 * r * frame.direction(45.0), (24.0, 12.0, 12.0), "blood"),
        (-20.0 * frame.a + 1.7 * r * frame.direction(10.0), (22.0, 11.0, 11.0), "blood"),
    ]
