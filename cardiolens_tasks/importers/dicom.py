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
slices of one stack are joined; series mixing planes are split (a stack with a slice whose
orientation disagrees is refused); images exported twice are dropped; a slice acquired
twice keeps one whole acquisition, the latest; of several series of one kind the one with
the most slice locations (then images, then matrix) that stacks and passes the geometry
check is kept. A stack is refused, with one line naming the files, when its images differ
in PixelSpacing or matrix (a single slice: SliceThickness) by more than float noise, a slice
has another number of frames, or a gap shows a missing slice (1.8 times the median gap or
more). A header value that does not convert, or converts to no geometry (PixelSpacing <= 0,
an ImageOrientationPatient that is not orthonormal), skips the series of its image (never
assembled with a gap), named with the file and tag (the value only with ``show_paths``).

**No PHI on the console either.** Files are "file N" (their number under SRC in
:func:`source_files` order; paths relative to SRC only with ``show_paths``), series their
SeriesNumber ("series 300 (2nd)" when series of a study share it), studies their salted
id; no free-text header value is printed.
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
    FILE_NAMES,
    FileNames,
    Kind,
    SeriesFiles,
    classify_study,
    file_name,
    file_names,
    seconds,
    slice_positions,
)
from cardiolens.importers.dicom_values import bad_values, drop_labels


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
    if path.is_dir():
        raise CardiolensError(f"{path}: is a folder; --salt-file names a file (created "
                              "when missing), e.g. ~/.config/cardiolens/dicom-salt")
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
            raise CardiolensError(f"{series}: {file_name(path)}: pixel data unreadable "
                                  f"({reason}); "
                                  "the file is truncated or damaged") from None
        name, package = DECODERS.get(uid, (uid or "unknown transfer syntax", "python-gdcm"))
        raise CardiolensError(
            f"{series}: {file_name(path)}: pixel data in {name} ({uid}) not decoded ({reason}); "
            f"install {package} (pip install 'cardiolens[dicom]')") from None
    slope = float(getattr(ds, "RescaleSlope", 1) or 1)
    return pixels * slope + float(getattr(ds, "RescaleIntercept", 0) or 0), ds


UNEVEN_GAP = 0.1     # slice gaps varying by more than this share of the gap are reported
MISSING_GAP = 1.8    # a gap this many times the median one or more: a slice is missing (one
#                      missing slice makes about 2x; under 1.8x, e.g. a re-planned slice at
#                      about 1.6x, is stored with a line)

Image = tuple[float, int, Path, Any]
"""(trigger or acquisition time, InstanceNumber, file, header) of one image of a stack."""


def _paths(images: list[Image]) -> list[Path]:
    return [e[2] for e in images]


def _acquisitions(images: list[Image], usual: int) -> list[list[Image]] | None:
    """The images of one position acquired ``len(images) // usual`` times, split into
    whole acquisitions: by AcquisitionNumber when it splits them into equal runs, else in
    InstanceNumber order (a repeat is exported after the first); None when a run repeats a
    trigger / acquisition time (two acquisitions interleaved: which image belongs to which
    is not known)."""
    times = len(images) // usual
    by_number: dict[str, list[Image]] = {}
    for image in images:
        by_number.setdefault(str(getattr(image[3], "AcquisitionNumber", "") or ""),
                             []).append(image)
    if len(by_number) == times and all(len(v) == usual for v in by_number.values()):
        runs = list(by_number.values())
    else:
        ordered = sorted(images, key=lambda e: e[1])
        runs = [ordered[k * usual:(k + 1) * usual] for k in range(times)]
    if any(len({e[0] for e in run}) != usual for run in runs):
        return None
    return runs


def _acquisition_number(header: Any) -> int:
    try:
        return int(getattr(header, "AcquisitionNumber", 0) or 0)
    except (TypeError, ValueError):
        return 0


