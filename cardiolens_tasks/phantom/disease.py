"""Sample a phantom study's parameters from the disease models (taxonomy.md).

Each diagnosis draws geometry, motion and lesions from ranges chosen so that every label
sits well inside its category (EF at least 2.5 points from a band edge, thickness and
cavity size in disjoint ranges, transmural extents away from the 25/50/75% cuts), which
keeps the labels stable against partial volume and noise.
"""

from __future__ import annotations

import numpy as np

from cardiolens.data.anatomy import LEVELS, WALLS6, Site, territory
from cardiolens.phantom.geometry import HeartModel
from cardiolens.phantom.params import Acquisition, Heart, Lesion, StudyParams

Rng = np.random.Generator
CAVITY_LEVELS = LEVELS[:3]
ALL_SITES: tuple[Site, ...] = (
    *((lv, w) for lv in CAVITY_LEVELS for w in WALLS6), ("Apex", ""))
EF_RANGES = {"normal": (54.0, 70.0), "mild": (42.5, 47.5), "moderate": (32.5, 37.5),
             "severe": (15.0, 27.5)}
CORE_SITES = {
    "LAD": (("Mid", "Anterior"), ("Mid", "Anteroseptal"), ("Basal", "Anterior")),
    "RCA": (("Basal", "Inferior"), ("Mid", "Inferior")),
    "LCx": (("Basal", "Anterolateral"), ("Apical", "Anterolateral")),
}
SUBENDO_EXTENTS = (0.18, 0.38, 0.62)   # one per transmurality band below 75%


def _neighbours(site: Site) -> list[Site]:
    level, wall = site
    if level == "Apex":
        return [("Apical", w) for w in WALLS6]
    out: list[Site] = []
    i = WALLS6.index(wall)
    out += [(level, WALLS6[(i - 1) % 6]), (level, WALLS6[(i + 1) % 6])]
    li = LEVELS.index(level)
    if li > 0:
        out.append((LEVELS[li - 1], wall))
    out.append(("Apex", "") if level == "Apical" else (LEVELS[li + 1], wall))
    return out


def grow_region(rng: Rng, start: Site, size: int, allowed: set[Site]) -> tuple[Site, ...]:
    """A contiguous set of ``size`` sites from ``start``, staying inside ``allowed``."""
    region = [start]
    while len(region) < size:
        frontier = sorted({n for s in region for n in _neighbours(s)
                           if n in allowed and n not in region})
        if not frontier:
            break
        region.append(frontier[int(rng.integers(len(frontier)))])
    return tuple(sorted(region, key=ALL_SITES.index))


