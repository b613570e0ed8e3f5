"""Lesion geometry from labels: layer, transmural share, levels and walls of a lesion mask.

Shared by the LGE / T2 importers. All volumes are (H, W, slices), base to apex.
"""

from __future__ import annotations

import numpy as np

from cardiolens.data.anatomy import LEVELS, WALLS6, slice_levels
from cardiolens.data.masks import dilate4
from cardiolens.importers.cardiac_geometry import Labels, wall_map

LEVEL_OPTION = {"Basal": "Basal segment", "Mid": "Mid segment", "Apical": "Apical segment",
                "Apex": "Apex"}


def _touches(mask: np.ndarray, other: np.ndarray) -> bool:
    return bool((dilate4(mask) & other).any())


def lesion_layer(lesion: np.ndarray, cavity: np.ndarray, wall: np.ndarray) -> str:
    """Subendocardial (touches the cavity), transmural (also the outer border), else
    subepicardial (outer border only) or mid-wall (neither)."""
    outside = ~(cavity | wall)
    inner = any(_touches(lesion[:, :, z], cavity[:, :, z]) for z in range(lesion.shape[2]))
    outer = any(_touches(lesion[:, :, z], outside[:, :, z]) for z in range(lesion.shape[2]))
    if inner and outer:
        return "Transmural"
    return "Subendocardial" if inner else "Subepicardial" if outer else "Mid-wall"


def transmural_share(lesion: np.ndarray, wall: np.ndarray, cavity: np.ndarray) -> float:
    """Largest share of the wall the lesion occupies in any slice and 30-degree sector."""
    best = 0.0
    for z in range(lesion.shape[2]):
        centre_px = np.argwhere(cavity[:, :, z])
        if not lesion[:, :, z].any() or centre_px.size == 0:
            continue
        centre = centre_px.mean(axis=0)
        rows, cols = np.nonzero(wall[:, :, z])
        sector = (np.degrees(np.arctan2(cols - centre[1], rows - centre[0])) % 360 // 30)
        for k in range(12):
            inside = sector == k
            if inside.any():
                best = max(best, float(lesion[rows[inside], cols[inside], z].mean()))
    return best


def lesion_levels(lesion: np.ndarray, lge_names: bool = False) -> list[str]:
    """Levels the lesion reaches, base to apex; ``lge_names`` uses the lge_levels options
    ("Basal segment", ...), otherwise the plain level names ("Basal", ...)."""
    levels = slice_levels(lesion.shape[2])
    hit = {levels[z] for z in range(lesion.shape[2]) if lesion[:, :, z].any()}
    return [LEVEL_OPTION[level] if lge_names else level for level in LEVELS if level in hit]


def lesion_sites(lesion: np.ndarray, seg: np.ndarray, labels: Labels) -> set[tuple[str, str]]:
    """(level, wall) sites of the lesion; walls placed from the RV insertion points."""
    levels = slice_levels(lesion.shape[2])
    sites: set[tuple[str, str]] = set()
    for z in range(lesion.shape[2]):
        if not lesion[:, :, z].any():
            continue
        if levels[z] == "Apex":
            sites.add(("Apex", ""))
            continue
        walls = wall_map(seg[:, :, z], labels)
        for index in np.unique(walls[lesion[:, :, z] & (walls >= 0)]):
            sites.add((levels[z], WALLS6[int(index)]))
    return sites
