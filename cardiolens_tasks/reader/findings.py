"""The reader's findings: every sequence shown in the request, read once, as option texts.

:class:`StudyRead` holds the measurements (None when the sequence is not in the
request) and turns them into the taxonomy's categories (EF band, wall thickness,
layers, territories...). The EF bands are the taxonomy's (``cardiolens.data.cutoffs``,
50/40/30%); the image-measurement thresholds here (e.g. thickened at 13 mm) add margins for
measuring on rendered frames.
"""

from __future__ import annotations

from dataclasses import dataclass

from cardiolens.data.anatomy import LEVELS, WALL6_TO_4, WALLS4, Site, territory
from cardiolens.data.findings import ef_band, transmurality_band
from cardiolens.data.vocabulary import (
    DISTRIBUTION,
    EFFUSION,
    ETIOLOGY,
    HYPERTROPHY_PATTERN,
    LAYER,
    LV_SIZE,
    RV_STATUS,
    RWMA_SEVERITY,
    SUBTYPE,
    TERRITORIES,
    WALL_THICKNESS,
    WALLS6,
)
from cardiolens.data.vocabulary import LEVELS as LEVEL
from cardiolens.reader.cine import DILATED_MM, SMALL_MM, THICK_MM, THIN_MM, CineRead, read_cine
from cardiolens.reader.lesions import LesionRead, read_lesions
from cardiolens.reader.perfusion import DefectRead, read_defect
from cardiolens.reader.request import Request

DILATED_RV_MM, REDUCED_RV_RATIO = 17.0, 0.75
SMALL_EFFUSION_MM, EFFUSION_MM = 2.6, 6.5
_SEPTAL = (WALLS6.anteroseptal, WALLS6.inferoseptal)
_LATERAL = (WALLS6.inferolateral, WALLS6.anterolateral)


