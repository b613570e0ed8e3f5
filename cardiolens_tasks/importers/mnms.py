"""M&Ms-1 (Multi-Centre, Multi-Vendor and Multi-Disease) to the CardioLens format.

Layout read: ``<code>/<code>_sa.nii.gz`` (4D cine), ``<code>/<code>_sa_gt.nii.gz`` (4D
labels, filled at ED and ES: 1 LV, 2 myocardium, 3 RV) and the dataset CSV with the columns
``External code``, ``ED``, ``ES`` (0-based), ``Pathology`` and, when present, ``Height``
and ``Weight``. Pathology codes map as NOR -> Normal, IHD -> Ischemic, HCM -> NICM /
Hypertrophic, DCM -> NICM / Dilated, HHD, ARV and LVNC -> NICM / Other non-ischemic.
AHS (athlete's heart) and Other have no CardioLens diagnosis: those cases, unknown codes,
cases missing from the CSV and cases with missing files are reported and skipped.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from functools import partial
from pathlib import Path

from cardiolens.data.dataset import Item, Study
from cardiolens.data.vocabulary import ETIOLOGY, SUBTYPE
from cardiolens.errors import CardiolensError
from cardiolens.importers.cardiac_geometry import Labels, bsa_mosteller
from cardiolens.importers.common import ImportSummary, import_cases
from cardiolens.importers.segmented_cine import (
    CaseError,
    import_segmented_cine,
    load_nifti,
    read_nifti,
)

NICM = ETIOLOGY.nonischemic
LABELS = Labels(lv=1, myo=2, rv=3)
PATHOLOGIES: dict[str, tuple[str, str | None]] = {
    "NOR": (ETIOLOGY.normal, None), "IHD": (ETIOLOGY.ischemic, None),
    "HCM": (NICM, SUBTYPE.hypertrophic), "DCM": (NICM, SUBTYPE.dilated),
    "HHD": (NICM, SUBTYPE.other), "ARV": (NICM, SUBTYPE.other), "LVNC": (NICM, SUBTYPE.other),
}
"""M&Ms pathology -> (diagnosis_etiology, diagnosis_nicm_subtype) options."""
UNMAPPED = {"AHS": "athlete's heart has no CardioLens diagnosis",
            "OTHER": "'Other' pathology has no CardioLens diagnosis"}


def read_table(src: Path) -> dict[str, dict[str, str]]:
    """Rows of the dataset CSV keyed by external code."""
    for path in sorted(src.rglob("*.csv")):
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
        if rows and "External code" in rows[0]:
            return {row["External code"].strip(): row for row in rows}
    raise CardiolensError(f"{src}: no M&Ms CSV with an 'External code' column")


def _number(row: dict[str, str], key: str) -> float | None:
    try:
        return float(row[key]) if row.get(key, "").strip() else None
    except ValueError:
        return None


def import_case(case: Path, row: dict[str, str] | None, out: Path) -> tuple[Study, list[Item]]:
    if row is None:
        raise CaseError("not in the dataset CSV")
    code = row.get("Pathology", "").strip()
    if code.upper() in UNMAPPED:
        raise CaseError(UNMAPPED[code.upper()])
    if code not in PATHOLOGIES:
        raise CaseError(f"unknown Pathology {code!r}")
    image = read_nifti(case / f"{case.name}_sa.nii.gz")
    cine, spacing = image.data, image.spacing
    labels, _ = load_nifti(case / f"{case.name}_sa_gt.nii.gz")
    if cine.ndim != 4 or labels.shape != cine.shape:
        raise CaseError(f"cine {cine.shape} and labels {labels.shape} do not match as 4D")
    try:
        ed, es = int(row["ED"]), int(row["ES"])
    except (KeyError, ValueError):
        raise CaseError("ED/ES in the CSV are not integers") from None
    if not (0 <= ed < cine.shape[3] and 0 <= es < cine.shape[3]):
        raise CaseError(f"ED {ed} / ES {es} outside 0..{cine.shape[3] - 1}")
    etiology, subtype = PATHOLOGIES[code]
    bsa = bsa_mosteller(_number(row, "Height"), _number(row, "Weight"))
    return import_segmented_cine(f"mnms-{case.name}", cine, spacing, labels[..., ed],
                                 labels[..., es], ed, es, LABELS, bsa, etiology, subtype, out,
                                 image.affine)


def import_mnms(src: Path, out: Path, progress: bool = True,
                on_problem: Callable[[str], None] = print) -> ImportSummary:
    """Import every case folder under ``src`` that holds ``<code>_sa.nii.gz``."""
    table = read_table(Path(src))
    cases = sorted(p.parent for p in Path(src).rglob("*_sa.nii.gz")
                   if p.name == f"{p.parent.name}_sa.nii.gz")
    return import_cases([(c.name, str(c), partial(import_case, c, table.get(c.name), out))
                         for c in cases], out, "mnms", "M&Ms-1 cine short-axis with items "
                        "derived from the ED/ES labels and the pathology code.",
                        "M&Ms terms of use (research)", progress, on_problem)
