"""Reference report sections written from structured findings, with varied phrasing.

Several templates and synonyms per statement, and shuffled order for independent
statements, so lexical overlap cannot be gamed by one memorised sentence. Every sentence
states only what the findings hold.
"""

from __future__ import annotations

import numpy as np

from cardiolens.data import vocabulary as vocab
from cardiolens.data.findings import (
    EF_BANDS,
    Findings,
    ef_band,
    site_levels,
    site_territories,
    site_walls,
    site_walls4,
    transmurality_band,
)

Rng = np.random.Generator


def _pick(rng: Rng, options: tuple[str, ...]) -> str:
    return options[int(rng.integers(len(options)))]


def _join(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _location(sites: tuple[tuple[str, str], ...], four_walls: bool = False) -> str:
    """'the basal and mid anterior and anteroseptal walls' (and 'the apex')."""
    levels = [lv.lower() for lv in site_levels(sites) if lv != vocab.LEVELS.apex]
    walls = [w.lower() for w in (site_walls4(sites) if four_walls else site_walls(sites))]
    parts = []
    if walls:
        noun = "wall" if len(walls) == 1 else "walls"
        parts.append(f"the {_join(levels)} {_join(walls)} {noun}")
    if any(lv == vocab.LEVELS.apex for lv, _ in sites):
        parts.append("the apex")
    return " and ".join(parts)


SIZE = {vocab.LV_SIZE.normal: ("normal", "not dilated"),
        vocab.LV_SIZE.dilated: ("dilated", "enlarged"), vocab.LV_SIZE.small: ("small",)}
FUNCTION = {0: ("normal", "preserved"), 1: ("mildly reduced", "mildly impaired"),
            2: ("moderately reduced", "moderately impaired"),
            3: ("severely reduced", "severely impaired")}
MOTION = {vocab.RWMA_SEVERITY.hypokinetic: "hypokinesis",
          vocab.RWMA_SEVERITY.akinetic: "akinesis", vocab.RWMA_SEVERITY.dyskinetic: "dyskinesis"}
RV = {vocab.RV_STATUS.normal: ("The right ventricle is normal in size and function.",
                               "Normal right ventricular size and systolic function."),
      vocab.RV_STATUS.dilated: ("The right ventricle is dilated with preserved systolic "
                                "function.",),
      vocab.RV_STATUS.reduced_function: ("The right ventricle is normal in size with reduced "
                                         "systolic function.",),
      vocab.RV_STATUS.dilated_reduced_function: ("The right ventricle is dilated with reduced "
                                                 "systolic function.",)}
EFFUSION = {vocab.EFFUSION.none: ("No pericardial effusion.",
                                  "There is no pericardial effusion."),
            vocab.EFFUSION.small: ("There is a small pericardial effusion.",
                                   "A small pericardial effusion is present."),
            vocab.EFFUSION.moderate_or_large: ("There is a moderate to large pericardial "
                                               "effusion.",)}
LAYER = {vocab.LAYER.subendocardial: ("subendocardial",),
         vocab.LAYER.mid_wall: ("mid-wall", "midmyocardial"),
         vocab.LAYER.subepicardial: ("subepicardial", "epicardial"),
         vocab.LAYER.transmural: ("transmural",)}
DISTRIBUTION = {vocab.DISTRIBUTION.focal: "focal", vocab.DISTRIBUTION.patchy: "patchy",
                vocab.DISTRIBUTION.diffuse: "diffuse"}
TRANSMURAL = {vocab.TRANSMURALITY.up_to_25: "less than 25%",
              vocab.TRANSMURALITY.up_to_50: "26 to 50%",
              vocab.TRANSMURALITY.up_to_75: "51 to 75%",
              vocab.TRANSMURALITY.over_75: "more than 75%"}
PATTERN = {vocab.HYPERTROPHY_PATTERN.concentric: "concentric",
           vocab.HYPERTROPHY_PATTERN.asymmetric_septal: "asymmetric septal",
           vocab.HYPERTROPHY_PATTERN.apical: "apical",
           vocab.HYPERTROPHY_PATTERN.other_focal: "focal"}
LGE_NAME = ("late gadolinium enhancement", "late enhancement", "LGE")


def cine_section(f: Findings, rng: Rng) -> str:
    c = f.cine
    size = _pick(rng, SIZE[c.lv_size])
    if c.wall_thickness == vocab.WALL_THICKNESS.thickened:
        pattern = PATTERN[c.hypertrophy_pattern or ""]
        walls = [w.lower() for w in c.thickened_walls]
        noun = "wall" if len(walls) == 1 else "walls"
        thick = f"{pattern} hypertrophy with thickened {_join(walls)} {noun}"
    elif c.wall_thickness == vocab.WALL_THICKNESS.thinned:
        thick = _pick(rng, ("thinned walls", "wall thinning"))
    else:
        thick = _pick(rng, ("normal wall thickness", "no hypertrophy"))
    lv = _pick(rng, (f"The left ventricle is {size} in size with {thick}.",
                     f"Left ventricular cavity size is {size}, with {thick}."))
    band = EF_BANDS.index(ef_band(c.ef_percent))
    function = _pick(rng, (
        f"Global systolic function is {_pick(rng, FUNCTION[band])} "
        f"(EF {c.ef_percent:.0f}%).",
        f"LV ejection fraction is {c.ef_percent:.0f}%, {_pick(rng, FUNCTION[band])} "
        "systolic function."))
    if c.rwma_sites:
        where = _location(c.rwma_sites, four_walls=True)
        motion = _pick(rng, (f"There is {MOTION[c.rwma_severity or '']} of {where}.",
                             f"Regional {MOTION[c.rwma_severity or '']} involves {where}."))
    else:
        motion = _pick(rng, ("No regional wall motion abnormality.",
                             "There are no regional wall motion abnormalities."))
    tail = [_pick(rng, RV[c.rv_status]), _pick(rng, EFFUSION[c.effusion])]
    rng.shuffle(tail)
    return " ".join([lv, function, motion, *tail])


def lge_section(f: Findings, rng: Rng) -> str:
    lge = f.lge
    name = _pick(rng, LGE_NAME)
    if lge is None:
        return _pick(rng, (f"No {name}.", "There is no myocardial late gadolinium enhancement.",
                           "No late enhancement to suggest scar or fibrosis."))
    layers = _join([_pick(rng, LAYER[layer]) for layer in lge.layers])
    where = ("all segments" if lge.distribution == vocab.DISTRIBUTION.diffuse
             else _location(lge.sites))
    sentences = [f"There is {DISTRIBUTION[lge.distribution]} {layers} {name} involving {where}."]
    sentences.append(f"The maximal transmural extent is "
                     f"{TRANSMURAL[transmurality_band(lge.transmural_extent)]}.")
    extras = []
    if lge.papillary:
        extras.append("The papillary muscle also enhances.")
    if lge.rv_insertion:
        extras.append("Enhancement is also present at the right ventricular insertion points.")
    rng.shuffle(extras)
    if lge.ischemic:
        terr = _join(site_territories(lge.sites))
        pattern = f"The pattern is ischemic, in the {terr} territory."
    else:
        pattern = _pick(rng, ("The pattern is non-ischemic.",
                              "This is a non-ischemic pattern."))
    return " ".join([*sentences, *extras, pattern])


def t2_section(f: Findings, rng: Rng) -> str:
    edema = f.edema
    if edema is None:
        return _pick(rng, ("No myocardial edema on T2-weighted imaging.",
                           "T2-weighted images show no myocardial edema."))
    layers = _join([_pick(rng, LAYER[layer]) for layer in edema.layers])
    where = ("all segments" if edema.distribution == vocab.DISTRIBUTION.diffuse
             else _location(edema.sites))
    return _pick(rng, (
        f"There is {DISTRIBUTION[edema.distribution]} {layers} myocardial edema in {where}.",
        f"Increased T2 signal in keeping with {DISTRIBUTION[edema.distribution]} {layers} "
        f"edema involves {where}."))


def perfusion_section(f: Findings, rng: Rng) -> str:
    defect = f.perfusion
    if defect is None:
        return _pick(rng, ("No perfusion defect.",
                           "First-pass perfusion is normal, without a defect."))
    terr = _join(site_territories(defect.sites))
    noun = "territory" if len(site_territories(defect.sites)) == 1 else "territories"
    return (f"There is a {defect.depth.lower()} perfusion defect in "
            f"{_location(defect.sites)}, in the {terr} {noun}.")


def impression_section(f: Findings, rng: Rng) -> str:
    if f.etiology == vocab.ETIOLOGY.normal:
        return _pick(rng, ("Normal cardiac MRI.",
                           "Normal study without evidence of cardiomyopathy."))
    if f.etiology == vocab.ETIOLOGY.ischemic:
        if f.lge is None:
            terr = _join(site_territories(f.perfusion.sites)) if f.perfusion else "coronary"
            return _pick(rng, (f"Ischemic cardiomyopathy, {terr} territory.",
                               f"Findings are consistent with ischemic cardiomyopathy in the "
                               f"{terr} territory."))
        terr = _join(site_territories(f.lge.sites))
        return _pick(rng, (f"Ischemic cardiomyopathy with infarction in the {terr} territory.",
                           f"Findings are consistent with ischemic cardiomyopathy "
                           f"({terr} territory infarct)."))
    if f.subtype in (None, vocab.SUBTYPE.other):
        return _pick(rng, ("Other non-ischemic cardiomyopathy.",
                           "Findings are consistent with a non-ischemic cardiomyopathy, other "
                           "non-ischemic type."))
    subtype = f.subtype.lower()
    return _pick(rng, (f"Non-ischemic cardiomyopathy, most likely {subtype}.",
                       f"Findings are consistent with {subtype}, a non-ischemic "
                       "cardiomyopathy."))


def write_reports(f: Findings, rng: Rng) -> dict[str, str]:
    """Reference text of each report section, keyed by report subtask id."""
    return {"report_cine": cine_section(f, rng), "report_lge": lge_section(f, rng),
            "report_t2": t2_section(f, rng), "report_perfusion": perfusion_section(f, rng),
            "report_impression": impression_section(f, rng)}
