"""The fast NIfTI paths (docs/phantom_images.md, "Speed round 2") against the reference
ones: writing (int16 conversion, one-pass gzip) and reading (one inflate pass)."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest

from cardiolens.data.dataset import SeriesInfo
from cardiolens.data.volumes import SeriesVolume, gunzip_prefix, to_int16, write_volume

AFFINE = np.diag([1.5, 1.25, 8.0, 1.0])


def _reference_write(path: Path, data: np.ndarray, affine: np.ndarray | None) -> None:
    """write_volume as it was before the fast paths: float rint, clip, astype, nib.save."""
    h, w, slices, frames = data.shape
    if affine is None:
        data = data.reshape(h, w, slices * frames)
        affine = np.diag([1.5, 1.5, 8.0, 1.0])
    values = np.rint(data)
    np.clip(values, -32768, 32767, out=values)
    image = nib.Nifti1Image(values.astype(np.int16), affine)
    image.header.set_qform(affine, code=1)
    image.header.set_sform(affine, code=1)
    image.header.set_xyzt_units("mm", "sec")
    nib.save(image, str(path))


def _rendered_like(seed: int) -> np.ndarray:
    """(H, W, slices, frames) float32 as the renderer hands it over: a transposed view of
    (slices, frames, H, W), with halves (rounding ties) and values beyond int16."""
    rng = np.random.default_rng(seed)
    base = (rng.random((3, 4, 18, 22), np.float32) * 900.0).round() / 2.0
    base[0, 0, :2, :3] = (40000.0, -40000.0, 32767.5)
    return base.transpose(2, 3, 0, 1)


@pytest.mark.parametrize("affine", [None, AFFINE])
def test_zlib_path_writes_the_bytes_nibabel_wrote(tmp_path: Path,
                                                  affine: np.ndarray | None) -> None:
    data = _rendered_like(1)
    _reference_write(tmp_path / "ref.nii.gz", data, affine)
    write_volume(tmp_path / "new.nii.gz", data, (1.5, 1.5, 8.0), affine, fast=False)
    assert (tmp_path / "new.nii.gz").read_bytes() == (tmp_path / "ref.nii.gz").read_bytes()
    write_volume(tmp_path / "new.nii", data, (1.5, 1.5, 8.0), affine, fast=False)
    assert (tmp_path / "new.nii").read_bytes() == gzip.decompress(
        (tmp_path / "ref.nii.gz").read_bytes())


def test_isal_path_same_decoded_bytes_and_deterministic(tmp_path: Path) -> None:
    pytest.importorskip("isal")
    data = _rendered_like(2)
    _reference_write(tmp_path / "ref.nii.gz", data, AFFINE)
    for name in ("a.nii.gz", "b.nii.gz"):
        write_volume(tmp_path / name, data, (1.5, 1.5, 8.0), AFFINE, fast=True)
    fast = (tmp_path / "a.nii.gz").read_bytes()
    assert fast == (tmp_path / "b.nii.gz").read_bytes()
    assert fast != (tmp_path / "ref.nii.gz").read_bytes()          # ISA-L, not zlib
    assert gzip.decompress(fast) == gzip.decompress((tmp_path / "ref.nii.gz").read_bytes())


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32])
def test_to_int16_is_rint_clip_astype(dtype: Any) -> None:
    rng = np.random.default_rng(3)
    data = (rng.normal(0.0, 20000.0, (5, 6, 7)) * 2).round() / 2
    data = data.astype(dtype).transpose(1, 2, 0)
    expected = np.clip(np.rint(data), -32768, 32767).astype(np.int16)
    got = to_int16(data)
    assert got.dtype == np.int16 and np.array_equal(got, expected)
    inside = (data / 4).astype(dtype)            # no clipping needed: the other branch
    assert np.array_equal(to_int16(inside), np.rint(inside).astype(np.int16))


@pytest.mark.parametrize("fast", [True, False])
def test_gunzip_prefix_bounds_members_and_errors(tmp_path: Path, fast: bool) -> None:
    raw = bytes(range(256)) * 400
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(raw[:1000], mtime=0) + gzip.compress(raw[1000:], mtime=0))
    assert gunzip_prefix(path, len(raw), fast) == raw           # two members
    assert gunzip_prefix(path, 1500, fast) == raw[:1500]
    assert gunzip_prefix(path, 10, fast) == raw[:10]
    with pytest.raises(EOFError):
        gunzip_prefix(path, len(raw) + 1, fast)
    whole = gzip.compress(raw, mtime=0)
    path.write_bytes(whole[: len(whole) // 2])                  # truncated
    with pytest.raises(EOFError):
        gunzip_prefix(path, len(raw), fast)
    bad = bytearray(whole)
    bad[-6] ^= 1                                                # wrong CRC
    path.write_bytes(bytes(bad))
    with pytest.raises(zlib.error):
        gunzip_prefix(path, len(raw), fast)


@pytest.mark.parametrize("layout", ["slice-major", "frame-major", "4d", "2d", "apex"])
def test_fast_read_equals_nibabel_read(tmp_path: Path, layout: str) -> None:
    slices, frames = (1, 1) if layout == "2d" else (3, 4)
    rng = np.random.default_rng(5)
    data = rng.integers(-300, 3000, (16, 12, slices, frames)).astype(np.float32)
    name = f"{layout}.nii.gz"
    if layout == "4d":
        write_volume(tmp_path / name, data, (1.5, 1.5, 8.0), AFFINE)
    elif layout == "2d":
        nib.save(nib.Nifti1Image(data[:, :, 0, 0].astype(np.int16), AFFINE),
                 str(tmp_path / name))
    else:
        write_volume(tmp_path / name, data, (1.5, 1.5, 8.0))
    info = SeriesInfo(name, slices, frames,
                      slice_order="apex_to_base" if layout == "apex" else "base_to_apex",
                      packing="frame-major" if layout == "frame-major" else "slice-major")
    fast = SeriesVolume.open(tmp_path, info)
    slow = SeriesVolume.open(tmp_path, info)
    slow._planes = lambda count: None                   # type: ignore[method-assign]
    a, b = fast.read_all_stored(), slow.read_all_stored()
    assert a[0].dtype == b[0].dtype and np.array_equal(a[0], b[0]) and a[1:] == b[1:]
    assert a[0].flags.writeable and a[0].flags.c_contiguous
    refs = [(0, 0), (slices - 1, frames - 1), (slices // 2, frames // 2)]
    got, want = fast.read_frames(refs), slow.read_frames(refs)
    assert got.dtype == want.dtype == np.float32 and np.array_equal(got, want)
