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
What could not be classified (series without geometry included) is listed on the console
by series number with the header facts that decided it. Single-location series that are
slices of one stack are joined; series mixing orientations are split; a slice acquired twice
keeps its latest acquisition; of several series of one kind the largest that stacks and
passes the geometry check is kept. A header value that does not convert skips the series
of its image (never assembled with a gap), named with the file, tag and value.
"""

from __future__ import annotations

import hashlib
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
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
from cardiolens.importers.dicom_values import BadValue, bad_values, drop_labels


def load_salt(path: Path) -> str:
    """The user's salt: read from ``path``, or created there (keep it outside the dataset)."""
    if path.is_file():
        try:
            salt = path.read_text(encoding="utf-8").strip()
        except UnicodeDecodeError as exc:
            raise CardiolensError(
                f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset "
                f"{exc.start}); a salt file holds text, such as the 64 hex digits cardiolens "
                "writes when the file does not exist") from None
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


UNCOMPRESSED = {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2",
                "1.2.840.10008.1.2.1.99"}
"""Implicit / explicit VR little and big endian, deflated: pydicom decodes them itself."""


def _pixels(path: Path, series: str) -> tuple[np.ndarray, Any]:
    """Decoded, rescaled pixels; a one-line CardiolensError naming the transfer syntax and
    the package that decodes it when pydicom has no handler."""
    import pydicom

    ds = pydicom.dcmread(path)
    try:
        pixels = ds.pixel_array.astype(np.float32)
    except Exception as exc:
        uid = str(getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", "") or "")
        text = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        reason = text if len(text) <= 80 else text[:77] + "..."
        if uid in UNCOMPRESSED:          # nothing to install: the file itself is damaged
            raise CardiolensError(f"{series}: {path.name}: pixel data unreadable ({reason}); "
                                  "the file is truncated or damaged") from None
        name, package = DECODERS.get(uid, (uid or "unknown transfer syntax", "python-gdcm"))
        raise CardiolensError(
            f"{series}: {path.name}: pixel data in {name} ({uid}) not decoded ({reason}); "
            f"install {package} (pip install 'cardiolens[dicom]')") from None
    slope = float(getattr(ds, "RescaleSlope", 1) or 1)
    return pixels * slope + float(getattr(ds, "RescaleIntercept", 0) or 0), ds


UNEVEN_GAP = 0.1     # slice gaps varying by more than this share of the gap are reported


def _latest_per_position(series: SeriesFiles, by_position: dict[float, list[Any]],
                         notes: list[str]) -> None:
    """A position with a whole multiple of the usual image count was acquired more than
    once: keep its latest acquisition (the last images by acquisition time, then instance
    number) and note it. Other unequal counts raise."""
    counts = [len(v) for v in by_position.values()]
    usual = max(set(counts), key=lambda c: (counts.count(c), -c))
    for position, images in by_position.items():
        if len(images) == usual:
            continue
        if len(images) % usual:
            raise CardiolensError(f"{series.label}: unequal frames per slice "
                                  f"{sorted(set(counts))}")
        images.sort(key=lambda e: (seconds(e[3]), e[1]))
        by_position[position] = images[-usual:]
        notes.append(f"{series.label}: slice at {position:g} mm acquired "
                     f"{len(images) // usual} times; kept the latest")


def stack(series: SeriesFiles, kind: Kind) -> tuple[np.ndarray, tuple[float, float, float],
                                                    Orientation, list[str]]:
    """(H, W, slices, frames) pixels in the canonical frame, the spacing, the transform and
    notes for the user (repeated slices, uneven gaps)."""
    if kind.sequence in ("lge", "t2"):
        series = _magnitude_only(series)
    notes: list[str] = []
    headers = [h for _, h in series.files]
    by_position: dict[float, list[tuple[float, int, Path, Any]]] = {}
    for path, h in series.files:
        key = (float(getattr(h, "TriggerTime", 0) or 0) if kind.sequence == "cine"
               else seconds(h))
        by_position.setdefault(position_along(h, headers[0]), []).append(
            (key, int(getattr(h, "InstanceNumber", 0) or 0), path, h))
    _latest_per_position(series, by_position, notes)
    positions = sorted(by_position)
    frames = len(by_position[positions[0]])
    first, _ = _pixels(series.files[0][0], series.label)
    shape = first.shape
    if len(shape) != 2:
        raise CardiolensError(f"{series.label}: colour images "
                              f"(pixel array {shape}) are not supported")
    data = np.zeros((*shape, len(positions), frames), np.float32)
    for s, position in enumerate(positions):
        ordered = sorted(by_position[position], key=lambda e: (e[0], e[1]))
        for f, (_, _, path, _) in enumerate(ordered):
            pixels, _ = _pixels(path, series.label)
            if pixels.shape != shape:
                raise CardiolensError(f"{series.label}: image sizes differ")
            data[:, :, s, f] = pixels
    h0 = headers[0]
    pixel = [float(v) for v in h0.PixelSpacing]
    if len(positions) > 1:
        gaps = np.diff(positions)
        gap = float(np.median(gaps))
        if float(np.ptp(gaps)) > UNEVEN_GAP * abs(gap):
            notes.append(f"{series.label}: uneven slice gaps {float(gaps.min()):g}-"
                         f"{float(gaps.max()):g} mm; stored with the median {gap:g} mm")
        step = _normal(h0) * gap
    else:
        gap, step = float(getattr(h0, "SliceThickness", 1) or 1), None
    lowest = by_position[positions[0]][0][3]
    affine = dicom_affine([float(v) for v in h0.ImageOrientationPatient],
                          [float(v) for v in lowest.ImagePositionPatient],
                          (pixel[0], pixel[1]), step)
    try:
        orientation = from_affine(affine, kind.view, len(positions))
    except OrientationError as exc:
        raise CardiolensError(f"{series.label}: orientation undecided ({exc})") from None
    data = orientation.apply(data)
    spacing = orientation.in_plane.spacing((pixel[0], pixel[1], abs(gap)))
    return data, spacing, orientation, notes


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


GEOMETRY_TAGS = ("ImageOrientationPatient", "ImagePositionPatient", "PixelSpacing")


@dataclass
class Scan:
    """Headers grouped by study and series UID: images with geometry, and apart the images
    lacking a geometry tag; series with an image whose header value does not convert
    (all their images, with the bad values); console lines per study; multi-frame file
    names; the names of files that are not readable DICOM."""

    studies: dict[str, dict[str, SeriesFiles]] = field(default_factory=dict)
    no_geometry: dict[str, dict[str, SeriesFiles]] = field(default_factory=dict)
    broken: dict[str, dict[str, Broken]] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)
    multiframe: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


