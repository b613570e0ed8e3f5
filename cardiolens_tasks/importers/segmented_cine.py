"""Shared importer step: one segmented short-axis cine study into a Study and its items."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cardiolens.data.dataset import Item, SeriesInfo, Study
from cardiolens.data.volumes import write_volume
from cardiolens.importers.cardiac_geometry import Labels, measure
from cardiolens.importers.measured_items import measured_items


class CaseError(Exception):
    """A case that cannot be imported; the message is the reason."""


def import_segmented_cine(study_id: str, cine: np.ndarray, spacing: tuple[float, float, float],
                          ed_seg: np.ndarray, es_seg: np.ndarray, ed: int, es: int,
                          labels: Labels, bsa: float | None, etiology: str,
                          subtype: str | None, out: Path) -> tuple[Study, list[Item]]:
    """Write the cine (base to apex) and derive the items; ``ed``/``es`` are 0-based."""
    if cine.ndim != 4:
        raise CaseError(f"cine is not 4D (shape {cine.shape})")
    if ed_seg.shape != cine.shape[:3] or es_seg.shape != cine.shape[:3]:
        raise CaseError("segmentation and image shapes differ")
    ed_seg, es_seg = ed_seg.astype(np.int16), es_seg.astype(np.int16)
    cavity = [(ed_seg[:, :, z] == labels.lv).sum() for z in range(ed_seg.shape[2])]
    filled = [z for z, area in enumerate(cavity) if area]
    if not filled:
        raise CaseError("no LV cavity in the ED segmentation")
    if cavity[filled[0]] < cavity[filled[-1]]:         # apex first: store base to apex
        cine, ed_seg, es_seg = cine[:, :, ::-1], ed_seg[:, :, ::-1], es_seg[:, :, ::-1]
    m = measure(ed_seg, es_seg, labels, spacing, bsa)
    if m.lv_edv_ml <= 0 or m.lv_esv_ml <= 0:
        raise CaseError("empty LV cavity at ED or ES")
    path = f"volumes/{study_id}/cine_sax.nii.gz"
    write_volume(out / path, cine.astype(np.float32), spacing)
    series = {"cine_sax": SeriesInfo(path, cine.shape[2], cine.shape[3], ed_frame=ed,
                                     es_frame=es)}
    return Study(study_id, series, {}), measured_items(study_id, m, etiology, subtype)


def load_nifti(path: Path) -> tuple[np.ndarray, tuple[float, float, float]]:
    """Voxels and spacing of a NIfTI file; CaseError naming the file when it cannot be read."""
    import nibabel as nib

    from cardiolens.data.volumes import MAX_BYTES

    if not path.is_file():
        raise CaseError(f"{path.name} is missing")
    try:
        image = nib.load(str(path))
        if int(np.prod(image.shape)) * 4 > MAX_BYTES:  # type: ignore[attr-defined]
            raise CaseError(f"{path.name}: volume too large")
        data = np.asarray(image.dataobj)  # type: ignore[attr-defined]
        zooms = image.header.get_zooms()  # type: ignore[attr-defined]
    except CaseError:
        raise
    except Exception as exc:
        raise CaseError(f"{path.name}: unreadable ({str(exc).splitlines()[0][:80]})") from None
    return data, (float(zooms[0]), float(zooms[1]), float(zooms[2]))
