"""Structured findings of a phantom study, derived from the parameters that draw it."""

from __future__ import annotations

from cardiolens.data.anatomy import LEVELS, WALL6_TO_4, WALLS4, WALLS6, Site
from cardiolens.data.findings import (
    LAYERS,
    CineFindings,
    EdemaFindings,
    Findings,
    LgeFindings,
    PerfusionFindings,
)
from cardiolens.data.vocabulary import (
    DEFECT_DEPTH,
    DISTRIBUTION,
    EFFUSION,
    LV_SIZE,
    RV_STATUS,
    WALL_THICKNESS,
)
from cardiolens.data.vocabulary import LEVELS as LEVEL
from cardiolens.phantom.params import DIAGNOSIS_ANSWERS, Lesion, StudyParams

# Drawing thresholds on the parameters (mm of the model heart, shortening fraction, site
# count), not label cut-offs for measured data (those are in data/cutoffs.py). Each sits in
# the gap between the ranges disease.py draws for neighbouring labels (docs/phantom.md,
# "Labels and reports"). THICKENED_MM is 13 where cutoffs.THICKENED_MM is 15: non-thickened
# walls are drawn at most 10.5 mm and concentric LVH (hypertensive, Fabry-like) from 13.8 mm,
# so 15 mm would cut through drawn LVH and drop walls from cine_thickened_walls.
THICKENED_MM = 13.0
THINNED_MM = 5.5
DILATED_LV_MM = 30.0
SMALL_LV_MM = 21.0
DILATED_RV_MM = 18.0
REDUCED_RV_SHORTENING = 0.25
SMALL_EFFUSION_MM = 6.0
DIFFUSE_SITES = 12

_SITE_ORDER: tuple[Site, ...] = (*tuple((lv, w) for lv in LEVELS[:3] for w in WALLS6),
                                  (LEVEL.apex, ""))


def _union_sites(lesions: tuple[Lesion, ...]) -> tuple[Site, ...]:
    sites = {s for lesion in lesions for s in lesion.sites}
    return tuple(s for s in _SITE_ORDER if s in sites)


def _distribution(lesions: tuple[Lesion, ...]) -> str:
    if len(_union_sites(lesions)) >= DIFFUSE_SITES:
        return DISTRIBUTION.diffuse
    if len(lesions) > 1 or any(lesion.patchy for lesion in lesions):
        return DISTRIBUTION.patchy
    return DISTRIBUTION.focal


def _layers(lesions: tuple[Lesion, ...]) -> tuple[str, ...]:
    return tuple(layer for layer in LAYERS if any(les.layer == layer for les in lesions))


def _cine(p: StudyParams) -> CineFindings:
    heart = p.heart
    thick = [t for row in heart.thickness for t in row]
    if max(thick) >= THICKENED_MM:
        wall_thickness = WALL_THICKNESS.thickened
    elif min(thick) <= THINNED_MM:
        wall_thickness = WALL_THICKNESS.thinned
    else:
        wall_thickness = WALL_THICKNESS.normal
    thickened = {WALL6_TO_4[w] for row in heart.thickness
                 for w, t in zip(WALLS6, row, strict=True) if t >= THICKENED_MM}
    if heart.r_endo >= DILATED_LV_MM:
        lv_size = LV_SIZE.dilated
    elif heart.r_endo <= SMALL_LV_MM:
        lv_size = LV_SIZE.small
    else:
        lv_size = LV_SIZE.normal
    dilated = heart.rv_depth >= DILATED_RV_MM
    reduced = heart.rv_shortening < REDUCED_RV_SHORTENING
    rv = {(False, False): RV_STATUS.normal, (True, False): RV_STATUS.dilated,
          (False, True): RV_STATUS.reduced_function,
          (True, True): RV_STATUS.dilated_reduced_function}[(dilated, reduced)]
    if heart.effusion <= 0:
        effusion = EFFUSION.none
    elif heart.effusion < SMALL_EFFUSION_MM:
        effusion = EFFUSION.small
    else:
        effusion = EFFUSION.moderate_or_large
    return CineFindings(
        lv_size=lv_size, wall_thickness=wall_thickness,
        hypertrophy_pattern=(p.hypertrophy_pattern
                             if wall_thickness == WALL_THICKNESS.thickened else None),
        thickened_walls=tuple(w for w in WALLS4 if w in thickened),
        ef_percent=p.ef_percent, rwma_sites=p.rwma_sites, rwma_severity=p.rwma_severity,
        rv_status=rv, effusion=effusion,
    )


def findings_from_params(p: StudyParams) -> Findings:
    """Every label of the study, from the drawing parameters alone."""
    lge = None
    if p.scar:
        lge = LgeFindings(
            sites=_union_sites(p.scar), papillary=p.papillary_scar,
            distribution=_distribution(p.scar), layers=_layers(p.scar),
            transmural_extent=max(lesion.extent for lesion in p.scar),
            rv_insertion=any(lesion.arcs for lesion in p.scar),
            ischemic=p.diagnosis == "ischemic",
        )
    edema = None
    if p.edema:
        edema = EdemaFindings(sites=_union_sites(p.edema), distribution=_distribution(p.edema),
                              layers=_layers(p.edema))
    perfusion = None
    if p.defect is not None:
        depth = (DEFECT_DEPTH.transmural if p.defect.extent >= 0.99
                 else DEFECT_DEPTH.subendocardial)
        perfusion = PerfusionFindings(sites=p.defect.sites, depth=depth)
    etiology, subtype = DIAGNOSIS_ANSWERS[p.diagnosis]
    return Findings(cine=_cine(p), lge=lge, edema=edema, perfusion=perfusion,
                    etiology=etiology, subtype=subtype)
