"""Lesion geometry from labels: layer, transmural share, levels and walls of a lesion mask.

Shared by the LGE / T2 importers. All volumes are (H, W, slices), base to apex, in the
canonical frame (docs/geometry.md).

Minimum involvement (scattered label voxels are not a finding): a lesion first loses every
8-connected in-slice component smaller than ``MIN_LESION_MM2``; a (level, wall) site then
counts only when the lesion covers at least ``SITE_MIN_SHARE`` of that sector's myocardium
over the level's slices and at least ``MIN_LESION_MM2``. Levels, walls and territories come
from the counted sites.
"""

from __future__ import annotations

import numpy as np

from cardiolens.data.anatomy import LEVELS, WALLS6, slice_levels
from cardiolens.data.masks import dilate4
from cardiolens.data.vocabulary import LAYER
from cardiolens.data.vocabulary import LEVELS as LEVEL
from cardiolens.importers.cardiac_geometry import Labels, wall_map

MIN_LESION_MM2 = 20.0     # smallest in-slice lesion component and site area that counts
SITE_MIN_SHARE = 0.10     # share of a sector's myocardium the lesion must cover



def _touches(mask: np.ndarray, other: np.ndarray) -> bool:
    return bool((dilate4(mask) & other).any())


def lesion_layer(lesion: np.ndarray, cavity: np.ndarray, wall: np.ndarray) -> str:
    """Subendocardial (touches the cavity), transmural (also the outer border), else
    subepicardial (outer border only) or mid-wall (neither)."""
    outside = ~(cavity | wall)
    inner = any(_touches(lesion[:, :, z], cavity[:, :, z]) for z in range(lesion.shape[2]))
    outer = any(_touches(lesion[:, :, z], outside[:, :, z]) for z in range(lesion.shape[2]))
    if inner and outer:
        return LAYER.transmural
    return LAYER.subendocardial if inner else LAYER.subepicardial if outer else LAYER.mid_wall


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


def _components(mask: np.ndarray) -> list[np.ndarray]:
    """8-connected components of a 2-D mask, as arrays of (row, col)."""
    seen = np.zeros(mask.shape, bool)
    out = []
    for start in np.argwhere(mask):
        if seen[tuple(start)]:
            continue
        stack, members = [tuple(start)], []
        seen[tuple(start)] = True
        while stack:
            r, c = stack.pop()
            members.append((r, c))
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    rr, cc = r + dr, c + dc
                    if (0 <= rr < mask.shape[0] and 0 <= cc < mask.shape[1]
                            and mask[rr, cc] and not seen[rr, cc]):
                        seen[rr, cc] = True
                        stack.append((rr, cc))
        out.append(np.array(members))
    return out


def significant(lesion: np.ndarray, spacing: tuple[float, float, float]) -> np.ndarray:
    """The lesion without in-slice components under MIN_LESION_MM2 (label noise)."""
    pixel_mm2 = spacing[0] * spacing[1]
    out = np.zeros(lesion.shape, bool)
    for z in range(lesion.shape[2]):
        for part in _components(lesion[:, :, z]):
            if len(part) * pixel_mm2 >= MIN_LESION_MM2:
                out[part[:, 0], part[:, 1], z] = True
    return out


def lesion_levels(lesion: np.ndarray) -> list[str]:
    """Levels (LEVELS names) the lesion reaches, base to apex."""
    levels = slice_levels(lesion.shape[2])
    hit = {levels[z] for z in range(lesion.shape[2]) if lesion[:, :, z].any()}
    return [level for level in LEVELS if level in hit]


def lesion_sites(lesion: np.ndarray, seg: np.ndarray, labels: Labels,
                 spacing: tuple[float, float, float]) -> set[tuple[str, str]]:
    """(level, wall) sites the lesion involves above the documented minimum (module doc);
    walls placed from the RV insertion points, the Apex as one site."""
    levels = slice_levels(lesion.shape[2])
    pixel_mm2 = spacing[0] * spacing[1]
    hit: dict[tuple[str, str], int] = {}
    myo: dict[tuple[str, str], int] = {}
    for z in range(lesion.shape[2]):
        wall_px = np.isin(seg[:, :, z], (labels.myo,)) | lesion[:, :, z]
        if levels[z] == LEVEL.apex:
            key = (LEVEL.apex, "")
            hit[key] = hit.get(key, 0) + int(lesion[:, :, z].sum())
            myo[key] = myo.get(key, 0) + int(wall_px.sum())
            continue
        walls = wall_map(seg[:, :, z], labels)
        for index in range(len(WALLS6)):
            sector = walls == index
            key = (levels[z], WALLS6[index])
            hit[key] = hit.get(key, 0) + int((lesion[:, :, z] & sector).sum())
            myo[key] = myo.get(key, 0) + int(sector.sum())
    return {key for key, n in hit.items()
            if n and n * pixel_mm2 >= MIN_LESION_MM2 and n >= SITE_MIN_SHARE * myo[key]}
