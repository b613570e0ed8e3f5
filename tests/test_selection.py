"""Slice selection: the budget split, each protocol's rules, determinism, no label access."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pytest

from cardiolens.data.dataset import SeriesInfo
from cardiolens.prompting.selection import (
    FrameChoice,
    centre_out,
    ed_es,
    estimate_ed_es,
    frame_scores,
    frames_available,
    key_layers,
    perfusion_key_dynamics,
    select_frames,
    split_budget,
)

SERIES = {
    "cine_sax": SeriesInfo("c.nii.gz", 10, 20, ed_frame=0, es_frame=8),
    "cine_4ch": SeriesInfo("c4.nii.gz", 1, 20, ed_frame=0, es_frame=8),
    "cine_2ch": SeriesInfo("c2.nii.gz", 1, 20, ed_frame=0, es_frame=8),
    "lge_sax": SeriesInfo("l.nii.gz", 10, 1),
    "lge_4ch": SeriesInfo("l4.nii.gz", 1, 1),
    "lge_2ch": SeriesInfo("l2.nii.gz", 1, 1),
    "t2_sax": SeriesInfo("t.nii.gz", 9, 1),
    "perf_sax": SeriesInfo("p.nii.gz", 3, 30),
}


class PixelStats:
    """Selection statistics computed from an in-memory pixel source, memoised per series."""

    def __init__(self, series: Mapping[str, SeriesInfo],
                 pixels: Callable[[str], np.ndarray]) -> None:
        self.series = series
        self.pixels = pixels
        self._memo: dict[tuple[str, str], object] = {}

    def ed_es(self, key: str) -> tuple[int, int]:
        memo = ("ed_es", key)
        if memo not in self._memo:
            info = self.series[key]
            self._memo[memo] = ed_es(info, lambda: estimate_ed_es(self.pixels(key)))
        value = self._memo[memo]
        assert isinstance(value, tuple)
        return value

    def perfusion_keys(self, key: str) -> dict[str, int]:
        return perfusion_key_dynamics(self.pixels(key))

    def frame_scores(self, key: str) -> np.ndarray:
        info = self.series[key]
        ed = self.ed_es(key)[0] if info.frames > 1 else 0
        return frame_scores(key, info, self.pixels(key), ed)


def _pixels(key: str) -> np.ndarray:
    """Synthetic series: a bright disc whose area follows a cycle; perfusion bolus curves."""
    info = SERIES[key]
    yy, xx = np.mgrid[:32, :32]
    r = np.hypot(yy - 16, xx - 16)
    out = np.zeros((info.slices, info.frames, 32, 32), np.float32)
    for f in range(info.frames):
        if key.startswith("perf"):
            pool = np.exp(-((f - 10) / 3.0) ** 2)
            myo = np.exp(-((f - 15) / 4.0) ** 2)
            frame = 100 + 900 * pool * (r < 4) + 300 * myo * (r < 12)
        else:
            radius = 8 - 4 * np.sin(np.pi * ((f - 3) % info.frames) / info.frames)
            frame = 100 + 800 * (r < radius)
        out[:, f] = frame
    return out


def _select(protocol: str, budget: int, routed: list[str], seed: int = 0,
            item: str = "S/x") -> list[FrameChoice]:
    return select_frames(protocol, budget, routed, SERIES, PixelStats(SERIES, _pixels),
                         seed, item)


def test_primary_view_gets_three_quarters() -> None:
    assert split_budget(16, ["cine_sax", "cine_4ch"], SERIES) == {"cine_sax": 12, "cine_4ch": 4}
    assert split_budget(16, ["lge_sax", "lge_4ch", "lge_2ch"], SERIES) == {
        "lge_sax": 10, "lge_4ch": 1, "lge_2ch": 1}  # LAX have one frame: spare goes to SAX


def test_multi_sequence_items_share_equally_and_spare_passes_on() -> None:
    routed = ["cine_sax", "lge_sax", "t2_sax", "perf_sax"]
    assert split_budget(16, routed, SERIES) == {"cine_sax": 4, "lge_sax": 4, "t2_sax": 4,
                                                "perf_sax": 4}
    plan = split_budget(32, ["lge_sax", "t2_sax"], SERIES)   # 16 each, LGE has 10, T2 has 9
    assert plan == {"lge_sax": 10, "t2_sax": 9, "lge_4ch": 1, "lge_2ch": 1}


def test_short_axis_falls_back_to_long_axis_views() -> None:
    plan = split_budget(205, ["cine_sax"], SERIES)
    assert plan == {"cine_sax": 200, "cine_4ch": 5}


def test_clinical_cine_starts_with_end_diastole_of_spread_slices() -> None:
    chosen = _select("clinical", 4, ["cine_sax"])
    assert all(c.frame == 0 for c in chosen)
    assert [c.slice for c in chosen] == [0, 3, 6, 9]
    ten = _select("clinical", 10, ["cine_sax"])
    assert {c.slice for c in ten} == set(range(10)) and {c.frame for c in ten} == {0}
    thirteen = _select("clinical", 13, ["cine_sax"])
    extra = [c for c in thirteen if c.frame != 0]
    assert {c.slice for c in extra} == set(key_layers(10)) and {c.frame for c in extra} == {8}


def test_clinical_lge_small_k_is_basal_mid_apical_plus_long_axis() -> None:
    chosen = _select("clinical", 4, ["lge_sax", "lge_4ch"])
    sax = [c.slice for c in chosen if c.series == "lge_sax"]
    assert sax == sorted(key_layers(10)) and ("lge_4ch", 0, 0) in [tuple(vars(c).values())
                                                                  for c in chosen]


def test_clinical_t2_is_centre_out_when_short() -> None:
    chosen = _select("clinical", 3, ["t2_sax"])
    assert [c.slice for c in chosen] == sorted(centre_out(9)[:3]) == [3, 4, 5]


def test_clinical_perfusion_takes_key_dynamics_of_every_slice() -> None:
    keys = perfusion_key_dynamics(_pixels("perf_sax"))
    assert keys["blood_pool_peak"] == 10 and 13 <= keys["myocardial_peak"] <= 17
    chosen = _select("clinical", 6, ["perf_sax"])
    assert {c.frame for c in chosen} == {keys["myocardial_peak"], keys["blood_pool_peak"]}
    assert {c.slice for c in chosen} == {0, 1, 2}


def test_ed_es_estimated_from_blood_pool_area() -> None:
    ed, es = estimate_ed_es(_pixels("cine_sax"))
    assert ed in (2, 3) and es in (12, 13)


def test_data_driven_spreads_over_slices_before_second_phase() -> None:
    chosen = _select("data_driven", 10, ["cine_sax"])
    assert len({c.slice for c in chosen}) == 10


def test_random_is_seeded_per_item_and_ordered() -> None:
    a = _select("random", 8, ["cine_sax"], seed=1)
    assert a == _select("random", 8, ["cine_sax"], seed=1)
    assert a != _select("random", 8, ["cine_sax"], seed=2)
    assert a != _select("random", 8, ["cine_sax"], seed=1, item="S/y")
    assert a == sorted(a)


@pytest.mark.parametrize("protocol", ["random", "clinical", "data_driven"])
@pytest.mark.parametrize("budget", [1, 4, 8, 16, 32])
def test_budget_respected_without_duplicates(protocol: str, budget: int) -> None:
    routed = ["cine_sax", "cine_4ch", "lge_sax", "lge_4ch", "t2_sax", "perf_sax"]
    chosen = _select(protocol, budget, routed)
    assert len(chosen) == budget and len(set(chosen)) == budget
    order = [routed.index(c.series) for c in chosen]
    assert order == sorted(order)


def test_unknown_protocol_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown protocol"):
        _select("best", 4, ["cine_sax"])


# ----------------------------------------------------------------- function pair (issue 17)

FUNCTION_ROUTES = {
    "diagnosis": ["cine_sax", "cine_4ch", "lge_sax", "lge_4ch", "t2_sax", "perf_sax"],
    "cine_lv_function": ["cine_sax", "cine_4ch", "cine_2ch"],
    "cine_rwma_walls": ["cine_sax"],
    "cine_rv_status": ["cine_sax", "cine_4ch"],
}


def _pairs(chosen: list[FrameChoice]) -> set[tuple[str, int]]:
    """(series, slice) with both the ED and the ES frame selected."""
    ed, es = 0, 8                                  # from SERIES
    have = {(c.series, c.slice, c.frame) for c in chosen}
    return {(s, sl) for s, sl, f in have if f == ed and (s, sl, es) in have}


@pytest.mark.parametrize("protocol", ["random", "clinical", "data_driven"])
@pytest.mark.parametrize("budget", [2, 4, 8, 16, 32])
@pytest.mark.parametrize("route", sorted(FUNCTION_ROUTES))
def test_function_subtasks_always_get_a_matched_ed_es_pair(protocol: str, budget: int,
                                                           route: str) -> None:
    routed = FUNCTION_ROUTES[route]
    chosen = select_frames(protocol, budget, routed, SERIES,  # type: ignore[arg-type]
                           PixelStats(SERIES, _pixels), 0, f"S/{route}", function=True)
    assert len(chosen) == budget and len(set(chosen)) == budget
    assert _pairs(chosen), f"no ED/ES pair of one slice at budget {budget}"
    if budget == 2:                                # the pair comes before spatial coverage
        assert len(_pairs(chosen)) == 1 and {c.series for c in chosen} == {"cine_sax"}


def test_without_function_small_budgets_stay_spatial() -> None:
    chosen = _select("clinical", 4, ["cine_sax"])
    assert not _pairs(chosen)


def test_clinical_pair_is_the_mid_key_layer_then_spatial_coverage() -> None:
    chosen = select_frames("clinical", 5, ["cine_sax"], SERIES,  # type: ignore[arg-type]
                           PixelStats(SERIES, _pixels), 0, "S/x", function=True)
    mid = key_layers(10)[1]
    assert _pairs(chosen) == {("cine_sax", mid)}
    spatial = {c.slice for c in chosen if c.frame == 0} - {mid}
    assert len(spatial) == 3 and {0, 9} <= spatial         # ED of spread slices after the pair


@pytest.mark.parametrize("budget", [2, 4, 8, 16, 32])
def test_pair_taken_from_the_last_sequences_when_cine_share_is_short(budget: int) -> None:
    routed = FUNCTION_ROUTES["diagnosis"]
    plan = split_budget(budget, routed, SERIES, function=True)
    assert plan.get("cine_sax", 0) >= 2 and sum(plan.values()) == budget
    base = split_budget(budget, routed, SERIES)
    moved = {k: base.get(k, 0) - plan.get(k, 0) for k in base}
    assert all(v >= 0 for k, v in moved.items() if k != "cine_sax")


@pytest.mark.parametrize("budget", [2, 4, 8, 16, 32])
def test_frames_available_marks_budgets_where_protocols_coincide(budget: int) -> None:
    routed = ["lge_sax", "lge_4ch"]
    total = frames_available(routed, SERIES)
    assert total == 12                                       # 10 SAX + 4CH + 2CH fallback
    chosen = {p: _select(p, budget, routed) for p in ("random", "clinical", "data_driven")}
    same = chosen["random"] == chosen["clinical"] == chosen["data_driven"]
    assert same == (budget >= total)


@pytest.mark.parametrize("budget", [2, 4, 8, 16, 32])
def test_clinical_lge_key_layers_first_then_the_whole_stack(budget: int) -> None:
    routed = ["lge_sax", "lge_4ch"]
    chosen = _select("clinical", budget, routed)
    sax = [c.slice for c in chosen if c.series == "lge_sax"]
    keys = key_layers(10)
    assert set(keys[:len(sax)]) <= set(sax)                   # basal, mid, apical first
    if budget >= 4:
        assert ("lge_4ch", 0, 0) in [(c.series, c.slice, c.frame) for c in chosen]
    if budget >= frames_available(routed, SERIES):            # the switch: every frame
        assert sorted(sax) == list(range(10)) and len(chosen) == 12
