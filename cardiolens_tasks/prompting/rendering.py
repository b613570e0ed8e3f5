"""Frames to 8-bit grayscale PNGs: series window, aspect-true resize, content-keyed cache.

The window is per series (0.5th to 99.5th percentile of every finite voxel of the series),
so relative brightness across slices and phases survives. The longest side is resized to
``image_size`` (never upscaled beyond 2x), keeping the physical aspect from the voxel
spacing. PNG bytes are cached on disk under a key made of the volume file's digest, the
frame and the render options, so a warm run decodes nothing.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from cardiolens.data.volumes import F32_MAX

WINDOW_PERCENTILES = (0.5, 99.5)
MAX_UPSCALE = 2.0
DEFAULT_IMAGE_SIZE = 256
RENDER_VERSION = 1


@dataclass(frozen=True)
class RenderOptions:
    image_size: int = DEFAULT_IMAGE_SIZE

    def key(self) -> str:
        return f"v{RENDER_VERSION}-s{self.image_size}"




def series_window(data: np.ndarray, slope: float = 1.0,
                  inter: float = 0.0) -> tuple[float, float]:
    """The display window (low, high) of a whole series of ``data * slope + inter``.

    Integer data (as stored in most NIfTI files) takes an exact order-statistic path that
    gives numpy's linear-interpolated percentiles without sorting.
    """
    if np.issubdtype(data.dtype, np.integer) and data.size and slope > 0:
        lo, hi = (v * slope + inter for v in integer_percentiles(data, WINDOW_PERCENTILES))
    else:
        values = data * slope + inter if (slope != 1.0 or inter != 0.0) else data
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            return 0.0, 1.0
        lo, hi = (float(v) for v in np.percentile(finite, WINDOW_PERCENTILES))
    return lo, hi if hi > lo else lo + 1.0


def integer_percentiles(data: np.ndarray, percentiles: Sequence[float]) -> list[float]:
    """``np.percentile(data, percentiles)`` (linear method) for integer arrays, from the
    order statistics ``np.partition`` puts in place (exact integers, no sort; about 1.5x
    faster than counting with ``bincount``, which first widens every voxel to intp)."""
    flat = data.ravel()
    n = flat.size
    positions = [q / 100.0 * (n - 1) for q in percentiles]
    ranks = sorted({k for p in positions for k in (math.floor(p), min(math.floor(p) + 1, n - 1))})
    placed = np.partition(flat, ranks)
    out = []
    for position in positions:
        below = math.floor(position)
        a, b = int(placed[below]), int(placed[min(below + 1, n - 1)])
        out.append(a + (position - below) * (b - a))
    return out


def to_uint8(frame: np.ndarray, window: tuple[float, float]) -> np.ndarray:
    """Window a frame to 0..255; NaN shows as the low end, +-Inf as the window's ends."""
    lo, hi = window
    if max(abs(lo), abs(hi)) > F32_MAX:          # a float64 series beyond float32
        frame = frame.astype(np.float64)
    values = np.clip(np.nan_to_num(frame, nan=lo, posinf=hi, neginf=lo), lo, hi)
    scaled = (values - lo) / (hi - lo) * 255.0
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def target_size(shape: tuple[int, int], spacing: tuple[float, float],
                image_size: int) -> tuple[int, int]:
    """(width, height) in pixels: longest physical side to ``image_size``, at most 2x."""
    rows, cols = shape
    height_mm, width_mm = rows * spacing[0], cols * spacing[1]
    scale = image_size / max(height_mm, width_mm)
    width = max(1, round(width_mm * scale))
    height = max(1, round(height_mm * scale))
    limit_w, limit_h = round(cols * MAX_UPSCALE), round(rows * MAX_UPSCALE)
    if width > limit_w or height > limit_h:
        shrink = min(limit_w / width, limit_h / height)
        width, height = max(1, round(width * shrink)), max(1, round(height * shrink))
    return width, height


@dataclass(frozen=True)
class DisplayScale:
    """The physical size of a rendered frame: its field of view (mm) and pixels."""

    width_mm: float
    height_mm: float
    width_px: int
    height_px: int

    @property
    def mm_per_px(self) -> tuple[float, float]:
        """(across, down) mm per displayed pixel."""
        return self.width_mm / self.width_px, self.height_mm / self.height_px