@dataclass
class Broken:
    """A DICOM series with images whose needed header values do not convert: every image
    of it (it is not assembled) and, per bad image, its name and bad values."""

    series: SeriesFiles
    bad: list[tuple[str, list[BadValue]]] = field(default_factory=list)

    def line(self) -> str:
        name, values = self.bad[0]
        more = len(self.bad) - 1
        return (f"{self.series.label} skipped: {name}: {'; '.join(map(str, values))}"
                f"{f' (and {more} more file(s) with bad values)' if more else ''}; a series "
                "is not assembled without one of its images (a missing slice or phase "
                "would leave a gap)")


def _has(header: Any, tag: str) -> bool:
    try:
        value = getattr(header, tag, None)
        return value is not None and len(value) > 0
    except Exception:
        return False


def _no_geometry_facts(series: SeriesFiles) -> str:
    """Header facts of a series without geometry (no identifying fields)."""
    headers = [h for _, h in series.files]
    missing = [t for t in GEOMETRY_TAGS if not all(_has(h, t) for h in headers)]

    def values(name: str) -> str:
        found = sorted({float(v) for h in headers if (v := getattr(h, name, None)) not in
                        (None, "")})
        return "none" if not found else "/".join(f"{v:g}" for v in found[:4])

    text = " ".join(str(getattr(headers[0], n, "") or "") for n in ("ProtocolName",
                                                                    "SequenceName"))
    return (f"{len(headers)} file(s) without {', '.join(missing)}: no geometry; TE "
            f"{values('EchoTime')} ms, TI {values('InversionTime')} ms, trigger times "
            f"{values('TriggerTime')} ms, text {f'{series.description} {text}'.strip()[:40]!r}")


