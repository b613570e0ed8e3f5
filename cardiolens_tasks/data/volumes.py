"""NIfTI volume access: safe paths, a size guard before any read, lazy frame access.

A series volume is stored as (H, W, Z) with Z packing slices x frames (slice-major by
default, frame-major on request) or as 4D (H, W, slices, frames). :class:`SeriesVolume`
hides the packing and the slice order: callers address frames as ``(slice, frame)`` with
slice 0 at the base. Only pixel data and voxel spacing leave this module; header free-text
fields (descrip, aux_file, db_name, intent_name) are never read out.
"""

from __future__ import annotations

import gzip
import io
import os
import struct
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np

from cardiolens.data.atomic import atomic_file
from cardiolens.data.dataset import SeriesInfo
from cardiolens.errors import VolumeError

_isal: Any
try:    # ISA-L deflate, about 3.5x faster than zlib at level 1; a core dependency on x86_64
    # and ARM (pyproject), with the zlib path where it is missing
    from isal import isal_zlib as _isal
except ImportError:         # pragma: no cover - the zlib path is the fallback
    _isal = None

MAX_VOXELS = 2**31
MAX_BYTES = 4 * 1024**3
NIFTI_SUFFIXES = (".nii", ".nii.gz")

FrameRef = tuple[int, int]
"""``(slice, frame)``: slice 0 is the base; frame 0 is the first phase or dynamic."""

F32_MAX = float(np.finfo(np.float32).max)
"""The largest float32; rendering works in float32."""

UNIT_MM = {"mm": 1.0, "meter": 1000.0, "micron": 0.001}
"""Millimetres per unit of each NIfTI spatial unit code that names a length."""
PIXEL_MM_RANGE = (0.05, 20.0)
"""In-plane pixel spacing a CMR image can have (mm); beyond it the header is not trusted."""


def resolve_inside(root: Path, relative: str) -> Path:
    """Resolve ``relative`` under ``root``; refuse absolute paths, ``..`` and escaping symlinks."""
    if os.path.isabs(relative) or relative.startswith(("/", "\\")):
        raise VolumeError(f"{relative}: absolute paths are not allowed")
    if ".." in Path(relative).parts:
        raise VolumeError(f"{relative}: path leaves the dataset folder")
    path = root / relative
    real_root = root.resolve()
    real = path.resolve()
    if real != real_root and real_root not in real.parents:
        raise VolumeError(f"{relative}: path leaves the dataset folder (symlink)")
    if not relative.endswith(NIFTI_SUFFIXES):
        raise VolumeError(f"{relative}: not a NIfTI file name (.nii or .nii.gz)")
    return path


def _open_image(path: Path) -> Any:
    if not path.is_file():
        raise VolumeError(f"{path}: file is missing")
    try:
        image = nib.load(str(path))
    except Exception as exc:  # nibabel raises many types for foreign or broken files
        raise VolumeError(f"{path}: {_unreadable_reason(path, exc)}") from None
    if not isinstance(image, (nib.Nifti1Image, nib.Nifti2Image)):
        raise VolumeError(f"{path}: not a NIfTI image")
    return image


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
    return text[:120]


def _unreadable_reason(path: Path, exc: BaseException) -> str:
    """Name the likely cause when nibabel cannot load a file (only on the failure path)."""
    size = path.stat().st_size
    if size == 0:
        return "file is empty"
    if path.name.endswith(".gz"):
        try:
            with gzip.open(path, "rb") as stream:
                while stream.read(1 << 24):
                    pass
        except (EOFError, OSError, zlib.error) as gz_exc:
            return f"truncated or corrupt gzip data ({_reason(gz_exc)})"
    elif size < 348:
        return f"truncated: {size} bytes, shorter than a NIfTI header"
    return "not a readable NIfTI file (bad header or unknown format)"


def check_size(path: Path, shape: Sequence[int], itemsize: int) -> None:
    """Refuse a header that claims an absurd size, before any voxel is read."""
    voxels = 1
    for dim in shape:
        voxels *= int(dim)
    if voxels > MAX_VOXELS or voxels * itemsize > MAX_BYTES:
        raise VolumeError(
            f"{path}: header claims {'x'.join(map(str, shape))} voxels "
            f"({voxels * itemsize / 1024**3:.1f} GiB), over the 2^31-voxel / 4 GiB limit"
        )