def _latest_per_position(series: SeriesFiles, by_position: dict[float, list[Image]],
                         notes: list[str]) -> None:
    """A position with a whole multiple of the usual image count was acquired more than
    once: keep one whole acquisition of it, the latest (acquisition time, then
    AcquisitionNumber, then InstanceNumber; :func:`_acquisitions`), so its frames are phases
    1..N of that acquisition, and note it. Other unequal counts raise, naming
    the positions and their files."""
    counts = [len(v) for v in by_position.values()]
    usual = max(set(counts), key=lambda c: (counts.count(c), -c))
    odd = {p: v for p, v in by_position.items() if len(v) % usual}
    if odd:
        where = "; ".join(f"slice at {p:g} mm has {len(v)} ({file_names(_paths(v))})"
                          for p, v in sorted(odd.items()))
        raise CardiolensError(f"{series.label}: unequal frames per slice "
                              f"{sorted(set(counts))}: {where}, the others {usual}; not "
                              "assembled (a missing or extra image would shift the frames)")
    for position, images in by_position.items():
        if len(images) == usual:
            continue
        runs = _acquisitions(images, usual)
        if runs is None:
            raise CardiolensError(
                f"{series.label}: slice at {position:g} mm acquired {len(images) // usual} "
                f"times ({file_names(_paths(images))}) and the acquisitions cannot be told "
                "apart (no AcquisitionNumber, repeated times in InstanceNumber order); not "
                "assembled")
        latest = max(runs, key=lambda run: (max(seconds(e[3]) for e in run),
                                            max(_acquisition_number(e[3]) for e in run),
                                            max(e[1] for e in run)))
        by_position[position] = latest
        dropped = [e for run in runs if run is not latest for e in run]
        notes.append(f"{series.label}: slice at {position:g} mm acquired "
                     f"{len(runs)} times; kept the latest acquisition "
                     f"({file_names(_paths(latest))}), dropped {file_names(_paths(dropped))}")


def _drop_identical(series: SeriesFiles, by_position: dict[float, list[Image]],
                    notes: list[str]) -> None:
    """Images at one position with one trigger / acquisition time and the same pixels
    (SHA-256 of the decoded pixels) are one image exported twice: keep the first. Only
    images sharing a position and time are read here."""
    dropped: list[Image] = []
    for position, images in by_position.items():
        by_time: dict[float, list[Image]] = {}
        for image in images:
            by_time.setdefault(image[0], []).append(image)
        drop: list[Image] = []
        for same in by_time.values():
            if len(same) < 2:
                continue
            seen: dict[str, Image] = {}
            for image in sorted(same, key=lambda e: e[1]):
                pixels, _ = _pixels(image[2], series.label)
                digest = hashlib.sha256(np.ascontiguousarray(pixels).tobytes()).hexdigest()
                if digest in seen:
                    drop.append(image)
                else:
                    seen[digest] = image
        if drop:
            by_position[position] = [e for e in images if not any(e is d for d in drop)]
            dropped += drop
    if dropped:
        notes.append(f"{series.label}: {len(dropped)} file(s) repeat another image (same "
                     f"position, time and pixels): {file_names(_paths(dropped))}; dropped")


def _one_value(series: SeriesFiles, images: list[Image], what: str,
               value: Callable[[Any], tuple[float, ...] | None], unit: str,
               exact: bool = False) -> None:
    """Raise, naming the odd files, when the images of a stack differ in ``what`` (by more
    than float noise, :func:`_same`, unless ``exact``): one value is stored for the whole
    stack (the first file's would be wrong for the rest)."""
    groups: list[tuple[tuple[float, ...] | None, list[Path]]] = []
    for _, _, path, h in images:
        v = value(h)
        for reference, paths in groups:
            if reference == v if exact else _same(reference, v):
                paths.append(path)
                break
        else:
            groups.append((v, [path]))
    if len(groups) < 2:
        return
    ordered = sorted(groups, key=lambda g: -len(g[1]))
    usual, odd = ordered[0], ordered[1:]
    raise CardiolensError(
        f"{series.label}: {what} differs within the stack: {_text(usual[0])}{unit} in "
        f"{len(usual[1])} file(s), "
        + ", ".join(f"{_text(v)}{unit} in {file_names(paths)}" for v, paths in odd)
        + f"; not assembled (one {what} is stored per stack)")


