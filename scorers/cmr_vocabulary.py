"""The slot vocabulary of the CMR finding extractor, from the taxonomy and the labelling rules.

A finding is a ``(slot, value)`` pair. Values are the taxonomy's option texts in lower case
(``cine_lv_size`` -> ``normal`` / ``dilated`` / ``small``; EF bands by their name before the
bracket, ``moderately reduced``); numeric cut-offs (EF bands, wall thickness, indexed
volumes, RV ejection fraction) are the ones the dataset labels are made with, read from
:mod:`cardiolens.data.cutoffs` (EF bands through :func:`cardiolens.data.findings.ef_band`).
Nothing here repeats an option text: it is unpacked from :mod:`cardiolens.data.vocabulary`
(the taxonomy's named option groups), so a changed option fails loudly at import.
"""

from __future__ import annotations

from cardiolens.data import vocabulary as opt
from cardiolens.data.cutoffs import (
    LV_EDV_DILATED,
    LV_EDV_INDEX_DILATED,
    LV_EDV_INDEX_SMALL,
    LV_EDV_SMALL,
    RV_EDV_DILATED,
    RV_EDV_INDEX_DILATED,
    RV_EF_REDUCED,
    THICKENED_MM,
    THINNED_MM,
)
from cardiolens.data.findings import ef_band

Finding = tuple[str, str]


