"""Map the reader's findings to the options of each subtask."""

from __future__ import annotations

from collections.abc import Callable

from cardiolens.data.findings import (
    cross_lge_t2,
    cross_perf_lge,
    lge_levels,
    site_levels,
    site_walls,
    site_walls4,
)
from cardiolens.data.vocabulary import DEFECT_DEPTH, DISTRIBUTION, LGE_PATTERN, YES_NO
from cardiolens.reader.findings import StudyRead, site_territories

Answer = str | list[str]


def _levels_lge(r: StudyRead) -> list[str]:
    lge = r.lge
    return lge_levels(lge.sites, lge.papillary) if lge else []


def _cross_lge_t2(r: StudyRead) -> str:
    return cross_lge_t2(r.lge.sites if r.lge and r.has_lge() else None,
                        r.edema.sites if r.edema and r.has_edema() else None)


def _cross_perf_lge(r: StudyRead) -> str:
    return cross_perf_lge(r.defect.sites if r.defect and r.has_defect() else None,
                          r.lge.sites if r.lge else ())


def _yes(flag: bool) -> str:
    return YES_NO.yes if flag else YES_NO.no


ANSWERS: dict[str, Callable[[StudyRead], Answer]] = {
    "cine_lv_size": lambda r: r.lv_size(),
    "cine_wall_thickness": lambda r: r.wall_thickness(),
    "cine_hypertrophy_pattern": lambda r: r.hypertrophy_pattern(),
    "cine_thickened_walls": lambda r: r.thickened_walls(),
    "cine_lv_function": lambda r: r.lv_function(),
    "cine_rwma_presence": lambda r: _yes(bool(r.rwma_sites())),
    "cine_rwma_levels": lambda r: site_levels(r.rwma_sites()),
    "cine_rwma_walls": lambda r: site_walls4(r.rwma_sites()),
    "cine_rwma_severity": lambda r: r.rwma_severity(),
    "cine_rv_status": lambda r: r.rv_status(),
    "cine_pericardial_effusion": lambda r: r.effusion(),
    "lge_presence": lambda r: _yes(r.has_lge()),
    "lge_levels": _levels_lge,
    "lge_walls": lambda r: site_walls(r.lge.sites) if r.lge else [],
    "lge_distribution": lambda r: (r.lge.distribution if r.has_lge() and r.lge
                                   else DISTRIBUTION.focal),
    "lge_layer": lambda r: list(r.lge.layers) if r.lge else [],
    "lge_transmurality": lambda r: r.lge_transmurality(),
    "lge_rv_insertion": lambda r: _yes(bool(r.lge and r.lge.rv_insertion)),
    "lge_pattern": lambda r: (LGE_PATTERN.ischemic if r.lge_ischemic()
                              else LGE_PATTERN.nonischemic),
    "lge_territories": lambda r: site_territories(r.lge.sites) if r.lge else [],
    "t2_edema_presence": lambda r: _yes(r.has_edema()),
    "t2_edema_levels": lambda r: site_levels(r.edema.sites) if r.edema else [],
    "t2_edema_walls": lambda r: site_walls(r.edema.sites) if r.edema else [],
    "t2_edema_distribution": lambda r: (r.edema.distribution if r.has_edema() and r.edema
                                        else DISTRIBUTION.focal),
    "t2_edema_layer": lambda r: list(r.edema.layers) if r.edema else [],
    "perf_defect_presence": lambda r: _yes(r.has_defect()),
    "perf_defect_levels": lambda r: site_levels(r.defect.sites) if r.defect else [],
    "perf_defect_walls": lambda r: site_walls(r.defect.sites) if r.defect else [],
    "perf_defect_territories": lambda r: site_territories(r.defect.sites) if r.defect else [],
    "perf_defect_depth": lambda r: r.defect.depth if r.defect else DEFECT_DEPTH.subendocardial,
    "cross_lge_t2": _cross_lge_t2,
    "cross_perf_lge": _cross_perf_lge,
    "diagnosis_etiology": lambda r: r.etiology(),
    "diagnosis_nicm_subtype": lambda r: r.subtype(),
}


def choose(subtask: str | None, read: StudyRead | None, options: list[str],
           multi: bool) -> list[int]:
    """Indices of the chosen options; never empty (the first option as a fallback)."""
    if subtask in ANSWERS and read is not None:
        answer = ANSWERS[subtask](read)
        wanted = [answer] if isinstance(answer, str) else answer
        picked = [options.index(w) for w in wanted if w in options]
        if picked:
            return sorted(set(picked)) if multi else picked[:1]
    return [0] if options else []
