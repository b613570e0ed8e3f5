"""Items from segmentation measurements and a dataset's diagnosis label.

Only what segmentations support is asked: LV size, wall thickness (and which walls when
thickened), LV function band and RV status, plus the diagnosis items. Nothing is guessed
for subtasks the masks cannot answer (wall motion, hypertrophy pattern, effusion, LGE,
edema, perfusion): the measurements become a :class:`~cardiolens.data.findings.Findings`
record that lists what was measured, labelled by :func:`~cardiolens.data.findings.build_items`
like every other source.
"""

from __future__ import annotations

from cardiolens.data.dataset import Item
from cardiolens.data.findings import CineFindings, Findings, build_items
from cardiolens.data.vocabulary import EFFUSION
from cardiolens.importers.cardiac_geometry import (
    Measurements,
    lv_size,
    rv_status,
    thickened_walls,
    wall_thickness,
)

MEASURED = frozenset({"cine_lv_size", "cine_wall_thickness", "cine_thickened_walls",
                      "cine_lv_function", "cine_rv_status", "diagnosis_etiology",
                      "diagnosis_nicm_subtype"})
"""The subtasks a short-axis cine segmentation and a diagnosis label answer."""


def measured_findings(m: Measurements, etiology: str, subtype: str | None) -> Findings:
    """The findings record of a segmented cine study (unmeasured fields neutral)."""
    cine = CineFindings(lv_size=lv_size(m), wall_thickness=wall_thickness(m),
                        hypertrophy_pattern=None, thickened_walls=tuple(thickened_walls(m)),
                        ef_percent=m.lv_ef, rwma_sites=(), rwma_severity=None,
                        rv_status=rv_status(m), effusion=EFFUSION.none)
    return Findings(cine, None, None, None, etiology, subtype, measured=MEASURED)


def measured_items(study_id: str, m: Measurements, etiology: str,
                   subtype: str | None) -> list[Item]:
    """The items of a segmented short-axis cine study (``cine_sax``) with its diagnosis."""
    return build_items(study_id, measured_findings(m, etiology, subtype), ["cine_sax"])
