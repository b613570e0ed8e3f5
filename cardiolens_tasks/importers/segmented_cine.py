"""Shared importer step: one segmented short-axis cine study into a Study and its items."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cardiolens.data.dataset import Item, SeriesInfo, Study
from cardiolens.data.volumes import write_volume
from cardiolens.importers.cardiac_geometry import Labels, measure
from cardiolens.importers.case_error import CaseError
from cardiolens.importers.measured_items import measured_items


def import_segmented_cine(study_id: str, cine: np.ndarray, spacing: tuple[float, float, float],
                          ed_seg: np.ndarray, es_seg: np.ndarray, ed: int, es: int,
                          labels: Labels, bsa: float | None, etiology: str,
                          subtype: str | None, out: Path,
                          affine: np.ndarray | None = None) -> tuple[Study, list[Item]]:
    """Write the cine in the canonical frame and derive the items; ``ed``/``es`` 0-based.

    ``affine`` is the cine's RAS+ affine (None when the file has no geometry); see
    :func:`cardiolens.importers.reorient.orient_short_axis` for the evidence used.
    """
    from cardiolens.importers.reorient import MIRROR_DEPENDENT, orient_short_axis

    if cine.ndim != 4:
        raise CaseError(f"cine is not 4D (shape {cine.shape})")
    if ed_seg.shape != cine.shape[:3] or es_seg.shape != cine.shape[:3]:
        raise CaseError("segmentation and image shapes differ")
    ed_seg, es_seg = ed_seg.astype(np.int16), es_seg.astype(np.int16)
    if not (ed_seg == labels.lv).any():
        raise CaseError("no LV cavity in the ED segmentation")
    orientation = orient_short_axis(affine, ed_seg, labels)
    cine, ed_seg, es_seg = (orientation.apply(a) for a in (cine, ed_seg, es_seg))
    spacing = orientation.in_plane.spacing(spacing)
    m = measure(ed_seg, es_seg, labels, spacing, bsa)
    if m.lv_edv_ml <= 0 or m.lv_esv_ml <= 0:
        raise CaseError("empty LV cavity at ED or ES")
    path = f"volumes/{study_id}/cine_sax.nii.gz"
    write_volume(out / path, cine.astype(np.float32), spacing)
    series = {"cine_sax": SeriesInfo(path, cine.shape[2], cine.shape[3], ed_frame=ed,
                                     es_frame=es, orientation=orientation.to_json())}
    items = measured_items(study_id, m, etiology, subtype)
    if orientation.unresolved:
        items = [i for i in items if i.subtask not in MIRROR_DEPENDENT]
    return Study(study_id, series, {}), items


@dataclass(frozen=True)
class Nifti:
    data: np.ndarray
    spacing: tuple[float, float, float]
    affine: np.ndarray | None
    """RAS+ voxel-to-patient affine; None when neither qform nor sform is set."""


def read_nifti(path: Path) -> Nifti:
    """Voxels, spacing and geometry of a NIfTI file; CaseError naming the file on failure."""
    import nibabel as nib

    from cardiolens.data.volumes import MAX_BYTES

    if not path.is_file():
        raise CaseError(f"{path.name} is missing")
    try:
        image = nib.load(str(path))
        if int(np.prod(image.shape)) * 4 > MAX_BYTES:  # type: ignore[attr-defined]
            raise CaseError(f"{path.name}: volume too large")
        data = np.asarray(image.dataobj)  # type: ignore[attr-defined]
        header: Any = image.header
        zooms = header.get_zooms()
        coded = int(header.get("sform_code", 0)) > 0 or int(header.get("qform_code", 0)) > 0
        raw_affine: Any = getattr(image, "affine", None)
        affine = np.asarray(raw_affine, dtype=np.float64) if coded else None
    except CaseError:
        raise
    except Exception as exc:
        raise CaseError(f"{path.name}: unreadable ({str(exc).splitlines()[0][:80]})") from None
    spacing = (float(zooms[0]), float(zooms[1]), float(zooms[2]) if len(zooms) > 2 else 1.0)
    if affine is not None and not np.isfinite(affine).all():
        affine = None
    return Nifti(data, spacing, affine)


def load_nifti(path: Path) -> tuple[np.ndarray, tuple[float, float, float]]:
    """Voxels and spacing of a NIfTI file (see :func:`read_nifti` for the geometry too)."""
    image = read_nifti(path)
    return image.data, image.spacing