SAME_REL = 1e-3      # header values within this share (or SAME_ABS) are one value (float noise:
SAME_ABS = 1e-3      # "1.367198" / "1.367188", "9.99999" / "10", "0.78125" / "0.7813")


def _same(a: tuple[float, ...] | None, b: tuple[float, ...] | None) -> bool:
    if a is None or b is None:
        return a is b
    return len(a) == len(b) and all(abs(x - y) <= max(SAME_ABS, SAME_REL * max(abs(x), abs(y)))
                                    for x, y in zip(a, b, strict=True))


def _text(value: tuple[float, ...] | None) -> str:
    return "none" if value is None else " x ".join(f"{v:g}" for v in value)


def _spacing(h: Any) -> tuple[float, ...]:
    return tuple(float(v) for v in h.PixelSpacing)


def _thickness(h: Any) -> tuple[float, ...] | None:
    value = getattr(h, "SliceThickness", None)
    return None if value in (None, "") else (float(value),)


def _matrix(h: Any) -> tuple[float, ...]:
    return (int(getattr(h, "Rows", 0) or 0), int(getattr(h, "Columns", 0) or 0))


def stack(series: SeriesFiles, kind: Kind) -> tuple[np.ndarray, tuple[float, float, float],
                                                    Orientation, list[str]]:
    """(H, W, slices, frames) pixels in the canonical frame, the spacing, the transform and
    notes for the user (repeated slices, uneven gaps)."""
    if kind.sequence in ("lge", "t2"):
        series = _magnitude_only(series)
    notes: list[str] = []
    headers = [h for _, h in series.files]
    by_position: dict[float, list[Image]] = {}
    for (path, h), position in zip(series.files, slice_positions(headers, headers[0]),
                                   strict=True):
        key = (float(getattr(h, "TriggerTime", 0) or 0) if kind.sequence == "cine"
               else seconds(h))
        by_position.setdefault(position, []).append(
            (key, int(getattr(h, "InstanceNumber", 0) or 0), path, h))
    _drop_identical(series, by_position, notes)
    _latest_per_position(series, by_position, notes)
    kept = [e for images in by_position.values() for e in images]
    _one_value(series, kept, "PixelSpacing", _spacing, " mm")
    _one_value(series, kept, "matrix (Rows x Columns)", _matrix, "", exact=True)
    positions = sorted(by_position)
    if len(positions) == 1:      # a stack's slice spacing comes from the positions
        _one_value(series, kept, "SliceThickness", _thickness, " mm")
    frames = len(by_position[positions[0]])
    first, _ = _pixels(kept[0][2], series.label)
    shape = first.shape
    if len(shape) != 2:
        raise CardiolensError(f"{series.label}: {file_name(kept[0][2])}: colour images "
                              f"(pixel array {shape}) are not supported")
    data = np.zeros((*shape, len(positions), frames), np.float32)
    for s, position in enumerate(positions):
        ordered = sorted(by_position[position], key=lambda e: (e[0], e[1]))
        for f, (_, _, path, _) in enumerate(ordered):
            pixels, _ = _pixels(path, series.label)
            if pixels.shape != shape:
                raise CardiolensError(f"{series.label}: {file_name(path)}: pixel array "
                                      f"{pixels.shape}, the stack's {shape}; not assembled")
            data[:, :, s, f] = pixels
    h0 = kept[0][3]
    pixel = [float(v) for v in h0.PixelSpacing]
    if len(positions) > 1:
        gaps = np.diff(positions)
        gap = float(np.median(gaps))
        # with two gaps the median is their mean (8 and 16 mm: 12), so a 3-slice stack
        # missing its middle neighbour would pass; compare with the narrower gap there
        reference = gap if len(gaps) > 2 else float(np.min(gaps))
        wide = int(np.argmax(gaps))
        if float(gaps[wide]) >= MISSING_GAP * abs(reference):
            below, above = by_position[positions[wide]], by_position[positions[wide + 1]]
            raise CardiolensError(
                f"{series.label}: a slice is missing: {float(gaps[wide]):g} mm between the "
                f"slices at {positions[wide]:g} mm ({file_names(_paths(below))}) and "
                f"{positions[wide + 1]:g} mm ({file_names(_paths(above))}), "
                f"{float(gaps[wide]) / reference:.1f} times the usual {reference:g} mm; "
                "not assembled "
                "(a stack with a gap would be stored as complete)")
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


