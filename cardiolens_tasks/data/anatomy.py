"""Cardiac anatomy vocabulary: levels, walls, AHA segments, coronary territories.

In-plane angles follow the standard short-axis display: 0 degrees points anterior (image
up) and angles grow counter-clockwise towards the septum (image left), so the six walls are
centred at Anterior 0, Anteroseptal 60, Inferoseptal 120, Inferior 180, Inferolateral 240
and Anterolateral 300 degrees, each 60 degrees wide. The RV insertion points sit on the
Anterior/Anteroseptal (30) and Inferoseptal/Inferior (150) boundaries.
"""

from __future__ import annotations

LEVELS = ("Basal", "Mid", "Apical", "Apex")
WALLS6 = ("Anterior", "Anteroseptal", "Inferoseptal", "Inferior", "Inferolateral",
          "Anterolateral")
WALLS4 = ("Anterior", "Septal", "Inferior", "Lateral")
WALL6_TO_4 = {
    "Anterior": "Anterior", "Anteroseptal": "Septal", "Inferoseptal": "Septal",
    "Inferior": "Inferior", "Inferolateral": "Lateral", "Anterolateral": "Lateral",
}
WALL_CENTRE_DEG = {wall: 60.0 * i for i, wall in enumerate(WALLS6)}
WALL_HALF_WIDTH_DEG = 30.0
RV_INSERTION_DEG = (30.0, 150.0)
TERRITORIES = ("LAD", "LCx", "RCA")

# AHA 17-segment model: basal 1-6, mid 7-12 in WALLS6 order; apical 13-16; apex 17.
_APICAL_SEGMENT = {"Anterior": 13, "Anteroseptal": 14, "Inferoseptal": 14, "Inferior": 15,
                   "Inferolateral": 16, "Anterolateral": 16}
SEGMENT_TERRITORY = {
    **{s: "LAD" for s in (1, 2, 7, 8, 13, 14, 17)},
    **{s: "RCA" for s in (3, 4, 9, 10, 15)},
    **{s: "LCx" for s in (5, 6, 11, 12, 16)},
}

Site = tuple[str, str]
"""A myocardial site ``(level, wall)``: level in LEVELS, wall in WALLS6 ('' for the Apex)."""


def aha_segment(site: Site) -> int:
    """The AHA segment number (1-17) of a site."""
    level, wall = site
    if level == "Apex":
        return 17
    if level == "Apical":
        return _APICAL_SEGMENT[wall]
    offset = {"Basal": 0, "Mid": 6}[level]
    return offset + WALLS6.index(wall) + 1


def territory(site: Site) -> str:
    return SEGMENT_TERRITORY[aha_segment(site)]


def slice_levels(n_slices: int) -> list[str]:
    """Level of each short-axis slice, base to apex.

    A full stack (4 slices or more) ends with the apex cap; the others split into basal,
    mid and apical thirds (a remainder goes to the basal, then the mid third). Shorter
    stacks, such as the three perfusion slices, are basal / mid / apical samples. Used by
    the phantom to draw and by prompts to caption real stacks.
    """
    short = {1: ["Mid"], 2: ["Basal", "Apical"], 3: ["Basal", "Mid", "Apical"]}
    if n_slices < 4:
        return list(short.get(n_slices, []))
    body = n_slices - 1
    base, rest = divmod(body, 3)
    sizes = [base + (1 if i < rest else 0) for i in range(3)]
    levels: list[str] = []
    for name, size in zip(LEVELS[:3], sizes, strict=True):
        levels += [name] * size
    return [*levels, "Apex"]


def wall_at_angle(angle_deg: float) -> str:
    """The 6-wall sector containing an in-plane angle."""
    index = int(((angle_deg + WALL_HALF_WIDTH_DEG) % 360.0) // 60.0)
    return WALLS6[index]
