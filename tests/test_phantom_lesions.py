"""Every site a lesion label names shows the lesion after the slab and the point-spread
function (docs/phantom.md, "Every named site shows its lesion")."""

from __future__ import annotations

import numpy as np
import pytest

from cardiolens.phantom.cohort import cohort_params
from cardiolens.phantom.geometry import lesion_fraction, tissue
from cardiolens.phantom.params import Lesion
from cardiolens.phantom.sequences import Renderer
from cardiolens.phantom.visibility import VISIBLE_SHARE, site_visibility

SEED, STUDIES = 3, 40


@pytest.mark.parametrize("series", ["lge_sax", "t2_sax", "perf_sax"])
def test_every_named_site_shows_its_lesion(series: str) -> None:
    """Every site a scar, edema or defect names holds at least ``VISIBLE_SHARE`` of its read
    myocardium at the sequence's reading level (lowest on seeds 3, 5 and 7: 0.120, RV
    insertion-point scar; seed 3 alone: 0.130). A drawing rule with a layer thinner than
    the slab and PSF can show (a 10% subendocardial band) fails here."""
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