def _size(series: SeriesFiles) -> tuple[int, int, int]:
    """Slice locations, then images, then matrix: of two series of one kind the one that
    covers more of the heart is kept (a single-slice real-time cine of 260 images loses to
    a 12-slice stack of 240; a perfusion's low-resolution AIF series to the myocardial
    one)."""
    h = series.files[0][1]
    return (_locations(series), len(series.files),
            int(getattr(h, "Rows", 0) or 0) * int(getattr(h, "Columns", 0) or 0))


def _locations(series: SeriesFiles) -> int:
    first = series.files[0][1]
    return len(set(slice_positions([h for _, h in series.files], first)))


def _size_text(series: SeriesFiles) -> str:
    return f"{_locations(series)} location(s) x {len(series.files)} image(s)"


def _magnitude_only(series: SeriesFiles) -> SeriesFiles:
    """One image per location for a static series stored as magnitude + phase (PSIR):
    the images whose ImageType does not say phase."""
    def phase(h: Any) -> bool:
        kinds = {str(v).upper() for v in (getattr(h, "ImageType", None) or [])}
        return bool(kinds & {"P", "PHASE"})

    kept = [(p, h) for p, h in series.files if not phase(h)]
    if not kept or len(kept) == len(series.files):
        return series
    return SeriesFiles(series.number, series.description, kept, series.joined, nth=series.nth)


def _normal(header: Any) -> np.ndarray:
    row_col = np.asarray([float(v) for v in header.ImageOrientationPatient])
    return np.cross(row_col[:3], row_col[3:])


GEOMETRY_TAGS = ("ImageOrientationPatient", "ImagePositionPatient", "PixelSpacing")


@dataclass
class Scan:
    """Headers grouped by study and series UID: images with geometry, and apart the series
    none of whose images has a geometry tag; series with an image whose header value does
    not convert or lacks a geometry tag the others have (all their images, with the
    reasons); console lines per study; multi-frame files; files that are not readable
    DICOM; folders without a file."""

    studies: dict[str, dict[str, SeriesFiles]] = field(default_factory=dict)
    no_geometry: dict[str, dict[str, SeriesFiles]] = field(default_factory=dict)
    broken: dict[str, dict[str, Broken]] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)
    multiframe: list[Path] = field(default_factory=list)
    unreadable: list[Path] = field(default_factory=list)
    empty_folders: list[Path] = field(default_factory=list)