def _lower(group: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(o.lower() for o in group)


def _short(option: str) -> str:
    """'Normal (EF >= 50%)' -> 'normal'; 'Ischemic (follows a coronary territory)' -> 'ischemic'."""
    return option.split(" (", 1)[0].lower()


PRESENT, ABSENT = "present", "absent"
YES = opt.YES_NO.yes.lower()

SIZE_NORMAL, SIZE_DILATED, SIZE_SMALL = _lower(opt.LV_SIZE)
THICK_NORMAL, THICK_THINNED, THICK_THICKENED = _lower(opt.WALL_THICKNESS)
PATTERN_CONCENTRIC, PATTERN_SEPTAL, PATTERN_APICAL, PATTERN_FOCAL = (
    o.replace("other ", "") for o in _lower(opt.HYPERTROPHY_PATTERN))
EF_NORMAL, EF_MILD, EF_MODERATE, EF_SEVERE = (_short(b) for b in opt.EF_BAND)
EF_REDUCED = "reduced"
"""Reduced systolic function of unstated severity ("impaired", "global hypokinesis")."""
HYPOKINETIC, AKINETIC, DYSKINETIC = _lower(opt.RWMA_SEVERITY)
EFFUSION_NONE, EFFUSION_SMALL, EFFUSION_LARGE = _lower(opt.EFFUSION)
RV_NORMAL, RV_DILATED, RV_REDUCED, RV_BOTH = _lower(opt.RV_STATUS)
FUNCTION_NORMAL, FUNCTION_REDUCED = "normal", "reduced"
PATTERN_ISCHEMIC, PATTERN_NONISCHEMIC = (_short(o) for o in opt.LGE_PATTERN)
DEPTH_SUBENDO, DEPTH_TRANSMURAL = _lower(opt.DEFECT_DEPTH)
ETIOLOGY_NORMAL, ETIOLOGY_ISCHEMIC, ETIOLOGY_NONISCHEMIC = _lower(opt.ETIOLOGY)
HCM, DCM, MYOCARDITIS, AMYLOID, SARCOID, OTHER_NICM = _lower(opt.SUBTYPE)

LAYER_SUBENDO, LAYER_MIDWALL, LAYER_SUBEPI, LAYER_TRANSMURAL = _lower(opt.LAYER)
DIST_FOCAL, DIST_PATCHY, DIST_DIFFUSE = _lower(opt.DISTRIBUTION)
TRANS_25, TRANS_50, TRANS_75, TRANS_100 = tuple(opt.TRANSMURALITY)
LEVEL_NAMES = _lower(opt.LEVELS)            # basal, mid, apical, apex
WALL6_NAMES = _lower(opt.WALLS6)
WALL4_NAMES = _lower(opt.WALLS4)
TERRITORY_NAMES = tuple(opt.TERRITORIES)


def ef_value_band(ef_percent: float) -> str:
    """The lv_function value of an ejection fraction in percent (the labelling bands)."""
    return _short(ef_band(ef_percent))


def rv_status(size: str, function: str) -> str:
    """The cine_rv_status option value of an RV size and function."""
    dilated, reduced = size == SIZE_DILATED, function == FUNCTION_REDUCED
    return RV_BOTH if dilated and reduced else RV_DILATED if dilated else \
        RV_REDUCED if reduced else RV_NORMAL


def rv_parts(status: str) -> tuple[str, str]:
    """RV size and function values of a cine_rv_status option value."""
    return ({RV_NORMAL: (SIZE_NORMAL, FUNCTION_NORMAL),
             RV_DILATED: (SIZE_DILATED, FUNCTION_NORMAL),
             RV_REDUCED: (SIZE_NORMAL, FUNCTION_REDUCED),
             RV_BOTH: (SIZE_DILATED, FUNCTION_REDUCED)})[status]


def lv_size_of_index(ml_per_m2: float) -> str:
    return SIZE_DILATED if ml_per_m2 > LV_EDV_INDEX_DILATED else SIZE_SMALL \
        if ml_per_m2 < LV_EDV_INDEX_SMALL else SIZE_NORMAL


def rv_size_of_index(ml_per_m2: float) -> str:
    return SIZE_DILATED if ml_per_m2 > RV_EDV_INDEX_DILATED else SIZE_NORMAL


def lv_size_of_volume(ml: float) -> str:
    """LV size from an absolute EDV (ml), the cut-offs used when the body size is unknown."""
    return SIZE_DILATED if ml > LV_EDV_DILATED else SIZE_SMALL if ml < LV_EDV_SMALL \
        else SIZE_NORMAL


def rv_size_of_volume(ml: float) -> str:
    return SIZE_DILATED if ml > RV_EDV_DILATED else SIZE_NORMAL


def rv_function_of_ef(ef_percent: float) -> str:
    return FUNCTION_REDUCED if ef_percent < RV_EF_REDUCED else FUNCTION_NORMAL


def thickness_of_mm(mm: float) -> str:
    """Wall thickness class of a stated (maximal) end-diastolic thickness in mm."""
    return THICK_THICKENED if mm >= THICKENED_MM else THICK_THINNED if mm < THINNED_MM \
        else THICK_NORMAL


SUBTYPES = (HCM, DCM, MYOCARDITIS, AMYLOID, SARCOID, OTHER_NICM)

# Slots where two statements of disjoint values contradict each other (clinically opposite),
# grouped for per-slot reporting: the slots the issue of sign flips names, then the rest.
CONTRADICTION_GROUPS: dict[str, tuple[str, ...]] = {
    "lge": ("lge", "infarct", "pericardial_enhancement"),
    "lge_layer": ("lge_layer",),
    "lv_function": ("lv_function",),
    "lv_size": ("lv_size",),
    "diagnosis": ("etiology", "diagnosis"),
    "other": ("lge_pattern", "lge_transmurality", "lge_distribution", "edema",
              "edema_distribution", "perfusion_defect", "defect_depth", "rwma",
              "rwma_severity", "wall_thickness", "hypertrophy_pattern", "rv_size",
              "rv_function", "effusion"),
}
EXCLUSIVE_SLOTS = frozenset(s for group in CONTRADICTION_GROUPS.values() for s in group)
SLOT_GROUP = {slot: group for group, slots in CONTRADICTION_GROUPS.items() for slot in slots}


def compatible(slot: str, a: str, b: str) -> bool:
    """Whether two values of one slot can both hold (equal, or one is the vaguer form)."""
    if a == b:
        return True
    if slot == "lv_function":
        reduced = {EF_REDUCED, EF_MILD, EF_MODERATE, EF_SEVERE}
        return EF_REDUCED in (a, b) and {a, b} <= reduced
    return False


# The findings a global normal statement ("normal CMR", "no abnormality detected") implies.
NORMAL_STUDY: frozenset[Finding] = frozenset({
    ("lge", ABSENT), ("infarct", ABSENT), ("edema", ABSENT), ("perfusion_defect", ABSENT),
    ("rwma", ABSENT), ("lv_size", SIZE_NORMAL), ("lv_function", EF_NORMAL),
    ("wall_thickness", THICK_NORMAL), ("rv_size", SIZE_NORMAL),
    ("rv_function", FUNCTION_NORMAL)})

_PRESENCE = (PRESENT, ABSENT)
_LEVELS4 = LEVEL_NAMES
_LESION_LAYERS = (LAYER_SUBENDO, LAYER_MIDWALL, LAYER_SUBEPI, LAYER_TRANSMURAL)
_DISTS = (DIST_FOCAL, DIST_PATCHY, DIST_DIFFUSE)

SLOT_VALUES: dict[str, tuple[str, ...]] = {
    "lge": _PRESENCE, "lge_level": _LEVELS4, "lge_wall": WALL6_NAMES,
    "lge_layer": _LESION_LAYERS, "lge_distribution": _DISTS,
    "lge_transmurality": (TRANS_25, TRANS_50, TRANS_75, TRANS_100),
    "lge_pattern": (PATTERN_ISCHEMIC, PATTERN_NONISCHEMIC), "lge_territory": TERRITORY_NAMES,
    "lge_papillary": (YES,), "lge_rv_insertion": (YES,), "infarct": _PRESENCE,
    "pericardial_enhancement": _PRESENCE,
    "edema": _PRESENCE, "edema_level": _LEVELS4, "edema_wall": WALL6_NAMES,
    "edema_layer": _LESION_LAYERS, "edema_distribution": _DISTS,
    "perfusion_defect": _PRESENCE, "defect_level": _LEVELS4, "defect_wall": WALL6_NAMES,
    "defect_territory": TERRITORY_NAMES, "defect_depth": (DEPTH_SUBENDO, DEPTH_TRANSMURAL),
    "rwma": _PRESENCE, "rwma_level": _LEVELS4, "rwma_wall": WALL4_NAMES,
    "rwma_severity": (HYPOKINETIC, AKINETIC, DYSKINETIC),
    "lv_size": (SIZE_NORMAL, SIZE_DILATED, SIZE_SMALL),
    "lv_function": (EF_NORMAL, EF_MILD, EF_MODERATE, EF_SEVERE, EF_REDUCED),
    "wall_thickness": (THICK_NORMAL, THICK_THINNED, THICK_THICKENED),
    "hypertrophy_pattern": (PATTERN_CONCENTRIC, PATTERN_SEPTAL, PATTERN_APICAL, PATTERN_FOCAL),
    "thickened_wall": WALL4_NAMES,
    "rv_size": (SIZE_NORMAL, SIZE_DILATED), "rv_function": (FUNCTION_NORMAL, FUNCTION_REDUCED),
    "effusion": (EFFUSION_NONE, EFFUSION_SMALL, EFFUSION_LARGE),
    "etiology": (ETIOLOGY_NORMAL, ETIOLOGY_ISCHEMIC, ETIOLOGY_NONISCHEMIC),
    "diagnosis": SUBTYPES,
}
"""Every slot the extractor fills and the values it may take."""
assert set(SLOT_VALUES) >= EXCLUSIVE_SLOTS
