"""Small hand-built datasets for format and validation tests."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import numpy as np
from inspect_ai.model import Model, ModelOutput, ModelUsage, get_model

from cardiolens.data.answer_format import LETTERS
from cardiolens.data.dataset import DatasetCard, Item, SeriesInfo, Study, write_dataset
from cardiolens.data.taxonomy import load_taxonomy
from cardiolens.data.volumes import SeriesVolume, scale_stored, write_volume

SPACING = (1.5, 1.5, 8.0)


def card() -> DatasetCard:
    return DatasetCard(name="tiny", description="test", taxonomy_version=load_taxonomy().version,
                       license="CC0", source="test", canary="canary-test", created_by="tests")


def volume(slices: int, frames: int, seed: int = 0) -> np.ndarray:
    """(16, 16, slices, frames) int-valued test data with distinct frames."""
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 500, size=(16, 16, slices, frames)).astype(np.float32)
    data += np.arange(slices)[None, None, :, None] * 1000 + np.arange(frames) * 10
    return data


def make_tiny_dataset(root: Path, studies: int = 2) -> Path:
    """A valid dataset: cine_sax 3x4 and lge_sax 3x1 per study, five kinds of items."""
    records, items = [], []
    for n in range(studies):
        sid = f"S{n}"
        series = {"cine_sax": SeriesInfo(f"volumes/{sid}/cine_sax.nii.gz", 3, 4, ed_frame=0,
                                         es_frame=2),
                  "lge_sax": SeriesInfo(f"volumes/{sid}/lge_sax.nii.gz", 3, 1)}
        for _key, info in series.items():
            write_volume(root / info.path, volume(info.slices, info.frames, n), SPACING)
        records.append(Study(sid, series, {"sex": "F"}))
        items += [
            Item(f"{sid}/lge_presence", sid, "image_understanding", "lge_presence", "Yes"),
            Item(f"{sid}/lge_walls", sid, "image_understanding", "lge_walls",
                 ["Anterior", "Inferior"]),
            Item(f"{sid}/report_lge", sid, "report_generation", "report_lge",
                 reference="Focal subendocardial late enhancement."),
            Item(f"{sid}/diagnosis_etiology", sid, "diagnosis", "diagnosis_etiology",
                 "Ischemic cardiomyopathy"),
            Item(f"{sid}/custom", sid, "image_understanding", "cine_lv_size", "Big",
                 question="Is it big?", options=["Big", "Not big"]),
        ]
    write_dataset(root, card(), records, items)
    return root


def option_letters(options: Sequence[str], answer: str | Sequence[str]) -> list[str]:
    """Letters of the option texts in ``answer`` under the displayed ``options`` order."""
    wanted = [answer] if isinstance(answer, str) else list(answer)
    return [LETTERS[options.index(text)] for text in wanted]


def read_all(volume: SeriesVolume) -> np.ndarray:
    """A whole series as float32 (H, W, slices, frames), base to apex."""
    stored, slope, inter = volume.read_all_stored()
    return scale_stored(stored, slope, inter).transpose(2, 3, 0, 1)


def scripted_model(texts: list[str]) -> Model:
    """mockllm replaying ``texts``, with usage set so no tokenizer is downloaded."""
    outputs = []
    for text in texts:
        output = ModelOutput.from_content("mockllm/model", text)
        output.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
        outputs.append(output)
    return get_model("mockllm/model", custom_outputs=outputs)


def load_script(name: str) -> ModuleType:
    """``scripts/<name>.py`` imported as a module (the scripts are not part of the package;
    they import each other as siblings, as they do when run from the command line)."""
    scripts = str(Path(__file__).resolve().parents[1] / "scripts")
    if scripts not in sys.path:
        sys.path.insert(0, scripts)
    return importlib.import_module(name)
