"""DICOM series classification on header stand-ins (no pixels needed): the long-axis view
from the short-axis stack whatever the stored in-plane transform, mapping / multi-echo /
MOLLI series excluded, cines without trigger times, series mixing orientations split, and
repeated per-slice series."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from test_orientation import SUNNYBROOK_AXIS, axes_around

from cardiolens.data.orientation import APEX_RAS, IDENTITY, InPlane
from cardiolens.importers.dicom_classify import Kind, SeriesFiles, classify_study

LPS = np.array([-1.0, -1.0, 1.0])


def header(plane: tuple[np.ndarray, np.ndarray], position: np.ndarray,
           stored: InPlane = IDENTITY, **fields: Any) -> SimpleNamespace:
    """Header of one image of a canonical-frame plane (RAS row / column axes ``plane``)
    stored after the in-plane transform ``stored``."""
    c_i, c_j = stored.directions(*plane)
    values = {"ImageOrientationPatient": [*(c_j * LPS), *(c_i * LPS)],
              "ImagePositionPatient": list(position * LPS), "PixelSpacing": [1.5, 1.5],
              "Rows": 16, "Columns": 16, "EchoTime": 1.5, "InstanceNumber": 1}
    values.update(fields)
    return SimpleNamespace(**values)


def series(number: int, headers: list[SimpleNamespace], description: str = "") -> SeriesFiles:
    return SeriesFiles(number, description,
                       [(Path(f"{number}_{k}"), h) for k, h in enumerate(headers)])


def cine_stack(axes: np.ndarray, stored: InPlane, number: int = 2) -> SeriesFiles:
    sax = (axes[:, 0], axes[:, 1])
    return series(number, [header(sax, s * 8.0 * axes[:, 2], stored, TriggerTime=t)
                           for s in range(5) for t in (20.0, 320.0)])


def lax_plane(axes: np.ndarray, right_wall_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """A long-axis plane (apex at row 0) whose image right is the short-axis display
    direction ``right_wall_deg`` (0 up, counter-clockwise towards the septum)."""
    up, left = -axes[:, 0], -axes[:, 1]
    t = np.radians(right_wall_deg)
    return -axes[:, 2], np.cos(t) * up + np.sin(t) * left


def lax_cine(plane: tuple[np.ndarray, np.ndarray], number: int, description: str = ""
             ) -> SeriesFiles:
    return series(number, [header(plane, np.zeros(3), TriggerTime=t) for t in (20.0, 320.0)],
                  description)


def kinds(found: list[tuple[SeriesFiles, Kind | None, str]]) -> dict[str, Kind | None]:
    return {s.label: k for s, k, _ in found}


@pytest.mark.parametrize("axis", [APEX_RAS, SUNNYBROOK_AXIS], ids=["nominal", "sunnybrook"])
@pytest.mark.parametrize("spin", [-10.0, 10.0])
@pytest.mark.parametrize("stored", [IDENTITY, InPlane(True, False, False),
                                    InPlane(False, True, True), InPlane(True, False, True)])
def test_long_axis_views_from_the_stack(axis: np.ndarray, spin: float,
                                        stored: InPlane) -> None:
    """Unlabelled 4CH (anterolateral wall on the right, 300 degrees), 3CH (inferolateral,
    240) and 2CH (anterior, 0) planes of a heart whose short-axis stack is stored under any
    in-plane transform. (The former rule answered 2ch for a 4CH plane and 4ch for a 2CH.)"""
    axes = axes_around(axis, spin)
    found, _ = classify_study([
        cine_stack(axes, stored), lax_cine(lax_plane(axes, 300.0), 4),
        lax_cine(lax_plane(axes, 240.0), 5), lax_cine(lax_plane(axes, 0.0), 6)])
    views = {label: k.view if k else None for label, k in kinds(found).items()}
    assert views == {"series 2": "sax", "series 4": "4ch", "series 5": "3ch",
                     "series 6": "2ch"}


def test_a_plane_between_views_is_listed_undecided() -> None:
    """A normal at 0 degrees (between the 4CH and 3CH normals at 30 and 150) is not
    guessed; a keyword still decides, and "4CV" is a 4CH keyword."""
    axes = axes_around(APEX_RAS, 0.0)
    between = lax_plane(axes, 270.0)                  # plane holds the septal-lateral line
    found, _ = classify_study([cine_stack(axes, IDENTITY), lax_cine(between, 4),
                               lax_cine(between, 5, "cine 4CV")])
    by_label = {s.label: (k, why) for s, k, why in found}
    kind, why = by_label["series 4"]
    assert kind is None and "view undecided" in why and "at 0 degrees" in why
    assert (by_label["series 5"][0] or Kind("", "", "")).view == "4ch"


def test_lax_keyword_without_a_stack_is_listed() -> None:
    axes = axes_around(APEX_RAS, 0.0)
    found, _ = classify_study([lax_cine(lax_plane(axes, 300.0), 3, "LAX cine"),
                               lax_cine(lax_plane(axes, 300.0), 4, "T2 relaxation cine")])
    whys = {s.label: why for s, k, why in found if k is None}
    assert "which view needs a short-axis stack" in whys["series 3"]
    assert "which view needs" not in whys["series 4"]        # "relax" is no "lax" keyword


SAX = (axes_around(APEX_RAS, 0.0)[:, 0], axes_around(APEX_RAS, 0.0)[:, 1])


def clock(second: float) -> str:
    return f"1200{second:09.6f}"


def test_mapping_molli_and_multi_echo_are_excluded_with_the_reason() -> None:
    t1_map = series(3, [header(SAX, np.zeros(3), InversionTime=300.0, ImageType=[
        "DERIVED", "PRIMARY", "T1 MAP"])])
    named_map = series(4, [header(SAX, np.zeros(3), InversionTime=250.0)], "ShMOLLI T1")
    molli_raw = series(5, [header(SAX, np.zeros(3), InversionTime=100.0, TriggerTime=500.0,
                                  AcquisitionTime=clock(1.4 * k), InstanceNumber=k + 1)
                           for k in range(8)])
    t2star = series(6, [header(SAX, np.zeros(3), EchoTime=2.0 + 2.3 * k,
                               InstanceNumber=k + 1) for k in range(8)], "T2* 8 echoes")
    multi_echo = series(7, [header(SAX, np.zeros(3), EchoTime=2.0 + 2.3 * k,
                                   InstanceNumber=k + 1) for k in range(8)])
    found, _ = classify_study([t1_map, named_map, molli_raw, t2star, multi_echo])
    by_label = {s.label: (k, why) for s, k, why in found}
    assert all(k is None for k, _ in by_label.values()), by_label
    assert "ImageType T1 MAP: a parameter map" in by_label["series 3"][1]
    assert "keyword 'molli'" in by_label["series 4"][1]
    assert "no sequence rule" in by_label["series 5"][1]      # 8 images: not a perfusion
    assert "keyword 't2*'" in by_label["series 6"][1]
    assert "8 echo times at one location" in by_label["series 7"][1]


def test_cines_without_trigger_times_and_a_real_perfusion() -> None:
    """A breath-hold cine without TriggerTime (25 images = CardiacNumberOfImages over
    12 s), a free-breathing real-time cine (200 images in 12 s) and a first-pass perfusion
    (40 dynamics, one per second, saturation delay 100 ms)."""
    untriggered = series(3, [header(SAX, np.zeros(3), CardiacNumberOfImages=25,
                                    AcquisitionTime=clock(0.5 * k), InstanceNumber=k + 1)
                             for k in range(25)])
    realtime = series(4, [header(SAX, np.zeros(3), AcquisitionTime=clock(0.06 * k),
                                 InstanceNumber=k + 1) for k in range(200)])
    perfusion = series(5, [header(SAX, np.zeros(3), InversionTime=100.0, TriggerTime=120.0,
                                  AcquisitionTime=clock(1.0 * k), InstanceNumber=k + 1)
                           for k in range(40)])
    found = kinds(classify_study([untriggered, realtime, perfusion])[0])
    assert [found[f"series {n}"].sequence for n in (3, 4, 5)] == ["cine", "cine", "perf"]
    assert "CardiacNumberOfImages" in found["series 3"].evidence
    assert "real-time cine" in found["series 4"].evidence


def test_a_series_mixing_orientations_is_split() -> None:
    axes = axes_around(APEX_RAS, 0.0)
    mixed = series(6, [header(lax_plane(axes, view), np.zeros(3), TriggerTime=t,
                              InstanceNumber=k)
                       for k, (view, t) in enumerate((v, t) for v in (300.0, 0.0)
                                                     for t in (20.0, 320.0))])
    found, notes = classify_study([cine_stack(axes, IDENTITY), mixed])
    views = {label: k.view if k else None for label, k in kinds(found).items()}
    assert views == {"series 2": "sax", "series 6.1": "4ch", "series 6.2": "2ch"}
    assert notes == ["series 6 mixes 2 orientations (ImageOrientationPatient differs by more "
                     "than 1 degree): split into series 6.1, series 6.2"]


def test_a_repeated_slice_series_keeps_the_latest() -> None:
    """One series per slice, the middle slice acquired twice: the stack keeps 3 slices and
    the later acquisition."""
    axes = axes_around(APEX_RAS, 0.0)
    per_slice = [series(10 + s, [header(SAX, s * 8.0 * axes[:, 2], TriggerTime=t,
                                        AcquisitionTime=clock(10.0 * s))
                                 for t in (20.0, 320.0)]) for s in range(3)]
    repeat = series(20, [header(SAX, 8.0 * axes[:, 2], TriggerTime=t,
                                AcquisitionTime=clock(50.0)) for t in (20.0, 320.0)])
    found, notes = classify_study([*per_slice, repeat])
    ((stack, kind, _),) = found
    assert kind is not None and (kind.sequence, kind.view) == ("cine", "sax")
    assert stack.joined == ("10", "12", "20")
    assert any("acquired 2 times: kept the latest, series 20; dropped series 11" in n
               for n in notes)
