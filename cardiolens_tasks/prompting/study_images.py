"""One study's frames for prompts: selection statistics and PNGs, cached by file content.

:class:`StudyImages` decodes a series at most once per item (only when something is not in
the cache), answers selection's questions about the pixels (:class:`SeriesStats`) and
renders the chosen frames. Everything it caches is keyed by the volume file's SHA-256, so
a changed file never serves stale images and a renamed one still hits the cache.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cardiolens.data.dataset import SeriesInfo, Study
from cardiolens.data.volumes import (
    SeriesVolume,
    finite_values,
    may_be_non_finite,
    resolve_inside,
    scale_stored,
)
from cardiolens.errors import VolumeError
from cardiolens.prompting.rendering import (
    DisplayScale,
    RenderCache,
    RenderOptions,
    display_scale,
    render_png,
    series_window,
)
from cardiolens.prompting.selection import (
    FrameChoice,
    ed_es,
    estimate_ed_es,
    frame_scores,
    perfusion_key_dynamics,
)


@dataclass(frozen=True)
class RenderedFrame:
    choice: FrameChoice
    png: bytes


class StudyImages:
    """Lazy, cached access to one study's series for selection and rendering."""

    def __init__(self, root: Path, study: Study, options: RenderOptions,
                 cache: RenderCache) -> None:
        self.root = root
        self.study = study
        self.options = options
        self.cache = cache
        self._volumes: dict[str, SeriesVolume] = {}
        self._stored: dict[str, tuple[np.ndarray, float, float]] = {}
        self._pixels: dict[str, np.ndarray] = {}
        self._digests: dict[str, str] = {}

    # -- raw access ------------------------------------------------------------------
    def info(self, key: str) -> SeriesInfo:
        return self.study.series[key]

    def volume(self, key: str) -> SeriesVolume:
        if key not in self._volumes:
            self._volumes[key] = SeriesVolume.open(self.root, self.info(key))
        return self._volumes[key]

    def stored(self, key: str) -> tuple[np.ndarray, float, float]:
        """The whole series in its stored dtype (slices, frames, H, W), slope, intercept;
        decoded once per item."""
        if key not in self._stored:
            self._stored[key] = self.volume(key).read_all_stored()
        return self._stored[key]

    def pixels(self, key: str) -> np.ndarray:
        """The whole series as finite float32 (slices, frames, H, W): NaN and inf voxels
        take the series' finite extremes (see :func:`finite_values`)."""
        if key not in self._pixels:
            stored = self.stored(key)
            values = scale_stored(*stored)
            self._pixels[key] = finite_values(values) if may_be_non_finite(*stored) else values
        return self._pixels[key]

    def digest(self, key: str) -> str:
        if key not in self._digests:
            from cardiolens.prompting.rendering import file_digest
            info = self.info(key)
            path = resolve_inside(self.root, info.path)
            try:
                digest = file_digest(path)
            except FileNotFoundError:
                raise VolumeError(f"{path}: file is missing") from None
            except OSError as exc:
                raise VolumeError(f"{path}: cannot read ({exc.strerror or exc})") from None
            self._digests[key] = (f"{digest}:{info.slices}x{info.frames}:"
                                  f"{info.slice_order}:{info.packing}")
        return self._digests[key]

    def _cached(self, kind: str, key: str, compute: Any) -> Any:
        cache_key = self.digest(key)
        value = self.cache.get_json(kind, cache_key)
        if value is None:
            value = compute()
            self.cache.put_json(kind, cache_key, value)
        return value

    # -- SeriesStats -------------------------------------------------------------------
    def ed_es(self, key: str) -> tuple[int, int]:
        def estimate() -> tuple[int, int]:
            ed, es = self._cached("ed_es", key, lambda: list(estimate_ed_es(self.pixels(key))))
            return int(ed), int(es)
        return ed_es(self.info(key), estimate)

    def perfusion_keys(self, key: str) -> dict[str, int]:
        value = self._cached("perf_keys", key,
                             lambda: perfusion_key_dynamics(self.pixels(key)))
        return {str(k): int(v) for k, v in value.items()}

    def frame_scores(self, key: str) -> np.ndarray:
        info = self.info(key)
        ed = self.ed_es(key)[0] if info.frames > 1 else 0
        value = self._cached(f"scores-ed{ed}", key,
                             lambda: frame_scores(key, info, self.pixels(key), ed).tolist())
        return np.asarray(value, np.float64)

    # -- rendering ---------------------------------------------------------------------
    def window(self, key: str) -> tuple[float, float]:
        lo, hi = self._cached("window", key, lambda: list(series_window(*self.stored(key))))
        return float(lo), float(hi)

    def scale(self, key: str) -> DisplayScale | None:
        """The scale the frames of series ``key`` are shown at, or None when the header
        states no trustworthy spacing (:attr:`SeriesVolume.pixel_mm`); cached by content."""
        def geometry() -> dict[str, Any]:
            volume = self.volume(key)
            return {"shape": list(volume.in_plane_shape), "pixel_mm": volume.pixel_mm}
        value = self._cached("geometry-v1", key, geometry)
        if value["pixel_mm"] is None:
            return None
        rows, cols = value["shape"]
        row_mm, col_mm = value["pixel_mm"]
        return display_scale((int(rows), int(cols)), (float(row_mm), float(col_mm)),
                             self.options.image_size)

    def render(self, choices: Sequence[FrameChoice]) -> list[RenderedFrame]:
        """PNG bytes of each chosen frame (cache first; one decode per series on a miss)."""
        out: list[RenderedFrame] = []
        missing: dict[str, list[int]] = {}
        pngs: list[bytes | None] = []
        for i, choice in enumerate(choices):
            png = self.cache.get_png(self._png_key(choice))
            pngs.append(png)
            if png is None:
                missing.setdefault(choice.series, []).append(i)
        for key, indices in missing.items():
            window = self.window(key)
            volume = self.volume(key)
            refs = [(choices[i].slice, choices[i].frame) for i in indices]
            if key in self._stored:                     # decoded already for statistics
                stored, slope, inter = self._stored[key]
                frames = scale_stored(np.stack([stored[s, f] for s, f in refs]), slope, inter)
            else:
                frames = volume.read_frames(refs)
            spacing = (volume.spacing[0], volume.spacing[1])
            for i, frame in zip(indices, frames, strict=True):
                png = render_png(frame, window, spacing, self.options)
                self.cache.put_png(self._png_key(choices[i]), png)
                pngs[i] = png
        for choice, png in zip(choices, pngs, strict=True):
            assert png is not None
            out.append(RenderedFrame(choice, png))
        return out

    def _png_key(self, choice: FrameChoice) -> str:
        return f"{self.digest(choice.series)}:{choice.slice}:{choice.frame}:{self.options.key()}"
