"""Sample a phantom study's parameters from the disease models (docs/phantom.md).

Each diagnosis draws geometry, motion and lesions from ranges chosen so that every label
sits well inside its category (EF at least 2.5 points from a band edge, thickness and
cavity size in disjoint ranges, transmural extents away from the 25/50/75% cuts), which
keeps the labels stable against partial volume and noise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TypeVar

import numpy as np

from cardiolens.data import vocabulary as vocab
from cardiolens.data.anatomy import LEVELS, WALLS6, Site, territory
from cardiolens.phantom.geometry import HeartModel
from cardiolens.phantom.params import Acquisition, Heart, Lesion, StudyParams

Rng = np.random.Generator
T = TypeVar("T")
# Option texts by name (taxonomy.yaml): levels and walls of a site, lesion layers, wall
# motion, coronary territories and hypertrophy patterns.
_L, _W, _T = vocab.LEVELS, vocab.WALLS6, vocab.TERRITORIES
_LAYER, _MOTION, _PATTERN = vocab.LAYER, vocab.RWMA_SEVERITY, vocab.HYPERTROPHY_PATTERN
CAVITY_LEVELS = LEVELS[:3]
ALL_SITES: tuple[Site, ...] = (
    *((lv, w) for lv in CAVITY_LEVELS for w in WALLS6), (_L.apex, ""))
EF_RANGES = {"normal": (54.0, 70.0), "mild": (42.5, 47.5), "moderate": (32.5, 37.5),
             "severe": (15.0, 27.5)}
CORE_SITES = {
    _T.lad: ((_L.mid, _W.anterior), (_L.mid, _W.anteroseptal), (_L.basal, _W.anterior)),
    _T.rca: ((_L.basal, _W.inferior), (_L.mid, _W.inferior)),
    _T.lcx: ((_L.basal, _W.anterolateral), (_L.apical, _W.anterolateral)),
}
SUBENDO_EXTENTS = (0.18, 0.38, 0.62)   # one per transmurality band below 75%


def _neighbours(site: Site) -> list[Site]:
    level, wall = site
    if level == _L.apex:
        return [(_L.apical, w) for w in WALLS6]
    out: list[Site] = []
    i = WALLS6.index(wall)
    out += [(level, WALLS6[(i - 1) % 6]), (level, WALLS6[(i + 1) % 6])]
    li = LEVELS.index(level)
    if li > 0:
        out.append((LEVELS[li - 1], wall))
    out.append((_L.apex, "") if level == _L.apical else (LEVELS[li + 1], wall))
    return out


def grow_region(rng: Rng, start: Site, size: int, allowed: set[Site]) -> tuple[Site, ...]:
    """A contiguous set of ``size`` sites from ``start``, staying inside ``allowed``."""
    return grow_from(rng, (start,), size - 1, allowed)


def _uniform(rng: Rng, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def _thickness(rng: Rng, lo: float = 7.5, hi: float = 9.5) -> list[list[float]]:
    return [[_uniform(rng, lo, hi) for _ in WALLS6] for _ in CAVITY_LEVELS]


def _motion(sites: tuple[Site, ...], factor: float) -> tuple[tuple[float, ...], ...]:
    rows = [[1.0] * 6 for _ in LEVELS]
    for level, wall in sites:
        li = LEVELS.index(level)
        if level == _L.apex:
            rows[li] = [factor] * 6
        else:
            rows[li][WALLS6.index(wall)] = factor
    return tuple(tuple(r) for r in rows)


def ejection_fraction(model: HeartModel, shortening: float | None = None) -> float:
    """EF (%) of the drawn LV cavity: slice areas at ED and ES from the same tables.

    The ES cavity is the ED cavity's tissue shortened radially and compressed along the
    axis by the descent of the base (:meth:`HeartModel.compression`), so its volume is the
    radial ES slice sum times that compression.
    """
    heart = model.heart
    shortening = heart.shortening if shortening is None else shortening
    u = np.asarray(model.slice_u[:-1])
    levels = model.level_of(u)
    r_ed = heart.r_endo * np.sqrt(np.clip(1.0 - (u / heart.long_axis) ** 2, 0.0, None))
    r_es = r_ed[:, None] * (1.0 - shortening * model.motion[levels])
    ed = float(np.sum(r_ed**2)) * 360.0
    es = float(np.sum(r_es**2)) * float(model.compression(heart.base_descent))
    return 100.0 * (1.0 - es / ed)


MAPSE_PER_EF_POINT, MAPSE_OFFSET, MAPSE_MIN = 0.22, -0.5, 3.0
LONG_AXIS_FUNCTION = {"amyloidosis": 0.6, "hcm": 0.8}
"""Long-axis function relative to what the EF predicts: markedly reduced in amyloid (with
relative apical sparing: the apex stays fixed anyway), reduced in HCM (docs/phantom.md)."""


def base_descent(ef: float, diagnosis: str, variation: float) -> float:
    """Systolic descent of the AV plane towards the apex (MAPSE, mm).

    ``0.22 EF - 0.5`` mm (EF 60% -> 12.7 mm, 45% -> 9.4 mm, 25% -> 5 mm; at least 3 mm),
    times the diagnosis' long-axis factor and a per-study ``variation`` (0.85-1.15).
    """
    mapse = max(MAPSE_PER_EF_POINT * ef + MAPSE_OFFSET, MAPSE_MIN)
    return mapse * LONG_AXIS_FUNCTION.get(diagnosis, 1.0) * variation


def calibrate(heart: Heart, n_slices: int, ef_range: tuple[float, float],
              rng: Rng, diagnosis: str = "normal") -> tuple[Heart, float]:
    """Choose the base descent from the target EF, then the global radial shortening so
    the drawn EF lands inside ``ef_range``."""
    target = _uniform(rng, *ef_range)
    descent = base_descent(target, diagnosis, _uniform(rng, 0.85, 1.15))
    heart = replace(heart, base_descent=descent)
    model = HeartModel.build(heart, n_slices)
    lo, hi = 0.02, 0.62
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        if ejection_fraction(model, mid) < target:
            lo = mid
        else:
            hi = mid
    shortening = 0.5 * (lo + hi)
    ef = ejection_fraction(model, shortening)
    if not ef_range[0] - 0.5 <= ef <= ef_range[1] + 0.5:
        raise ValueError(f"EF {ef:.1f} outside {ef_range}")
    return replace(heart, shortening=shortening), ef


class Draft:
    """Mutable working state while one diagnosis draws its parameters."""

    def __init__(self, rng: Rng) -> None:
        self.rng = rng
        self.r_endo = _uniform(rng, 23.0, 26.5)
        self.thickness = _thickness(rng)
        self.rwma_sites: tuple[Site, ...] = ()
        self.rwma_severity: str | None = None
        self.rwma_factor = 1.0
        self.ef_band = "normal"
        self.rv_depth = _uniform(rng, 11.0, 14.0)
        self.rv_arc = (30.0, 150.0)
        self.rv_shortening = _uniform(rng, 0.35, 0.45)
        self.effusion = 0.0
        self.pattern: str | None = None
        self.scar: list[Lesion] = []
        self.papillary_scar = False
        self.edema: list[Lesion] = []
        self.defect: Lesion | None = None
        self.atrial_lge = False

    def chance(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    def pick(self, options: Sequence[T]) -> T:
        return options[int(self.rng.integers(len(options)))]

    def set_thick(self, sites: tuple[Site, ...], lo: float, hi: float) -> None:
        for level, wall in sites:
            if level != _L.apex:
                self.thickness[LEVELS.index(level)][WALLS6.index(wall)] = _uniform(
                    self.rng, lo, hi)

    def dilate_lv(self) -> None:
        self.r_endo = _uniform(self.rng, 31.0, 35.0)

    def dilate_rv(self) -> None:
        self.rv_depth = _uniform(self.rng, 20.0, 24.0)
        self.rv_arc = (22.0, 158.0)

    def reduce_rv(self) -> None:
        self.rv_shortening = _uniform(self.rng, 0.10, 0.16)

    def small_effusion(self) -> None:
        self.effusion = _uniform(self.rng, 3.0, 4.5)

    def large_effusion(self) -> None:
        self.effusion = _uniform(self.rng, 9.0, 12.0)


# Each rule below is documented with its clinical source in docs/phantom.md ("Disease
# model"); the probabilities are the phantom's, chosen so that findings overlap between
# diagnoses as they do clinically while the diagnosis stays answerable by clinical rules.

SEPTAL_WALLS = (_W.anteroseptal, _W.inferoseptal)
INSERTION_ARCS = ((30.0, 48.0), (132.0, 150.0))
MID_WALL, SUBEPI = (0.32, 0.68), (0.62, 1.0)


def grow_from(rng: Rng, sites: tuple[Site, ...], extra: int,
              allowed: set[Site]) -> tuple[Site, ...]:
    """``sites`` plus up to ``extra`` contiguous neighbours inside ``allowed``."""
    region = list(sites)
    for _ in range(extra):
        frontier = sorted({n for s in region for n in _neighbours(s)
                           if n in allowed and n not in region})
        if not frontier:
            break
        region.append(frontier[int(rng.integers(len(frontier)))])
    return tuple(sorted(region, key=ALL_SITES.index))


def _cavity(sites: tuple[Site, ...]) -> tuple[Site, ...]:
    """The sites a short-axis perfusion slice can show (not the apex cap)."""
    return tuple(s for s in sites if s[0] != _L.apex)


def _territory_sites(culprit: str) -> set[Site]:
    return {s for s in ALL_SITES if territory(s) == culprit}


def _infarct(d: Draft, culprit: str, transmural: bool) -> Lesion:
    start = CORE_SITES[culprit][int(d.rng.integers(len(CORE_SITES[culprit])))]
    sites = grow_region(d.rng, start, int(d.rng.integers(2, 6)), _territory_sites(culprit))
    if transmural:
        d.set_thick(sites, 4.2, 5.0)           # chronic transmural scar thins the wall
        return Lesion(sites, _LAYER.transmural, (0.0, 1.0))
    extent = SUBENDO_EXTENTS[int(d.rng.integers(3))]
    # the apex cap is cut en face, and the apical walls so obliquely that a slice's slab
    # (docs/phantom_images.md, through-plane partial volume) smears a thin layer into the
    # blood pool: neither would show
    if any(level in (_L.apex, _L.apical) for level, _ in sites):
        extent = max(extent, SUBENDO_EXTENTS[1])
    return Lesion(sites, _LAYER.subendocardial, (0.0, extent))


def _ischemic(d: Draft) -> None:
    """Coronary disease: infarcts of one or two ages, or LGE-negative ischaemia."""
    culprits = (_T.lad,) * 5 + (_T.rca,) * 3 + (_T.lcx,) * 2
    culprit = d.pick(culprits)
    d.ef_band = d.pick(("normal", "mild", "mild", "moderate", "moderate", "severe"))
    if d.chance(0.12):   # hibernating myocardium: inducible defect and RWMA, no scar
        start = CORE_SITES[culprit][int(d.rng.integers(len(CORE_SITES[culprit])))]
        sites = grow_region(d.rng, start, int(d.rng.integers(2, 5)),
                            set(_cavity(tuple(_territory_sites(culprit)))))
        d.rwma_sites, d.rwma_severity, d.rwma_factor = sites, _MOTION.hypokinetic, 0.4
        d.defect = Lesion(sites, _LAYER.subendocardial, (0.0, 0.6))
        if d.ef_band == "normal":
            d.ef_band = "mild"
        return
    transmural = d.chance(0.4)
    scar = _infarct(d, culprit, transmural)
    sites = scar.sites
    if transmural:
        aneurysm = any(level in (_L.apical, _L.apex) for level, _ in sites) and d.chance(0.4)
        d.rwma_severity, d.rwma_factor = ((_MOTION.dyskinetic, -0.3) if aneurysm
                                          else (_MOTION.akinetic, 0.0))
    else:
        d.rwma_severity, d.rwma_factor = ((_MOTION.hypokinetic, 0.4) if scar.band[1] < 0.5
                                          else (_MOTION.akinetic, 0.0))
    d.scar = [scar]
    d.rwma_sites = sites
    if scar.band[1] < 0.25 and d.chance(0.6):   # a thin subendocardial scar may move normally
        d.rwma_sites, d.rwma_severity, d.rwma_factor = (), None, 1.0
    if d.rwma_factor >= 0.0 and d.chance(0.25):   # multivessel: an older infarct in
        # another territory (not beside an aneurysm, whose EF would be out of range)
        other = d.pick(tuple(c for c in (_T.lad, _T.rca, _T.lcx) if c != culprit))
        old = _infarct(d, other, transmural=False)
        old = Lesion(tuple(s for s in old.sites if s not in sites), old.layer, old.band)
        if old.sites:
            d.scar.append(old)
            if d.rwma_severity is None:
                d.rwma_severity, d.rwma_factor = _MOTION.hypokinetic, 0.4
            d.rwma_sites = tuple(s for s in ALL_SITES
                                 if s in set(d.rwma_sites) | set(old.sites))
    d.papillary_scar = (any(s in sites for s in ((_L.mid, _W.inferior),
                                                 (_L.mid, _W.anterolateral)))
                        and d.chance(0.5))
    if d.ef_band in ("moderate", "severe") and d.chance(0.5):
        d.dilate_lv()
    if culprit == _T.rca and d.chance(0.3):
        d.reduce_rv()
    visible = _cavity(sites)
    if visible and d.chance(0.65):   # 35%: revascularised, no inducible ischaemia
        if d.chance(0.5):   # peri-infarct ischaemia: the defect reaches beyond the scar
            extra = grow_region(d.rng, visible[0], len(visible) + 2,
                                {s for s in _territory_sites(culprit) if s[0] != _L.apex})
            defect_sites = tuple(s for s in ALL_SITES if s in set(extra) | set(visible))
        else:
            defect_sites = visible
        depth = (0.0, 1.0) if transmural else (0.0, 0.6)
        layer = _LAYER.transmural if transmural else _LAYER.subendocardial
        d.defect = Lesion(defect_sites, layer, depth)
    if d.chance(0.25):   # acute: edema over the newest infarct, often beyond it and
        # through the wall (the area at risk)
        band = (0.0, 1.0) if d.chance(0.5) else (0.0, max(0.5, scar.band[1]))
        edema_sites = sites
        if d.chance(0.5):
            edema_sites = grow_from(d.rng, sites, int(d.rng.integers(1, 3)),
                                    _territory_sites(culprit))
        layer = _LAYER.transmural if band[1] == 1.0 else _LAYER.subendocardial
        d.edema = [Lesion(edema_sites, layer, band)]


def _hcm(d: Draft) -> None:
    """Hypertrophic cardiomyopathy: septal, apical or other focal hypertrophy."""
    if d.chance(0.3):
        d.r_endo = _uniform(d.rng, 17.5, 20.0)
    d.ef_band = "mild" if d.chance(0.08) else "normal"
    kind = d.pick((_PATTERN.asymmetric_septal,) * 13 + (_PATTERN.apical,) * 4
                  + (_PATTERN.other_focal,) * 3)
    d.pattern = kind
    if kind == _PATTERN.asymmetric_septal:
        thick = tuple((lv, w) for lv in (_L.basal, _L.mid) for w in SEPTAL_WALLS)
    elif kind == _PATTERN.apical:
        thick = tuple((_L.apical, w) for w in WALLS6)
    else:
        wall = d.pick((_W.anterolateral, _W.inferolateral, _W.anterior))
        thick = ((_L.mid, wall), (_L.basal, wall))
    d.set_thick(thick, 16.0, 24.0 if kind != _PATTERN.apical else 19.0)
    if d.chance(0.7):
        n = int(d.rng.integers(1, len(thick) + 1))
        chosen = tuple(thick[i] for i in sorted(d.rng.choice(len(thick), n, replace=False)))
        d.scar = [Lesion(chosen, _LAYER.mid_wall, MID_WALL, patchy=True)]
        if kind == _PATTERN.asymmetric_septal and d.chance(0.8):
            levels = sorted({lv for lv, _ in chosen}, key=LEVELS.index)
            ins = tuple((lv, w) for lv in levels for w in SEPTAL_WALLS)
            d.scar.append(Lesion(ins, _LAYER.mid_wall, (0.3, 0.7), arcs=INSERTION_ARCS))
    if d.chance(0.35):   # microvascular ischaemia of the hypertrophied segments
        d.defect = Lesion(thick, _LAYER.subendocardial, (0.0, 0.5))


def _dcm(d: Draft) -> None:
    """Dilated cardiomyopathy: usually normal wall thickness, sometimes a septal stripe."""
    d.dilate_lv()
    if d.chance(0.25):
        d.thickness = _thickness(d.rng, 4.3, 5.0)
    else:
        d.thickness = _thickness(d.rng, 6.0, 8.5)
    d.ef_band = d.pick(("mild", "moderate", "severe", "severe", "moderate"))
    roll = d.rng.random()
    if roll < 0.2:
        d.dilate_rv()
    elif roll < 0.45:
        d.dilate_rv()
        d.reduce_rv()
    if d.chance(0.3):
        stripe = tuple((lv, w) for lv in d.pick(((_L.basal, _L.mid), (_L.basal,), (_L.mid,)))
                       for w in SEPTAL_WALLS)
        d.scar = [Lesion(stripe, _LAYER.mid_wall, (0.35, 0.65))]
    if d.chance(0.1):
        d.small_effusion()
    if d.chance(0.35):   # regional heterogeneity beyond the global dysfunction: septal
        # (conduction delay), anteroseptal, or inferior and inferolateral
        walls = d.pick((SEPTAL_WALLS, (_W.anterior, _W.anteroseptal),
                        (_W.inferoseptal, _W.inferior), (_W.inferior, _W.inferolateral)))
        d.rwma_sites = tuple((lv, w) for lv in (_L.basal, _L.mid) for w in walls)
        d.rwma_severity, d.rwma_factor = _MOTION.hypokinetic, 0.4


def _myocarditis(d: Draft) -> None:
    """Acute (edema, often beyond the LGE), healed (LGE only) or early (edema only)."""
    d.ef_band = d.pick(("normal",) * 13 + ("mild",) * 5 + ("moderate",) * 2)
    if d.chance(0.3):
        d.small_effusion()
    start = d.pick((_W.inferolateral, _W.anterolateral, _W.inferolateral, _W.inferior))
    allowed = {(lv, w) for lv in (_L.basal, _L.mid, _L.apical)
               for w in (_W.inferolateral, _W.anterolateral, _W.inferior)}
    sites = grow_region(d.rng, (d.pick((_L.basal, _L.mid)), start), int(d.rng.integers(2, 5)),
                        allowed)
    layer, band = (_LAYER.subepicardial, SUBEPI) if d.chance(0.7) else (_LAYER.mid_wall, MID_WALL)
    lesions = [Lesion(sites, layer, band, patchy=True)]
    if d.chance(0.25):   # the second typical pattern: septal mid-wall
        septal = tuple((lv, w) for lv in (_L.basal, _L.mid) for w in SEPTAL_WALLS)
        lesions.append(Lesion(septal[:int(d.rng.integers(2, 5))], _LAYER.mid_wall, MID_WALL,
                              patchy=True))
    phase = d.rng.random()
    if phase < 0.3:      # healed: scar without edema
        d.scar = lesions
    elif phase < 0.42:   # early: edema before any scar
        d.edema = lesions
    else:                # acute: edema at the LGE, often reaching beyond it
        d.scar = lesions
        d.edema = lesions
        if d.chance(0.6):
            wider = grow_from(d.rng, sites, int(d.rng.integers(1, 3)),
                              allowed | {(lv, _W.anterior) for lv in (_L.basal, _L.mid)})
            d.edema = [Lesion(wider, layer, band, patchy=True), *lesions[1:]]
    if d.chance(0.3):
        d.rwma_sites = _cavity(sites)
        d.rwma_severity, d.rwma_factor = _MOTION.hypokinetic, 0.4


def _amyloidosis(d: Draft) -> None:
    """Concentric or asymmetric (septal) wall thickening, diffuse LGE, apical sparing."""
    if d.chance(0.45):
        d.pattern = _PATTERN.asymmetric_septal
        d.thickness = _thickness(d.rng, 9.0, 10.5)
        septal = tuple((lv, w) for lv in (_L.basal, _L.mid) for w in SEPTAL_WALLS)
        d.set_thick(septal, 15.0, 19.0)
    else:
        d.pattern = _PATTERN.concentric
        d.thickness = _thickness(d.rng, 14.0, 17.0)
    d.ef_band = d.pick(("normal",) * 6 + ("mild",) * 3 + ("moderate",))
    roll = d.rng.random()
    if roll < 0.4:
        d.small_effusion()
    elif roll < 0.65:
        d.large_effusion()
    if d.chance(0.2):
        d.reduce_rv()
    if d.chance(0.85):
        band = (0.0, 1.0) if d.chance(0.25) else (0.0, 0.38)
        layer = _LAYER.transmural if band[1] == 1.0 else _LAYER.subendocardial
        d.scar = [Lesion(ALL_SITES[:-1], layer, band)]
        d.atrial_lge = d.chance(0.7)
    if d.pattern == _PATTERN.concentric and d.chance(0.5):   # raised T2 of the infiltrated inner
        # wall, everywhere (drawn only in thick walls, where the band is several pixels)
        d.edema = [Lesion(ALL_SITES[:-1], _LAYER.subendocardial, (0.0, 0.38))]
    if d.chance(0.3):    # circumferential subendocardial hypoperfusion, sparing the apex
        d.defect = Lesion(tuple((lv, w) for lv in (_L.basal, _L.mid) for w in WALLS6),
                          _LAYER.subendocardial, (0.0, 0.5))


def _sarcoidosis(d: Draft) -> None:
    """Patchy multifocal LGE: basal septum on its RV side, insertion points, lateral wall."""
    d.ef_band = d.pick(("normal", "mild", "moderate"))
    septal = tuple((lv, w) for lv in d.pick(((_L.basal,), (_L.basal, _L.mid)))
                   for w in SEPTAL_WALLS)
    lateral_wall = d.pick((_W.inferolateral, _W.anterolateral))
    lateral = tuple((lv, lateral_wall) for lv in (_L.basal, _L.mid))
    septal_layer = d.pick((_LAYER.mid_wall, _LAYER.subepicardial, _LAYER.subepicardial))  # RV side
    septal_band = MID_WALL if septal_layer == _LAYER.mid_wall else SUBEPI
    d.scar = [Lesion(septal, septal_layer, septal_band, patchy=True)]
    if d.chance(0.4):
        d.scar.append(Lesion(septal, _LAYER.transmural, (0.0, 1.0), arcs=INSERTION_ARCS))
    if d.chance(0.75) or len(d.scar) == 1:
        layer = d.pick((_LAYER.subepicardial, _LAYER.transmural, _LAYER.mid_wall))
        band = {_LAYER.subepicardial: SUBEPI, _LAYER.transmural: (0.0, 1.0),
                _LAYER.mid_wall: MID_WALL}[layer]
        d.scar.append(Lesion(lateral, layer, band, patchy=True))
    if d.chance(0.45):
        d.rwma_sites = d.pick((septal, lateral, (*septal, (_L.basal, _W.inferior)),
                               (*septal, (_L.basal, _W.anterior))))
        d.rwma_sites = tuple(s for s in ALL_SITES if s in d.rwma_sites)
        d.rwma_severity, d.rwma_factor = _MOTION.hypokinetic, 0.4
    if d.chance(0.3):
        d.reduce_rv()
    if d.chance(0.45):   # active inflammation at a scar, or in a new region
        if d.chance(0.6):
            d.edema = [Lesion(septal, septal_layer, septal_band)]
        else:
            d.edema = [Lesion(((_L.mid, _W.anterior), (_L.apical, _W.anterior)), _LAYER.mid_wall,
                              MID_WALL)]


def _normal(d: Draft) -> None:
    """Normal hearts, with athlete's remodelling and benign findings."""
    if d.chance(0.25):   # athlete's heart: balanced dilatation, normal wall and function
        d.r_endo = _uniform(d.rng, 31.0, 33.0)
        d.thickness = _thickness(d.rng, 9.0, 10.5)
        if d.chance(0.4):
            d.dilate_rv()
    if d.chance(0.12):   # non-specific RV insertion-point fibrosis
        levels = d.pick(((_L.basal,), (_L.basal, _L.mid)))
        d.scar = [Lesion(tuple((lv, w) for lv in levels for w in SEPTAL_WALLS), _LAYER.mid_wall,
                         (0.3, 0.7), arcs=INSERTION_ARCS)]
    if d.chance(0.12):   # physiological pericardial fluid
        d.small_effusion()


