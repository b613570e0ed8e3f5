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
Orientation: the image's affine when it is a real oblique plane; otherwise only the slice
order comes from the cavity-area profile and the in-plane rotation is recorded and reported
as unresolved (no RV label to place the septum).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

from cardiolens.data.dataset import Item, SeriesInfo, Study
from cardiolens.data.findings import UNMEASURED_CINE, Findings, LgeFindings, build_items
from cardiolens.data.vocabulary import DISTRIBUTION, ETIOLOGY
from cardiolens.data.volumes import write_volume
from cardiolens.importers.cardiac_geometry import Labels
from cardiolens.importers.common import ImportSummary, import_cases
from cardiolens.importers.lesions import lesion_layer, lesion_levels, significant, transmural_share
from cardiolens.importers.reorient import orient_short_axis
from cardiolens.importers.segmented_cine import CaseError, load_nifti, read_nifti

CAVITY, MYO, INFARCT, NO_REFLOW = 1, 2, 3, 4


MEASURED = frozenset({"lge_presence", "lge_levels", "lge_layer", "lge_transmurality"})
"""The subtasks EMIDEC infarct labels answer without a resolved in-plane frame (no walls)."""


def lge_findings(seg: np.ndarray, spacing: tuple[float, float, float], infarct_case: bool
                 ) -> Findings:
    """The findings record of a base-to-apex (H, W, slices) label volume. Walls are not
    placed (no RV label), so each site is a level with no wall; ``infarct_case`` (a P case)
    makes the etiology measured, as ischemic."""
    scar = significant((seg == INFARCT) | (seg == NO_REFLOW), spacing)
    lge = None
    if scar.any():
        cavity, wall = seg == CAVITY, (seg == MYO) | scar
        lge = LgeFindings(sites=tuple((level, "") for level in lesion_levels(scar)),
                          papillary=False, distribution=DISTRIBUTION.focal,   # not measured
                          layers=(lesion_layer(scar, cavity, wall),),
                          transmural_extent=transmural_share(scar, wall, cavity),
                          rv_insertion=False, ischemic=True)
    measured = MEASURED | {"diagnosis_etiology"} if infarct_case else MEASURED
    return Findings(UNMEASURED_CINE, lge, None, None, ETIOLOGY.ischemic, None,
                    measured=measured)


def lge_items(study_id: str, seg: np.ndarray, spacing: tuple[float, float, float],
              infarct_case: bool = False) -> list[Item]:
    """Items from a base-to-apex (H, W, slices) label volume, labelled by
    :func:`~cardiolens.data.findings.build_items`; infarct components under the lesion
    minimum (:mod:`cardiolens.importers.lesions`) are label noise."""
    return build_items(study_id, lge_findings(seg, spacing, infarct_case), ("lge_sax",))


def import_case(case: Path, out: Path) -> tuple[Study, list[Item]]:
    kind = case.name.split("_")[-1][:1].upper()
    if kind not in ("N", "P"):
        raise CaseError("case name does not say N (normal) or P (pathological)")
    loaded = read_nifti(case / "Images" / f"{case.name}.nii.gz")
    image, spacing = loaded.data, loaded.spacing
    seg, _ = load_nifti(case / "Contours" / f"{case.name}.nii.gz")
    if image.ndim != 3 or seg.shape != image.shape:
        raise CaseError(f"image {image.shape} and contours {seg.shape} do not match as 3D")
    seg = seg.astype(np.int16)
    if not (seg == CAVITY).any():
        raise CaseError("no cavity label")
    orientation = orient_short_axis(loaded.affine, seg, Labels(lv=CAVITY, myo=MYO, rv=0))
    image, seg = orientation.apply(image), orientation.apply(seg)
    spacing = orientation.in_plane.spacing(spacing)
    if kind == "P" and not ((seg == INFARCT) | (seg == NO_REFLOW)).any():
        raise CaseError("P case without infarct label")
    study_id = f"emidec-{case.name}"
    path = f"volumes/{study_id}/lge_sax.nii.gz"
    write_volume(out / path, image[..., None].astype(np.float32), spacing)
    items = lge_items(study_id, seg, spacing, infarct_case=kind == "P")
    info = SeriesInfo(path, image.shape[2], 1, orientation=orientation.to_json())
    return Study(study_id, {"lge_sax": info}, {}), items


def import_emidec(src: Path, out: Path, progress: bool = True,
                  on_problem: Callable[[str], None] = print) -> ImportSummary:
    """Import every ``Case_*`` folder under ``src``."""
    cases = sorted(p for p in Path(src).rglob("Case_*") if p.is_dir())
    return import_cases([(c.name, str(c), partial(import_case, c, out)) for c in cases], out,
                        "emidec", "EMIDEC LGE short-axis with items derived from the infarct "
                        "labels.", "EMIDEC terms of use (research)", progress, on_problem)
