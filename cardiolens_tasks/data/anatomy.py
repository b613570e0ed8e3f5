"""Cardiac anatomy vocabulary: levels, walls, AHA segments, coronary territories.

In-plane angles follow the standard short-axis display: 0 degrees points anterior (image
up) and angles grow counter-clockwise towards the septum (image left), so the six walls are
centred at Anterior 0, Anteroseptal 60, Inferoseptal 120, Inferior 180, Inferolateral 240
and Anterolateral 300 degrees, each 60 degrees wide. The RV insertion points sit on the
Anterior/Anteroseptal (30) and Inferoseptal/Inferior (150) boundaries.
"""

from __future__ import annotations

from cardiolens.data import vocabulary as vocab

_L, _W6, _W4, _T = vocab.LEVELS, vocab.WALLS6, vocab.WALLS4, vocab.TERRITORIES
LEVELS: tuple[str, ...] = tuple(_L)
WALLS6: tuple[str, ...] = tuple(_W6)
WALLS4: tuple[str, ...] = tuple(_W4)
WALL6_TO_4 = {
    _W6.anterior: _W4.anterior, _W6.anteroseptal: _W4.septal, _W6.inferoseptal: _W4.septal,
    _W6.inferior: _W4.inferior, _W6.inferolateral: _W4.lateral, _W6.anterolateral: _W4.lateral,
}
WALL_CENTRE_DEG = {wall: 60.0 * i for i, wall in enumerate(WALLS6)}
WALL_HALF_WIDTH_DEG = 30.0
RV_INSERTION_DEG = (30.0, 150.0)
TERRITORIES: tuple[str, ...] = tuple(_T)

# AHA 17-segment model: basal 1-6, mid 7-12 in WALLS6 order; apical 13-16; apex 17.
_APICAL_SEGMENT = {_W6.anterior: 13, _W6.anteroseptal: 14, _W6.inferoseptal: 14,
                   _W6.inferior: 15, _W6.inferolateral: 16, _W6.anterolateral: 16}
SEGMENT_TERRITORY = {
    **{s: _T.lad for s in (1, 2, 7, 8, 13, 14, 17)},
    **{s: _T.rca for s in (3, 4, 9, 10, 15)},
    **{s: _T.lcx for s in (5, 6, 11, 12, 16)},
}

Site = tuple[str, str]
"""A myocardial site ``(level, wall)``: level in LEVELS, wall in WALLS6 ('' for the Apex, and
for a source that places no walls, such as EMIDEC, whose findings then measure no wall)."""


def aha_segment(site: Site) -> int:
    """The AHA segment number (1-17) of a site."""
    level, wall = site
    if level == _L.apex:
        return 17
    if level == _L.apical:
        return _APICAL_SEGMENT[wall]
    offset = {_L.basal: 0, _L.mid: 6}[level]
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
    short = {1: [_L.mid], 2: [_L.basal, _L.apical], 3: [_L.basal, _L.mid, _L.apical]}
    if n_slices < 4:
        return list(short.get(n_slices, []))
    body = n_slices - 1
    base, rest = divmod(body, 3)
    sizes = [base + (1 if i < rest else 0) for i in range(3)]
    levels: list[str] = []
    for name, size in zip(LEVELS[:3], sizes, strict=True):
        levels += [name] * size
    return [*levels, _L.apex]


def wall_at_angle(angle_deg: float) -> str:
    """The 6-wall sector containing an in-plane angle."""
    index = int(((angle_deg + WALL_HALF_WIDTH_DEG) % 360.0) // 60.0)
    return WALLS6[index]
