"""EMIDEC (LGE short axis after myocardial infarction) to the CardioLens format.

Layout read: ``Case_<N|P>NNN/Images/Case_...nii.gz`` (LGE SAX stack) and
``Case_.../Contours/Case_...nii.gz`` (1 cavity, 2 myocardium, 3 infarct, 4 no-reflow).
Items, from the labels only: ``lge_presence`` (infarct or no-reflow voxels), and for
enhanced cases ``lge_levels`` (slice levels of the stack, base to apex), ``lge_layer``
(subendocardial when the scar touches the cavity but not the outer myocardial border,
transmural when it spans both) and ``lge_transmurality`` (the largest per-slice, per-30-degree
share of the wall the scar occupies). EMIDEC has no RV label, so walls and territories,
which need the RV insertion points, are not derived. P cases (infarction) get the
diagnosis Ischemic cardiomyopathy; N cases get no diagnosis item (the dataset does not say).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

from cardiolens.data.dataset import Item, SeriesInfo, Study
from cardiolens.data.findings import transmurality_band
from cardiolens.data.volumes import write_volume
from cardiolens.importers.common import ImportSummary, import_cases
from cardiolens.importers.lesions import lesion_layer, lesion_levels, transmural_share
from cardiolens.importers.segmented_cine import CaseError, load_nifti

CAVITY, MYO, INFARCT, NO_REFLOW = 1, 2, 3, 4


def lge_items(study_id: str, seg: np.ndarray) -> list[Item]:
    """Items from a base-to-apex (H, W, slices) label volume."""
    def item(subtask: str, answer: str | list[str]) -> Item:
        return Item(f"{study_id}/{subtask}", study_id, "image_understanding", subtask, answer)

    scar = (seg == INFARCT) | (seg == NO_REFLOW)
    if not scar.any():
        return [item("lge_presence", "No")]
    cavity, wall = seg == CAVITY, (seg == MYO) | scar
    return [item("lge_presence", "Yes"),
            item("lge_levels", lesion_levels(scar, lge_names=True)),
            item("lge_layer", [lesion_layer(scar, cavity, wall)]),
            item("lge_transmurality", transmurality_band(transmural_share(scar, wall, cavity)))]


def import_case(case: Path, out: Path) -> tuple[Study, list[Item]]:
    kind = case.name.split("_")[-1][:1].upper()
    if kind not in ("N", "P"):
        raise CaseError("case name does not say N (normal) or P (pathological)")
    image, spacing = load_nifti(case / "Images" / f"{case.name}.nii.gz")
    seg, _ = load_nifti(case / "Contours" / f"{case.name}.nii.gz")
    if image.ndim != 3 or seg.shape != image.shape:
        raise CaseError(f"image {image.shape} and contours {seg.shape} do not match as 3D")
    seg = seg.astype(np.int16)
    if not (seg == CAVITY).any():
        raise CaseError("no cavity label")
    cavity = [(seg[:, :, z] == CAVITY).sum() for z in range(seg.shape[2])]
    filled = [z for z, area in enumerate(cavity) if area]
    if cavity[filled[0]] < cavity[filled[-1]]:
        image, seg = image[:, :, ::-1], seg[:, :, ::-1]
    if kind == "P" and not ((seg == INFARCT) | (seg == NO_REFLOW)).any():
        raise CaseError("P case without infarct label")
    study_id = f"emidec-{case.name}"
    path = f"volumes/{study_id}/lge_sax.nii.gz"
    write_volume(out / path, image[..., None].astype(np.float32), spacing)
    items = lge_items(study_id, seg)
    if kind == "P":
        items.append(Item(f"{study_id}/diagnosis_etiology", study_id, "diagnosis",
                          "diagnosis_etiology", "Ischemic cardiomyopathy"))
    return Study(study_id, {"lge_sax": SeriesInfo(path, image.shape[2], 1)}, {}), items


def import_emidec(src: Path, out: Path, progress: bool = True,
                  on_problem: Callable[[str], None] = print) -> ImportSummary:
    """Import every ``Case_*`` folder under ``src``."""
    cases = sorted(p for p in Path(src).rglob("Case_*") if p.is_dir())
    return import_cases([(c.name, str(c), partial(import_case, c, out)) for c in cases], out,
                        "emidec", "EMIDEC LGE short-axis with items derived from the infarct "
                        "labels.", "EMIDEC terms of use (research)", progress, on_problem)
