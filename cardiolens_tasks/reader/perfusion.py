"""First-pass perfusion: the hypo-enhancing sectors at peak myocardial enhancement.

For each perfusion slice, the frame whose inner myocardial band is brightest is the
myocardial peak. A ray is a defect when its inner band (the subendocardial half of a
normal wall) stays under 60% of the brightest quartile of the slice; a defect ray is
transmural when no enhanced myocardium follows further out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cardiolens.data.anatomy import LEVELS, WALLS6, Site
from cardiolens.data.vocabulary import DEFECT_DEPTH
from cardiolens.reader.request import Frame
from cardiolens.reader.sax import R_STEP, Ring
from cardiolens.reader.series import sax_series

DEFECT_RATIO = 0.6
SITE_SHARE = 0.35


@dataclass(frozen=True)
class DefectRead:
    sites: tuple[Site, ...]
    depth: str


def _band(ring: Ring, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    r = np.arange(ring.profile.shape[1])[None] * R_STEP
    band = (r >= lo[:, None]) & (r < hi[:, None])
    return np.where(band, ring.profile, 0.0).sum(axis=1) / np.maximum(band.sum(axis=1), 1)


def read_defect(frames: list[Frame]) -> DefectRead | None:
    """Perfusion defect sites (level, wall) and depth; None without perfusion frames."""
    series = sax_series(frames, "perf")
    if series is None:
        return None
    best: dict[str, tuple[float, int]] = {}
    for i, ring in enumerate(series.rings):
        if not ring.valid:
            continue
        inner = _band(ring, ring.endo + 1.0, ring.endo + 5.0)
        score = float(np.percentile(inner, 75))
        level = series.level(i)
        if level not in best or score > best[level][0]:
            best[level] = (score, i)
    sites: list[Site] = []
    transmural = subendo = 0
    for level, (score, i) in best.items():
        ring = series.rings[i]
        inner = _band(ring, ring.endo + 1.0, ring.endo + 5.0)
        defect = inner < DEFECT_RATIO * score
        if defect.mean() > 0.7:          # no usable enhancement in this slice
            continue
        outer = _band(ring, ring.endo + 6.0, ring.endo + 11.0)
        for w, wall in enumerate(WALLS6):
            rays = series.walls == w
            if defect[rays].mean() >= SITE_SHARE:
                sites.append((level, wall))
                deep = outer[rays & defect] < DEFECT_RATIO * score
                transmural += int(deep.mean() > 0.5)
                subendo += int(deep.mean() <= 0.5)
    order = {name: k for k, name in enumerate(LEVELS)}
    sites.sort(key=lambda s: (order[s[0]], WALLS6.index(s[1])))
    return DefectRead(tuple(sites), (DEFECT_DEPTH.transmural if transmural > subendo
                                      else DEFECT_DEPTH.subendocardial))