@dataclass
class StudyRead:
    cine: CineRead | None
    lge: LesionRead | None
    edema: LesionRead | None
    defect: DefectRead | None

    # ---------------------------------------------------------------- cine categories
    def lv_size(self) -> str:
        r = self.cine.lv_radius_mm if self.cine else None
        if r is None:
            return LV_SIZE.normal
        if r >= DILATED_MM:
            return LV_SIZE.dilated
        return LV_SIZE.small if r <= SMALL_MM else LV_SIZE.normal

    def wall_thickness(self) -> str:
        t = list(self.cine.thickness.values()) if self.cine else []
        if not t:
            return WALL_THICKNESS.normal
        if max(t) >= THICK_MM:
            return WALL_THICKNESS.thickened
        return WALL_THICKNESS.thinned if min(t) <= THIN_MM else WALL_THICKNESS.normal

    def thickened_sites(self) -> list[Site]:
        return [s for s, t in (self.cine.thickness.items() if self.cine else ()) if t >= THICK_MM]

    def hypertrophy_pattern(self) -> str:
        thick = self.thickened_sites()
        total = len(self.cine.thickness) if self.cine else 0
        if total and len(thick) >= 0.7 * total:
            return HYPERTROPHY_PATTERN.concentric
        if thick and all(w in _SEPTAL for _, w in thick):
            return HYPERTROPHY_PATTERN.asymmetric_septal
        if thick and all(lv == LEVEL.apical for lv, _ in thick):
            return HYPERTROPHY_PATTERN.apical
        septal = sum(w in _SEPTAL for _, w in thick)
        if septal > len(thick) / 2:
            return HYPERTROPHY_PATTERN.asymmetric_septal
        return HYPERTROPHY_PATTERN.other_focal

    def thickened_walls(self) -> list[str]:
        walls = {WALL6_TO_4[w] for _, w in self.thickened_sites()}
        return [w for w in WALLS4 if w in walls]

    def ef(self) -> float | None:
        return self.cine.ef if self.cine else None

    def lv_function(self) -> str:
        ef = self.ef()
        return ef_band(ef) if ef is not None else ef_band(60.0)

    def rwma_sites(self) -> list[Site]:
        return sorted(self.cine.rwma, key=_site_key) if self.cine else []

    def rwma_severity(self) -> str:
        values = list(self.cine.rwma.values()) if self.cine else []
        worst = min(values, default=0.4)
        if worst < -0.12:
            return RWMA_SEVERITY.dyskinetic
        return RWMA_SEVERITY.akinetic if worst < 0.2 else RWMA_SEVERITY.hypokinetic

    def rv_status(self) -> str:
        c = self.cine
        dilated = bool(c and c.rv_depth_mm is not None and c.rv_depth_mm >= DILATED_RV_MM)
        reduced = bool(c and c.rv_ratio is not None and c.rv_ratio > REDUCED_RV_RATIO)
        return {(False, False): RV_STATUS.normal, (True, False): RV_STATUS.dilated,
                (False, True): RV_STATUS.reduced_function,
                (True, True): RV_STATUS.dilated_reduced_function}[(dilated, reduced)]

    def effusion(self) -> str:
        e = self.cine.effusion_mm if self.cine else None
        if e is None or e < SMALL_EFFUSION_MM:
            return EFFUSION.none
        return EFFUSION.small if e < EFFUSION_MM else EFFUSION.moderate_or_large

    # ---------------------------------------------------------------- tissue findings
    def has_lge(self) -> bool:
        return bool(self.lge and self.lge.sites)

    def has_edema(self) -> bool:
        return bool(self.edema and self.edema.sites)

    def has_defect(self) -> bool:
        return bool(self.defect and self.defect.sites)

    def lge_ischemic(self) -> bool:
        """Subendocardial or transmural scar that is not global: a coronary pattern."""
        if not self.lge or not self.lge.sites or self.lge.distribution == DISTRIBUTION.diffuse:
            return False
        return bool({LAYER.subendocardial, LAYER.transmural} & set(self.lge.layers))

    def lge_transmurality(self) -> str:
        return transmurality_band(self.lge.extent if self.lge else 0.0)

    def rwma_coronary(self) -> bool:
        sites = [s for s in self.rwma_sites() if s[0] != LEVEL.apex]
        return bool(sites) and len({territory(s) for s in sites}) == 1

    # ---------------------------------------------------------------- diagnosis
    def etiology(self) -> str:
        if self.has_defect() or self.lge_ischemic() or (
                self.rwma_coronary() and not self.has_lge() and (self.ef() or 60) < 50):
            return ETIOLOGY.ischemic
        abnormal = (self.has_lge() or self.has_edema()
                    or self.wall_thickness() != WALL_THICKNESS.normal
                    or self.lv_size() == LV_SIZE.dilated or self.effusion() != EFFUSION.none
                    or (self.ef() is not None and (self.ef() or 60) < 48))
        return ETIOLOGY.nonischemic if abnormal else ETIOLOGY.normal

    def subtype(self) -> str:
        lge = self.lge
        if self.wall_thickness() == WALL_THICKNESS.thickened:
            diffuse = bool(lge and lge.distribution == DISTRIBUTION.diffuse)
            if self.hypertrophy_pattern() == HYPERTROPHY_PATTERN.concentric or diffuse:
                return SUBTYPE.amyloidosis
            return SUBTYPE.hypertrophic
        if lge and lge.distribution == DISTRIBUTION.diffuse:
            return SUBTYPE.amyloidosis
        lateral = bool(lge and any(w in _LATERAL for _, w in lge.sites))
        septal = bool(lge and any(w in _SEPTAL for _, w in lge.sites))
        if self.has_edema() and not septal:
            return SUBTYPE.myocarditis
        if lateral and septal:
            return SUBTYPE.sarcoidosis
        if lateral:
            return SUBTYPE.myocarditis
        if (self.lv_size() == LV_SIZE.dilated or self.wall_thickness() == WALL_THICKNESS.thinned
                or septal):
            return SUBTYPE.dilated
        return SUBTYPE.other


def _site_key(site: Site) -> tuple[int, str]:
    return LEVELS.index(site[0]), site[1]


def read_study(request: Request) -> StudyRead:
    """Measure every sequence present in the request's frames."""
    def pick(sequence: str, sax_only: bool = True) -> list:
        return [f for f in request.frames if f.sequence == sequence
                and (f.view == "sax" or not sax_only)]

    cine = pick("cine", sax_only=False)
    lge, t2, perf = pick("lge"), pick("t2"), pick("perf")
    return StudyRead(read_cine(cine) if cine else None,
                     read_lesions(lge, "lge") if lge else None,
                     read_lesions(t2, "t2") if t2 else None,
                     read_defect(perf) if perf else None)


def site_territories(sites: list[Site] | tuple[Site, ...]) -> list[str]:
    names = {territory(s) for s in sites}
    return [t for t in TERRITORIES if t in names]
