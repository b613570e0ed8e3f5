"""Prompt building and rendering basics: windowing, resizing, captions, option order."""

from __future__ import annotations

import io
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cardiolens.data.dataset import Item, SeriesInfo, read_dataset
from cardiolens.data.taxonomy import load_taxonomy
from cardiolens.data.volumes import SeriesVolume
from cardiolens.prompting.prompt_builder import PromptBuilder, PromptSettings
from cardiolens.prompting.prompts import build_prompt, caption, displayed_options
from cardiolens.prompting.rendering import (
    RenderCache,
    RenderOptions,
    render_png,
    series_window,
    target_size,
)
from cardiolens.prompting.selection import FrameChoice
from cardiolens.prompting.study_images import RenderedFrame

from helpers import make_tiny_dataset, option_letters


def test_series_window_and_aspect_true_resize() -> None:
    data = np.arange(1000, dtype=np.float32)
    lo, hi = series_window(data)
    assert lo == np.percentile(data, 0.5) and hi == np.percentile(data, 99.5)
    assert target_size((100, 200), (1.0, 1.0), 256) == (256, 128)
    assert target_size((100, 100), (2.0, 1.0), 256) == (100, 200)   # 2 mm rows, 2x cap
    assert target_size((64, 64), (1.0, 1.0), 512) == (128, 128)     # at most 2x upscale
    png = render_png(np.random.default_rng(0).random((64, 80)), (0.0, 1.0), (1.0, 1.0),
                     RenderOptions(160))
    image = Image.open(io.BytesIO(png))
    assert image.mode == "L" and image.size == (160, 128)


def test_integer_window_equals_numpy_percentiles_with_scaling() -> None:
    rng = np.random.default_rng(3)
    for size in (1, 2, 7, 5000):
        stored = rng.integers(-400, 3000, size).astype(np.int16)
        for slope, inter in ((1.0, 0.0), (0.5, -20.0)):
            values = stored.astype(np.float64) * slope + inter
            expected = np.percentile(values, (0.5, 99.5))
            lo, hi = series_window(stored, slope, inter)
            if expected[1] > expected[0]:
                np.testing.assert_allclose((lo, hi), expected, rtol=0, atol=1e-9)
    assert series_window(np.full(10, 7, np.int16)) == (7.0, 8.0)    # flat series: unit window


def test_captions_name_sequence_view_level_and_phase() -> None:
    info = SeriesInfo("x.nii.gz", 10, 25)
    text = caption(2, FrameChoice("cine_sax", 4, 8), info, (0, 8))
    assert text == "Image 2: Cine short-axis, slice 5 of 10 (mid), phase 9 of 25 (end-systole)"
    lge = caption(5, FrameChoice("lge_4ch", 0, 0), SeriesInfo("y.nii.gz", 1, 1), None)
    assert lge == "Image 5: LGE 4-chamber"


def test_shuffled_options_keep_targets_and_blind_prompt_has_no_images() -> None:
    tax = load_taxonomy()
    sub = tax.get("lge_walls")
    item = Item("S/lge_walls", "S", "image_understanding", "lge_walls", ["Anterior", "Inferior"])
    shuffled = displayed_options(item, sub, shuffle=True, seed=3)
    assert sorted(shuffled) == sorted(sub.options) and shuffled != list(sub.options)
    assert shuffled == displayed_options(item, sub, shuffle=True, seed=3)
    letters = option_letters(shuffled, item.answer or [])
    assert [shuffled["ABCDEFGH".index(x)] for x in letters] == ["Anterior", "Inferior"]
    frame = RenderedFrame(FrameChoice("lge_sax", 0, 0), b"png")
    series = {"lge_sax": SeriesInfo("l.nii.gz", 3, 1)}
    blind = build_prompt(item, sub, [frame], series, {}, images=False)
    assert blind.images == [] and "Options:" in blind.question
    seen = build_prompt(item, sub, [frame], series, {}, style="reasoning")
    assert len(seen.images) == 1 and "Answer:" in seen.question
    assert "More than one option" in seen.question


def test_blind_prompts_do_not_speak_of_images_and_keep_the_question() -> None:
    tax = load_taxonomy()
    frame = RenderedFrame(FrameChoice("cine_sax", 0, 0), b"png")
    series = {"cine_sax": SeriesInfo("c.nii.gz", 3, 20)}
    for sub in tax.subtasks.values():
        item = Item(f"S/{sub.id}", "S", sub.level, sub.id, None)
        for style in ("standard", "reasoning"):
            blind = build_prompt(item, sub, [frame], series, {}, style=style, images=False)
            assert "image" not in blind.text().lower(), (sub.id, style)
            seen = build_prompt(item, sub, [frame], series, {}, style=style)
            assert seen.options == blind.options
            if style == "standard":      # same option lines and instructions
                assert seen.question.split("\n")[1:] == blind.question.split("\n")[1:]
            if style == "reasoning" and sub.answer_type != "report":
                assert "Answer:" in blind.question
    # a condition the images sentence states survives, the rest of the question is kept
    nicm = tax.get("diagnosis_nicm_subtype")
    text = build_prompt(Item("S/n", "S", "diagnosis", nicm.id, None), nicm, [], {}, {},
                        images=False).question
    assert "This study concerns a patient with a non-ischemic cardiomyopathy. What is the " \
           "most likely type?" in text


def test_items_of_one_study_are_built_one_at_a_time(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Two threads building items of one study decode each volume once: the second waits
    and reads the first's statistics and PNGs from the render cache."""
    root = make_tiny_dataset(tmp_path / "ds", studies=1)
    ds = read_dataset(root)
    decodes: Counter[str] = Counter()
    original = SeriesVolume.read_all_stored

    def counting(self: SeriesVolume) -> tuple[np.ndarray, float, float]:
        decodes[self.info.path] += 1
        time.sleep(0.2)                 # a decode still running when the other thread starts
        return original(self)

    monkeypatch.setattr(SeriesVolume, "read_all_stored", counting)
    builder = PromptBuilder(root, ds.studies, PromptSettings(), RenderCache(tmp_path / "cache"))
    first, second = (next(i for i in ds.items if i.subtask == name)
                     for name in ("lge_presence", "diagnosis_etiology"))
    with ThreadPoolExecutor(2) as pool:
        prompts = list(pool.map(builder.build, [first, first, second, second]))
    assert decodes and max(decodes.values()) == 1
    assert prompts[0].parts() == prompts[1].parts() and prompts[2].parts() == prompts[3].parts()
