"""M&Ms-2 (short-axis and 4-chamber cine) to the CardioLens format.

Layout read: ``<code>/<code>_SA_CINE.nii.gz`` (4D), ``<code>_SA_ED.nii.gz``,
``<code>_SA_ED_gt.nii.gz``, ``<code>_SA_ES.nii.gz``, ``<code>_SA_ES_gt.nii.gz`` (labels 1 LV,
2 myocardium, 3 RV), optionally ``<code>_LA_CINE.nii.gz`` (4-chamber cine, put apex up and
septum image-left from its affine; an LA file without usable geometry is reported and left
out, the short axis still imports), and
``dataset_information.csv`` (``SUBJECT_CODE``, ``DISEASE``). The ED and ES frame indices are
the cine frames equal to the given ED / ES volumes. Disease codes: NOR -> Normal, LV (dilated
LV) -> NICM / Dilated cardiomyopathy, HC -> NICM / Hypertrophic, ARR -> NICM / Other
non-ischemic; FALL, CIA, TRI and DRV (congenital, valvular and right-heart disease) have no
CardioLens diagnosis and are reported and skipped, as are unknown codes and missing files.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

from cardiolens.data.dataset import Item, SeriesInfo, Study
from cardiolens.data.orientation import OrientationError, from_affine
from cardiolens.data.vocabulary import ETIOLOGY, SUBTYPE
from cardiolens.data.volumes import write_volume
from cardiolens.errors import CardiolensError
from cardiolens.importers.cardiac_geometry import Labels
from cardiolens.importers.common import ImportSummary, import_cases
from cardiolens.importers.segmented_cine import (
    CaseError,
    Nifti,
    import_segmented_cine,
    load_nifti,
    read_nifti,
)

NICM = ETIOLOGY.nonischemic
LABELS = Labels(lv=1, myo=2, rv=3)
DISEASES: dict[str, tuple[str, str | None]] = {
    "NOR": (ETIOLOGY.normal, None), "LV": (NICM, SUBTYPE.dilated),
    "HC": (NICM, SUBTYPE.hypertrophic), "ARR": (NICM, SUBTYPE.other),
}
"""M&Ms-2 disease -> (diagnosis_etiology, diagnosis_nicm_subtype) options."""
UNMAPPED = {"FALL", "CIA", "TRI", "DRV"}


def read_diseases(src: Path) -> dict[str, str]:
    for path in sorted(src.rglob("*.csv")):
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
        if rows and "SUBJECT_CODE" in rows[0] and "DISEASE" in rows[0]:
            return {row["SUBJECT_CODE"].strip().zfill(3): row["DISEASE"].strip()
                    for row in rows}
    raise CardiolensError(f"{src}: no M&Ms-2 CSV with SUBJECT_CODE and DISEASE columns")


def matching_frame(cine: np.ndarray, volume: np.ndarray) -> int:
    """The cine frame closest to a single-phase volume (they are the same acquisition)."""
    if volume.ndim == 4:
        volume = volume[..., 0]
    errors = [float(np.abs(cine[..., f].astype(np.float32) - volume).mean())
              for f in range(cine.shape[3])]
    return int(np.argmin(errors))


def import_case(case: Path, disease: str | None, out: Path,
                on_problem: Callable[[str], None] = print) -> tuple[Study, list[Item]]:
    if disease is None:
        raise CaseError("not in dataset_information.csv")
    if disease in UNMAPPED:
        raise CaseError(f"disease {disease} has no CardioLens diagnosis")
    if disease not in DISEASES:
        raise CaseError(f"unknown DISEASE {disease!r}")
    code = case.name
    image = read_nifti(case / f"{code}_SA_CINE.nii.gz")
    cine, spacing = image.data, image.spacing
    if cine.ndim != 4:
        raise CaseError(f"{code}_SA_CINE.nii.gz is not 4D")
    ed = matching_frame(cine, load_nifti(case / f"{code}_SA_ED.nii.gz")[0])
    es = matching_frame(cine, load_nifti(case / f"{code}_SA_ES.nii.gz")[0])
    ed_seg, _ = load_nifti(case / f"{code}_SA_ED_gt.nii.gz")
    es_seg, _ = load_nifti(case / f"{code}_SA_ES_gt.nii.gz")
    etiology, subtype = DISEASES[disease]
    study_id = f"mnms2-{code}"
    study, items = import_segmented_cine(study_id, cine, spacing, ed_seg, es_seg, ed, es,
                                         LABELS, None, etiology, subtype, out, image.affine)
    lax_path = case / f"{code}_LA_CINE.nii.gz"
    if lax_path.is_file():
        try:
            study.series["cine_4ch"] = _import_lax(read_nifti(lax_path), study_id, out)
        except CaseError as exc:
            on_problem(f"{case}: {exc}; short axis imported without it")
    return study, items


def _import_lax(lax: Nifti, study_id: str, out: Path) -> SeriesInfo:
    """The 4-chamber cine in the canonical long-axis frame (apex up, septum image-left),
    from its affine; a series without usable geometry is refused, not guessed."""
    data = lax.data if lax.data.ndim == 4 else lax.data[:, :, None, :]
    if data.ndim != 4:
        raise CaseError(f"LA_CINE shape {lax.data.shape} is not a cine")
    if lax.affine is None:
        raise CaseError("LA_CINE has no geometry (qform/sform unset): its display orientation "
                        "cannot be decided")
    try:
        orientation = from_affine(lax.affine, "4ch")
    except OrientationError as exc:
        raise CaseError(f"LA_CINE orientation undecided: {exc}") from None
    data = orientation.apply(data)
    path = f"volumes/{study_id}/cine_4ch.nii.gz"
    write_volume(out / path, data.astype(np.float32), orientation.in_plane.spacing(lax.spacing))
    return SeriesInfo(path, data.shape[2], data.shape[3], orientation=orientation.to_json())


def import_mnms2(src: Path, out: Path, progress: bool = True,
                 on_problem: Callable[[str], None] = print) -> ImportSummary:
    """Import every ``<code>`` folder under ``src`` holding ``<code>_SA_CINE.nii.gz``."""
    diseases = read_diseases(Path(src))
    cases = sorted(p.parent for p in Path(src).rglob("*_SA_CINE.nii.gz")
                   if p.name == f"{p.parent.name}_SA_CINE.nii.gz")
    return import_cases([(c.name, str(c), partial(import_case, c,
                                                  diseases.get(c.name.zfill(3)), out,
                                                  on_problem))
                         for c in cases], out, "mnms2", "M&Ms-2 short-axis and 4-chamber "
                        "cine with items derived from the ED/ES labels and the disease code.",
                        "M&Ms-2 terms of use (research)", progress, on_problem)
