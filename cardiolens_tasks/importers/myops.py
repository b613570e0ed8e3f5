"""MyoPS 2020 (bSSFP, LGE and T2 after myocardial infarction) to the CardioLens format.

Layout read: ``<name>_C0.nii.gz`` (bSSFP), ``<name>_DE.nii.gz`` (LGE) and
``<name>_T2.nii.gz`` images, and the labels ``<name>_gd.nii.gz`` anywhere under the source
(200 myocardium, 500 LV blood pool, 600 RV blood pool, 1220 edema, 2221 scar). The three
sequences are co-registered stacks of one phase: C0 becomes ``cine_sax`` with one frame,
DE ``lge_sax``, T2 ``t2_sax``. Items: LGE presence, levels, walls (sectors from the RV
insertion points), layer, transmurality, territories and the ischemic pattern; edema (the
1220 and 2221 regions: scar in acute infarction is oedematous too) presence, levels and
walls; ``cross_lge_t2``; and the diagnosis Ischemic cardiomyopathy (MyoPS patients had an
infarction).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

from cardiolens.data.anatomy import WALLS6, territory
from cardiolens.data.dataset import Item, SeriesInfo, Study
from cardiolens.data.findings import transmurality_band
from cardiolens.data.volumes import write_volume
from cardiolens.importers.cardiac_geometry import Labels
from cardiolens.importers.common import ImportSummary, import_cases
from cardiolens.importers.lesions import lesion_layer, lesion_levels, lesion_sites, transmural_share
from cardiolens.importers.segmented_cine import CaseError, load_nifti

MYO, LV, RV, EDEMA, SCAR = 200, 500, 600, 1220, 2221
GEOMETRY = Labels(lv=3, myo=2, rv=1)
SEQUENCES = {"C0": "cine_sax", "DE": "lge_sax", "T2": "t2_sax"}


def _geometry_labels(seg: np.ndarray) -> np.ndarray:
    out = np.zeros(seg.shape, np.int16)
    out[np.isin(seg, (MYO, EDEMA, SCAR))] = GEOMETRY.myo
    out[seg == LV] = GEOMETRY.lv
    out[seg == RV] = GEOMETRY.rv
    return out


def _walls(sites: set[tuple[str, str]]) -> list[str]:
    return [w for w in WALLS6 if any(wall == w for _, wall in sites)]


def myops_items(study_id: str, seg: np.ndarray) -> list[Item]:
    """Items from a base-to-apex (H, W, slices) MyoPS label volume."""
    def item(subtask: str, answer: str | list[str], level: str = "image_understanding"
             ) -> Item:
        return Item(f"{study_id}/{subtask}", study_id, level, subtask, answer)

    geometry = _geometry_labels(seg)
    cavity, wall = seg == LV, np.isin(seg, (MYO, EDEMA, SCAR))
    scar, edema = seg == SCAR, np.isin(seg, (EDEMA, SCAR))
    items = [item("lge_presence", "Yes" if scar.any() else "No"),
             item("t2_edema_presence", "Yes" if edema.any() else "No")]
    scar_sites = lesion_sites(scar, geometry, GEOMETRY) if scar.any() else set()
    edema_sites = lesion_sites(edema, geometry, GEOMETRY) if edema.any() else set()
    if scar.any():
        territories = sorted({territory(s) for s in scar_sites},
                             key=["LAD", "LCx", "RCA"].index)
        items += [item("lge_levels", lesion_levels(scar, lge_names=True)),
                  item("lge_walls", _walls(scar_sites)),
                  item("lge_layer", [lesion_layer(scar, cavity, wall)]),
                  item("lge_transmurality",
                       transmurality_band(transmural_share(scar, wall, cavity))),
                  item("lge_pattern", "Ischemic (follows a coronary territory)"),
                  item("lge_territories", territories)]
    if edema.any():
        items += [item("t2_edema_levels", lesion_levels(edema)),
                  item("t2_edema_walls", _walls(edema_sites))]
    cross = ("Neither" if not scar.any() and not edema.any() else
             "LGE without edema" if not edema.any() else
             "Edema without LGE" if not scar.any() else
             "LGE and edema in the same region" if scar_sites & edema_sites else
             "LGE and edema in different regions")
    items.append(item("cross_lge_t2", cross))
    items.append(item("diagnosis_etiology", "Ischemic cardiomyopathy", "diagnosis"))
    return [i for i in items if i.answer != []]


def import_case(name: str, images: dict[str, Path], labels: Path, out: Path
                ) -> tuple[Study, list[Item]]:
    seg, _ = load_nifti(labels)
    stacks = {}
    spacing = (1.0, 1.0, 1.0)
    for code in SEQUENCES:
        if code not in images:
            raise CaseError(f"{name}_{code}.nii.gz is missing")
        stacks[code], spacing = load_nifti(images[code])
        if stacks[code].shape != seg.shape or seg.ndim != 3:
            raise CaseError(f"{name}_{code} shape {stacks[code].shape} differs from the labels "
                            f"{seg.shape}")
    seg = seg.astype(np.int32)
    cavity = [(seg[:, :, z] == LV).sum() for z in range(seg.shape[2])]
    filled = [z for z, area in enumerate(cavity) if area]
    if not filled:
        raise CaseError("no LV blood-pool label")
    if cavity[filled[0]] < cavity[filled[-1]]:
        seg = seg[:, :, ::-1]
        stacks = {code: data[:, :, ::-1] for code, data in stacks.items()}
    study_id = f"myops-{name}"
    series = {}
    for code, key in SEQUENCES.items():
        path = f"volumes/{study_id}/{key}.nii.gz"
        write_volume(out / path, stacks[code][..., None].astype(np.float32), spacing)
        series[key] = SeriesInfo(path, seg.shape[2], 1)
    return Study(study_id, series, {}), myops_items(study_id, seg)


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
        import_case, name, images.get(name, {}), labels[name], out)) for name in sorted(labels)],
        out, "myops", "MyoPS 2020 bSSFP, LGE and T2 with items derived from the scar and "
        "edema labels.", "MyoPS 2020 terms of use (research)", progress, on_problem)
    unlabelled = sorted(set(images) - set(labels))
    return ImportSummary(summary.imported, [*unlabelled, *summary.skipped])
