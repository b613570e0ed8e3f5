"""`cardiolens show` marks the canonical frame on every tile (A/P, septum; long axis: apex),
and marks what the import left unresolved with "?"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cardiolens.cli import main
from cardiolens.data.dataset import SeriesInfo, Study, write_dataset
from cardiolens.data.volumes import write_volume
from cardiolens.prompting import contact_sheet

from helpers import SPACING, card, volume


def _dataset(root: Path, record: dict[str, object] | None) -> Path:
    series = {"lge_sax": SeriesInfo("volumes/S0/lge_sax.nii.gz", 3, 1, orientation=record),
              "cine_4ch": SeriesInfo("volumes/S0/cine_4ch.nii.gz", 1, 4)}
    for info in series.values():
        write_volume(root / info.path, volume(info.slices, info.frames) * 0, SPACING)
    write_dataset(root, card(), [Study("S0", series, {})], [])
    return root


def test_marks_follow_the_orientation_record() -> None:
    assert contact_sheet.orientation_marks("lge_sax", None) == {
        "top": "A", "bottom": "P", "left": "S", "right": "L"}
    mirror = contact_sheet.orientation_marks("cine_sax", {"unresolved": ["mirror"]})
    assert (mirror["top"], mirror["bottom"], mirror["left"]) == ("A?", "P?", "S")
    rotation = contact_sheet.orientation_marks("lge_sax", {"unresolved": ["rotation",
                                                                        "mirror"]})
    assert set(rotation.values()) == {"?"}
    assert contact_sheet.orientation_marks("cine_4ch", None)["top"] == "apex"
    assert contact_sheet.orientation_marks("cine_2ch", None)["right"] == "Ant"


def test_show_draws_the_marks_on_the_tiles(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    root = _dataset(tmp_path / "ds", {"evidence": "geometry", "in_plane": "identity",
                                      "reversed_slices": False, "confidence": "high"})
    marked, plain = tmp_path / "marked.png", tmp_path / "plain.png"
    assert main(["show", str(root), "S0", "--out", str(marked)]) == 0
    monkeypatch.setattr(contact_sheet, "orientation_marks", lambda key, record: {})
    assert main(["show", str(root), "S0", "--out", str(plain)]) == 0
    a = np.asarray(Image.open(marked), int)
    b = np.asarray(Image.open(plain), int)
    assert a.shape == b.shape
    tile_x, tile_y = contact_sheet.LABEL_WIDTH, contact_sheet.TITLE      # first lge tile
    top = (slice(tile_y, tile_y + 11), slice(tile_x + 30, tile_x + 66))
    left = (slice(tile_y + 40, tile_y + 56), slice(tile_x, tile_x + 12))
    assert a[top].max() > 0 == b[top].max()          # black volumes: only marks are bright
    assert a[left].max() > 0 == b[left].max()
