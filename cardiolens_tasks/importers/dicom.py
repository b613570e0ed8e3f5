"""A hospital's DICOM CMR studies to the CardioLens format, with no PHI in the output.

Series are grouped by StudyInstanceUID / SeriesInstanceUID and classified from the physics
in their headers (:mod:`cardiolens.importers.dicom_classify`): cine, LGE, T2 or perfusion,
and the view from the slice normal against the short-axis stack (keywords and the number of
locations when there is no stack). Each series is put in the canonical frame
(docs/geometry.md) from ImageOrientationPatient / ImagePositionPatient: the in-plane
transform, and slices base to apex (the apex lies towards the patient's left, anterior and
inferior). Frames are ordered by trigger time (cine) or acquisition time (perfusion).

**No PHI leaves.** Only pixel data and geometry are written. Study ids are salted SHA-256
hashes of the StudyInstanceUID; the salt stays in a file the user keeps outside the dataset.
No names, ids, dates or institution strings reach any output file (a test scans every byte).
What could not be classified is listed on the console by series number with the header facts
that decided it. Single-location series that are slices of one stack are joined.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from cardiolens.data.dataset import DatasetCard, Study, write_dataset
from cardiolens.data.dataset import SeriesInfo as Info
from cardiolens.data.orientation import Orientation, OrientationError, dicom_affine, from_affine
from cardiolens.data.taxonomy import load_taxonomy
from cardiolens.data.volumes import write_volume
from cardiolens.errors import CardiolensError
from cardiolens.importers.common import ImportSummary
from cardiolens.importers.dicom_classify import (
    Kind,
    SeriesFiles,
    classify_study,
    position_along,
    seconds,
)


def load_salt(path: Path) -> str:
    """The user's salt: read from ``path``, or created there (keep it outside the dataset)."""
    if path.is_file():
        salt = path.read_text().strip()
        if len(salt) < 16:
            raise CardiolensError(f"{path}: salt too short (at least 16 characters)")
        return salt
    path.parent.mkdir(parents=True, exist_ok=True)
    salt = secrets.token_hex(32)
    path.write_text(salt + "\n")
    path.chmod(0o600)
    return salt


def study_id_for(uid: str, salt: str) -> str:
    return "dcm-" + hashlib.sha256(f"{salt}\x1f{uid}".encode()).hexdigest()[:16]


DECODERS = {
    "1.2.840.10008.1.2.4.50": ("JPEG Baseline", "pylibjpeg-libjpeg"),
    "1.2.840.10008.1.2.4.51": ("JPEG Extended", "pylibjpeg-libjpeg"),
    "1.2.840.10008.1.2.4.57": ("JPEG Lossless", "pylibjpeg-libjpeg"),
    "1.2.840.10008.1.2.4.70": ("JPEG Lossless SV1", "pylibjpeg-libjpeg"),
    "1.2.840.10008.1.2.4.80": ("JPEG-LS Lossless", "pylibjpeg-libjpeg"),
    "1.2.840.10008.1.2.4.81": ("JPEG-LS Near-lossless", "pylibjpeg-libjpeg"),
    "1.2.840.10008.1.2.4.90": ("JPEG 2000 Lossless", "pylibjpeg-openjpeg"),
    "1.2.840.10008.1.2.4.91": ("JPEG 2000", "pylibjpeg-openjpeg"),
    "1.2.840.10008.1.2.5": ("RLE Lossless", "pylibjpeg-rle"),
}