def _uniform(rng: Rng, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def _thickness(rng: Rng, lo: float = 7.5, hi: float = 9.5) -> list[list[float]]:
    return [[_uniform(rng, lo, hi) for _ in WALLS6] for _ in CAVITY_LEVELS]


def _motion(sites: tuple[Site, ...], factor: float) -> tuple[tuple[float, ...], ...]:
    rows = [[1.0] * 6 for _ in LEVELS]
    for level, wall in sites:
        li = LEVELS.index(level)
        if level == "Apex":
            rows[li] = [factor] * 6
        else:
            rows[li][WALLS6.index(wall)] = factor
    return tuple(tuple(r) for r in rows)


def ejection_fraction(model: HeartModel, shortening: float | None = None) -> float:
    """EF (%) of the drawn LV cavity: slice areas at ED and ES from the same tables."""
    heart = model.heart
    shortening = heart.shortening if shortening is None else shortening
    u = np.asarray(model.slice_u[:-1])
    levels = model.level_of(u)
    r_ed = heart.r_endo * np.sqrt(np.clip(1.0 - (u / heart.long_axis) ** 2, 0.0, None))
    r_es = r_ed[:, None] * (1.0 - shortening * model.motion[levels])
    ed = float(np.sum(r_ed**2)) * 360.0
    es = float(np.sum(r_es**2))
    return 100.0 * (1.0 - es / ed)


def calibrate(heart: Heart, n_slices: int, ef_range: tuple[float, float],
              rng: Rng) -> tuple[Heart, float]:
    """Choose the global shortening so the drawn EF lands inside ``ef_range``."""
    target = _uniform(rng, *ef_range)
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
    return Heart(**{**heart.__dict__, "shortening": shortening}), ef


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

    def chance(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    def pick(self, options: list[str] | tuple[str, ...]) -> str:
        return options[int(self.rng.integers(len(options)))]

    def set_thick(self, sites: tuple[Site, ...], lo: float, hi: float) -> None:
        for level, wall in sites:
            if level != "Apex":
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


def _ischemic(d: Draft) -> None:
    culprit = d.pick(("LAD", "LAD", "LAD", "LAD", "LAD", "RCA", "RCA", "RCA", "LCx", "LCx"))
    allowed = {s for s in ALL_SITES if territory(s) == culprit}
    start = CORE_SITES[culprit][int(d.rng.integers(len(CORE_SITES[culprit])))]
    sites = grow_region(d.rng, start, int(d.rng.integers(2, 6)), allowed)
    transmural = d.chance(0.4)
    if transmural:
        scar = Lesion(sites, "Transmural", (0.0, 1.0))
        d.set_thick(sites, 4.2, 5.0)
        aneurysm = any(level in ("Apical", "Apex") for level, _ in sites) and d.chance(0.4)
        d.rwma_severity, d.rwma_factor = ("Dyskinetic", -0.3) if aneurysm else ("Akinetic", 0.0)
    else:
        extent = SUBENDO_EXTENTS[int(d.rng.integers(3))]
        if ("Apex", "") in sites:   # the apex cap is cut en face: a thin layer would not show
            extent = max(extent, SUBENDO_EXTENTS[1])
        scar = Lesion(sites, "Subendocardial", (0.0, extent))
        d.rwma_severity, d.rwma_factor = (("Hypokinetic", 0.4) if extent < 0.5
                                          else ("Akinetic", 0.0))
    d.scar = [scar]
    d.rwma_sites = sites
    d.papillary_scar = (any(s in sites for s in (("Mid", "Inferior"), ("Mid", "Anterolateral")))
                        and d.chance(0.5))
    d.ef_band = d.pick(("mild", "moderate", "moderate", "severe"))
    if d.ef_band != "mild" and d.chance(0.5):
        d.dilate_lv()
    if culprit == "RCA" and d.chance(0.3):
        d.reduce_rv()
    visible = tuple(s for s in sites if s[0] != "Apex")
    if d.chance(0.5):   # peri-infarct ischaemia: the defect reaches beyond the scar
        extra = grow_region(d.rng, visible[0], len(visible) + 2,
                            {s for s in allowed if s[0] != "Apex"})
        defect_sites = tuple(s for s in ALL_SITES if s in set(extra) | set(visible))
    else:
        defect_sites = visible
    depth = (0.0, 1.0) if transmural else (0.0, 0.6)
    d.defect = Lesion(defect_sites, "Transmural" if transmural else "Subendocardial", depth)
    if d.chance(0.2):   # acute: edema over the infarct, at least half the wall deep
        band = (0.0, max(0.5, scar.band[1]))
        d.edema = [Lesion(sites, "Transmural" if band[1] == 1.0 else "Subendocardial", band)]


def _hcm(d: Draft) -> None:
    if d.chance(0.3):
        d.r_endo = _uniform(d.rng, 17.5, 20.0)
    d.ef_band = "normal"
    kind = d.pick(("Asymmetric septal",) * 13 + ("Apical",) * 4 + ("Other focal",) * 3)
    d.pattern = kind
    if kind == "Asymmetric septal":
        thick = tuple((lv, w) for lv in ("Basal", "Mid") for w in ("Anteroseptal",
                                                                   "Inferoseptal"))
    elif kind == "Apical":
        thick = tuple(("Apical", w) for w in WALLS6)
    else:
        wall = d.pick(("Anterolateral", "Inferolateral", "Anterior"))
        thick = (("Mid", wall), ("Basal", wall))
    d.set_thick(thick, 16.0, 24.0 if kind != "Apical" else 19.0)
    if d.chance(0.75):
        n = int(d.rng.integers(1, len(thick) + 1))
        chosen = tuple(thick[i] for i in sorted(d.rng.choice(len(thick), n, replace=False)))
        d.scar = [Lesion(chosen, "Mid-wall", (0.32, 0.68), patchy=True)]
        if kind == "Asymmetric septal" and d.chance(0.8):
            levels = sorted({lv for lv, _ in chosen}, key=LEVELS.index)
            ins = tuple((lv, w) for lv in levels for w in ("Anteroseptal", "Inferoseptal"))
            d.scar.append(Lesion(ins, "Mid-wall", (0.3, 0.7),
                                 arcs=((30.0, 48.0), (132.0, 150.0))))


def _dcm(d: Draft) -> None:
    d.dilate_lv()
    d.thickness = _thickness(d.rng, 4.3, 5.0)
    d.ef_band = d.pick(("moderate", "severe", "severe"))
    roll = d.rng.random()
    if roll < 0.2:
        d.dilate_rv()
    elif roll < 0.45:
        d.dilate_rv()
        d.reduce_rv()
    if d.chance(0.35):
        stripe = tuple((lv, w) for lv in ("Basal", "Mid") for w in ("Anteroseptal",
                                                                    "Inferoseptal"))
        d.scar = [Lesion(stripe, "Mid-wall", (0.35, 0.65))]


def _myocarditis(d: Draft) -> None:
    d.ef_band = "mild" if d.chance(0.3) else "normal"
    if d.chance(0.35):
        d.small_effusion()
    start = d.pick(("Inferolateral", "Anterolateral", "Inferolateral"))
    allowed = {(lv, w) for lv in ("Basal", "Mid", "Apical")
               for w in ("Inferolateral", "Anterolateral", "Inferior")}
    sites = grow_region(d.rng, (d.pick(("Basal", "Mid")), start), int(d.rng.integers(2, 5)),
                        allowed)
    layer, band = ("Subepicardial", (0.62, 1.0)) if d.chance(0.7) else ("Mid-wall",
                                                                         (0.32, 0.68))
    if d.chance(0.9):
        d.scar = [Lesion(sites, layer, band, patchy=True)]
    d.edema = [Lesion(sites, layer, band, patchy=True)]


def _amyloidosis(d: Draft) -> None:
    d.thickness = _thickness(d.rng, 14.0, 17.0)
    d.pattern = "Concentric"
    d.ef_band = "mild" if d.chance(0.3) else "normal"
    roll = d.rng.random()
    if roll < 0.4:
        d.small_effusion()
    elif roll < 0.65:
        d.large_effusion()
    if d.chance(0.9):
        band = (0.0, 1.0) if d.chance(0.2) else (0.0, 0.38)
        layer = "Transmural" if band[1] == 1.0 else "Subendocardial"
        d.scar = [Lesion(ALL_SITES[:-1], layer, band)]


def _sarcoidosis(d: Draft) -> None:
    d.ef_band = d.pick(("normal", "mild", "moderate"))
    septal = tuple(("Basal", w) for w in ("Anteroseptal", "Inferoseptal"))
    lateral_wall = d.pick(("Inferolateral", "Anterolateral"))
    lateral = tuple((lv, lateral_wall) for lv in ("Basal", "Mid"))
    layer_a, band_a = d.pick(("Mid-wall", "Subepicardial")), (0.0, 0.0)
    band_a = (0.32, 0.68) if layer_a == "Mid-wall" else (0.62, 1.0)
    layer_b = d.pick(("Subepicardial", "Transmural"))
    band_b = (0.62, 1.0) if layer_b == "Subepicardial" else (0.0, 1.0)
    d.scar = [Lesion(septal, layer_a, band_a, patchy=True),
              Lesion(lateral, layer_b, band_b, patchy=True)]
    if d.chance(0.4):
        d.rwma_sites = septal
        d.rwma_severity, d.rwma_factor = "Hypokinetic", 0.4
    if d.chance(0.25):
        d.reduce_rv()
    if d.chance(0.5):
        if d.chance(0.7):
            d.edema = [Lesion(septal, layer_a, band_a)]
        else:
            d.edema = [Lesion((("Mid", "Anterior"),), "Mid-wall", (0.32, 0.68))]


DRAW = {"normal": lambda d: None, "ischemic": _ischemic, "hcm": _hcm, "dcm": _dcm,
        "myocarditis": _myocarditis, "amyloidosis": _amyloidosis,
        "sarcoidosis": _sarcoidosis}


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
    heart, ef = calibrate(heart, n_slices, EF_RANGES[d.ef_band], rng)
    meta = {"age_band": d.pick(("30-39", "40-49", "50-59", "60-69", "70-79")),
            "sex": d.pick(("F", "M"))}
    return StudyParams(
        study_id=study_id, diagnosis=diagnosis, heart=heart, acq=acq,
        rwma_severity=d.rwma_severity, rwma_sites=d.rwma_sites,
        hypertrophy_pattern=d.pattern, scar=tuple(d.scar), papillary_scar=d.papillary_scar,
        edema=tuple(d.edema), defect=d.defect, ef_percent=ef,
        texture_seed=int(rng.integers(2**31)), meta=meta,
    )
