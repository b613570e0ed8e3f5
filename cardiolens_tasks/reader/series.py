"""Short-axis series: rings for every frame with one shared centre and rotation.

The LV centre and the in-plane rotation are properties of the acquisition, so they are
estimated once per series from the frames where the LV is clearest (basal and mid
slices) and then shared. The rotation comes from the RV crescent, whose centre sits at
90 degrees anatomically (the septum); every anatomical angle is ``image angle - rotation``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cardiolens.data.anatomy import LEVELS, WALLS6, wall_at_angle
from cardiolens.reader.centre import series_centres
from cardiolens.reader.request import Frame
from cardiolens.reader.sax import ANGLES, BLOOD_BRIGHT, Ring, fit_ring, rv_angle

VOTED = ("t2",)
"""Sequences whose LV centre comes from radial-symmetry votes over the whole series
(:mod:`cardiolens.reader.centre`): on black-blood T2 the darkest box near the image centre is
often lung, and a scar band can make the brightest LGE box a poor guess."""
LEVEL_NAMES = dict(zip(("basal", "mid", "apical", "apex"), LEVELS, strict=True))
"""Frame level keys of the request to the taxonomy's level names."""


@dataclass(frozen=True)
class SaxSeries:
    """Every short-axis frame of one series with its ring and the shared geometry."""

    frames: list[Frame]
    rings: list[Ring]
    rotation: float
    walls: np.ndarray      # (A,) wall index 0..5 of each ray (anatomical)

    def level(self, i: int) -> str:
        return LEVEL_NAMES.get(self.frames[i].level or "", LEVEL_NAMES["mid"])

    def anatomical(self) -> np.ndarray:
        return (ANGLES - self.rotation) % 360.0


def _wall_index(rotation: float) -> np.ndarray:
    return np.array([WALLS6.index(wall_at_angle(a - rotation)) for a in ANGLES])


def sax_series(frames: list[Frame], sequence: str, fit_frames: list[int] | None = None
               ) -> SaxSeries | None:
    """Fit every frame; share the centre (median over clear frames) and the rotation."""
    if not frames:
        return None
    if sequence in VOTED:
        _, own = series_centres([f.pixels for f in frames], BLOOD_BRIGHT[sequence])
        return _with_rotation(frames, [_ring_at(f, sequence, c) for f, c in
                                       zip(frames, own, strict=True)])
    order = fit_frames if fit_frames is not None else list(range(len(frames)))
    first = [fit_ring(frames[i].pixels, sequence) for i in order]
    clear = [r for i, r in zip(order, first, strict=True)
             if r.valid and frames[i].level in ("basal", "mid", None) and r.radius > 10]
    if not clear:
        clear = [r for r in first if r.valid and r.radius > 6]
    if clear:
        centre = (float(np.median([r.cy for r in clear])),
                  float(np.median([r.cx for r in clear])))
    else:
        h, w = frames[0].pixels.shape
        centre = (h / 2, w / 2)
    return _with_rotation(frames, [_ring_at(f, sequence, centre) for f in frames])


def _ring_at(frame: Frame, sequence: str, centre: tuple[float, float]) -> Ring:
    """The ring refitted from ``centre``, or kept there if the refit fails or wanders."""
    ring = fit_ring(frame.pixels, sequence, centre)
    if not ring.valid or np.hypot(ring.cy - centre[0], ring.cx - centre[1]) > 5:
        ring = fit_ring(frame.pixels, sequence, centre, fixed=True)
    return ring


def _with_rotation(frames: list[Frame], rings: list[Ring]) -> SaxSeries:
    """The series with its rotation from the RV crescent of the basal and mid rings."""
    angles = [a for r, f in zip(rings, frames, strict=True)
              if r.valid and f.level in ("basal", "mid") and (a := rv_angle(r)) is not None]
    rotation = float(np.median(angles)) - 90.0 if angles else 0.0
    return SaxSeries(frames, rings, rotation, _wall_index(rotation))