def _scan(src: Path, progress: bool) -> Scan:
    """Read every file's header; single-frame images with geometry are grouped for import."""
    import pydicom

    scan = Scan()
    files = [p for p in sorted(src.rglob("*")) if p.is_file()]
    for path in tqdm(files, desc="reading DICOM headers", unit="file", disable=not progress):
        try:
            header = pydicom.dcmread(path, stop_before_pixels=True)
            study, uid = str(header.StudyInstanceUID), str(header.SeriesInstanceUID)
        except Exception:
            scan.unreadable.append(path.relative_to(src).as_posix())
            continue
        name = path.relative_to(src).as_posix()
        bad = bad_values(header)
        for value in bad:
            if value.label_only:
                scan.notes.setdefault(study, []).append(
                    f"{name}: {value}; treated as absent (a label only)")
        drop_labels(header, bad)
        bad = [v for v in bad if not v.label_only]
        number = int(getattr(header, "SeriesNumber", 0) or 0)
        description = str(getattr(header, "SeriesDescription", "") or "")
        if bad or uid in scan.broken.get(study, {}):
            broken = scan.broken.setdefault(study, {}).setdefault(
                uid, Broken(SeriesFiles(number, description)))
            broken.series.files.append((path, header))
            if bad:
                broken.bad.append((name, bad))
            continue
        if int(getattr(header, "NumberOfFrames", 1) or 1) > 1:
            scan.multiframe.append(path.name)
            continue
        target = (scan.studies if all(_has(header, t) for t in GEOMETRY_TAGS)
                  else scan.no_geometry)
        entry = target.setdefault(study, {}).setdefault(uid, SeriesFiles(number, description))
        entry.files.append((path, header))
    for study, series in scan.broken.items():     # images read before the bad one
        for uid, broken in series.items():
            for found in (scan.studies, scan.no_geometry):
                earlier = found.get(study, {}).pop(uid, None)
                if earlier is not None:
                    broken.series.files[:0] = earlier.files
    return scan


def _import_kind(key: str, candidates: list[tuple[SeriesFiles, Kind]], study_id: str,
                 on_problem: Callable[[str], None]
                 ) -> tuple[SeriesFiles, Kind, tuple[np.ndarray, tuple[float, float, float],
                                                     Orientation, list[str]]] | None:
    """The first candidate (largest first) that stacks and passes the geometry check; the
    ones that fail are reported and the next is tried."""
    ordered = sorted(candidates, key=lambda c: _size(c[0]), reverse=True)
    for n, (series, kind) in enumerate(ordered):
        try:
            result = stack(series, kind)
        except CardiolensError as exc:
            on_problem(f"{study_id}: {exc}"
                       + ("; trying the next " + key if n + 1 < len(ordered) else ""))
            continue
        for other, _ in ordered[n + 1:]:
            on_problem(f"{study_id}: {other.label} is a second {key}; kept {series.label}")
        return series, kind, result
    return None


