"""Option texts by name: the one way package code refers to an answer.

The texts live only in ``taxonomy.yaml``. Each group below names the options of one kind of
answer, in the taxonomy's order, so code says ``LV_SIZE.dilated`` or ``LAYER.mid_wall``
instead of writing the text again. A group is read from the subtask(s) listed with it, and
every subtask that shares a group must offer exactly those options (checked on import), so
a taxonomy change that breaks a name fails loudly instead of mislabelling items.
"""

from __future__ import annotations

from typing import NamedTuple, TypeVar

from cardiolens.data.taxonomy import load_taxonomy
from cardiolens.errors import TaxonomyError


class YesNo(NamedTuple):
    yes: str
    no: str


class LvSize(NamedTuple):
    normal: str
    dilated: str
    small: str


class WallThickness(NamedTuple):
    normal: str
    thinned: str
    thickened: str


class HypertrophyPattern(NamedTuple):
    concentric: str
    asymmetric_septal: str
    apical: str
    other_focal: str


class Walls4(NamedTuple):
    anterior: str
    septal: str
    inferior: str
    lateral: str


class EfBand(NamedTuple):
    normal: str
    mildly_reduced: str
    moderately_reduced: str
    severely_reduced: str


class Levels(NamedTuple):
    basal: str
    mid: str
    apical: str
    apex: str


class RwmaSeverity(NamedTuple):
    hypokinetic: str
    akinetic: str
    dyskinetic: str


class RvStatus(NamedTuple):
    normal: str
    dilated: str
    reduced_function: str
    dilated_reduced_function: str


class Effusion(NamedTuple):
    none: str
    small: str
    moderate_or_large: str


class LgeLevels(NamedTuple):
    basal: str
    mid: str
    apical: str
    apex: str
    papillary: str


class Walls6(NamedTuple):
    anterior: str
    anteroseptal: str
    inferoseptal: str
    inferior: str
    inferolateral: str
    anterolateral: str


class Distribution(NamedTuple):
    focal: str
    patchy: str
    diffuse: str


class Layer(NamedTuple):
    subendocardial: str
    mid_wall: str
    subepicardial: str
    transmural: str


class Transmurality(NamedTuple):
    up_to_25: str
    up_to_50: str
    up_to_75: str
    over_75: str


class LgePattern(NamedTuple):
    ischemic: str
    nonischemic: str


class Territories(NamedTuple):
    lad: str
    lcx: str
    rca: str


class DefectDepth(NamedTuple):
    subendocardial: str
    transmural: str


class CrossLgeT2(NamedTuple):
    neither: str
    lge_only: str
    edema_only: str
    same_region: str
    different_regions: str


class CrossPerfLge(NamedTuple):
    no_defect: str
    matched: str
    larger: str
    without_lge: str


class Etiology(NamedTuple):
    normal: str
    ischemic: str
    nonischemic: str


class Subtype(NamedTuple):
    hypertrophic: str
    dilated: str
    myocarditis: str
    amyloidosis: str
    sarcoidosis: str
    other: str


G = TypeVar("G", bound=tuple)


def _group(kind: type[G], *subtask_ids: str) -> G:
    """The group ``kind`` read from the first subtask; the others must offer the same."""
    taxonomy = load_taxonomy()
    options = taxonomy.get(subtask_ids[0]).options
    for other in subtask_ids[1:]:
        if taxonomy.get(other).options != options:
            raise TaxonomyError(f"taxonomy: {other} options differ from {subtask_ids[0]}'s "
                                f"({kind.__name__})")
    if len(options) != len(kind._fields):       # type: ignore[attr-defined]
        raise TaxonomyError(f"taxonomy: {subtask_ids[0]} has {len(options)} options, "
                            f"{kind.__name__} names {len(kind._fields)}")  # type: ignore[attr-defined]
    return kind(*options)


YES_NO = _group(YesNo, "cine_rwma_presence", "lge_presence", "lge_rv_insertion",
                "t2_edema_presence", "perf_defect_presence")
LV_SIZE = _group(LvSize, "cine_lv_size")
WALL_THICKNESS = _group(WallThickness, "cine_wall_thickness")
HYPERTROPHY_PATTERN = _group(HypertrophyPattern, "cine_hypertrophy_pattern")
WALLS4 = _group(Walls4, "cine_thickened_walls", "cine_rwma_walls")
EF_BAND = _group(EfBand, "cine_lv_function")
LEVELS = _group(Levels, "cine_rwma_levels", "t2_edema_levels")
RWMA_SEVERITY = _group(RwmaSeverity, "cine_rwma_severity")
RV_STATUS = _group(RvStatus, "cine_rv_status")
EFFUSION = _group(Effusion, "cine_pericardial_effusion")
LGE_LEVELS = _group(LgeLevels, "lge_levels")
WALLS6 = _group(Walls6, "lge_walls", "t2_edema_walls", "perf_defect_walls")
DISTRIBUTION = _group(Distribution, "lge_distribution", "t2_edema_distribution")
LAYER = _group(Layer, "lge_layer", "t2_edema_layer")
TRANSMURALITY = _group(Transmurality, "lge_transmurality")
LGE_PATTERN = _group(LgePattern, "lge_pattern")
TERRITORIES = _group(Territories, "lge_territories", "perf_defect_territories")
DEFECT_DEPTH = _group(DefectDepth, "perf_defect_depth")
CROSS_LGE_T2 = _group(CrossLgeT2, "cross_lge_t2")
CROSS_PERF_LGE = _group(CrossPerfLge, "cross_perf_lge")
ETIOLOGY = _group(Etiology, "diagnosis_etiology")
SUBTYPE = _group(Subtype, "diagnosis_nicm_subtype")

if load_taxonomy().get("perf_defect_levels").options != LEVELS[:3]:
    raise TaxonomyError("taxonomy: perf_defect_levels must be the first three LEVELS")
