"""MyoPS 2020 and MyoPS++ (bSSFP, LGE and T2 after myocardial infarction) to CardioLens.

Layout read: ``<name>_C0.nii.gz`` (bSSFP), the LGE as ``<name>_DE.nii.gz`` (MyoPS 2020) or
``<name>_LGE.nii.gz`` (MyoPS++), ``<name>_T2.nii.gz``, and the labels ``<name>_gd.nii.gz``
anywhere under the source (200 myocardium, 500 LV blood pool, 600 RV blood pool, 1220
edema, 2221 scar). The sequences are co-registered stacks of one phase: C0 becomes
``cine_sax`` with one frame, the LGE ``lge_sax``, T2 ``t2_sax``; the LGE and the labels are
required, C0 and T2 are imported when present. All are put in the canonical frame
(``importers/reorient.py``: the LGE's affine when it is a real oblique plane, else the
labels). Items: LGE presence, levels, walls (sectors from the RV insertion points), layer,
transmurality, territories and the ischemic pattern; edema (the 1220 and 2221 regions: scar
in acute infarction is oedematous too) presence, levels and walls; ``cross_lge_t2``; and the
diagnosis Ischemic cardiomyopathy (MyoPS patients had an infarction). Lesions count only
above the minimum in :mod:`cardiolens.importers.lesions`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import numpy as np

from cardiolens.data.anatomy import slice_levels
from cardiolens.data.dataset import Item, SeriesInfo, Study
from cardiolens.data.findings import (
    UNMEASURED_CINE,
    EdemaFindings,
    Findings,
    LgeFindings,
    build_items,
)
from cardiolens.data.vocabulary import DISTRIBUTION, ETIOLOGY
from cardiolens.data.volumes import write_volume
from cardiolens.importers.cardiac_geometry import Labels
from cardiolens.importers.common import ImportSummary, import_cases
from cardiolens.importers.lesions import (
    lesion_layer,
    lesion_sites,
    significant,
    transmural_share,
)
from cardiolens.importers.reorient import MIRROR_DEPENDENT, orient_short_axis
from cardiolens.importers.segmented_cine import CaseError, read_nifti

MYO, LV, RV, EDEMA, SCAR = 200, 500, 600, 1220, 2221
GEOMETRY = Labels(lv=3, myo=2, rv=1)
SEQUENCES = {"C0": "cine_sax", "DE": "lge_sax", "LGE": "lge_sax", "T2": "t2_sax"}


def _geometry_labels(seg: np.ndarray) -> np.ndarray:
    out = np.zeros(seg.shape, np.int16)
    out[np.isin(seg, (MYO, EDEMA, SCAR))] = GEOMETRY.myo
    out[seg == LV] = GEOMETRY.lv
    out[seg == RV] = GEOMETRY.rv
    return out


MEASURED = frozenset({"lge_presence", "lge_levels", "lge_walls", "lge_layer",
                      "lge_transmurality", "lge_pattern", "lge_territories",
                      "t2_edema_presence", "t2_edema_levels", "t2_edema_walls", "cross_lge_t2",
                      "diagnosis_etiology"})
"""The subtasks MyoPS scar and edema labels answer (all MyoPS cases are post-infarction)."""


def myops_findings(seg: np.ndarray, spacing: tuple[float, float, float]) -> Findings:
    """The findings record of a canonical (H, W, slices) MyoPS label volume."""
    geometry = _geometry_labels(seg)
    cavity, wall = seg == LV, np.isin(seg, (MYO, EDEMA, SCAR))
    scar = significant(seg == SCAR, spacing)
    edema = significant(np.isin(seg, (EDEMA, SCAR)), spacing)
    scar_sites = lesion_sites(scar, geometry, GEOMETRY, spacing) if scar.any() else set()
    edema_sites = lesion_sites(edema, geometry, GEOMETRY, spacing) if edema.any() else set()
    lge = None
    if scar_sites:
        scar = _at_sites(scar, scar_sites)
        lge = LgeFindings(sites=tuple(sorted(scar_sites)), papillary=False,
                          distribution=DISTRIBUTION.focal,            # not measured
                          layers=(lesion_layer(scar, cavity, wall),),
                          transmural_extent=transmural_share(scar, wall, cavity),
                          rv_insertion=False, ischemic=True)
    edema_record = None
    if edema_sites:
        edema_record = EdemaFindings(sites=tuple(sorted(edema_sites)),
                                     distribution=DISTRIBUTION.focal, layers=())  # not measured
    return Findings(UNMEASURED_CINE, lge, edema_record, None, ETIOLOGY.ischemic, None,
                    measured=MEASURED)


def myops_items(study_id: str, seg: np.ndarray, spacing: tuple[float, float, float],
                mirror_resolved: bool = True,
                series: Sequence[str] = ("lge_sax", "t2_sax")) -> list[Item]:
    """Items from a canonical (H, W, slices) MyoPS label volume, labelled by
    :func:`~cardiolens.data.findings.build_items` for the imported ``series`` (no T2 image,
    no T2 item: the labels alone would ask about an image the prompt cannot show); without
    a resolved mirror the anterior/inferior-dependent items are left out, and so is a site
    list left empty (an apex-only lesion has no wall)."""
    items = build_items(study_id, myops_findings(seg, spacing), series)
    return [i for i in items if i.answer != []
            and (mirror_resolved or i.subtask not in MIRROR_DEPENDENT)]


def _at_sites(lesion: np.ndarray, sites: set[tuple[str, str]]) -> np.ndarray:
    """The lesion on the levels that hold a counted site (empty when none counts)."""
    levels = slice_levels(lesion.shape[2])
    keep = {level for level, _ in sites}
    out = lesion.copy()
    for z in range(lesion.shape[2]):
        if levels[z] not in keep:
            out[:, :, z] = False
    return out


OPTIONAL = ("C0", "T2")
"""Images a case imports without (an unreadable one is left out as if it were absent)."""


def import_case(name: str, images: dict[str, Path], labels: Path, out: Path,
                on_problem: Callable[[str], None] = print) -> tuple[Study, list[Item]]:
    """One case; an unreadable or mismatched optional image (C0, T2) is reported through
    ``on_problem`` and left out, so the case imports as without that file."""
    lge_code = "LGE" if "LGE" in images else "DE"
    if lge_code not in images:
        raise CaseError(f"{name}_DE.nii.gz (or {name}_LGE.nii.gz) is missing")
    label_image = read_nifti(labels)
    seg = label_image.data
    if seg.ndim != 3:
        raise CaseError(f"{labels.name} is not 3D (shape {seg.shape})")
    loaded = {}
    for code in ("C0", lge_code, "T2"):
        if code not in images:
            continue
        try:
            loaded[code] = read_nifti(images[code])
            if loaded[code].data.shape != seg.shape:
                raise CaseError(f"{name}_{code} shape {loaded[code].data.shape} differs from "
                                f"the labels {seg.shape}")
        except CaseError as exc:
            if code not in OPTIONAL:
                raise
            loaded.pop(code, None)
            on_problem(f"{images[code]}: {exc}; case imported without {name}_{code}")
    seg = seg.astype(np.int32)
    if not (seg == LV).any():
        raise CaseError("no LV blood-pool label")
    lge = loaded[lge_code]
    affine = lge.affine if lge.affine is not None else label_image.affine
    orientation = orient_short_axis(affine, _geometry_labels(seg), GEOMETRY)
    seg = orientation.apply(seg)
    spacing = orientation.in_plane.spacing(lge.spacing)
    study_id = f"myops-{name}"
    series = {}
    for code, image in loaded.items():
        key = SEQUENCES[code]
        path = f"volumes/{study_id}/{key}.nii.gz"
        data = orientation.apply(image.data)[..., None].astype(np.float32)
        write_volume(out / path, data, spacing)
        series[key] = SeriesInfo(path, seg.shape[2], 1, orientation=orientation.to_json())
    items = myops_items(study_id, seg, spacing, not orientation.unresolved, tuple(series))
    return Study(study_id, series, {}), items


def import_myops(src: Path, out: Path, progress: bool = True,
                 on_problem: Callable[[str], None] = print) -> ImportSummary:
    """Import every case with a ``<name>_gd.nii.gz`` label file under ``src``."""
    files = sorted(Path(src).rglob("*.nii.gz"))
    labels = {p.name.removesuffix("_gd.nii.gz"): p for p in files
              if p.name.endswith("_gd.nii.gz")}
    images: dict[str, dict[str, Path]] = {}
    for p in files:
        stem = p.name.removesuffix(".nii.gz")
        base, _, code = stem.rpartition("_")
        if code in SEQUENCES:
            images.setdefault(base, {})[code] = p
    for name in sorted(set(images) - set(labels)):
        on_problem(f"{src}/{name}: no label file {name}_gd.nii.gz")
    summary = import_cases([(name, str(labels[name]), partial(
        import_case, name, images.get(name, {}), labels[name], out, on_problem))
        for name in sorted(labels)],
        out, "myops", "MyoPS 2020 / MyoPS++ bSSFP, LGE and T2 with items derived from the scar and "
        "edema labels.", "MyoPS 2020 terms of use (research)", progress, on_problem)
    unlabelled = sorted(set(images) - set(labels))
    return ImportSummary(summary.imported, [*unlabelled, *summary.skipped])