def _other(d: Draft) -> None:
    """Other non-ischemic: hypertensive LVH, Fabry-like LVH, arrhythmogenic RV disease."""
    kind = d.pick(("hypertensive",) * 9 + ("fabry",) * 5 + ("arrhythmogenic",) * 6)
    if kind == "arrhythmogenic":
        d.dilate_rv()
        d.reduce_rv()
        d.ef_band = "mild" if d.chance(0.3) else "normal"
        if d.chance(0.4):   # left-dominant involvement: subepicardial lateral LGE
            wall = d.pick((_W.inferolateral, _W.anterolateral))
            d.scar = [Lesion(tuple((lv, wall) for lv in (_L.basal, _L.mid)), _LAYER.subepicardial,
                             SUBEPI)]
        return
    d.pattern = _PATTERN.concentric
    d.thickness = _thickness(d.rng, 13.8, 15.5 if kind == "hypertensive" else 16.5)
    d.ef_band = "mild" if d.chance(0.15) else "normal"
    if kind == "fabry":   # basal inferolateral mid-wall LGE, sometimes active (T2)
        sites = ((_L.basal, _W.inferolateral),) + (
            ((_L.mid, _W.inferolateral),) if d.chance(0.4) else ())
        d.scar = [Lesion(sites, _LAYER.mid_wall, MID_WALL)]
        if d.chance(0.3):
            d.edema = [Lesion(sites, _LAYER.mid_wall, MID_WALL)]
    elif d.chance(0.3):   # hypertensive heart disease: non-specific patchy mid-wall LGE
        wall = d.pick(WALLS6)
        d.scar = [Lesion(((_L.basal, wall), (_L.mid, wall)), _LAYER.mid_wall, MID_WALL,
                         patchy=True)]


