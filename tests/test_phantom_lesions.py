"""Every site a lesion label names shows the lesion after the slab and the point-spread
function (docs/phantom.md, "Every named site shows its lesion")."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from cardiolens.data.anatomy import WALL_CENTRE_DEG
from cardiolens.phantom import visibility
from cardiolens.phantom.cohort import cohort_params
from cardiolens.phantom.geometry import lesion_fraction, tissue
from cardiolens.phantom.params import Lesion
from cardiolens.phantom.sequences import Renderer
from cardiolens.phantom.visibility import VISIBLE_SHARE, site_visibility

SEED, STUDIES = 3, 40


@pytest.mark.parametrize("series", ["lge_sax", "t2_sax", "perf_sax"])
def test_every_named_site_shows_its_lesion(series: str) -> None:
    """Every site a scar, edema or defect names holds at least ``VISIBLE_SHARE`` of its read
    myocardium at the sequence's reading level plus a noise SD, in the tests' clusters
    (lowest on seeds 3-37: 0.115, RV insertion-point scar). A drawing rule with a layer
    thinner than the slab and PSF can show (a 10% subendocardial band) fails here, and so
    did the 20-degree focus of patchy edema at seed 3 P0004's thin apical wall (0.000)."""
    low, sites = [], 0
    for i in range(STUDIES):
        shown = site_visibility(Renderer(cohort_params(SEED, i, STUDIES)), series)
        sites += len(shown)
        low += [(i, site, round(v, 3)) for site, v in shown.items() if v < VISIBLE_SHARE]
    assert sites >= 20, sites
    assert not low, low


def test_a_patchy_lesion_is_confluent_at_the_centre_of_each_named_wall() -> None:
    """Blotches never empty a named site: with a texture that is zero everywhere a patchy
    lesion still fills the centre of each named wall, and stays outside unnamed walls."""
    renderer = Renderer(cohort_params(SEED, 0, STUDIES))
    k = 1                                             # a basal slice
    plane = renderer.sax_plane(k)
    t = tissue(renderer.model, plane, np.zeros(1), renderer.scan.epi_fat_mm)
    lesion = Lesion((("Basal", "Inferolateral"),), "Subepicardial", (0.62, 1.0), patchy=True)
    bare = np.zeros(plane.rho.shape, np.float32)
    drawn = lesion_fraction((lesion,), plane, t, bare)[0]
    outer = t.lv_myo[0] > 0.5
    delta = (plane.phi - 240.0 + 180.0) % 360.0 - 180.0     # inferolateral centre: 240
    centre = outer & (np.abs(delta) < 6.0)
    elsewhere = outer & (np.abs(delta) > 36.0)
    assert centre.any() and drawn[centre].max() > 0.9
    assert drawn[elsewhere].max() == 0.0
    patchy = lesion_fraction((lesion,), plane, t, np.ones_like(bare))[0]
    assert np.all(patchy >= drawn)


APICAL_STUDY = 6
"""Seed 3's P0006: apical anterolateral wall 8.2 mm, where a 20-degree subepicardial patch
holds 15% of the core at half the edema contrast noise-free, in no 3-pixel cluster a
noise SD above it."""


def _apical_edema(patchy: bool) -> Renderer:
    """Seed 3 P0006 with one subepicardial edema at its apical anterolateral wall: the old
    patchy focus (20 degrees, the drawn band, as an arc) or a patchy lesion."""
    p = cohort_params(SEED, APICAL_STUDY, STUDIES)
    centre = WALL_CENTRE_DEG["Anterolateral"]
    arcs = None if patchy else ((centre - 10.0, centre + 10.0),)
    lesion = Lesion((("Apical", "Anterolateral"),), "Subepicardial", (0.62, 1.0),
                    patchy=patchy, arcs=arcs)
    return Renderer(dataclasses.replace(p, edema=(lesion,)))


def test_a_thin_apical_patch_is_not_visible_without_noise_margin_and_clusters(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The rule reads as the test reads: a small patch of a thin apical wall that reaches
    the reading level noise-free in 10% of the core (the old rule, which seed 29 P0030 and
    seed 37 P0021 passed while their written T2 showed no 3-pixel cluster) is not visible
    once it must stay a noise SD above it in clusters of three."""
    site = ("Apical", "Anterolateral")
    assert site_visibility(_apical_edema(False), "t2_sax")[site] < VISIBLE_SHARE
    monkeypatch.setattr(visibility, "NOISE_MARGIN", 0.0)
    monkeypatch.setitem(visibility.READING_CLUSTER, "t2_sax", 1)
    assert site_visibility(_apical_edema(False), "t2_sax")[site] >= VISIBLE_SHARE


def test_the_patchy_focus_alone_shows_a_thin_apical_site(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    """The same site drawn as a patchy lesion whose blotches are all empty: its focus
    (7 mm either side of the wall's centre, the layer at least 5 mm thick) alone is
    visible by the rule."""
    monkeypatch.setattr(Renderer, "lesion_texture",
                        lambda self, key, window: np.zeros((window[1] - window[0],
                                                            window[3] - window[2]),
                                                           np.float32))
    shown = site_visibility(_apical_edema(True), "t2_sax")[("Apical", "Anterolateral")]
    assert shown >= VISIBLE_SHARE
