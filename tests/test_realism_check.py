"""scripts/realism_check.py: the per-frame statistics measure what they are named after."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import load_script


@pytest.fixture(scope="module")
def check():
    return load_script("realism_check")


def _frame(noise: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:96, :80]
    disc = ((yy - 48) ** 2 + (xx - 40) ** 2 < 30 ** 2) * 150.0 + 50.0
    return np.clip(disc + rng.normal(0, noise, disc.shape), 0, 255).astype(np.uint8)


def test_features_are_finite_and_deterministic(check) -> None:
    for image in (_frame(8.0), np.zeros((32, 40), np.uint8), np.full((16, 16), 255, np.uint8)):
        a, b = check.frame_features(image), check.frame_features(image.copy())
        assert a.shape == (len(check.FEATURES),)
        assert np.isfinite(a).all()
        assert np.array_equal(a, b)


def test_noise_and_spectrum_follow_the_image(check) -> None:
    names = list(check.FEATURES)
    quiet, noisy = check.frame_features(_frame(2.0)), check.frame_features(_frame(12.0))
    noise = names.index("noise")
    assert noisy[noise] == pytest.approx(12.0 / 255, rel=0.15)
    assert quiet[noise] < noisy[noise] / 3
    slope = names.index("psd_slope")
    assert quiet[slope] < noisy[slope] - 0.5      # smooth image: steeper spectral fall-off
    edges = names.index("edge_0.1")
    assert noisy[edges] > quiet[edges]


def test_single_real_study_is_split_by_slice_location(check) -> None:
    groups = check.split_single_study(["S"] * 6, [0.0, 0.0, 10.0, 10.0, 20.0, 20.0])
    assert groups == ["S#lower"] * 4 + ["S#upper"] * 2
    assert len(set(check.split_single_study(["S"] * 4, [5.0] * 4))) == 2


def test_feature_groups_cover_every_feature_once(check) -> None:
    columns = [j for group in check.FEATURE_GROUPS for j in check.group_columns(group)]
    assert sorted(columns) == list(range(len(check.FEATURES)))


def test_per_group_auc_shows_real_groups_on_both_sides(check) -> None:
    # one real group brighter than the phantom, one darker, one the same: the pooled AUC
    # of the feature is near 0.5, the per-group AUCs say where each group lies
    rng = np.random.default_rng(0)
    real = np.r_[rng.normal(2.0, 0.3, 40), rng.normal(-2.0, 0.3, 40), rng.normal(0.0, 0.3, 40)]
    phantom = rng.normal(0.0, 0.3, 120)
    x = np.c_[np.r_[real, phantom], rng.normal(0.0, 1.0, 240)]
    y = np.r_[np.zeros(120), np.ones(120)]
    groups = np.array(["bright"] * 40 + ["dark"] * 40 + ["alike"] * 40 + ["p"] * 120)
    by_group = check.auc_by_real_group(x, y, groups)
    assert sorted(by_group) == ["alike", "bright", "dark"]
    assert by_group["bright"][0] < 0.05 and by_group["dark"][0] > 0.95
    assert 0.35 < by_group["alike"][0] < 0.65
    features = [{"feature": name, "auc_by_real_group": {g: v[j] for g, v in by_group.items()}}
                for j, name in enumerate(("split", "noise"))]
    assert check.split_features(features) == ["split"]


def test_nifti_studies_are_grouped_by_their_folder(check, tmp_path) -> None:
    """A study's NIfTI files (e.g. ED and ES volumes) form one group named after the folder
    given on the command line; a subfolder's files form their own group."""
    import nibabel as nib
    volume = np.stack([_frame(4.0, seed) for seed in range(3)], axis=-1).astype(np.float32)
    (tmp_path / "study" / "more").mkdir(parents=True)
    for name in ("study/ed.nii.gz", "study/es.nii.gz", "study/more/ed.nii.gz"):
        nib.save(nib.Nifti1Image(volume, np.eye(4)), tmp_path / name)
    series = check.real_series([tmp_path / "study"])
    assert sorted(s.study for s in series) == ["study", "study", "study:more"]
    assert all(len(s.frames) == 3 for s in series)


def test_yardstick_puts_phantom_studies_on_the_scale_of_real_sites(check) -> None:
    # three real "sites" at -1, 0 and +1 on every feature; phantom studies at 0.1 (a
    # near-twin of site "mid") and at 3 and 3.5 (beyond every site): the near-twin is
    # nearer "mid" than any other real site, the typical phantom study farther than the
    # typical real site from every site
    rng = np.random.default_rng(0)

    def site(centre: float, n: int = 60) -> np.ndarray:
        return rng.normal(centre, 0.5, (n, 4))

    real = {"low": site(-1.0), "mid": site(0.0), "high": site(1.0)}
    assert check.distance(real["mid"], real["mid"]) == 0.0
    assert check.distance(real["low"], real["high"]) > check.distance(real["low"], real["mid"])
    rows = {r["study"]: r for r in check.yardstick_rows(
        real, {"twin": site(0.1, 20), "far": site(3.0, 20), "farther": site(3.5, 20)})}
    mid = rows["mid"]
    assert mid["phantom_study_min"] < mid["real_nearest"] < mid["phantom_study_median"]
    assert mid["real_nearest"] == pytest.approx(check.distance(real["mid"], real["low"]), abs=0.05)
    assert all(r["phantom_study_median"] > r["real_median"] for r in rows.values())
    assert check.yardstick_report(list(rows.values())).count("\n| ") == 4   # header + 3
    # pooled phantom frames span the twin and the far studies: farther than the twin alone
    assert mid["phantom_pooled"] > mid["phantom_study_min"]
    # one real study: no other real study to compare with, shown as "-"
    alone = check.yardstick_rows({"mid": real["mid"]}, {"twin": site(0.1, 20)})
    assert alone[0]["real_nearest"] is None and "| - |" in check.yardstick_report(alone)
    with pytest.raises(ValueError, match="at least one real and one phantom"):
        check.yardstick_rows(real, {})
