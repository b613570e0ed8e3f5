"""The pixel-shortcut audit finds a global-brightness cue when one exists and reports the
majority rate when none does."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cardiolens.audit.pixels import cross_validated_accuracy, pixel_shortcuts
from cardiolens.data.dataset import Item, SeriesInfo, Study, write_dataset
from cardiolens.data.volumes import write_volume

from helpers import SPACING, card


def _dataset(root: Path, leak: bool, studies: int = 30) -> Path:
    """LGE stacks whose noise texture is the same for every study; with ``leak`` the
    positive studies' images are darker outside a small bright spot (as a per-series
    window makes them when a bright scar takes the top percentiles)."""
    records, items = [], []
    rng = np.random.default_rng(0)
    for n in range(studies):
        sid = f"S{n:02d}"
        positive = n % 3 == 0
        data = rng.normal(200.0, 40.0, (32, 32, 3, 1)).clip(0, None)
        if leak and positive:
            data[14:18, 14:18] = 3000.0
        info = SeriesInfo(f"volumes/{sid}/lge_sax.nii.gz", 3, 1)
        write_volume(root / info.path, data, SPACING)
        records.append(Study(sid, {"lge_sax": info}, {}))
        items.append(Item(f"{sid}/lge_presence", sid, "image_understanding", "lge_presence",
                          "Yes" if positive else "No"))
    write_dataset(root, card(), records, items)
    return root


def test_pixel_audit_flags_a_brightness_shortcut(tmp_path: Path) -> None:
    (row,) = pixel_shortcuts(_dataset(tmp_path / "leak", True), budget=3)
    assert row["subtask"] == "lge_presence" and row["n"] == 30
    assert abs(row["majority_rate"] - 20 / 30) < 1e-3
    assert row["cv_accuracy"] >= 0.95
    assert row["mean_brightness_auc"] < 0.1     # positives are darker overall


def test_pixel_audit_stays_at_majority_without_a_cue(tmp_path: Path) -> None:
    (row,) = pixel_shortcuts(_dataset(tmp_path / "clean", False), budget=3)
    assert row["cv_accuracy"] <= row["majority_rate"] + 0.1


def test_cross_validation_is_seeded_and_stratified() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 3))
    y = (x[:, 0] > 0).astype(int)
    assert cross_validated_accuracy(x, y, 5, 0) == cross_validated_accuracy(x, y, 5, 0)
    assert cross_validated_accuracy(x, y, 5, 0) >= 0.9
