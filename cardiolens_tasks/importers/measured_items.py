"""Items from segmentation measurements and a dataset's diagnosis label.

Only what segmentations support is asked: LV size, wall thickness (and which walls when
thickened), LV function band and RV status, plus the diagnosis items. Nothing is guessed
for subtasks the masks cannot answer (wall motion, LGE, edema, perfusion).
"""

from __future__ import annotations

from cardiolens.data.dataset import Item
from cardiolens.data.findings import ef_band
from cardiolens.importers.cardiac_geometry import (
    Measurements,
    lv_size,
    rv_status,
    thickened_walls,
    wall_thickness,
)


def measured_items(study_id: str, m: Measurements, etiology: str,
                   subtype: str | None) -> list[Item]:
    def item(subtask: str, level: str, answer: str | list[str]) -> Item:
        return Item(f"{study_id}/{subtask}", study_id, level, subtask, answer)

    thickness = wall_thickness(m)
    items = [item("cine_lv_size", "image_understanding", lv_size(m)),
             item("cine_wall_thickness", "image_understanding", thickness)]
    walls = thickened_walls(m)
    if thickness == "Thickened" and walls:
        items.append(item("cine_thickened_walls", "image_understanding", walls))
    items += [item("cine_lv_function", "image_understanding", ef_band(m.lv_ef)),
              item("cine_rv_status", "image_understanding", rv_status(m)),
              item("diagnosis_etiology", "diagnosis", etiology)]
    if subtype is not None:
        items.append(item("diagnosis_nicm_subtype", "diagnosis", subtype))
    return items
