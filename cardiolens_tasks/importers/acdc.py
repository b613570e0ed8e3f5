"""ACDC (Automated Cardiac Diagnosis Challenge) to the CardioLens format.

Layout read: ``patientNNN/Info.cfg`` (ED, ES, Group, NbFrame, optional Height, Weight),
``patientNNN/patientNNN_4d.nii.gz`` (X, Y, slices, frames) and the ED/ES segmentations
``patientNNN_frameXX_gt.nii.gz`` (1 RV, 2 myocardium, 3 LV cavity; frames 1-based).
Groups map to diagnoses as NOR -> Normal, MINF -> Ischemic, DCM -> NICM / Dilated,
HCM -> NICM / Hypertrophic, RV -> NICM / Other. Cases are found under ``training/`` and
``testing/`` alike (folders named ``patientNNN``). ACDC affines are placeholders
(axis-aligned), so the canonical frame comes from the segmentation
(``importers/reorient.py``). A case with an unknown group or a missing or inconsistent file
is reported and skipped, never guessed.
"""

from __future__ import annotations

import re
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

LABELS = Labels(lv=3, myo=2, rv=1)
NICM = ETIOLOGY.nonischemic
GROUPS: dict[str, tuple[str, str | None]] = {
    "NOR": (ETIOLOGY.normal, None), "MINF": (ETIOLOGY.ischemic, None),
    "DCM": (NICM, SUBTYPE.dilated), "HCM": (NICM, SUBTYPE.hypertrophic),
    "RV": (NICM, SUBTYPE.other),
}
"""ACDC group -> (diagnosis_etiology, diagnosis_nicm_subtype) options."""


def read_info(path: Path) -> dict[str, str]:
    if not path.is_file():
        raise CaseError("Info.cfg is missing")
    info: dict[str, str] = {}
    for line in path.read_text(errors="replace").splitlines():
        key, sep, value = line.partition(":")
        if sep:
            info[key.strip()] = value.strip()
    for key in ("ED", "ES", "Group", "NbFrame"):
        if key not in info:
            raise CaseError(f"Info.cfg has no {key}")
    return info


def _frame(info: dict[str, str], key: str, frames: int) -> int:
    try:
        value = int(info[key])
    except ValueError:
        raise CaseError(f"Info.cfg {key} is not an integer") from None
    if not 1 <= value <= frames:
        raise CaseError(f"Info.cfg {key}={value} is outside 1..{frames}")
    return value


def import_case(case: Path, out: Path) -> tuple[Study, list[Item]]:
    info = read_info(case / "Info.cfg")
    group = info["Group"]
    if group not in GROUPS:
        raise CaseError(f"unknown Group {group!r}")
    image = read_nifti(case / f"{case.name}_4d.nii.gz")
    cine, spacing = image.data, image.spacing
    if cine.ndim != 4:
        raise CaseError(f"{case.name}_4d.nii.gz is not 4D (shape {cine.shape})")
    frames = cine.shape[3]
    if str(frames) != info["NbFrame"]:
        raise CaseError(f"NbFrame {info['NbFrame']} but the 4D file has {frames} frames")
    ed, es = _frame(info, "ED", frames), _frame(info, "ES", frames)
    ed_seg, _ = load_nifti(case / f"{case.name}_frame{ed:02d}_gt.nii.gz")
    es_seg, _ = load_nifti(case / f"{case.name}_frame{es:02d}_gt.nii.gz")
    height = float(info["Height"]) if info.get("Height") else None
    weight = float(info["Weight"]) if info.get("Weight") else None
    etiology, subtype = GROUPS[group]
    return import_segmented_cine(f"acdc-{case.name}", cine, spacing, ed_seg, es_seg, ed - 1,
                                 es - 1, LABELS, bsa_mosteller(height, weight), etiology,
                                 subtype, out, image.affine)


def import_acdc(src: Path, out: Path, progress: bool = True,
                on_problem: Callable[[str], None] = print) -> ImportSummary:
    """Import every ``patient*`` case under ``src`` (``training/`` and ``testing/`` alike)."""
    cases = sorted((p for p in Path(src).rglob("patient*")
                    if p.is_dir() and re.fullmatch(r"patient\d+", p.name)), key=lambda p: p.name)
    seen: dict[str, Path] = {}
    for case in cases:
        if case.name in seen:
            raise CardiolensError(f"{case}: case {case.name} also in {seen[case.name]}")
        seen[case.name] = case
    return import_cases([(c.name, str(c), partial(import_case, c, out)) for c in cases], out,
                        "acdc", "ACDC cine short-axis with items derived from the ED/ES "
                        "segmentations and the diagnostic group.",
                        "ACDC terms of use (research, non-commercial)", progress, on_problem)