def gunzip_prefix(path: Path, size: int, fast: bool = True) -> bytes:
    """The first ``size`` decompressed bytes of the gzip file ``path``, inflated in one
    pass over the file read whole (ISA-L with ``fast`` when installed, else zlib); never
    more than ``size + 1`` bytes whatever the file holds. A member that ends early is
    followed by the next. Raises EOFError when the data ends before ``size`` bytes and
    ``zlib.error`` for corrupt data (a wrong checksum included, when a member ends)."""
    lib: Any = _isal if fast and _isal is not None else zlib
    data = path.read_bytes()
    parts: list[bytes] = []
    have = 0
    try:
        while True:
            inflater = lib.decompressobj(31)
            part = inflater.decompress(data, size + 1 - have)
            parts.append(part)
            have += len(part)
            data = inflater.unused_data
            if have >= size or not inflater.eof or not data:
                break
    except lib.error as exc:        # ISA-L's error is not zlib's: one type for callers
        raise zlib.error(str(exc)) from None
    if have < size:
        raise EOFError(f"compressed data ended after {have} of {size} bytes")
    out = parts[0] if len(parts) == 1 else b"".join(parts)
    return out[:size] if len(out) > size else out


@dataclass
class SeriesVolume:
    """Lazy access to one series' frames, normalised to base-to-apex slice order."""

    path: Path
    info: SeriesInfo
    shape: tuple[int, ...]
    spacing: tuple[float, float, float]
    _image: Any

    @property
    def pixel_mm(self) -> tuple[float, float] | None:
        """In-plane spacing (row, column) in mm when the header states it in a length unit
        and within :data:`PIXEL_MM_RANGE`; None otherwise (e.g. units ``unknown``, which
        is also what a header written without any spacing says, with zooms of 1)."""
        unit = self._image.header.get_xyzt_units()[0]
        if unit not in UNIT_MM:
            return None
        mm = (self.spacing[0] * UNIT_MM[unit], self.spacing[1] * UNIT_MM[unit])
        low, high = PIXEL_MM_RANGE
        return mm if all(np.isfinite(v) and low <= v <= high for v in mm) else None

    @classmethod
    def open(cls, root: str | Path, info: SeriesInfo) -> SeriesVolume:
        """Open the volume of ``info`` under dataset ``root``; checks path, size and shape."""
        path = resolve_inside(Path(root), info.path)
        image = _open_image(path)
        shape = tuple(int(d) for d in image.shape)
        dtype = np.dtype(image.get_data_dtype())
        check_size(path, shape, dtype.itemsize)
        if dtype.kind not in "biuf":        # complex, RGB (structured): no grayscale value
            raise VolumeError(f"{path}: voxel type {dtype} is not supported "
                              "(real-valued grayscale only)")
        expected = info.slices * info.frames
        fits = ((len(shape) == 3 and shape[2] == expected)
                or (len(shape) == 4 and shape[2:] == (info.slices, info.frames))
                or (len(shape) == 2 and expected == 1))
        if not fits:
            raise VolumeError(
                f"{path}: shape {shape} does not match slices x frames = "
                f"{info.slices} x {info.frames}"
            )
        zooms = tuple(float(z) for z in image.header.get_zooms()[:3])
        spacing = ((*zooms, 1.0, 1.0, 1.0))[:3]
        return cls(path, info, shape, (spacing[0], spacing[1], spacing[2]), image)

    @property
    def in_plane_shape(self) -> tuple[int, int]:
        return self.shape[0], self.shape[1]

    def _stored_slice(self, slice_index: int) -> int:
        if not 0 <= slice_index < self.info.slices:
            raise IndexError(f"slice {slice_index} out of range [0, {self.info.slices})")
        if self.info.slice_order == "apex_to_base":
            return self.info.slices - 1 - slice_index
        return slice_index

    def _z(self, ref: FrameRef) -> int:
        s, f = self._stored_slice(ref[0]), ref[1]
        if not 0 <= f < self.info.frames:
            raise IndexError(f"frame {f} out of range [0, {self.info.frames})")
        if self.info.packing == "frame-major":
            return f * self.info.slices + s
        return s * self.info.frames + f

    def _planes(self, count: int) -> np.ndarray | None:
        """The first ``count`` stored (H, W) planes of a ``.nii.gz`` as (H, W, count), from
        one inflate pass over the file's start (:func:`gunzip_prefix`); None for other
        files (nibabel reads those, memory-mapped)."""
        if not self.path.name.endswith(".gz"):
            return None
        proxy = self._image.dataobj        # (the image's header copy has offset 0)
        dtype = np.dtype(proxy.dtype)
        offset = int(proxy.offset)
        h, w = self.in_plane_shape
        size = h * w * count * dtype.itemsize
        raw = gunzip_prefix(self.path, offset + size)
        return np.frombuffer(raw, dtype, h * w * count, offset).reshape(h, w, count,
                                                                         order="F")

    def _plane(self, ref: FrameRef) -> int:
        """Storage index of a frame's (H, W) plane (NIfTI order: the third axis fastest)."""
        if len(self.shape) == 2:
            self._z(ref)                    # range checks only
            return 0
        if len(self.shape) == 4:
            s, f = self._stored_slice(ref[0]), ref[1]
            if not 0 <= f < self.info.frames:
                raise IndexError(f"frame {f} out of range [0, {self.info.frames})")
            return f * self.shape[2] + s
        return self._z(ref)

    def read_frames(self, refs: Sequence[FrameRef]) -> np.ndarray:
        """Frames as float32 (len(refs), H, W), decoding the file once for all of them."""
        if not refs:
            return np.zeros((0, *self.in_plane_shape), np.float32)
        planes = [self._plane(ref) for ref in refs]
        try:
            proxy = self._image.dataobj
            scaled = float(getattr(proxy, "slope", 1.0)) != 1.0 or \
                float(getattr(proxy, "inter", 0.0)) != 0.0
            block = None if scaled else self._planes(max(planes) + 1)
            if block is not None:
                return np.stack([block[:, :, z] for z in planes]).astype(np.float32)
            if len(self.shape) == 4:
                stored = [(self._stored_slice(s), f) for s, f in refs]
                s_lo = min(s for s, _ in stored)
                s_hi = max(s for s, _ in stored)
                f_lo = min(f for _, f in stored)
                f_hi = max(f for _, f in stored)
                block = np.asarray(proxy[:, :, s_lo:s_hi + 1, f_lo:f_hi + 1], np.float32)
                out = [block[:, :, s - s_lo, f - f_lo] for s, f in stored]
            elif len(self.shape) == 2:
                out = [np.asarray(proxy[:, :], np.float32)] * len(refs)
            else:
                z_lo, z_hi = min(planes), max(planes)
                block = np.asarray(proxy[:, :, z_lo:z_hi + 1], np.float32)
                out = [block[:, :, z - z_lo] for z in planes]
        except (OSError, EOFError, ValueError, zlib.error) as exc:
            raise self._read_error(exc) from None
        return np.stack(out)

    def _read_error(self, exc: BaseException) -> VolumeError:
        if isinstance(exc, (EOFError, zlib.error)) or "gzip" in str(exc).lower():
            return VolumeError(f"{self.path}: truncated or corrupt gzip data ({_reason(exc)})")
        return VolumeError(f"{self.path}: cannot read voxels ({_reason(exc)})")

    def iter_slabs(self, max_bytes: int) -> Iterator[np.ndarray]:
        """The scaled voxels as float slabs along the last axis, each under ``max_bytes``:
        float64 when the file stores float64 (so values beyond the float32 range show as
        themselves), else float32.

        Storage order, not frame order: for whole-volume checks that must not hold the
        whole volume in memory.
        """
        proxy = self._image.dataobj
        dtype = np.float64 if np.dtype(proxy.dtype) == np.float64 else np.float32
        per_index = int(np.prod(self.shape[:-1])) * np.dtype(dtype).itemsize
        step = max(1, max_bytes // max(per_index, 1))
        for start in range(0, self.shape[-1], step):
            yield np.asarray(proxy[..., start:start + step], dtype=dtype)

    def read_all_stored(self) -> tuple[np.ndarray, float, float]:
        """The whole series in its stored dtype as (slices, frames, H, W), base to apex,
        with the header's scaling (value = stored * slope + inter). One decode, no copies
        beyond the reorder; integer data keeps its integers for exact histograms."""
        proxy = self._image.dataobj
        try:
            planes = int(np.prod(self.shape[2:]))
            block = self._planes(planes)
            raw: np.ndarray = (np.asarray(proxy.get_unscaled()) if block is None
                               else block.reshape(self.shape, order="F"))
        except (OSError, EOFError, ValueError, zlib.error) as exc:
            raise self._read_error(exc) from None
        slope = float(getattr(proxy, "slope", 1.0))
        inter = float(getattr(proxy, "inter", 0.0))
        if not np.isfinite(slope) or slope == 0:      # NIfTI: slope 0 or NaN means unscaled
            slope, inter = 1.0, 0.0
        h, w = self.in_plane_shape
        slices, frames = self.info.slices, self.info.frames
        if raw.ndim == 2:
            stacked = raw.reshape(1, 1, h, w)
        elif raw.ndim == 4:
            stacked = raw.transpose(2, 3, 0, 1)
        elif self.info.packing == "frame-major":
            stacked = raw.reshape(h, w, frames, slices).transpose(3, 2, 0, 1)
        else:
            stacked = raw.reshape(h, w, slices, frames).transpose(2, 3, 0, 1)
        if self.info.slice_order == "apex_to_base":
            stacked = stacked[::-1]
        stacked = np.ascontiguousarray(stacked)
        if not stacked.flags.writeable:         # a view of the inflated bytes
            stacked = stacked.copy()
        return stacked, slope, inter


def scale_stored(stored: np.ndarray, slope: float, inter: float) -> np.ndarray:
    """Stored voxels to float32 values (``stored * slope + inter``); values beyond the
    float32 range become +-inf (``cardiolens validate`` reports such volumes)."""
    with np.errstate(over="ignore"):
        values = stored.astype(np.float32)
        if slope != 1.0 or inter != 0.0:
            values *= np.float32(slope)
            values += np.float32(inter)
    return values


def may_be_non_finite(stored: np.ndarray, slope: float, inter: float) -> bool:
    """Whether :func:`scale_stored` can give NaN or inf: float storage, or integers whose
    scaled range leaves float32."""
    if stored.dtype.kind not in "iu":
        return True
    bound = np.iinfo(stored.dtype)
    largest = abs(slope) * max(abs(int(bound.min)), int(bound.max)) + abs(inter)
    return not largest < F32_MAX


def finite_values(values: np.ndarray) -> np.ndarray:
    """``values`` with NaN and -inf set to the finite minimum and +inf to the finite
    maximum (zero when nothing is finite), for analysis that needs ordinary numbers."""
    finite = np.isfinite(values)
    if finite.all():
        return values
    lo, hi = (float(values[finite].min()), float(values[finite].max())) if finite.any() \
        else (0.0, 0.0)
    return np.nan_to_num(values, nan=lo, posinf=hi, neginf=lo)


GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x04\xff"
"""The gzip member header nibabel writes: deflate, no flags or name, mtime 0, "fastest"."""


def gzip_bytes(raw: bytes | memoryview, fast: bool = True) -> bytes:
    """One gzip member of ``raw``, deterministic (same input, same bytes).

    With ``fast`` and the ``isal`` package installed (a core dependency on x86_64 and
    ARM), ISA-L's level 1 (about 3.5x less CPU than zlib's, files about 1% larger, the
    same decoded bytes); otherwise zlib's level 1, byte for byte the file ``nib.save``
    writes for a ``.nii.gz`` name.
    """
    lib: Any = _isal if fast and _isal is not None else zlib
    body = lib.compress(raw, 1, -15)
    return GZIP_HEADER + body + struct.pack("<II", lib.crc32(raw) & 0xFFFFFFFF,
                                            len(raw) & 0xFFFFFFFF)


def to_int16(data: np.ndarray) -> np.ndarray:
    """Voxels rounded half to even and clipped to int16 (``np.rint``, ``np.clip``, then
    ``astype``, in one rounding pass), in the memory layout of ``data``."""
    inside = data.size == 0 or (data.min() >= -32768 and data.max() <= 32767)   # NaN: no
    values = data if inside else np.clip(data, -32768, 32767)   # integer bounds: rint after
    out = np.empty_like(values, dtype=np.int16)
    np.rint(values, out=out, casting="unsafe")
    return out


def write_volume(path: str | Path, data: np.ndarray, spacing: tuple[float, float, float],
                 affine: np.ndarray | None = None, fast: bool = True) -> None:
    """Write (H, W, slices, frames) as int16 NIfTI with byte-stable output.

    Without ``affine``: 3D slice-major packing and a diagonal affine from ``spacing``. With
    a 4x4 ``affine`` (array axes row, col, slice to RAS+ mm, docs/geometry.md): 4D
    (H, W, slices, frames), so the third axis is the slice axis the affine describes; the
    sform and qform both carry it. ``.nii.gz`` names are compressed by :func:`gzip_bytes`
    (``fast``: ISA-L when installed).
    """
    if data.ndim != 4:
        raise ValueError("write_volume expects (H, W, slices, frames)")
    h, w, slices, frames = data.shape
    if affine is None:
        data = data.reshape(h, w, slices * frames)
        affine = np.diag([spacing[0], spacing[1], spacing[2], 1.0])
    # any memory layout: nibabel writes the array in NIfTI (Fortran) order in one pass, so
    # a transposed view is not copied into C order first (same bytes, less time)
    image = nib.Nifti1Image(to_int16(data), affine)
    image.header.set_qform(affine, code=1)
    image.header.set_sform(affine, code=1)
    image.header.set_xyzt_units("mm", "sec")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(Path(path)) as tmp:
        if not str(path).endswith(".gz"):
            nib.save(image, str(tmp))
            return
        stream = io.BytesIO()       # header and voxels as one .nii, then one deflate pass
        image.to_file_map(image.make_file_map({"image": stream, "header": stream}))
        tmp.write_bytes(gzip_bytes(stream.getbuffer(), fast))