DRAW = {"normal": _normal, "ischemic": _ischemic, "hcm": _hcm, "dcm": _dcm,
        "myocarditis": _myocarditis, "amyloidosis": _amyloidosis,
        "sarcoidosis": _sarcoidosis, "other": _other}


def _acquisition(rng: Rng, n_slices: int) -> Acquisition:
    matrix = 128
    n_phases = int(rng.integers(20, 23))
    return Acquisition(
        matrix=matrix,
        pixel_mm=_uniform(rng, 1.5, 1.75),
        n_slices=n_slices,
        n_phases=n_phases,
        es_phase=round(n_phases * _uniform(rng, 0.35, 0.40)),
        n_dynamics=int(rng.integers(30, 35)),
        centre=(matrix / 2 + _uniform(rng, -6, 6), matrix / 2 + _uniform(rng, -6, 6)),
        rotation=_uniform(rng, -15.0, 15.0),
        scale=_uniform(rng, 200.0, 350.0),
        noise=_uniform(rng, 0.03, 0.05),
        shading=(_uniform(rng, 0.1, 0.3), _uniform(rng, 0, 2 * np.pi), _uniform(rng, 0.0, 0.15)),
        bolus_start=int(rng.integers(3, 6)),
    )


def sample_study(rng: Rng, study_id: str, diagnosis: str) -> StudyParams:
    """Draw one study of the given diagnosis."""
    n_slices = int(rng.integers(8, 13))
    acq = _acquisition(rng, n_slices)
    d = Draft(rng)
    DRAW[diagnosis](d)
    heart = Heart(
        r_endo=d.r_endo,
        long_axis=_uniform(rng, 78.0, 90.0) * (d.r_endo / 25.0) ** 0.3,
        thickness=tuple(tuple(row) for row in d.thickness),
        motion=_motion(d.rwma_sites, d.rwma_factor),
        shortening=0.3,
        rv_depth=d.rv_depth,
        rv_arc=d.rv_arc,
        rv_shortening=d.rv_shortening,
        effusion=d.effusion,
    )
    bands = list(EF_RANGES)
    for band in bands[bands.index(d.ef_band):]:
        try:    # a large dyskinetic region cannot reach a high EF: take the next band
            heart, ef = calibrate(heart, n_slices, EF_RANGES[band], rng, diagnosis)
            break
        except ValueError:
            if band == bands[-1]:
                raise
    meta = {"age_band": d.pick(("30-39", "40-49", "50-59", "60-69", "70-79")),
            "sex": d.pick(("F", "M"))}
    return StudyParams(
        study_id=study_id, diagnosis=diagnosis, heart=heart, acq=acq,
        rwma_severity=d.rwma_severity, rwma_sites=d.rwma_sites,
        hypertrophy_pattern=d.pattern, scar=tuple(d.scar), papillary_scar=d.papillary_scar,
        edema=tuple(d.edema), defect=d.defect, ef_percent=ef,
        texture_seed=int(rng.integers(2**31)), meta=meta, atrial_lge=d.atrial_lge,
    )