def _import_study(scan: Scan, uid: str, study_id: str, out: Path,
                  on_problem: Callable[[str], None]) -> dict[str, Info]:
    """Classify, stack and write the series of one study; its series records. The volumes
    are written in a folder aside and moved to ``volumes/<study_id>`` only when the study is
    imported: a study that raises part-way or imports no series leaves no file in ``out``."""
    volumes = out / "volumes"
    stage = volumes / f".{study_id}.partial"
    shutil.rmtree(stage, ignore_errors=True)
    try:
        infos = _write_study(scan, uid, study_id, stage, on_problem)
        if infos:
            stage.rename(volumes / study_id)
        return infos
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _write_study(scan: Scan, uid: str, study_id: str, folder: Path,
                 on_problem: Callable[[str], None]) -> dict[str, Info]:
    """Classify and stack the series of one study, writing each kind's volume in
    ``folder``; the series records (paths as they will be in the dataset)."""
    for note in scan.notes.get(uid, []):
        on_problem(f"{study_id}: {note}")
    broken = sorted(scan.broken.get(uid, {}).values(), key=lambda b: b.series.number)
    for damaged in broken:
        on_problem(f"{study_id}: {damaged.line()}")
    for series in sorted(scan.no_geometry.get(uid, {}).values(), key=lambda s: s.number):
        on_problem(f"{study_id}: {series.label} not classified; skipped "
                   f"({_no_geometry_facts(series)})")
    classified, notes = classify_study(list(scan.studies.get(uid, {}).values()),
                                       [b.series for b in broken])
    for note in notes:
        on_problem(f"{study_id}: {note}")
    by_key: dict[str, list[tuple[SeriesFiles, Kind]]] = {}
    for series, kind, facts in classified:
        if kind is None:
            on_problem(f"{study_id}: {series.label} not classified; skipped "
                       f"({facts})")
            continue
        by_key.setdefault(f"{kind.sequence}_{kind.view}", []).append((series, kind))
    infos: dict[str, Info] = {}
    for key, candidates in sorted(by_key.items()):
        found = _import_kind(key, candidates, study_id, on_problem)
        if found is None:
            continue
        series, kind, (data, spacing, orientation, stack_notes) = found
        for note in stack_notes:
            on_problem(f"{study_id}: {note}")
        write_volume(folder / f"{key}.nii.gz", data, spacing)
        path = f"volumes/{study_id}/{key}.nii.gz"
        record = {**orientation.to_json(), "series_kind": kind.evidence}
        infos[key] = Info(path, data.shape[2], data.shape[3], orientation=record)
        if orientation.confidence != "high":
            on_problem(f"{study_id}: {series.label} ({key}): orientation "
                       f"{orientation.confidence} confidence: {'; '.join(orientation.notes)}")
    return infos


def import_dicom(src: Path, out: Path, salt_file: Path, progress: bool = True,
                 on_problem: Callable[[str], None] = print) -> ImportSummary:
    """Import every study under ``src``; one series per (sequence, view): the largest that
    stacks and passes the geometry check.

    pydicom's value validation is off while headers are read: a value that does not
    convert (IS "1A") is reported here as one line naming the file, the tag and the value
    (:mod:`cardiolens.importers.dicom_values`), and its series is skipped, so pydicom's own
    warning, which names no file, would only repeat it; a non-conforming value that
    converts is used as it is.
    """
    from pydicom.config import disable_value_validation

    salt = load_salt(salt_file)
    with disable_value_validation():
        return _import_all(Path(src), out, salt, progress, on_problem)


def _import_all(src: Path, out: Path, salt: str, progress: bool,
                on_problem: Callable[[str], None]) -> ImportSummary:
    scan = _scan(src, progress)
    if scan.unreadable:
        on_problem(f"{src}: {len(scan.unreadable)} file(s) are not readable DICOM images "
                   f"(e.g. {scan.unreadable[0]}); ignored")
    if scan.multiframe:
        on_problem(f"{src}: {len(scan.multiframe)} multi-frame (enhanced) DICOM file(s), e.g. "
                   f"{scan.multiframe[0]}, are not supported; export single-frame images")
    records: list[Study] = []
    skipped: list[str] = []
    for uid in sorted(set(scan.studies) | set(scan.no_geometry) | set(scan.broken)):
        study_id = study_id_for(uid, salt)
        try:
            infos = _import_study(scan, uid, study_id, out, on_problem)
        except (TypeError, ValueError) as exc:   # a malformed header value
            on_problem(f"{study_id}: malformed DICOM header value ({exc}); study skipped")
            infos = {}
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
