"""Dataset format round trip and volume access across packings and slice orders."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from cardiolens.data.dataset import SeriesInfo, read_dataset
from cardiolens.data.volumes import SeriesVolume, resolve_inside
from cardiolens.errors import DatasetError, VolumeError

from helpers import make_tiny_dataset, read_all, volume

SLICES, FRAMES = 3, 4


def _save(path: Path, data: np.ndarray, descrip: bytes = b"") -> None:
    image = nib.Nifti1Image(data.astype(np.int16), np.eye(4))
    if descrip:
        image.header["descrip"] = descrip
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(image, str(path))


def test_round_trip_keeps_studies_items_and_card(tmp_path: Path) -> None:
    root = make_tiny_dataset(tmp_path / "ds", studies=2)
    ds = read_dataset(root)
    assert set(ds.studies) == {"S0", "S1"}
    assert ds.studies["S0"].series["cine_sax"].es_frame == 2
    by_id = {item.item_id: item for item in ds.items}
    assert by_id["S1/lge_walls"].answer == ["Anterior", "Inferior"]
    assert by_id["S0/report_lge"].reference.startswith("Focal")
    assert by_id["S0/custom"].options == ["Big", "Not big"]
    assert ds.card.canary == "canary-test"


def test_read_dataset_names_the_file_and_line(tmp_path: Path) -> None:
    root = make_tiny_dataset(tmp_path / "ds", studies=1)
    with (root / "items.jsonl").open("a") as f:
        f.write("{not json\n")
    with pytest.raises(DatasetError, match=r"items.jsonl:6"):
        read_dataset(root)


@pytest.mark.parametrize("layout", ["slice-major", "frame-major", "4d", "apex_to_base"])
def test_every_packing_gives_the_same_frames(tmp_path: Path, layout: str) -> None:
    data = volume(SLICES, FRAMES, seed=3)  # (H, W, slices, frames), slice 0 = base
    h, w = data.shape[:2]
    path = tmp_path / "v.nii.gz"
    order = "base_to_apex"
    if layout == "slice-major":
        _save(path, data.reshape(h, w, SLICES * FRAMES))
    elif layout == "frame-major":
        _save(path, data.transpose(0, 1, 3, 2).reshape(h, w, SLICES * FRAMES))
    elif layout == "4d":
        _save(path, data)
    else:
        _save(path, data[:, :, ::-1, :].reshape(h, w, SLICES * FRAMES))
        order = "apex_to_base"
    info = SeriesInfo("v.nii.gz", SLICES, FRAMES, slice_order=order,
                      packing="frame-major" if layout == "frame-major" else "slice-major")
    vol = SeriesVolume.open(tmp_path, info)
    refs = [(2, 3), (0, 0), (1, 2)]
    frames = vol.read_frames(refs)
    for k, (s, f) in enumerate(refs):
        np.testing.assert_array_equal(frames[k], data[:, :, s, f])
    np.testing.assert_array_equal(read_all(vol), data)


def test_header_free_text_is_never_exposed(tmp_path: Path) -> None:
    data = volume(SLICES, FRAMES)
    _save(tmp_path / "v.nii.gz", data.reshape(16, 16, -1), descrip=b"PATIENT^NAME 1970")
    vol = SeriesVolume.open(tmp_path, SeriesInfo("v.nii.gz", SLICES, FRAMES))
    exposed = json.dumps({"shape": vol.shape, "spacing": vol.spacing,
                          "info": vol.info.to_json()})
    assert "PATIENT" not in exposed
    assert not any(name.startswith(("header", "descrip")) for name in vars(vol)
                   if not name.startswith("_"))


def test_shape_mismatch_and_escaping_paths_are_refused(tmp_path: Path) -> None:
    _save(tmp_path / "v.nii.gz", volume(SLICES, FRAMES).reshape(16, 16, -1))
    with pytest.raises(VolumeError, match="does not match"):
        SeriesVolume.open(tmp_path, SeriesInfo("v.nii.gz", SLICES, FRAMES + 1))
    for bad in ("/etc/passwd.nii", "../v.nii.gz", "v.png"):
        with pytest.raises(VolumeError):
            resolve_inside(tmp_path, bad)


def test_out_of_range_frame_is_an_index_error(tmp_path: Path) -> None:
    _save(tmp_path / "v.nii.gz", volume(SLICES, FRAMES).reshape(16, 16, -1))
    vol = SeriesVolume.open(tmp_path, SeriesInfo("v.nii.gz", SLICES, FRAMES))
    with pytest.raises(IndexError):
        vol.read_frames([(0, FRAMES)])