@dataclass
class Broken:
    """A DICOM series with images whose needed header values do not convert or are missing
    where the other images have them: every image of it (it is not assembled) and, per bad
    image, its file and the reasons."""

    series: SeriesFiles
    bad: list[tuple[Path, list[str]]] = field(default_factory=list)

    def line(self) -> str:
        path, values = self.bad[0]
        more = len(self.bad) - 1
        return (f"{self.series.label} skipped: {file_name(path)}: {'; '.join(values)}"
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

    return (f"{len(headers)} file(s) without {', '.join(missing)}: no geometry; TE "
            f"{values('EchoTime')} ms, TI {values('InversionTime')} ms, trigger times "
            f"{values('TriggerTime')} ms")


def source_files(src: Path) -> list[Path]:
    """The files under ``src`` in the order the console numbers them ("file 38"): sorted
    by their path relative to ``src``, folder by folder."""
    return sorted((p for p in src.rglob("*") if p.is_file()),
                  key=lambda p: p.relative_to(src).parts)


def _scan(src: Path, files: list[Path], progress: bool) -> Scan:
    """Read every file's header; single-frame images with geometry are grouped for import.
    A file repeating another's SOPInstanceUID is one image exported twice: dropped."""
    import pydicom

    scan = Scan()
    holding = {parent for p in files for parent in p.relative_to(src).parents}
    scan.empty_folders = sorted(
        d for d in src.rglob("*") if d.is_dir() and d.relative_to(src) not in holding
        and d.parent.relative_to(src) in holding)
    seen: dict[tuple[str, str], Path] = {}
    repeats: dict[str, list[Path]] = {}
    for path in tqdm(files, desc="reading DICOM headers", unit="file", disable=not progress):
        try:
            header = pydicom.dcmread(path, stop_before_pixels=True)
            study, uid = str(header.StudyInstanceUID), str(header.SeriesInstanceUID)
        except Exception:
            scan.unreadable.append(path)
            continue
        sop = str(getattr(header, "SOPInstanceUID", "") or "")
        if sop and (study, sop) in seen:
            repeats.setdefault(study, []).append(path)
            continue
        if sop:
            seen[study, sop] = path
        bad = bad_values(header)
        for value in bad:
            if value.label_only:
                scan.notes.setdefault(study, []).append(
                    f"{file_name(path)}: {value}; treated as absent (a label only)")
        drop_labels(header, bad)
        bad = [v for v in bad if not v.label_only]
        number = int(getattr(header, "SeriesNumber", 0) or 0)
        description = str(getattr(header, "SeriesDescription", "") or "")
        if bad or uid in scan.broken.get(study, {}):
            broken = scan.broken.setdefault(study, {}).setdefault(
                uid, Broken(SeriesFiles(number, description)))
            broken.series.files.append((path, header))
            if bad:
                broken.bad.append((path, [str(v) for v in bad]))
            continue
        if int(getattr(header, "NumberOfFrames", 1) or 1) > 1:
            scan.multiframe.append(path)
            continue
        target = (scan.studies if all(_has(header, t) for t in GEOMETRY_TAGS)
                  else scan.no_geometry)
        entry = target.setdefault(study, {}).setdefault(uid, SeriesFiles(number, description))
        entry.files.append((path, header))
    for study, paths in repeats.items():
        scan.notes.setdefault(study, []).insert(0, (
            f"{len(paths)} file(s) repeat an image read before (same SOPInstanceUID: one "
            f"image exported twice): {file_names(paths)}; dropped"))
    _partial_geometry(scan)
    for study, series in scan.broken.items():     # images read before the bad one
        for uid, broken in series.items():
            for found in (scan.studies, scan.no_geometry):
                earlier = found.get(study, {}).pop(uid, None)
                if earlier is not None:
                    broken.series.files[:0] = earlier.files
    _number_twins(scan, {p: n for n, p in enumerate(files)})
    return scan


def _number_twins(scan: Scan, index: dict[Path, int]) -> None:
    """Series of one study that share a SeriesNumber are named "series 300 (1st)",
    "series 300 (2nd)", ... in the order of their first file under SRC."""
    for study in {*scan.studies, *scan.no_geometry, *scan.broken}:
        found = [*scan.studies.get(study, {}).values(), *scan.no_geometry.get(study, {}).values(),
                 *(b.series for b in scan.broken.get(study, {}).values())]
        by_number: dict[int, list[SeriesFiles]] = {}
        for series in found:
            by_number.setdefault(series.number, []).append(series)
        for twins in by_number.values():
            if len(twins) > 1:
                twins.sort(key=lambda s: min((index.get(p, 0) for p, _ in s.files), default=0))
                for n, series in enumerate(twins, 1):
                    series.nth = n


def _partial_geometry(scan: Scan) -> None:
    """A series some of whose images lack a geometry tag the others have is broken (one
    line naming those files), not assembled from the rest with a gap."""
    for study, series in scan.no_geometry.items():
        for uid in [u for u in series if u in scan.studies.get(study, {})]:
            lacking = series.pop(uid)
            headers = [h for _, h in scan.studies[study][uid].files]
            broken = scan.broken.setdefault(study, {}).setdefault(
                uid, Broken(SeriesFiles(lacking.number, lacking.description)))
            for path, h in lacking.files:
                missing = [t for t in GEOMETRY_TAGS if not _has(h, t)
                           and any(_has(o, t) for o in headers)]
                broken.bad.append((path, [f"{t} missing (the series' other images have "
                                          "it)" for t in missing] or ["no geometry"]))
                broken.series.files.append((path, h))


def _import_kind(key: str, candidates: list[tuple[SeriesFiles, Kind]], study_id: str,
                 on_problem: Callable[[str], None]
                 ) -> tuple[SeriesFiles, Kind, tuple[np.ndarray, tuple[float, float, float],
                                                     Orientation, list[str]]] | None:
    """The first candidate (most slice locations, then images, then matrix: :func:`_size`)
    that stacks and passes the geometry check; the ones that fail are reported and the next
    is tried; the ones left are named with the reason the kept one won."""
    ordered = sorted(candidates, key=lambda c: _size(c[0]), reverse=True)
    for n, (series, kind) in enumerate(ordered):
        try:
            result = stack(series, kind)
        except CardiolensError as exc:
            on_problem(f"{study_id}: {exc}"
                       + ("; trying the next " + key if n + 1 < len(ordered) else ""))
            continue
        for other, _ in ordered[n + 1:]:
            on_problem(f"{study_id}: {other.label} ({_size_text(other)}) is a second {key}; "
                       f"kept {series.label} ({_size_text(series)}): most slice locations, "
                       "then images, then matrix")
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
                 on_problem: Callable[[str], None] = print,
                 show_paths: bool = False) -> ImportSummary:
    """Import every study under ``src``; one series per (sequence, view): the largest that
    stacks and passes the geometry check.

    pydicom's value validation is off while headers are read: a value that does not
    convert (IS "1A") is reported here as one line naming the file, the tag and the value
    (:mod:`cardiolens.importers.dicom_values`), and its series is skipped, so pydicom's own
    warning, which names no file, would only repeat it; a non-conforming value that
    converts is used as it is.

    Console lines name no path and no free-text header value: a file is "file N", its
    number in :func:`source_files` order (with ``show_paths`` also its path relative to
    ``src``), a series its SeriesNumber, a study its salted id.
    """
    from pydicom.config import disable_value_validation

    if Path(src).is_file():
        raise CardiolensError(f"{src}: is a file; give the folder that holds the DICOM files")
    salt = load_salt(salt_file)
    files = source_files(Path(src))
    token = FILE_NAMES.set(FileNames({p: n for n, p in enumerate(files, 1)}, Path(src),
                                     show_paths))
    try:
        with disable_value_validation():
            return _import_all(Path(src), files, out, salt, progress, on_problem)
    finally:
        FILE_NAMES.reset(token)


def _import_all(src: Path, files: list[Path], out: Path, salt: str, progress: bool,
                on_problem: Callable[[str], None]) -> ImportSummary:
    scan = _scan(src, files, progress)
    names = FILE_NAMES.get()
    if scan.empty_folders:
        shown = (": " + ", ".join(d.relative_to(src).as_posix() for d in scan.empty_folders)
                 if names is not None and names.show_paths else " (--show-paths names them)")
        on_problem(f"SRC: {len(scan.empty_folders)} folder(s) hold no file (an empty study "
                   f"folder?){shown}")
    if scan.unreadable:
        on_problem(f"SRC: {len(scan.unreadable)} file(s) are not readable DICOM images "
                   f"({file_names(scan.unreadable)}); ignored")
    if scan.multiframe:
        on_problem(f"SRC: {len(scan.multiframe)} multi-frame (enhanced) DICOM file(s) "
                   f"({file_names(scan.multiframe)}) are not supported; export single-frame "
                   "images")
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
