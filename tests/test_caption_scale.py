"""The displayed scale in captions (the ``scale`` prompt option) and the reader's use of it."""

from __future__ import annotations

import io
import re
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.log import write_eval_log
from PIL import Image

from cardiolens.data.dataset import Item, SeriesInfo, Study, read_dataset, write_dataset
from cardiolens.data.volumes import write_volume
from cardiolens.inspect_adapter.logs import read_inspect_log
from cardiolens.phantom.cohort import generate_cohort
from cardiolens.prompting.prompt_builder import PromptBuilder, PromptSettings
from cardiolens.prompting.prompts import Prompt
from cardiolens.prompting.rendering import RenderCache
from cardiolens.reader.cine import read_cine
from cardiolens.reader.request import MM_PER_PX, Part, parse_request

from helpers import card, make_tiny_dataset

SCALE = re.compile(r", field of view (\d+) x (\d+) mm \(width x height\), "
                   r"(\d+\.\d+)(?: x (\d+\.\d+))? mm per pixel")


def _pairs(root: Path, subtask: str, **settings: object) -> list[tuple[Item, Prompt]]:
    dataset = read_dataset(root)
    builder = PromptBuilder(root, dataset.studies,
                            PromptSettings(**settings),  # type: ignore[arg-type]
                            RenderCache(None))
    return [(i, builder.build(i)) for i in dataset.items if i.subtask == subtask]


def _built(root: Path, subtask: str, **settings: object) -> list[Prompt]:
    return [prompt for _, prompt in _pairs(root, subtask, **settings)]


