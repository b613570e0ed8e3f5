"""The phantom's small anatomy: ribs, bowel, vessel trees, trabeculae and the cine pool's flow.

These are drawn from the continuous 3D model (never a per-image overlay) and never from a
finding; the trabeculae lie inside the labelled LV blood volume.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from cardiolens.phantom.cohort import cohort_params
from cardiolens.phantom.geometry import blood_flow, tissue
from cardiolens.phantom.sequences import INFLOW_SSFP, Renderer
from cardiolens.phantom.thorax import PlaneMap, thorax


def _thorax(r: Renderer, plane: PlaneMap, rows: int) -> dict[str, np.ndarray]:
    scan = replace(r.scan, rows=rows)
    flat = np.zeros((rows, r.scan.cols), np.float32)
    return thorax(scan, r.frame, plane, r.p.acq.pixel_mm, r.p.heart.r_endo, flat, r.waves,
                  None, r.fine, None, r.structures)


def test_small_anatomy_is_one_body_that_every_plane_cuts_alike() -> None:
    """Two planes through the same line of patient points (a short-axis row, and a plane
    at right angles to it holding the line in another pixel row) see the same ribs, bowel
    loops and vessels on that line."""
    found = {"bone": 0.0, "marrow": 0.0, "blood": 0.0, "stomach": 0.0}
    for index in range(4):
        r = Renderer(cohort_params(3, index, 12))
        sax = r._sax_map(2)
        for row in range(0, r.scan.rows, 7):
            line = PlaneMap(sax.origin + row * sax.d_row, sax.d_row, sax.d_col)
            normal = np.cross(sax.d_col, sax.d_row) / r.p.acq.pixel_mm
            tilted = PlaneMap(line.origin - 3 * normal, normal, sax.d_col)
            a, b = _thorax(r, line, 1), _thorax(r, tilted, 4)
            for name in a:
                np.testing.assert_allclose(a[name][0], b[name][3], atol=1e-4, err_msg=name)
            for name in found:
                found[name] += float(a[name].sum())
    assert all(v > 1.0 for v in found.values()), found      # each structure was drawn


def test_trabeculae_lie_inside_the_labelled_pool_on_the_free_wall_and_apex() -> None:
    r = Renderer(cohort_params(3, 0, 12))
    shares = {}
    for k in (1, r.p.acq.n_slices - 2):
        plane = r.sax_plane(k)
        t = tissue(r.model, plane, np.zeros(1), r.scan.epi_fat_mm, r.epi_lobes, r.trabeculae)
        plain = tissue(r.model, plane, np.zeros(1), r.scan.epi_fat_mm, r.epi_lobes)
        # the labelled volume (endocardial contour) does not move: blood + trabeculae +
        # papillary muscles fill exactly what the blood and papillary muscles filled before
        np.testing.assert_allclose(t.lv_blood + t.trabecular + t.papillary,
                                   plain.lv_blood + plain.papillary, atol=1e-5)
        assert t.lv_blood.min() >= -1e-6
        septal = np.abs((plane.phi - 90.0 + 180.0) % 360.0 - 180.0) < 30.0
        lateral = np.abs((plane.phi - 270.0 + 180.0) % 360.0 - 180.0) < 30.0
        shares[k] = (float(t.trabecular[0][lateral].sum()), float(t.trabecular[0][septal].sum()))
    basal, apical = shares[1], shares[r.p.acq.n_slices - 2]
    assert basal[0] > 2.0 * basal[1]          # free wall trabeculated, septum smooth
    assert apical[0] > basal[0]                # the apical trabecular zone


def test_cine_pool_flow_is_uneven_and_depends_on_no_finding() -> None:
    p = cohort_params(3, 0, 12)
    r = Renderer(p)
    plane = r.sax_plane(r.p.acq.n_slices // 2)
    t = tissue(r.model, plane, r.phases, r.scan.epi_fat_mm, r.epi_lobes, r.trabeculae)
    gain = blood_flow(r.model, plane, t, r.phases, r.flow, INFLOW_SSFP)
    pool = t.lv_blood > 0.95
    core = pool & (plane.rho[None] < 0.4 * t.endo)
    rim = pool & (plane.rho[None] > 0.85 * t.endo)
    assert gain[core].mean() > gain[rim].mean() + 0.04     # slow boundary layer is darker
    # fresh spins can at most about double bSSFP blood's steady state: 1.25 x 1.4 = 1.75
    assert gain[pool].min() >= 0.8 and gain[pool].max() <= 1.4
    assert np.std([gain[i][pool[i]].mean() for i in range(len(gain))]) > 0.002  # varies in time
    # drawn from the study's seed and geometry only: the same with the findings removed
    bare = Renderer(replace(p, scar=(), edema=(), defect=None, papillary_scar=False))
    np.testing.assert_array_equal(bare.flow, r.flow)
    np.testing.assert_array_equal(bare.trabeculae, r.trabeculae)



def _epicardial_fat_by_sector(r: Renderer, patches: bool) -> np.ndarray:
    """Epicardial fat area (mm^2) per 5-degree sector of a mid-ventricular slice at ED."""
    plane = r.sax_plane(r.p.acq.n_slices // 2)
    t = tissue(r.model, plane, np.zeros(1), r.scan.epi_fat_mm, r.epi_lobes,
               epi_patches=r.epi_patches if patches else None)
    sector = (plane.phi // 5.0).astype(int) % 72
    area = np.bincount(sector.ravel(), weights=t.epi_fat[0].ravel(), minlength=72)
    return area * plane.pixel_mm**2


def test_epicardial_fat_fills_the_grooves_and_is_thin_and_patchy_over_the_lv_free_wall() -> None:
    shares = []
    for index in range(6):
        r = Renderer(cohort_params(3, index, 12))
        fat = _epicardial_fat_by_sector(r, patches=True)
        rv_free_wall = fat[15:21].mean()        # 75-105 degrees: over the RV
        lv_free_wall = fat[42:66]               # 210-330 degrees: inferolateral, anterolateral
        grooves = max(fat[5:7].mean(), fat[29:31].mean())    # 25-35 and 145-155 degrees
        assert lv_free_wall.mean() < 0.7 * rv_free_wall < grooves
        # patchy: bare muscle beside fat, not an even rim
        assert lv_free_wall.min() < 0.25 * lv_free_wall.max()
        # the RV side and the grooves are drawn as before the patches
        plain = _epicardial_fat_by_sector(r, patches=False)
        np.testing.assert_allclose(fat[10:26], plain[10:26], rtol=1e-4)
        shares.append(r.epi_patches[0])
    assert len(set(shares)) == len(shares)            # the thin layer varies between studies
    again = Renderer(cohort_params(3, 0, 12)).epi_patches
    assert again[0] == shares[0]                       # and is seeded
