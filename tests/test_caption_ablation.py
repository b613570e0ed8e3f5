"""The captions' ablation (``captions=false``): same images, question and options, bare labels."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest

from cardiolens.analysis.results import read_lm_eval_folder
from cardiolens.data.dataset import read_dataset
from cardiolens.prompting.prompt_builder import PromptBuilder, PromptSettings
from cardiolens.prompting.prompts import Prompt
from cardiolens.prompting.rendering import RenderCache
from cardiolens.reader import answer_parts
from cardiolens.reader.request import parse_request

from helpers import make_tiny_dataset


def _prompts(root: Path, **settings: object) -> list[Prompt]:
    dataset = read_dataset(root)
    builder = PromptBuilder(root, dataset.studies,
                            PromptSettings(**settings),  # type: ignore[arg-type]
                            RenderCache(None))
    return [builder.build(item) for item in dataset.items]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_dataset(tmp_path_factory.mktemp("captions") / "d", studies=2)


def test_without_captions_images_are_numbered_only(tiny: Path) -> None:
    on, off = _prompts(tiny, budget=8), _prompts(tiny, budget=8, captions=False)
    assert any(len(p.images) > 1 for p in off)
    for with_captions, bare in zip(on, off, strict=True):
        assert [i.caption for i in bare.images] == [
            f"Image {n}" for n in range(1, len(bare.images) + 1)]
        # the ablation changes the labels and nothing else
        assert [i.png for i in bare.images] == [i.png for i in with_captions.images]
        assert bare.frames == with_captions.frames
        assert bare.question == with_captions.question
        assert bare.options == with_captions.options
        assert bare.intro == with_captions.intro
    # the captions it removes carried the series, level, phase and scale
    text = " ".join(i.caption for p in on for i in p.images)
    assert "short-axis" in text and "slice" in text and "mm per pixel" in text


def test_reader_without_captions_reads_no_frame_and_still_answers(tiny: Path) -> None:
    for prompt in _prompts(tiny, budget=4, captions=False):
        assert parse_request(prompt.parts()).frames == []
        reply = answer_parts(prompt.parts())
        if prompt.options:            # a letter it was offered (its default option)
            assert set(reply.split(", ")) <= {chr(65 + i) for i in range(len(prompt.options))}


def test_mosaic_tiles_without_captions_are_numbered_only(tiny: Path) -> None:
    for prompt in _prompts(tiny, budget=6, layout="mosaic", max_images=2, captions=False):
        tiles = [t for image in prompt.images
                 for t in image.caption.split("(", 1)[1].rstrip("):").split("; ")]
        assert tiles == [f"tile {n}" for n in range(1, len(prompt.frames) + 1)]


def test_analysis_tells_the_ablation_apart_and_reads_older_runs_as_captioned(
        tmp_path: Path) -> None:
    def run(folder: str, settings: dict[str, object]) -> dict[str, object]:
        path = tmp_path / folder
        path.mkdir()
        (path / "results_T.json").write_text(json.dumps(
            {"results": {"cardiolens_diagnosis_etiology": {}},
             "config": {"model": "hf", "metadata": {}}}))
        doc = {"item_id": "S0/diagnosis_etiology", "study_id": "S0", "level": "diagnosis",
               "subtask": "diagnosis_etiology", "answer_type": "single",
               "settings": json.dumps(settings)}
        (path / "samples_cardiolens_diagnosis_etiology_T.jsonl").write_text(
            json.dumps({"doc": doc, "accuracy": {"correct": True}}) + "\n")
        return read_lm_eval_folder(path)[0].settings

    default = asdict(PromptSettings())
    assert run("bare", {**default, "captions": False})["captions"] is False
    before = {k: v for k, v in default.items() if k != "captions"}
    assert run("before", before) == default