def _pixels(path: Path, series: str) -> tuple[np.ndarray, Any]:
    """Decoded, rescaled pixels; a one-line CardiolensError naming the transfer syntax and
    the package that decodes it when pydicom has no handler."""
    import pydicom

    ds = pydicom.dcmread(path)
    try:
        pixels = ds.pixel_array.astype(np.float32)
    except Exception as exc:
        uid = str(getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", "") or "")
        name, package = DECODERS.get(uid, (uid or "unknown transfer syntax", "python-gdcm"))
        raise CardiolensError(
            f"{series}: {path.name}: pixel data in {name} ({uid}) not decoded "
            f"({str(exc).splitlines()[0][:60] if str(exc) else exc.__class__.__name__}); "
            f"install {package} (pip install 'cardiolens[dicom]')") from None
    slope = float(getattr(ds, "RescaleSlope", 1) or 1)
    return pixels * slope + float(getattr(ds, "RescaleIntercept", 0) or 0), ds


def stack(series: SeriesFiles, kind: Kind) -> tuple[np.ndarray, tuple[float, float, float],
                                                    Orientation]:
    """(H, W, slices, frames) pixels in the canonical frame, the spacing and the transform."""
    if kind.sequence in ("lge", "t2"):
        series = _magnitude_only(series)
    headers = [h for _, h in series.files]
    by_position: dict[float, list[tuple[float, int, Path]]] = {}
    for path, h in series.files:
        key = (float(getattr(h, "TriggerTime", 0) or 0) if kind.sequence == "cine"
               else seconds(h))
        by_position.setdefault(position_along(h, headers[0]), []).append(
            (key, int(getattr(h, "InstanceNumber", 0) or 0), path))
    counts = {len(v) for v in by_position.values()}
    if len(counts) != 1:
        raise CardiolensError(f"{series.label}: unequal frames per slice "
                              f"{sorted(counts)}")
    positions = sorted(by_position)
    frames = counts.pop()
    first, _ = _pixels(series.files[0][0], series.label)
    shape = first.shape
    if len(shape) != 2:
        raise CardiolensError(f"{series.label}: colour images "
                              f"(pixel array {shape}) are not supported")
    data = np.zeros((*shape, len(positions), frames), np.float32)
    for s, position in enumerate(positions):
        for f, (_, _, path) in enumerate(sorted(by_position[position])):
            pixels, _ = _pixels(path, series.label)
            if pixels.shape != shape:
                raise CardiolensError(f"{series.label}: image sizes differ")
            data[:, :, s, f] = pixels
    h0 = headers[0]
    pixel = [float(v) for v in h0.PixelSpacing]
    if len(positions) > 1:
        gap = float(np.median(np.diff(positions)))
        step = _normal(h0) * gap
    else:
        gap, step = float(getattr(h0, "SliceThickness", 1) or 1), None
    lowest = next(h for _, h in series.files if position_along(h, h0) == positions[0])
    affine = dicom_affine([float(v) for v in h0.ImageOrientationPatient],
                          [float(v) for v in lowest.ImagePositionPatient],
                          (pixel[0], pixel[1]), step)
    try:
        orientation = from_affine(affine, kind.view, len(positions))
    except OrientationError as exc:
        raise CardiolensError(f"{series.label}: orientation undecided ({exc})") from None
    data = orientation.apply(data)
    spacing = orientation.in_plane.spacing((pixel[0], pixel[1], abs(gap)))
    return data, spacing, orientation


def _size(series: SeriesFiles) -> tuple[int, int]:
    """Images, then matrix: the larger of two series of one kind is kept (a perfusion's
    low-resolution AIF series loses to the myocardial one)."""
    h = series.files[0][1]
    return len(series.files), int(getattr(h, "Rows", 0) or 0) * int(getattr(h, "Columns", 0)
                                                                     or 0)


def _magnitude_only(series: SeriesFiles) -> SeriesFiles:
    """One image per location for a static series stored as magnitude + phase (PSIR):
    the images whose ImageType does not say phase."""
    def phase(h: Any) -> bool:
        kinds = {str(v).upper() for v in (getattr(h, "ImageType", None) or [])}
        return bool(kinds & {"P", "PHASE"})

    kept = [(p, h) for p, h in series.files if not phase(h)]
    if not kept or len(kept) == len(series.files):
        return series
    return SeriesFiles(series.number, series.description, kept, series.joined)


def _normal(header: Any) -> np.ndarray:
    row_col = np.asarray([float(v) for v in header.ImageOrientationPatient])
    return np.cross(row_col[:3], row_col[3:])


def _scan(src: Path, progress: bool, multiframe: list[str]
          ) -> tuple[dict[str, dict[str, SeriesFiles]], int]:
    """Headers grouped by study and series; multi-frame (enhanced) files go to
    ``multiframe``; the count of files that are not single-frame DICOM images."""
    import pydicom

    studies: dict[str, dict[str, SeriesFiles]] = {}
    unreadable = 0
    files = [p for p in sorted(src.rglob("*")) if p.is_file()]
    for path in tqdm(files, desc="reading DICOM headers", unit="file", disable=not progress):
        try:
            header = pydicom.dcmread(path, stop_before_pixels=True)
        except Exception:
            unreadable += 1
            continue
        if int(getattr(header, "NumberOfFrames", 1) or 1) > 1:
            multiframe.append(path.name)
            continue
        try:
            study, uid = str(header.StudyInstanceUID), str(header.SeriesInstanceUID)
            header.ImagePositionPatient, header.ImageOrientationPatient  # noqa: B018
            header.PixelSpacing  # noqa: B018
        except Exception:
            unreadable += 1
            continue
        entry = studies.setdefault(study, {}).setdefault(uid, SeriesFiles(
            int(getattr(header, "SeriesNumber", 0) or 0),
            str(getattr(header, "SeriesDescription", "") or "")))
        entry.files.append((path, header))
    return studies, unreadable


def import_dicom(src: Path, out: Path, salt_file: Path, progress: bool = True,
                 on_problem: Callable[[str], None] = print) -> ImportSummary:
    """Import every study under ``src``; one series per (sequence, view), the largest."""
    salt = load_salt(salt_file)
    multiframe: list[str] = []
    found, unreadable = _scan(Path(src), progress, multiframe)
    if unreadable:
        on_problem(f"{src}: {unreadable} file(s) are not readable DICOM images; ignored")
    if multiframe:
        on_problem(f"{src}: {len(multiframe)} multi-frame (enhanced) DICOM file(s), e.g. "
                   f"{multiframe[0]}, are not supported; export single-frame images")
    records: list[Study] = []
    skipped: list[str] = []
    for uid, series_by_uid in found.items():
        study_id = study_id_for(uid, salt)
        chosen: dict[str, tuple[SeriesFiles, Kind]] = {}
        for series, kind, facts in classify_study(list(series_by_uid.values())):
            if kind is None:
                on_problem(f"{study_id}: {series.label} not classified; skipped "
                           f"({facts})")
                continue
            key = f"{kind.sequence}_{kind.view}"
            if key in chosen:
                other = chosen[key][0]
                keep, drop = ((series, other) if _size(series) > _size(other)
                              else (other, series))
                on_problem(f"{study_id}: {drop.label} is a second {key}; kept "
                           f"{keep.label}")
                if keep is other:
                    continue
            chosen[key] = (series, kind)
        infos: dict[str, Info] = {}
        for key, (series, kind) in sorted(chosen.items()):
            try:
                data, spacing, orientation = stack(series, kind)
            except CardiolensError as exc:
                on_problem(f"{study_id}: {exc}")
                continue
            path = f"volumes/{study_id}/{key}.nii.gz"
            write_volume(out / path, data, spacing)
            record = {**orientation.to_json(), "series_kind": kind.evidence}
            infos[key] = Info(path, data.shape[2], data.shape[3], orientation=record)
            if orientation.confidence != "high":
                on_problem(f"{study_id}: {series.label} ({key}): orientation "
                           f"{orientation.confidence} confidence: {'; '.join(orientation.notes)}")
        if infos:
            records.append(Study(study_id, infos, {}))
        else:
            skipped.append(study_id)
    card = DatasetCard(name="dicom-import", description="CMR studies imported from DICOM; "
                       "pixel data and geometry only.", taxonomy_version=load_taxonomy().version,
                       license="private", source="dicom",
                       canary=hashlib.sha256(f"canary\x1f{salt}".encode()).hexdigest()[:32],
                       created_by="cardiolens import dicom")
    write_dataset(out, card, records, [])
    return ImportSummary(len(records), skipped)
