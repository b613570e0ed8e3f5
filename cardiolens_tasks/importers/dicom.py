"""A hospital's DICOM CMR studies to the CardioLens format, with no PHI in the output.

Series are grouped by StudyInstanceUID / SeriesInstanceUID and classified from the headers:
sequence from the series description / protocol keywords (cine, LGE, T2, perfusion), the
inversion time (LGE) and the number of phases per location (cine and perfusion); view from
keywords (SAX, 4CH, 3CH, 2CH) or, failing that, the number of slice locations (3 or more:
short axis). Slices are ordered along the slice normal (ImageOrientationPatient x
ImagePositionPatient), frames by trigger time (cine) or acquisition time (perfusion).

**No PHI leaves.** Only pixel data and geometry are written. Study ids are salted SHA-256
hashes of the StudyInstanceUID; the salt stays in a file the user keeps outside the dataset.
No names, ids, dates or institution strings reach any output file (a test scans every byte).
What could not be classified is listed on the console, by series number only.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from cardiolens.data.dataset import DatasetCard, Study, write_dataset
from cardiolens.data.dataset import SeriesInfo as Info
from cardiolens.data.taxonomy import load_taxonomy
from cardiolens.data.volumes import write_volume
from cardiolens.errors import CardiolensError
from cardiolens.importers.common import ImportSummary

SEQUENCE_KEYWORDS = (("perf", ("perf", "first pass", "firstpass")),
                     ("lge", ("lge", "psir", "delayed", "late", "de_", "mde", "viability")),
                     ("t2", ("t2", "stir", "edema", "oedema")),
                     ("cine", ("cine", "ssfp", "fiesta", "trufi", "bffe", "balanced")))
VIEW_KEYWORDS = (("4ch", ("4ch", "4 ch", "4-ch", "hla", "four")),
                 ("3ch", ("3ch", "3 ch", "3-ch", "lvot", "three")),
                 ("2ch", ("2ch", "2 ch", "2-ch", "vla", "two")),
                 ("sax", ("sax", "short", " sa", "sa_", "stack")))


@dataclass
class SeriesFiles:
    number: int
    description: str
    files: list[tuple[Path, Any]] = field(default_factory=list)


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


def _text(header: Any, name: str) -> str:
    return str(getattr(header, name, "") or "")


def _normal(header: Any) -> np.ndarray:
    row_col = np.asarray([float(v) for v in header.ImageOrientationPatient])
    return np.cross(row_col[:3], row_col[3:])


def classify(series: SeriesFiles) -> tuple[str, str] | None:
    """(sequence, view) of a series, or None when it cannot be told."""
    headers = [h for _, h in series.files]
    text = " " + re.sub(r"\s+", " ", (series.description + " " +
                                      _text(headers[0], "ProtocolName")).lower()) + " "
    normal = _normal(headers[0])
    positions = {round(float(np.dot(normal, [float(v) for v in h.ImagePositionPatient])), 1)
                 for h in headers}
    phases = len(headers) // max(len(positions), 1)
    sequence = next((name for name, words in SEQUENCE_KEYWORDS
                     if any(w in text for w in words)), None)
    if sequence is None:
        if _text(headers[0], "InversionTime") and phases == 1:
            sequence = "lge"
        elif phases >= 10:
            sequence = "cine"
    if sequence is None:
        return None
    view = next((name for name, words in VIEW_KEYWORDS if any(w in text for w in words)),
                None)
    if view is None:
        view = "sax" if len(positions) >= 3 else None
    return (sequence, view) if view else None


def stack(series: SeriesFiles, sequence: str) -> tuple[np.ndarray, tuple[float, float, float]]:
    """(H, W, slices, frames) pixels ordered along the slice normal and in time."""
    import pydicom

    headers = [h for _, h in series.files]
    normal = _normal(headers[0])
    by_position: dict[float, list[tuple[float, Path]]] = {}
    for path, h in series.files:
        position = round(float(np.dot(normal, [float(v) for v in h.ImagePositionPatient])), 1)
        time_key = ("TriggerTime" if sequence == "cine" else "AcquisitionTime")
        raw = getattr(h, time_key, None) or getattr(h, "InstanceNumber", 0)
        by_position.setdefault(position, []).append((float(str(raw).replace(":", "") or 0),
                                                     path))
    counts = {len(v) for v in by_position.values()}
    if len(counts) != 1:
        raise CardiolensError(f"series {series.number}: unequal frames per slice {counts}")
    positions = sorted(by_position)
    frames = counts.pop()
    first = pydicom.dcmread(series.files[0][0])
    shape = first.pixel_array.shape
    data = np.zeros((*shape, len(positions), frames), np.float32)
    for s, position in enumerate(positions):
        for f, (_, path) in enumerate(sorted(by_position[position])):
            ds = pydicom.dcmread(path)
            pixels = ds.pixel_array.astype(np.float32)
            if pixels.shape != shape:
                raise CardiolensError(f"series {series.number}: image sizes differ")
            slope = float(getattr(ds, "RescaleSlope", 1) or 1)
            data[:, :, s, f] = pixels * slope + float(getattr(ds, "RescaleIntercept", 0) or 0)
    gap = float(np.median(np.diff(positions))) if len(positions) > 1 else float(
        getattr(headers[0], "SliceThickness", 1) or 1)
    pixel = [float(v) for v in headers[0].PixelSpacing]
    return data, (pixel[0], pixel[1], abs(gap))


def _scan(src: Path, progress: bool) -> tuple[dict[str, dict[str, SeriesFiles]], int]:
    import pydicom

    studies: dict[str, dict[str, SeriesFiles]] = {}
    unreadable = 0
    files = [p for p in sorted(src.rglob("*")) if p.is_file()]
    for path in tqdm(files, desc="reading DICOM headers", unit="file", disable=not progress):
        try:
            header = pydicom.dcmread(path, stop_before_pixels=True)
            study, uid = str(header.StudyInstanceUID), str(header.SeriesInstanceUID)
            header.ImagePositionPatient, header.ImageOrientationPatient  # noqa: B018
        except Exception:
            unreadable += 1
            continue
        entry = studies.setdefault(study, {}).setdefault(uid, SeriesFiles(
            int(getattr(header, "SeriesNumber", 0) or 0), _text(header, "SeriesDescription")))
        entry.files.append((path, header))
    return studies, unreadable


def import_dicom(src: Path, out: Path, salt_file: Path, progress: bool = True,
                 on_problem: Callable[[str], None] = print) -> ImportSummary:
    """Import every study under ``src``; one series per (sequence, view), the largest."""
    salt = load_salt(salt_file)
    found, unreadable = _scan(Path(src), progress)
    if unreadable:
        on_problem(f"{src}: {unreadable} file(s) are not readable DICOM images; ignored")
    records: list[Study] = []
    skipped: list[str] = []
    for uid, series_by_uid in found.items():
        study_id = study_id_for(uid, salt)
        chosen: dict[str, SeriesFiles] = {}
        for series in series_by_uid.values():
            kind = classify(series)
            if kind is None:
                on_problem(f"{study_id}: series {series.number} not classified; skipped")
                continue
            key = f"{kind[0]}_{kind[1]}"
            if key not in chosen or len(series.files) > len(chosen[key].files):
                chosen[key] = series
        infos: dict[str, Info] = {}
        for key, series in sorted(chosen.items()):
            try:
                data, spacing = stack(series, key.split("_")[0])
            except CardiolensError as exc:
                on_problem(f"{study_id}: {exc}")
                continue
            path = f"volumes/{study_id}/{key}.nii.gz"
            write_volume(out / path, data, spacing)
            infos[key] = Info(path, data.shape[2], data.shape[3])
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
