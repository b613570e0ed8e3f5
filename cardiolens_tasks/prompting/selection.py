"""Slice selection: which frames of a study go into a prompt, under a budget.

Three protocols (``random``, ``clinical``, ``data_driven``) choose up to ``budget`` frames
from the series a subtask is routed to. Selection is deterministic given the seed and the
item id, and never looks at labels: only series sizes, ED/ES indices when the dataset gives
them, and (for ED/ES estimation, perfusion key dynamics and ``data_driven``) the pixels.

Budget split (:func:`split_budget`), the same for every protocol:

1. The routed series present in the study are grouped by sequence (cine, lge, t2, perf) in
   routing order. The budget is split equally across sequences; the remainder goes to the
   earlier sequences.
2. Within a sequence, the first routed series (the primary view) takes ``ceil(3/4)`` of the
   sequence's share when the sequence has other routed views; those share the rest equally,
   the remainder going to the earlier ones.
3. A series never takes more frames than it has. What it cannot use passes on to the next
   routed series with room (routing order, wrapping around), then to the fallback views of
   the same sequence that the study has but the subtask does not route (short axis, 4CH,
   3CH, 2CH order): the clinical "phase 4" fallback from short axis to long axis.

Within a series each protocol ranks the frames (see :func:`rank_frames`); the first ``n``
are taken. Frames are then put in prompt order: series in routing order, then base to apex,
then time.

Function pair. A subtask that needs ventricular function (``function: true`` in the
taxonomy: LV function, wall motion, RV, the cine and impression report sections, the
diagnosis tasks) gets one matched end-diastole / end-systole pair of a single slice or view
at every budget of 2 or more, before any spatial coverage, in every protocol:

4. The pair comes from the first routed cine series with more than one phase (else the
   first fallback cine view). If the split gave that series fewer than 2 frames, the
   missing frames are taken from the other series, last in order first (fallback views,
   then later sequences).
5. The pair's slice: ``clinical`` the mid key layer of a short-axis stack (the central slice
   of a long-axis series), ``data_driven`` the slice with the most motion, ``random`` a
   seeded random slice. ED/ES come from the dataset or are estimated from the pixels.

The small-budget ("small-K") rule of the paper: below one frame per slice, the clinical
cine short axis takes the end-diastolic frames of evenly spaced slices (after the pair);
LGE uses a fixed split (basal, mid, apical short-axis key layers, then the long axis) until
the budget covers the stack, when it switches to every slice (see ``docs/taxonomy.md``).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from typing import Protocol as TypingProtocol

import numpy as np

from cardiolens.data.anatomy import slice_levels
from cardiolens.data.dataset import SeriesInfo
from cardiolens.data.vocabulary import LEVELS

Protocol = Literal["random", "clinical", "data_driven"]
PROTOCOLS: tuple[Protocol, ...] = ("random", "clinical", "data_driven")
VIEW_ORDER = ("sax", "4ch", "3ch", "2ch")
PRIMARY_SHARE = 0.75
PERF_KEY_ORDER = ("myocardial_peak", "blood_pool_peak", "pre_contrast", "late")

@dataclass(frozen=True, order=True)
class FrameChoice:
    """One selected frame: series key, slice (0 = base) and frame (phase or dynamic)."""

    series: str
    slice: int
    frame: int


def item_seed(seed: int, *parts: str) -> int:
    """A 64-bit seed derived from the run seed and names (item id, series key)."""
    digest = hashlib.sha256("\x1f".join([str(seed), *parts]).encode()).digest()
    return int.from_bytes(digest[:8], "little")


def sequence_of(series_key: str) -> str:
    return series_key.split("_", 1)[0]


def view_of(series_key: str) -> str:
    return series_key.split("_", 1)[1] if "_" in series_key else ""


# --------------------------------------------------------------------------- budget split


def _shares(total: int, parts: int, first_share: float | None = None) -> list[int]:
    if parts == 0:
        return []
    if first_share is not None and parts > 1:
        first = min(total, math.ceil(first_share * total))
        return [first, *_shares(total - first, parts - 1)]
    base, rest = divmod(total, parts)
    return [base + (1 if i < rest else 0) for i in range(parts)]


def function_series(routed: Sequence[str], series: Mapping[str, SeriesInfo]) -> str | None:
    """The series that carries the ED/ES pair: first routed (else fallback) cine cycle."""
    candidates = [k for k in routed if k in series] + _fallback_views("cine", series)
    return next((k for k in candidates
                 if sequence_of(k) == "cine" and series[k].frames > 1), None)


def _reserve_pair(taken: dict[str, int], key: str) -> None:
    """Give ``key`` at least 2 frames, taken from the other series, last first."""
    need = 2 - taken.get(key, 0)
    for donor in reversed(list(taken)):
        if need <= 0:
            break
        if donor == key:
            continue
        give = min(need, taken[donor])
        taken[donor] -= give
        taken[key] = taken.get(key, 0) + give
        need -= give


def split_budget(budget: int, routed: Sequence[str],
                 series: Mapping[str, SeriesInfo], function: bool = False) -> dict[str, int]:
    """Frames per series for ``budget`` over the ``routed`` series (rule in module doc).

    With ``function`` the series of :func:`function_series` gets at least 2 frames when
    ``budget >= 2`` (rule 4).
    """
    present = [key for key in routed if key in series]
    if budget <= 0 or not present:
        return {}
    sequences: list[str] = []
    for key in present:
        if sequence_of(key) not in sequences:
            sequences.append(sequence_of(key))
    quota: dict[str, int] = {}
    for sequence, share in zip(sequences, _shares(budget, len(sequences)), strict=True):
        keys = [k for k in present if sequence_of(k) == sequence]
        for key, n in zip(keys, _shares(share, len(keys), PRIMARY_SHARE), strict=True):
            quota[key] = n
    capacity = {key: series[key].slices * series[key].frames for key in series}
    taken = {key: min(quota[key], capacity[key]) for key in present}
    spare = budget - sum(taken.values())
    fallbacks = [k for s in sequences for k in _fallback_views(s, series) if k not in taken]
    for key in [*present, *fallbacks]:
        if spare <= 0:
            break
        extra = min(spare, capacity[key] - taken.get(key, 0))
        if extra > 0:
            taken[key] = taken.get(key, 0) + extra
            spare -= extra
    pair_key = function_series(routed, series) if function and budget >= 2 else None
    if pair_key is not None:
        _reserve_pair(taken, pair_key)
    return {key: n for key, n in taken.items() if n > 0}


def frames_available(routed: Sequence[str], series: Mapping[str, SeriesInfo]) -> int:
    """Every frame selection could take for ``routed``: routed series and their fallbacks.

    At a budget of at least this many, every protocol sends the same images (all of them).
    """
    present = [key for key in routed if key in series]
    sequences = list(dict.fromkeys(sequence_of(k) for k in present))
    keys = dict.fromkeys([*present, *(k for s in sequences for k in _fallback_views(s, series))])
    return sum(series[k].slices * series[k].frames for k in keys)


def input_metadata(routed: Sequence[str], study: Any, source: str = "") -> dict[str, Any]:
    """Sample metadata about an item's input: ``frames_available`` (:func:`frames_available`),
    the study's ``meta`` and its ``source`` (``meta["source"]`` or the dataset's)."""
    meta = dict(study.meta)
    return {"frames_available": frames_available(routed, study.series),
            "source": str(meta.get("source", source)), "meta": meta}


def _fallback_views(sequence: str, series: Mapping[str, SeriesInfo]) -> list[str]:
    keys = [f"{sequence}_{view}" for view in VIEW_ORDER]
    return [key for key in keys if key in series]


# ---------------------------------------------------------------------- ED/ES and curves


def _central(frames: np.ndarray) -> np.ndarray:
    """The central half of each frame (H and W), where the heart is in a cardiac FOV."""
    h, w = frames.shape[-2:]
    return frames[..., h // 4: h - h // 4, w // 4: w - w // 4]


def bright_threshold(values: np.ndarray) -> float:
    """Midway between the dark (5th) and bright (99th) percentiles: blood pool, scar."""
    lo, hi = np.percentile(values, [5, 99])
    return float(lo + hi) / 2.0


def estimate_ed_es(pixels: np.ndarray) -> tuple[int, int]:
    """End-diastole and end-systole from the bright blood-pool area over the cycle.

    Counts bright pixels of the central region (see :func:`bright_threshold`) in every
    frame, summed over slices; ED is the frame with the largest area, ES the smallest.
    """
    centre = _central(pixels)
    threshold = bright_threshold(centre)
    area = (centre > threshold).sum(axis=(0, 2, 3))
    return int(np.argmax(area)), int(np.argmin(area))


def ed_es(info: SeriesInfo, estimate: Callable[[], tuple[int, int]]) -> tuple[int, int]:
    """ED/ES from the dataset when given, else from ``estimate`` (called only then)."""
    if info.frames == 1:
        return 0, 0
    if info.ed_frame is not None and info.es_frame is not None:
        return info.ed_frame, info.es_frame
    ed, es = estimate()
    return (info.ed_frame if info.ed_frame is not None else ed,
            info.es_frame if info.es_frame is not None else es)


def perfusion_key_dynamics(pixels: np.ndarray) -> dict[str, int]:
    """Key dynamics of a perfusion series from its pixels (all slices pooled).

    Blood-pool peak: the dynamic where the brightest central pixels (99th percentile) peak.
    Myocardial peak: after it, where the central median (mostly myocardium and tissue) peaks.
    Pre-contrast: the first dynamic. Late: the last one.
    """
    centre = _central(pixels)
    flat = centre.transpose(1, 0, 2, 3).reshape(centre.shape[1], -1)
    bright = np.percentile(flat, 99, axis=1)
    body = np.median(flat, axis=1)
    pool_peak = int(np.argmax(bright))
    myo_peak = pool_peak + int(np.argmax(body[pool_peak:]))
    if myo_peak == pool_peak and pool_peak + 1 < len(body):
        myo_peak = pool_peak + 1
    return {"pre_contrast": 0, "blood_pool_peak": pool_peak, "myocardial_peak": myo_peak,
            "late": len(body) - 1}


class SeriesStats(TypingProtocol):
    """What selection needs from the pixels; implementations may cache it by content."""

    def ed_es(self, key: str) -> tuple[int, int]: ...

    def perfusion_keys(self, key: str) -> dict[str, int]: ...

    def frame_scores(self, key: str) -> np.ndarray: ...


# ----------------------------------------------------------------------------- ranking


def bisection_order(n: int, start: int = 0) -> list[int]:
    """0..n-1 reordered to spread out: ``start``, then the point farthest from those taken."""
    if n <= 0:
        return []
    order = [start % n]
    remaining = set(range(n)) - set(order)
    while remaining:
        best = max(sorted(remaining),
                   key=lambda i: min(min(abs(i - j), n - abs(i - j)) for j in order))
        order.append(best)
        remaining.remove(best)
    return order


def spread_order(n: int) -> list[int]:
    """Indices 0..n-1 (no wrap-around) ordered to cover the range evenly: ends, middle, ..."""
    if n <= 0:
        return []
    order: list[int] = []
    for count in range(1, n + 1):
        for value in np.linspace(0, n - 1, count):
            index = round(float(value))
            if index not in order:
                order.append(index)
    return order


def centre_out(n: int) -> list[int]:
    """The middle index first, then alternately outwards (base side first)."""
    mid = (n - 1) // 2
    order = [mid]
    for step in range(1, n):
        for index in (mid - step, mid + step):
            if 0 <= index < n and index not in order:
                order.append(index)
    return order


def key_layers(slices: int) -> list[int]:
    """One representative slice per level (basal, mid, apical): the middle of each level."""
    levels = slice_levels(slices)
    out: list[int] = []
    for level in (LEVELS.basal, LEVELS.mid, LEVELS.apical):
        members = [i for i, name in enumerate(levels) if name == level]
        if members:
            out.append(members[len(members) // 2])
    return out or [0]


def _cycle_order(frames: int, ed: int, es: int) -> list[int]:
    """Phases of one slice: ED, ES, then spread uniformly over the cycle."""
    rest = [p for p in bisection_order(frames, ed) if p not in (ed, es)]
    return list(dict.fromkeys([ed, es, *rest]))


def evenly_spaced(n: int, count: int) -> list[int]:
    """``count`` indices spread evenly over 0..n-1, ends included."""
    if count <= 0 or n <= 0:
        return []
    return list(dict.fromkeys(round(float(v)) for v in np.linspace(0, n - 1, min(count, n))))


def _clinical_cine_sax(info: SeriesInfo, ed: int, es: int,
                       count: int) -> list[tuple[int, int]]:
    slices = info.slices
    first = evenly_spaced(slices, count)
    ranked: list[tuple[int, int]] = [(s, ed) for s in [*first, *spread_order(slices)]]  # 1
    cycle = [p for p in _cycle_order(info.frames, ed, es) if p != ed]
    keys = key_layers(slices)
    per_layer = min(len(cycle), 4)
    for k in range(per_layer):                                               # phase 2
        ranked += [(s, cycle[k]) for s in keys]
    others = [s for s in spread_order(slices) if s not in keys]
    for k in range(len(cycle)):                                              # phase 3
        ranked += [(s, cycle[k]) for s in others]
    for k in range(per_layer, len(cycle)):
        ranked += [(s, cycle[k]) for s in keys]
    return list(dict.fromkeys(ranked))


def _clinical_cine_lax(info: SeriesInfo, ed: int, es: int) -> list[tuple[int, int]]:
    cycle = _cycle_order(info.frames, ed, es)
    return [(s, p) for s in centre_out(info.slices) for p in cycle]


def _clinical_static(info: SeriesInfo, key: str, count: int) -> list[tuple[int, int]]:
    if view_of(key) != "sax" or sequence_of(key) == "t2":
        slices = centre_out(info.slices)
    else:  # LGE short axis: basal, mid, apical first, then the rest evenly over the stack
        keys = key_layers(info.slices)
        spread = evenly_spaced(info.slices, count) if count > len(keys) else []
        slices = list(dict.fromkeys([*keys, *spread, *spread_order(info.slices)]))
    return [(s, f) for f in range(info.frames) for s in slices]


def _clinical_perfusion(info: SeriesInfo, dyn: Mapping[str, int]) -> list[tuple[int, int]]:
    order = [dyn[name] for name in PERF_KEY_ORDER]
    peak = dyn["myocardial_peak"]
    around = sorted(range(info.frames), key=lambda f: (abs(f - peak), f))
    frames = list(dict.fromkeys([*order, *around]))
    return [(s, f) for f in frames for s in range(info.slices)]


def _clinical(key: str, info: SeriesInfo, stats: SeriesStats,
              count: int) -> list[tuple[int, int]]:
    sequence = sequence_of(key)
    if sequence == "perf" and info.frames > 1:
        return _clinical_perfusion(info, stats.perfusion_keys(key))
    if info.frames > 1:
        ed, es = stats.ed_es(key)
        if view_of(key) == "sax":
            return _clinical_cine_sax(info, ed, es, count)
        return _clinical_cine_lax(info, ed, es)
    return _clinical_static(info, key, count)


def frame_scores(key: str, info: SeriesInfo, data: np.ndarray, ed: int) -> np.ndarray:
    """Data-driven score of every frame, (slices, frames); higher is more informative.

    Cine: the mean absolute difference from the slice's ED frame in the central region
    (motion), with ED itself scored as its slice's maximum so ED and the most-moved phase
    lead. Perfusion: the central median signal (the myocardial-enhancement curve). Static
    series: the fraction of bright central pixels (:func:`bright_threshold`).
    """
    centre = _central(data)
    if info.frames == 1:
        threshold = bright_threshold(centre)
        return np.asarray((centre > threshold).mean(axis=(2, 3)), np.float64)
    if sequence_of(key) == "perf":
        return np.asarray(np.median(centre.reshape(*centre.shape[:2], -1), axis=2), np.float64)
    motion = np.abs(centre - centre[:, ed:ed + 1]).mean(axis=(2, 3)).astype(np.float64)
    motion[:, ed] = motion.max(axis=1) + 1e-6
    return np.asarray(motion)


def _data_driven(key: str, info: SeriesInfo, stats: SeriesStats) -> list[tuple[int, int]]:
    """Top scores with diversity: one frame per slice per round, best slices first."""
    scores = stats.frame_scores(key)
    per_slice = [[int(f) for f in np.lexsort((np.arange(info.frames), -scores[s]))]
                 for s in range(info.slices)]
    slice_rank = sorted(range(info.slices), key=lambda s: (-scores[s].max(), s))
    return [(s, per_slice[s][r]) for r in range(info.frames) for s in slice_rank]


def _random(key: str, info: SeriesInfo, rng: np.random.Generator) -> list[tuple[int, int]]:
    flat = rng.permutation(info.slices * info.frames)
    return [(int(i) // info.frames, int(i) % info.frames) for i in flat]


def rank_frames(protocol: Protocol, key: str, info: SeriesInfo, stats: SeriesStats,
                rng: np.random.Generator, count: int) -> list[tuple[int, int]]:
    """All ``(slice, frame)`` of a series, most wanted first, when ``count`` will be taken."""
    if protocol == "random":
        return _random(key, info, rng)
    if protocol == "clinical":
        return _clinical(key, info, stats, count)
    if protocol == "data_driven":
        return _data_driven(key, info, stats)
    raise ValueError(f"unknown protocol {protocol!r}; choose from {', '.join(PROTOCOLS)}")


def pair_slice(protocol: Protocol, key: str, info: SeriesInfo, stats: SeriesStats,
               rng: np.random.Generator) -> int:
    """The slice of the function pair (rule 5)."""
    if protocol == "clinical":
        if view_of(key) == "sax":
            layers = key_layers(info.slices)
            return layers[len(layers) // 2]
        return centre_out(info.slices)[0]
    if protocol == "data_driven":
        scores = stats.frame_scores(key)
        return int(min(range(info.slices), key=lambda s: (-scores[s].max(), s)))
    return int(rng.integers(info.slices))


def function_pair(protocol: Protocol, key: str, info: SeriesInfo, stats: SeriesStats,
                  seed: int, item_id: str) -> list[tuple[int, int]]:
    """The matched ``(slice, ED)`` and ``(slice, ES)`` frames of the function pair."""
    rng = np.random.default_rng(item_seed(seed, item_id, key, "pair"))
    where = pair_slice(protocol, key, info, stats, rng)
    ed, es = stats.ed_es(key)
    return list(dict.fromkeys([(where, ed), (where, es)]))


def select_frames(protocol: Protocol, budget: int, routed: Sequence[str],
                  series: Mapping[str, SeriesInfo], stats: SeriesStats, seed: int,
                  item_id: str, function: bool = False) -> list[FrameChoice]:
    """The frames of one item's prompt, in prompt order (routing, base to apex, time).

    ``function``: the subtask needs ventricular function (the ED/ES pair rule).
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; choose from {', '.join(PROTOCOLS)}")
    plan = split_budget(budget, routed, series, function)
    pair_key = function_series(routed, series) if function and budget >= 2 else None
    order = [key for key in routed if key in plan] + [k for k in plan if k not in routed]
    chosen: list[FrameChoice] = []
    for key in order:
        rng = np.random.default_rng(item_seed(seed, item_id, key))
        if key == pair_key:
            pair = function_pair(protocol, key, series[key], stats, seed, item_id)
            rest = rank_frames(protocol, key, series[key], stats, rng,
                               max(plan[key] - len(pair), 0))
            ranked = list(dict.fromkeys([*pair, *rest]))
        else:
            ranked = rank_frames(protocol, key, series[key], stats, rng, plan[key])
        picked = sorted(ranked[:plan[key]])
        chosen += [FrameChoice(key, s, f) for s, f in picked]
    return chosen