@pytest.fixture(scope="module")
def phantom(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_cohort(tmp_path_factory.mktemp("scale") / "p", studies=2, seed=7,
                           progress=False)


def test_phantom_captions_state_header_spacing_times_rendered_size(phantom: Path) -> None:
    dataset = read_dataset(phantom)
    # short and long axis: the function item shows cine SAX and the long-axis views
    for item, prompt in _pairs(phantom, "cine_lv_function", budget=32):
        study = dataset.studies[item.study_id]
        views = set()
        for image, chosen in zip(prompt.images, prompt.frames, strict=True):
            key = chosen.split(":")[0]
            header = nib.load(str(phantom / study.series[key].path)).header
            rows, cols = header.get_data_shape()[:2]
            row_mm, col_mm = (float(z) for z in header.get_zooms()[:2])
            width, height = Image.open(io.BytesIO(image.png)).size
            match = SCALE.search(image.caption)
            assert match is not None, image.caption
            assert match.end() == len(image.caption)          # once, at the end
            assert int(match.group(1)) == round(cols * col_mm)
            assert int(match.group(2)) == round(rows * row_mm)
            stated = float(match.group(3))
            assert match.group(4) is None                     # aspect-true: square pixels
            assert stated == pytest.approx(cols * col_mm / width, abs=0.006)
            assert stated == pytest.approx(rows * row_mm / height, rel=0.01)
            views.add(key.split("_")[1])
        assert "sax" in views and views - {"sax"}


def _anisotropic(root: Path, shape: tuple[int, int], spacing: tuple[float, float],
                 units: bool = True) -> Path:
    """One study, one lge_sax slice of ``shape`` with in-plane ``spacing`` (row, column)."""
    path = "volumes/S0/lge_sax.nii.gz"
    data = np.random.default_rng(0).integers(0, 900, (*shape, 1, 1)).astype(np.float32)
    write_volume(root / path, data, (*spacing, 8.0))
    if not units:                                  # a header that names no length unit
        image = nib.load(str(root / path))
        image.header.set_xyzt_units(0, 0)
        nib.save(nib.Nifti1Image(np.asarray(image.dataobj), image.affine, image.header),
                 str(root / path))
    study = Study("S0", {"lge_sax": SeriesInfo(path, 1, 1)}, {})
    item = Item("S0/lge_presence", "S0", "image_understanding", "lge_presence", "Yes")
    write_dataset(root, card(), [study], [item])
    return root


@pytest.mark.parametrize("shape, spacing, size, expected, png", [
    # 2 x 1 mm pixels: 32 x 32 mm shown square at 32 px (upscale limit), 1 mm per pixel,
    # where the row spacing alone would say 2
    ((16, 32), (2.0, 1.0), 256, "field of view 32 x 32 mm (width x height), 1.00 mm per "
     "pixel", (32, 32)),
    # 16 x 80 mm at 64 px high: 13 px wide, so the displayed pixels are not square
    ((40, 16), (2.0, 1.0), 64, "field of view 16 x 80 mm (width x height), 1.23 x 1.25 mm "
     "per pixel (across x down)", (13, 64)),
    # 0.7 mm pixels, 300 x 210 mm shown at 256 px wide: the longest side sets the figure
    ((300, 428), (0.7, 0.7), 256, "field of view 300 x 210 mm (width x height), 1.17 mm "
     "per pixel", (256, 179)),
])
def test_non_square_pixels_are_stated_at_their_displayed_scale(
        tmp_path: Path, shape: tuple[int, int], spacing: tuple[float, float], size: int,
        expected: str, png: tuple[int, int]) -> None:
    root = _anisotropic(tmp_path, shape, spacing)
    prompt, = _built(root, "lge_presence", image_size=size)
    image, = prompt.images
    assert image.caption == f"Image 1: LGE short-axis, {expected}"
    assert Image.open(io.BytesIO(image.png)).size == png


def test_option_off_gives_the_old_caption_and_the_same_pixels(tmp_path: Path) -> None:
    root = _anisotropic(tmp_path, (16, 32), (2.0, 1.0))
    (on,), (off,) = (_built(root, "lge_presence", scale=s) for s in (True, False))
    assert off.images[0].caption == "Image 1: LGE short-axis"
    assert on.images[0].png == off.images[0].png
    blind, = _built(root, "lge_presence", images=False)
    assert "mm" not in blind.text() and "field of view" not in blind.text()


def test_a_header_without_a_length_unit_gets_no_scale(tmp_path: Path) -> None:
    root = _anisotropic(tmp_path, (16, 32), (2.0, 1.0), units=False)
    prompt, = _built(root, "lge_presence")
    assert prompt.images[0].caption == "Image 1: LGE short-axis"


def test_cached_scale_matches_the_uncached_one(tmp_path: Path) -> None:
    root = _anisotropic(tmp_path / "d", (40, 16), (2.0, 1.0))
    dataset = read_dataset(root)
    captions = []
    for _ in range(2):              # cold, then warm (no volume decoded)
        builder = PromptBuilder(root, dataset.studies, PromptSettings(image_size=64),
                                RenderCache(tmp_path / "cache"))
        captions.append(builder.build(dataset.items[0]).images[0].caption)
    assert captions[0] == captions[1] == _built(root, "lge_presence",
                                                image_size=64)[0].images[0].caption


def test_logs_from_before_the_option_read_as_scale_off(tmp_path: Path) -> None:
    root = make_tiny_dataset(tmp_path / "d", studies=1)
    log = inspect_eval("cardiolens/diagnosis", model="cardiolens/random",
                       task_args={"data": str(root)}, log_dir=str(tmp_path / "logs"),
                       display="none")[0]
    assert log.eval.task_args["scale"] is True
    assert read_inspect_log(Path(log.location)).settings["scale"] is True
    del log.eval.task_args["scale"]                    # as an older log records it
    old = tmp_path / "old.eval"
    write_eval_log(log, str(old))
    assert read_inspect_log(old).settings["scale"] is False


# ------------------------------------------------------------------------------ reader

def _cine_ed(size: int = 256) -> bytes:
    """A bright-blood short-axis ED frame: 10-px wall around a 28-px cavity, RV on the
    image left."""
    yy, xx = np.mgrid[0:size, 0:size].astype(float)
    cy, cx = size / 2 + 2, size / 2 + 3
    rho = np.hypot(yy - cy, xx - cx)
    phi = np.degrees(np.arctan2(-(xx - cx), -(yy - cy))) % 360
    image = np.full((size, size), 0.55)
    image[(rho >= 40) & (rho < 54) & (np.abs(phi - 90) < 55)] = 0.92
    image[rho < 38] = 0.25
    image[rho < 28] = 0.92
    noisy = np.clip(image + np.random.default_rng(0).normal(0, 0.03, image.shape), 0, 1)
    buffer = io.BytesIO()
    Image.fromarray((noisy * 255).astype(np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


QUESTION = "Question: Is the wall thick?\nOptions:\nA. Yes\nB. No"


def _parts(scales: list[str], chat: bool = False) -> list[Part]:
    captions = [f"Image {k + 1}: Cine short-axis, slice {k + 1} of 3 ({level}), phase 1 of 20 "
                f"(end-diastole){scale}"
                for k, (level, scale) in enumerate(zip(("basal", "mid", "apical"), scales,
                                                       strict=True))]
    png = _cine_ed()
    if chat:                          # lm-eval chat layout: the images first, all text after
        return [png, png, png, "\n".join(captions), QUESTION]
    return [p for c in captions for p in (c, png)] + [QUESTION]


def _thickness(parts: list[Part]) -> float:
    read = read_cine(parse_request(parts).frames)
    assert read.thickness
    return float(np.median(list(read.thickness.values())))


def _stated(mm: str) -> str:
    return f", field of view 300 x 300 mm (width x height), {mm} mm per pixel"


def test_reader_measures_in_the_stated_scale_in_both_layouts() -> None:
    # the same 10-px wall, captioned at four scales: the reading follows the caption
    for mm in ("0.90", "1.00", "1.10", "1.20"):
        assert _thickness(_parts([_stated(mm)] * 3)) / float(mm) == pytest.approx(10.0, abs=0.6)
    large = _thickness(_parts([_stated("1.30")] * 3))
    assert _thickness(_parts([_stated("1.30")] * 3, chat=True)) == large
    frames = parse_request(_parts([_stated("1.30")] * 3)).frames
    assert [f.mm_per_px for f in frames] == [MM_PER_PX] * 3   # the crop: 208 mm at 256 px


def test_reader_falls_back_to_its_prior_without_a_readable_scale() -> None:
    prior = parse_request(_parts([""] * 3)).frames
    for garbled in (", field of view 300 x 300 mm (width x height), 0.00 mm per pixel",
                    ", field of view 300 x 300 mm (width x height), 1,3 mm per pixel",
                    ", field of view 300 x 300 mm, about 1 mm per pixel"):
        frames = parse_request(_parts([garbled] * 3)).frames
        assert len(frames) == 3
        for old, new in zip(prior, frames, strict=True):
            assert new.mm_per_px == old.mm_per_px == MM_PER_PX
            assert np.array_equal(new.pixels, old.pixels)
    assert _thickness(_parts([""] * 3)) != _thickness(_parts([_stated("1.30")] * 3))
