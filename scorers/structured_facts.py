"""The findings of a dataset's structured section record (``Item.findings``) as
``(slot, value)`` facts, the form the CMR finding extractor reads report text into; the
phantom's reference sections must read back to exactly these."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from cardiolens.data.anatomy import territory
from cardiolens.data.findings import transmurality_band
from cardiolens.data.vocabulary import DISTRIBUTION
from cardiolens.scorers import cmr_vocabulary as V
from cardiolens.scorers.finding_locations import APICAL, BASAL, MID, WALL4

Finding = tuple[str, str]



def _site_facts(sites: Iterable[str], prefix: str, four_walls: bool) -> set[Finding]:
    out: set[Finding] = set()
    for site in sites:
        parts = site.lower().split()
        out.add((f"{prefix}_level", parts[0]))
        if len(parts) > 1:
            out.add((f"{prefix}_wall", WALL4[parts[1]] if four_walls else parts[1]))
    return out


def _lesion_facts(prefix: str, record: Mapping[str, Any]) -> set[Finding]:
    """Location, layer and distribution facts of an LGE or edema record.

    A diffuse lesion is reported as "all segments", which names every level and wall.
    """
    if record["distribution"] == DISTRIBUTION.diffuse:
        out = {(f"{prefix}_level", lv) for lv in (BASAL, MID, APICAL)}
        out |= {(f"{prefix}_wall", w) for w in V.WALL6_NAMES}
    else:
        out = _site_facts(record["sites"], prefix, four_walls=False)
    out |= {(f"{prefix}_layer", str(x).lower()) for x in record["layers"]}
    out.add((f"{prefix}_distribution", str(record["distribution"]).lower()))
    return out


def _territories(sites: Iterable[str], slot: str) -> set[Finding]:
    out: set[Finding] = set()
    for site in sites:
        level, _, wall = site.partition(" ")
        out.add((slot, territory((level, wall))))
    return out


def facts_from_structured(section: str, record: Mapping[str, Any]) -> set[Finding]:
    """The findings of a structured section record (dataset ``findings``) as facts."""
    out: set[Finding] = set()
    if section == "cine":
        out.add(("lv_size", str(record["lv_size"]).lower()))
        out.add(("wall_thickness", str(record["wall_thickness"]).lower()))
        if record.get("hypertrophy_pattern"):
            pattern = str(record["hypertrophy_pattern"]).lower().replace("other focal", "focal")
            out.add(("hypertrophy_pattern", pattern))
        out |= {("thickened_wall", str(w).lower()) for w in record.get("thickened_walls", [])}
        out.add(("lv_function", V.ef_value_band(float(record["ef_percent"]))))
        if record.get("rwma_sites"):
            out.add(("rwma", V.PRESENT))
            out |= _site_facts(record["rwma_sites"], "rwma", four_walls=True)
            out.add(("rwma_severity", str(record["rwma_severity"]).lower()))
        else:
            out.add(("rwma", V.ABSENT))
        size, function = V.rv_parts(str(record["rv_status"]).lower())
        out |= {("rv_size", size), ("rv_function", function)}
        out.add(("effusion", str(record["effusion"]).lower()))
    elif section == "lge":
        if not record.get("present"):
            return {("lge", V.ABSENT)}
        out.add(("lge", V.PRESENT))
        out |= _lesion_facts("lge", record)
        out.add(("lge_transmurality", transmurality_band(float(record["transmural_extent"]))))
        out.add(("lge_pattern", V.PATTERN_ISCHEMIC if record["ischemic"]
                 else V.PATTERN_NONISCHEMIC))
        if record["ischemic"]:
            out |= _territories(record["sites"], "lge_territory")
        if record.get("papillary"):
            out.add(("lge_papillary", V.YES))
        if record.get("rv_insertion"):
            out.add(("lge_rv_insertion", V.YES))
    elif section == "t2":
        if not record.get("present"):
            return {("edema", V.ABSENT)}
        out.add(("edema", V.PRESENT))
        out |= _lesion_facts("edema", record)
    elif section == "perfusion":
        if not record.get("present"):
            return {("perfusion_defect", V.ABSENT)}
        out.add(("perfusion_defect", V.PRESENT))
        out |= _site_facts(record["sites"], "defect", four_walls=False)
        out |= _territories(record["sites"], "defect_territory")
        out.add(("defect_depth", str(record["depth"]).lower()))
    elif section == "impression":
        out.add(("etiology", str(record["etiology"]).lower()))
        if record.get("subtype"):
            out.add(("diagnosis", str(record["subtype"]).lower()))
    return out