def display_scale(shape: tuple[int, int], pixel_mm: tuple[float, float],
                  image_size: int) -> DisplayScale:
    """The scale a frame of ``shape`` (rows, cols) with spacing ``pixel_mm`` (row, column)
    is shown at by :func:`render_png` (resize, aspect and the upscale limit included)."""
    width, height = target_size(shape, pixel_mm, image_size)
    return DisplayScale(shape[1] * pixel_mm[1], shape[0] * pixel_mm[0], width, height)


def render_png(frame: np.ndarray, window: tuple[float, float], spacing: tuple[float, float],
               options: RenderOptions) -> bytes:
    """One frame (H, W) as grayscale PNG bytes."""
    image = Image.fromarray(to_uint8(frame, window), mode="L")
    size = target_size(frame.shape[:2], spacing, options.image_size)
    if size != image.size:
        image = image.resize(size, Image.Resampling.LANCZOS)
    return encode_png(image)


def encode_png(image: Image.Image) -> bytes:
    """Lossless PNG bytes. Compression level 1: on phantom cine frames it encodes 4x faster
    than Pillow's default level 6 for about 17% more bytes (the pixels are the same)."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def mosaic(pngs: Sequence[bytes], labels: Sequence[str], max_images: int) -> list[bytes]:
    """Tile PNG frames into at most ``max_images`` images, each tile labelled with its number.

    Tiles keep their order (left to right, top to bottom); images hold near-equal counts.
    """
    if not pngs:
        return []
    groups = max(1, min(max_images, len(pngs)))
    per, rest = divmod(len(pngs), groups)
    out: list[bytes] = []
    start = 0
    font = ImageFont.load_default()
    for g in range(groups):
        count = per + (1 if g < rest else 0)
        tiles = [Image.open(io.BytesIO(p)).convert("L") for p in pngs[start:start + count]]
        names = labels[start:start + count]
        start += count
        cols = math.ceil(math.sqrt(len(tiles)))
        rows = math.ceil(len(tiles) / cols)
        cell_w = max(t.width for t in tiles)
        cell_h = max(t.height for t in tiles)
        sheet = Image.new("L", (cols * cell_w, rows * cell_h), 0)
        draw = ImageDraw.Draw(sheet)
        for i, (tile, name) in enumerate(zip(tiles, names, strict=True)):
            x, y = (i % cols) * cell_w, (i // cols) * cell_h
            sheet.paste(tile, (x, y))
            draw.rectangle((x, y, x + 8 + 7 * len(name), y + 13), fill=0)
            draw.text((x + 3, y + 1), name, fill=255, font=font)
        out.append(encode_png(sheet))
    return out


# ---------------------------------------------------------------------------------- cache


_digests: dict[tuple[str, int, int], str] = {}
_digest_lock = threading.Lock()


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes, memoised per (path, size, mtime) in this process."""
    stat = path.stat()
    memo_key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _digest_lock:
        known = _digests.get(memo_key)
    if known is not None:
        return known
    hasher = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            hasher.update(block)
    digest = hasher.hexdigest()
    with _digest_lock:
        _digests[memo_key] = digest
    return digest


class RenderCache:
    """PNG bytes and series windows on disk, keyed by content; ``None`` root disables it."""

    def __init__(self, root: Path | None) -> None:
        self.root = root

    def _path(self, kind: str, key: str, suffix: str) -> Path | None:
        if self.root is None:
            return None
        name = hashlib.sha256(key.encode()).hexdigest()
        return self.root / kind / name[:2] / f"{name}{suffix}"

    def get_png(self, key: str) -> bytes | None:
        path = self._path("png", key, ".png")
        try:
            return path.read_bytes() if path is not None else None
        except OSError:
            return None

    def put_png(self, key: str, data: bytes) -> None:
        self._write(self._path("png", key, ".png"), data)

    def get_json(self, kind: str, key: str) -> Any:
        """A cached JSON value (window, ED/ES, key dynamics, scores), or None."""
        path = self._path(kind, key, ".json")
        try:
            return json.loads(path.read_text()) if path is not None else None
        except (OSError, ValueError):
            return None

    def put_json(self, kind: str, key: str, value: Any) -> None:
        self._write(self._path(kind, key, ".json"), json.dumps(value).encode())

    @staticmethod
    def _write(path: Path | None, data: bytes) -> None:
        """Atomic write (temp file + rename); a cache that cannot be written is skipped."""
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
            tmp.write_bytes(data)
            os.replace(tmp, path)
        except OSError:
            return
