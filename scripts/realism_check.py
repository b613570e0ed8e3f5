"""Held-out realism check: can generic image statistics tell phantom frames from real scans?

    python scripts/realism_check.py --real /work/shared/realdata/sunnybrook \
        [--real MORE_DIRS ...] (--phantom-studies 24 --seed 11 | --phantom COHORT) \
        [--phantom-series cine_sax] [--frames-per-study 40] [--yardstick] [--json out.json]

This is the yardstick that the phantom is *not* tuned on (``scripts/realism_table.py`` is the
one it is tuned on). Every frame is rendered as a prompt renders it (window at the series'
0.5-99.5th percentiles, 8 bits, longest physical side resized to 256 pixels) and reduced to
about 70 anatomy-free statistics: intensity quantiles and moments, histogram entropy,
background and saturated shares, the gradient-magnitude histogram, edge density at four
thresholds, Immerkaer's noise estimate, local-standard-deviation statistics, the radially
averaged power spectrum (slope and band energies), GLCM contrast, homogeneity, energy and
correlation at distances 1 and 2, grey-level run lengths and a rotation-invariant local
binary pattern histogram. Matrix size and aspect ratio are deliberately not features.

Two classifiers (L2 logistic regression on standardised features, random forest) are
cross-validated with folds grouped by study, so no real (or phantom) study has frames in
both the train and the test side; the classes are balanced by subsampling frames. With a
single real study grouping is impossible: its frames are split by slice location into two
halves that act as the groups, and the output says so. Accuracy and ROC AUC come with 95%
intervals from a bootstrap over studies (frames of one study are not independent). The
features that separate most are listed by their own AUC, then against each real group
alone: a feature on which one real group lies above the phantom and another below it
(the real groups on both sides) cannot be matched by moving the phantom one way.

``--yardstick`` adds the scale to read this on: each real study's per-study distance (mean
over the features of |single-feature AUC - 0.5|) to single phantom studies and to the
other real studies. Real sites differ from each other too: a phantom study at about the
median real distance reads as one more site; one nearer than the nearest other real study
is nearer than any real study given (studies of one site count as other studies).

Real folders may hold DICOM (any series; one study per StudyInstanceUID) or NIfTI files
(one study per parent folder); unreadable files are skipped with a one-line warning.
Needs the ``dev`` extra (scikit-learn, pydicom).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from cardiolens.audit.pixels import auc as auc_score
from cardiolens.data.dataset import read_dataset
from cardiolens.data.volumes import SeriesVolume
from cardiolens.errors import CardiolensError
from cardiolens.prompting.rendering import (
    DEFAULT_IMAGE_SIZE,
    series_window,
    target_size,
    to_uint8,
)

LEVELS = 16                         # grey levels of the GLCM and run-length matrices
GRAD_BINS = (0.0, 0.01, 0.03, 0.06, 0.12, 0.25, np.inf)
EDGE_THRESHOLDS = (0.05, 0.1, 0.2, 0.3)
SPECTRUM_BANDS = (0.0, 0.05, 0.1, 0.2, 0.35, 0.5)      # cycles per rendered pixel

FEATURES: tuple[str, ...] = (
    *(f"q{q:02d}" for q in (1, 5, 10, 25, 50, 75, 90, 95, 99)),
    "mean", "std", "skewness", "kurtosis", "entropy", "background", "zero", "saturated",
    "grad_mean", "grad_p50", "grad_p90", "grad_p99",
    *(f"grad_hist_{i}" for i in range(len(GRAD_BINS) - 1)),
    *(f"edge_{t:g}" for t in EDGE_THRESHOLDS), "noise",
    "lstd_mean", "lstd_p10", "lstd_p50", "lstd_p90", "lstd_flat",
    "psd_slope", *(f"psd_band_{i}" for i in range(len(SPECTRUM_BANDS) - 1)),
    *(f"glcm{d}_{name}" for d in (1, 2)
      for name in ("contrast", "homogeneity", "energy", "correlation")),
    "run_mean", "run_short", "run_long", "run_nonuniformity",
    *(f"lbp_{i}" for i in range(10)),
)

FEATURE_GROUPS: dict[str, tuple[str, ...]] = {       # name -> feature-name prefixes
    "intensity histogram": ("q", "mean", "std", "skewness", "kurtosis", "entropy",
                            "background", "zero", "saturated"),
    "gradients and edges": ("grad_", "edge_"),
    "noise and local SD": ("noise", "lstd_"),
    "power spectrum": ("psd_",),
    "co-occurrence and run lengths": ("glcm", "run_"),
    "local binary patterns": ("lbp_",),
}


def group_columns(group: str) -> list[int]:
    """Columns of :data:`FEATURES` in one of :data:`FEATURE_GROUPS`."""
    return [j for j, f in enumerate(FEATURES) if f.startswith(FEATURE_GROUPS[group])]


# ---------------------------------------------------------------------------- features
def _box_mean(x: np.ndarray, r: int) -> np.ndarray:
    """Mean over the (2r+1)^2 window around each pixel ('valid' part only)."""
    c = np.pad(np.cumsum(np.cumsum(x, 0), 1), ((1, 0), (1, 0)))
    k = 2 * r + 1
    return (c[k:, k:] - c[:-k, k:] - c[k:, :-k] + c[:-k, :-k]) / (k * k)


def _glcm(q: np.ndarray, dy: int, dx: int) -> np.ndarray:
    a = q[: q.shape[0] - dy, : q.shape[1] - dx]
    b = q[dy:, dx:]
    m = np.bincount((a * LEVELS + b).ravel(), minlength=LEVELS * LEVELS)
    m = m.reshape(LEVELS, LEVELS).astype(np.float64)
    m = m + m.T
    return m / max(m.sum(), 1.0)


def _glcm_props(p: np.ndarray) -> list[float]:
    i, j = np.indices(p.shape)
    mu_i, mu_j = (i * p).sum(), (j * p).sum()
    sd_i = np.sqrt(((i - mu_i) ** 2 * p).sum())
    sd_j = np.sqrt(((j - mu_j) ** 2 * p).sum())
    corr = ((i - mu_i) * (j - mu_j) * p).sum() / (sd_i * sd_j) if sd_i * sd_j > 0 else 1.0
    return [float(((i - j) ** 2 * p).sum()), float((p / (1.0 + (i - j) ** 2)).sum()),
            float(np.sqrt((p ** 2).sum())), float(corr)]


def _run_lengths(q: np.ndarray) -> np.ndarray:
    """Lengths of the runs of equal grey level along every row of ``q``."""
    change = np.ones((q.shape[0], q.shape[1] + 1), bool)
    change[:, 1:-1] = q[:, 1:] != q[:, :-1]
    rows, cols = np.nonzero(change)
    starts = cols.astype(np.int64) + rows.astype(np.int64) * (q.shape[1] + 1)
    lengths = np.diff(starts)
    return lengths[np.diff(rows) == 0]


_LBP_OFFSETS = ((-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1))


def _lbp_histogram(x: np.ndarray) -> np.ndarray:
    """Rotation-invariant uniform LBP (8 neighbours at radius 1 pixel): 10 bins."""
    centre = x[1:-1, 1:-1]
    h, w = centre.shape
    bits = np.stack([x[1 + dy: 1 + dy + h, 1 + dx: 1 + dx + w] >= centre
                     for dy, dx in _LBP_OFFSETS]).astype(np.int8)
    transitions = np.abs(bits - np.roll(bits, 1, axis=0)).sum(0)
    code = np.where(transitions <= 2, bits.sum(0), 9)
    return np.bincount(code.ravel(), minlength=10) / code.size


def frame_features(image: np.ndarray) -> np.ndarray:
    """The :data:`FEATURES` of one rendered 8-bit frame (H, W), as float64."""
    x = np.asarray(image, np.float64) / 255.0
    if x.ndim != 2 or min(x.shape) < 8:
        raise ValueError(f"a frame must be 2D and at least 8 x 8 pixels, got {x.shape}")
    v = x.ravel()
    mean, std = v.mean(), v.std()
    z = (v - mean) / std if std > 0 else np.zeros_like(v)
    counts = np.bincount(np.minimum((v * 64).astype(np.int64), 63), minlength=64) / v.size
    nz = counts[counts > 0]
    out: list[float] = [*np.percentile(v, (1, 5, 10, 25, 50, 75, 90, 95, 99)), mean, std,
                        float((z ** 3).mean()), float((z ** 4).mean()),
                        float(-(nz * np.log2(nz)).sum()), float(np.mean(v < 0.05)),
                        float(np.mean(v <= 0.0)), float(np.mean(v >= 1.0))]
    gy, gx = np.gradient(x)
    grad = np.hypot(gx, gy).ravel()
    out += [grad.mean(), *np.percentile(grad, (50, 90, 99))]
    out += list(np.histogram(grad, bins=GRAD_BINS)[0] / grad.size)
    out += [float(np.mean(grad > t)) for t in EDGE_THRESHOLDS]
    lap = (x[:-2, :-2] - 2 * x[:-2, 1:-1] + x[:-2, 2:] - 2 * x[1:-1, :-2] + 4 * x[1:-1, 1:-1]
           - 2 * x[1:-1, 2:] + x[2:, :-2] - 2 * x[2:, 1:-1] + x[2:, 2:])
    out.append(float(np.sqrt(np.pi / 2) * np.abs(lap).mean() / 6.0))
    local_sd = np.sqrt(np.maximum(_box_mean(x * x, 2) - _box_mean(x, 2) ** 2, 0.0)).ravel()
    out += [local_sd.mean(), *np.percentile(local_sd, (10, 50, 90)),
            float(np.mean(local_sd < 0.01))]
    out += _spectrum(x)
    q = np.minimum((x * LEVELS).astype(np.int64), LEVELS - 1)
    for d in (1, 2):
        props = np.mean([_glcm_props(_glcm(q, 0, d)), _glcm_props(_glcm(q, d, 0))], axis=0)
        out += list(props)
    runs = np.concatenate([_run_lengths(q), _run_lengths(q.T)]).astype(np.float64)
    run_counts = np.bincount(runs.astype(np.int64))
    out += [runs.mean(), float(np.mean(1.0 / runs ** 2)), float(np.mean(runs ** 2)),
            float((run_counts ** 2).sum() / len(runs) ** 2)]
    out += list(_lbp_histogram(x))
    return np.array(out, np.float64)


def _spectrum(x: np.ndarray) -> list[float]:
    """Log-log slope of the radially averaged power spectrum over 0.05-0.4 cycles/pixel,
    and the share of the power in each of :data:`SPECTRUM_BANDS`."""
    h, w = x.shape
    window = np.outer(np.hanning(h), np.hanning(w))
    power = np.abs(np.fft.fft2((x - x.mean()) * window)) ** 2
    fy, fx = np.meshgrid(np.fft.fftfreq(h), np.fft.fftfreq(w), indexing="ij")
    radius = np.hypot(fy, fx).ravel()
    power = power.ravel()
    edges = np.linspace(0.0, 0.5, 41)
    which = np.digitize(radius, edges) - 1
    keep = (which >= 0) & (which < 40)
    total = np.bincount(which[keep], weights=power[keep], minlength=40)
    n = np.bincount(which[keep], minlength=40)
    centres = 0.5 * (edges[:-1] + edges[1:])
    fit = (centres >= 0.05) & (centres <= 0.4) & (n > 0) & (total > 0)
    slope = (float(np.polyfit(np.log(centres[fit]), np.log(total[fit] / n[fit]), 1)[0])
             if fit.sum() >= 3 else 0.0)
    all_power = max(power[keep].sum(), 1e-30)
    bands = [float(power[(radius >= lo) & (radius < hi)].sum() / all_power)
             for lo, hi in itertools.pairwise(SPECTRUM_BANDS)]
    return [slope, *bands]


def render(frame: np.ndarray, window: tuple[float, float], spacing: tuple[float, float],
           image_size: int = DEFAULT_IMAGE_SIZE) -> np.ndarray:
    """A frame as the prompt shows it: windowed to 8 bits, aspect-true, longest side
    ``image_size`` (the steps of ``cardiolens.prompting.rendering.render_png``)."""
    image = Image.fromarray(to_uint8(frame, window), mode="L")
    size = target_size(frame.shape[:2], spacing, image_size)
    if size != image.size:
        image = image.resize(size, Image.Resampling.LANCZOS)
    return np.asarray(image)


# ---------------------------------------------------------------------------- inputs
@dataclass
class Series:
    """Frames of one series, with what grouping needs."""

    study: str
    frames: list[np.ndarray] = field(default_factory=list)
    locations: list[float] = field(default_factory=list)
    spacing: tuple[float, float] = (1.0, 1.0)


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def _has_dicom_preamble(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(132)[128:] == b"DICM"
    except OSError:
        return False


def _dicom_series(root: Path, seen: set[str], pattern: str) -> dict[str, Series]:
    import pydicom
    from pydicom.errors import InvalidDicomError

    pydicom.config.settings.reading_validation_mode = pydicom.config.IGNORE

    out: dict[str, Series] = {}
    paths = sorted(p for p in root.rglob(pattern) if p.is_file() and (
        p.suffix.lower() in (".dcm", ".ima") or (not p.suffix and _has_dicom_preamble(p))))
    for path in paths:
        try:
            ds = pydicom.dcmread(str(path))
            if "PixelData" not in ds:
                _warn(f"{path}: skipped (no pixel data)")
                continue
            uid = str(ds.get("SOPInstanceUID", path))
            if uid in seen:                      # the same image given twice
                continue
            pixels = ds.pixel_array.astype(np.float32)
        except (InvalidDicomError, OSError, ValueError, AttributeError, KeyError,
                NotImplementedError, RuntimeError) as exc:
            _warn(f"{path}: skipped ({type(exc).__name__}: {str(exc).splitlines()[0][:120]})")
            continue
        seen.add(uid)
        slope = float(ds.get("RescaleSlope", 1.0) or 1.0)
        inter = float(ds.get("RescaleIntercept", 0.0) or 0.0)
        pixels = pixels * slope + inter
        study = str(ds.get("PatientID") or ds.get("StudyInstanceUID") or path.parent)
        key = f"{study}:{ds.get('SeriesInstanceUID') or path.parent}"
        series = out.setdefault(key, Series(study))
        if "PixelSpacing" in ds:
            series.spacing = (float(ds.PixelSpacing[0]), float(ds.PixelSpacing[1]))
        location = float(ds.get("SliceLocation", 0.0) or 0.0)
        stack = pixels if pixels.ndim == 3 else pixels[None]
        if stack.ndim != 3 or ds.get("SamplesPerPixel", 1) != 1:
            _warn(f"{path}: skipped (not a grayscale image: shape {pixels.shape})")
            continue
        for frame in stack:
            series.frames.append(frame)
            series.locations.append(location)
    return out


def _nifti_series(root: Path, pattern: str) -> dict[str, Series]:
    import nibabel as nib

    out: dict[str, Series] = {}
    paths = sorted(p for p in root.rglob(pattern) if p.is_file()
                   and (p.name.endswith(".nii") or p.name.endswith(".nii.gz")))
    for path in paths:
        try:
            image: Any = nib.load(str(path))
            data = np.asarray(image.dataobj, np.float32)
        except Exception as exc:  # nibabel raises many types for a bad file
            _warn(f"{path}: skipped ({type(exc).__name__}: {str(exc).splitlines()[0][:120]})")
            continue
        if data.ndim < 2 or data.ndim > 4:
            _warn(f"{path}: skipped ({data.ndim}D array)")
            continue
        data = data.reshape(*data.shape[:2], -1, *data.shape[3:4])
        if data.ndim == 3:
            data = data[..., None]
        zooms = image.header.get_zooms()
        folder = path.parent.relative_to(root)      # files directly in root: its name only
        series = Series(root.name if folder == Path(".") else f"{root.name}:{folder}",
                        spacing=(float(zooms[0]), float(zooms[1])))
        for z in range(data.shape[2]):
            for t in range(data.shape[3]):
                series.frames.append(data[:, :, z, t])
                series.locations.append(float(z))
        out[f"{series.study}:{path.name}"] = series
    return out


def real_series(roots: Iterable[Path], pattern: str = "*") -> list[Series]:
    """Every series under ``roots`` whose file names match ``pattern``."""
    seen: set[str] = set()
    out: list[Series] = []
    for root in roots:
        if not root.is_dir():
            raise SystemExit(f"error: {root}: not a folder")
        found = {**_dicom_series(root, seen, pattern), **_nifti_series(root, pattern)}
        found = {k: s for k, s in found.items() if s.frames}
        if not found:
            raise SystemExit(f"error: {root}: no readable DICOM or NIfTI image named {pattern}")
        out += [found[k] for k in sorted(found)]
    return out


def phantom_series(root: Path, names: list[str], studies: int | None) -> list[Series]:
    try:
        data = read_dataset(root)
    except (CardiolensError, OSError, ValueError) as exc:
        raise SystemExit(f"error: {root}: not a CardioLens dataset ({exc})") from None
    out: list[Series] = []
    for sid, study in sorted(data.studies.items())[:studies]:
        for name in names:
            info = study.series.get(name)
            if info is None:
                continue
            refs = [(s, f) for s in range(info.slices) for f in range(info.frames)]
            try:
                volume = SeriesVolume.open(root, info)
                frames = volume.read_frames(refs)
            except CardiolensError as exc:
                _warn(f"{exc} (skipped)")
                continue
            series = Series(f"phantom:{sid}", spacing=volume.spacing[:2])
            series.frames = list(frames)
            series.locations = [float(s) for s, _ in refs]
            out.append(series)
    if not out:
        raise SystemExit(f"error: {root}: no {'/'.join(names)} series")
    return out


# ---------------------------------------------------------------------------- sampling
Ref = tuple[Series, int]


def pick_frames(series: list[Series], per_study: int, rng: np.random.Generator
                ) -> list[Ref]:
    """Up to ``per_study`` frames of each study, drawn at random over its series' frames."""
    by_study: dict[str, list[Ref]] = defaultdict(list)
    for s in series:
        by_study[s.study] += [(s, i) for i in range(len(s.frames))]
    out: list[Ref] = []
    for study in sorted(by_study):
        pool = by_study[study]
        if per_study and len(pool) > per_study:
            pool = [pool[k] for k in np.sort(rng.choice(len(pool), per_study, replace=False))]
        out += pool
    return out


def featurise(refs: list[Ref]) -> np.ndarray:
    """Features of each frame, rendered with its own series' window."""
    windows: dict[int, tuple[float, float]] = {}
    rows = []
    for s, i in refs:
        if id(s) not in windows:
            windows[id(s)] = series_window(np.concatenate([f.ravel() for f in s.frames]))
        rows.append(frame_features(render(s.frames[i], windows[id(s)], s.spacing)))
    return np.array(rows)


def split_single_study(studies: list[str], locations: list[float]) -> list[str]:
    """One real study: its frames split at the median slice location into two groups
    (into first and second half of the list when every frame has the same location)."""
    cut = float(np.median(locations))
    upper = [loc > cut for loc in locations]
    if not any(upper):
        upper = [k >= len(locations) // 2 for k in range(len(locations))]
    return [f"{s}#{'upper' if u else 'lower'}" for s, u in zip(studies, upper, strict=True)]


# ---------------------------------------------------------------------------- evaluation
def classifiers(seed: int) -> dict[str, Any]:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return {
        "logistic regression (L2, C=0.1)": make_pipeline(
            StandardScaler(), LogisticRegression(C=0.1, max_iter=5000)),
        "random forest (300 trees)": RandomForestClassifier(
            n_estimators=300, min_samples_leaf=2, random_state=seed, n_jobs=1),
    }


def out_of_fold(model: Any, x: np.ndarray, y: np.ndarray, groups: np.ndarray,
                folds: int, seed: int) -> np.ndarray:
    """P(phantom) for every frame from a model that never saw its study."""
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedGroupKFold

    score = np.zeros(len(y))
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(x, y, groups):
        fitted = clone(model).fit(x[train], y[train])
        score[test] = fitted.predict_proba(x[test])[:, 1]
    return score


def bootstrap(score: np.ndarray, y: np.ndarray, groups: np.ndarray, reps: int,
              seed: int) -> dict[str, list[float]]:
    """95% intervals of accuracy and AUC, resampling whole studies within each class."""
    rng = np.random.default_rng(seed)
    members = {c: [np.flatnonzero(groups == g) for g in np.unique(groups[y == c])]
               for c in (0, 1)}
    acc, auc = [], []
    for _ in range(reps):
        idx = np.concatenate([members[c][k] for c in (0, 1)
                              for k in rng.integers(0, len(members[c]), len(members[c]))])
        yy, ss = y[idx], score[idx]
        w = np.where(yy == 1, 0.5 / max((yy == 1).sum(), 1), 0.5 / max((yy == 0).sum(), 1))
        acc.append(float((w * ((ss > 0.5) == (yy == 1))).sum()))
        auc.append(auc_score(ss, yy))
    return {"accuracy": list(np.percentile(acc, (2.5, 97.5))),
            "auc": list(np.percentile(auc, (2.5, 97.5)))}


def run(real: list[Series], phantom: list[Series], real_per_study: int,
        phantom_per_study: int, folds: int, seed: int, reps: int,
        exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """Cross-validated phantom-vs-real separation; features whose names start with one of
    ``exclude`` are held constant, so no classifier can use them."""
    rng = np.random.default_rng(seed)
    real_refs = pick_frames(real, real_per_study, rng)
    phantom_refs = pick_frames(phantom, phantom_per_study, rng)
    n = min(len(real_refs), len(phantom_refs))    # balance the classes by subsampling frames
    real_refs = [real_refs[k] for k in np.sort(rng.choice(len(real_refs), n, replace=False))]
    phantom_refs = [phantom_refs[k]
                    for k in np.sort(rng.choice(len(phantom_refs), n, replace=False))]
    g_real = [s.study for s, _ in real_refs]
    note = ""
    if len(set(g_real)) == 1:
        g_real = split_single_study(g_real, [s.locations[i] for s, i in real_refs])
        note = ("only one real study: its frames were split by slice location into two "
                "halves that stand in for studies, so the real test frames come from the "
                "same patient and scanner as the real training frames (optimistic for the "
                "classifier, i.e. the phantom looks easier to separate than it is)")
    x = np.vstack([featurise(real_refs), featurise(phantom_refs)])
    excluded = [f for f in FEATURES if exclude and f.startswith(exclude)]
    x[:, [FEATURES.index(f) for f in excluded]] = 0.0
    y = np.r_[np.zeros(n, np.int64), np.ones(n, np.int64)]
    groups = np.array(g_real + [s.study for s, _ in phantom_refs])
    n_real_groups = len(set(groups[y == 0]))
    folds = max(2, min(folds, n_real_groups, len(set(groups[y == 1]))))
    results: dict[str, Any] = {
        "real_frames": n, "phantom_frames": n, "real_groups": n_real_groups,
        "phantom_studies": len(set(groups[y == 1])), "folds": folds, "note": note,
        "excluded": excluded,
        "classifiers": {}}
    forest_importance = None
    for name, model in classifiers(seed).items():
        score = out_of_fold(model, x, y, groups, folds, seed)
        ci = bootstrap(score, y, groups, reps, seed)
        results["classifiers"][name] = {
            "accuracy": round(float(np.mean((score > 0.5) == (y == 1))), 3),
            "accuracy_ci": [round(v, 3) for v in ci["accuracy"]],
            "auc": round(auc_score(score, y), 3), "auc_ci": [round(v, 3) for v in ci["auc"]],
            "real_called_phantom": {
                g: round(float(np.mean(score[groups == g] > 0.5)), 3)
                for g in sorted(set(groups[y == 0]))}}
        if "forest" in name:
            forest_importance = model.fit(x, y).feature_importances_
    logistic = next(iter(classifiers(seed).values()))
    results["groups"] = {}
    for group in FEATURE_GROUPS:
        score = out_of_fold(logistic, x[:, group_columns(group)], y, groups, folds, seed)
        results["groups"][group] = {
            "features": len(group_columns(group)),
            "accuracy": round(float(np.mean((score > 0.5) == (y == 1))), 3),
            "auc": round(auc_score(score, y), 3)}
    univariate = [(FEATURES[j], auc_score(x[:, j], y)) for j in range(x.shape[1])]
    ranked = sorted(univariate, key=lambda t: -abs(t[1] - 0.5))
    by_group = auc_by_real_group(x, y, groups)
    results["features"] = [
        {"feature": f, "auc": round(a, 3),
         "real_median": round(float(np.median(x[y == 0, FEATURES.index(f)])), 4),
         "phantom_median": round(float(np.median(x[y == 1, FEATURES.index(f)])), 4),
         "forest_importance": (round(float(forest_importance[FEATURES.index(f)]), 4)
                               if forest_importance is not None else None),
         "auc_by_real_group": {g: round(v[FEATURES.index(f)], 3) for g, v in by_group.items()}}
        for f, a in ranked]
    return results


YARDSTICK_FRAMES = 20
"""Frames of each phantom study in the yardstick (about one real M&Ms study's worth)."""


def column_aucs(a: np.ndarray, b: np.ndarray) -> list[float]:
    """Single-feature AUC of every column, the frames ``b`` against the frames ``a`` (above
    0.5: that feature is higher in ``b``)."""
    labels = np.r_[np.zeros(len(a)), np.ones(len(b))]
    return [auc_score(np.r_[a[:, j], b[:, j]], labels) for j in range(a.shape[1])]


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean over the feature columns of |single-feature AUC - 0.5| between the frames ``a``
    and ``b`` (0: no feature separates them; 0.5: every feature separates them fully)."""
    return float(np.mean(np.abs(np.array(column_aucs(a, b)) - 0.5)))


def yardstick_rows(real: dict[str, np.ndarray], phantom: dict[str, np.ndarray]
                   ) -> list[dict[str, Any]]:
    """For each real study (name -> its frames' features): its distance to the phantom
    frames pooled, to each phantom study alone (median, minimum) and to each other real
    study given (nearest, median; studies of the same site count too). Real studies of
    different sites are the yardstick: a phantom study as far from a real study as the
    median other real study reads as one more site; one nearer than the nearest other
    real study is nearer than any real study here."""
    if not real or not phantom:
        raise ValueError("the yardstick needs at least one real and one phantom study")
    pooled = np.vstack(list(phantom.values()))
    rows = []
    for name, x in real.items():
        single = sorted(distance(x, p) for p in phantom.values())
        others = sorted(distance(x, r) for other, r in real.items() if other != name)
        rows.append({"study": name, "phantom_pooled": round(distance(x, pooled), 3),
                     "phantom_study_median": round(float(np.median(single)), 3),
                     "phantom_study_min": round(single[0], 3),
                     "real_nearest": round(others[0], 3) if others else None,
                     "real_median": round(float(np.median(others)), 3) if others else None})
    return rows


def yardstick(real: list[Series], phantom: list[Series], seed: int,
              exclude: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """:func:`yardstick_rows` on every frame of each real study and
    :data:`YARDSTICK_FRAMES` frames of each phantom study, without the features whose
    names start with one of ``exclude`` (as :func:`run` leaves them out).

    The distance has a floor from sampling alone: 20 frames of a Sunnybrook study against
    its other frames read 0.043-0.048, against 20 others 0.049-0.088. The phantom side's
    20 frames carry more of it than a real study's 20-260, so phantom studies read
    slightly farther than they are."""
    rng = np.random.default_rng(seed)
    keep = [j for j, f in enumerate(FEATURES) if not (exclude and f.startswith(exclude))]

    def by_study(series: list[Series], per_study: int) -> dict[str, np.ndarray]:
        refs = pick_frames(series, per_study, rng)
        x = featurise(refs)[:, keep]
        studies = np.array([s.study for s, _ in refs])
        return {str(g): x[studies == g] for g in sorted(set(studies))}

    return yardstick_rows(by_study(real, 0), by_study(phantom, YARDSTICK_FRAMES))


def yardstick_report(rows: list[dict[str, Any]]) -> str:
    lines = ["per-study distance (mean over the features of |single-feature AUC - 0.5|; "
             "docs/realism_gap.md, 'Calibration'):", "",
             "| real study | phantom pooled | one phantom study: median (min) | "
             "other real studies: nearest / median |", "|---|---|---|---|"]
    for r in rows:
        other = ("-" if r["real_nearest"] is None
                 else f"{r['real_nearest']:.3f} / {r['real_median']:.3f}")
        lines.append(f"| {r['study']} | {r['phantom_pooled']:.3f} | "
                     f"{r['phantom_study_median']:.3f} ({r['phantom_study_min']:.3f}) | "
                     f"{other} |")
    return "\n".join(lines)


def auc_by_real_group(x: np.ndarray, y: np.ndarray, groups: np.ndarray
                      ) -> dict[str, list[float]]:
    """Single-feature AUC of every feature, phantom frames against each real group's
    frames alone (real group -> one AUC per column of ``x``)."""
    phantom = x[y == 1]
    return {str(g): column_aucs(x[(y == 0) & (groups == g)], phantom)
            for g in sorted(set(groups[y == 0]))}


def split_features(features: list[dict[str, Any]], margin: float = 0.25) -> list[str]:
    """Features on which the real groups lie on both sides of the phantom: one group's
    single-feature AUC is below ``0.5 - margin`` and another's above ``0.5 + margin``. No
    shift of the phantom in such a feature can bring it closer to every real group."""
    out = []
    for f in features:
        aucs = list(f.get("auc_by_real_group", {}).values())
        if len(aucs) >= 2 and min(aucs) < 0.5 - margin and max(aucs) > 0.5 + margin:
            out.append(f["feature"])
    return out


def report(results: dict[str, Any], top: int) -> str:
    lines = [f"real: {results['real_frames']} frames from {results['real_groups']} groups; "
             f"phantom: {results['phantom_frames']} frames from {results['phantom_studies']} "
             f"studies; {results['folds']}-fold CV grouped by study (chance 0.5)"]
    if results["note"]:
        lines.append(f"note: {results['note']}")
    if results["excluded"]:
        lines.append(f"features not used: {', '.join(results['excluded'])}")
    lines += ["", "| classifier | accuracy (95% CI) | AUC (95% CI) |", "|---|---|---|"]
    for name, r in results["classifiers"].items():
        lines.append(f"| {name} | {r['accuracy']:.3f} ({r['accuracy_ci'][0]:.3f}-"
                     f"{r['accuracy_ci'][1]:.3f}) | {r['auc']:.3f} ({r['auc_ci'][0]:.3f}-"
                     f"{r['auc_ci'][1]:.3f}) |")
    lines += ["", "share of each real group's frames called phantom (out of fold):"]
    for name, r in results["classifiers"].items():
        shares = ", ".join(f"{g} {v:.2f}" for g, v in r["real_called_phantom"].items())
        lines.append(f"- {name}: {shares}")
    lines += ["", "logistic regression on one feature group at a time (same folds):", "",
              "| feature group | features | accuracy | AUC |", "|---|---|---|---|"]
    for group, r in results["groups"].items():
        lines.append(f"| {group} | {r['features']} | {r['accuracy']:.3f} | {r['auc']:.3f} |")
    lines += ["", f"features that separate most (single-feature AUC, 0.5 = none; top {top}):",
              "", "| feature | AUC | real median | phantom median | forest importance |",
              "|---|---|---|---|---|"]
    shown = [f for f in results["features"] if f["feature"] not in results["excluded"]][:top]
    for f in shown:
        lines.append(f"| {f['feature']} | {f['auc']:.3f} | {f['real_median']:.4g} | "
                     f"{f['phantom_median']:.4g} | {f['forest_importance']:.4f} |")
    real_groups = list(shown[0]["auc_by_real_group"]) if shown else []
    if len(real_groups) >= 2:
        lines += ["", "the same features against each real group alone (single-feature AUC; "
                  "below 0.5: that group's values are higher than the phantom's):", "",
                  "| feature | " + " | ".join(real_groups) + " |",
                  "|---|" + "---|" * len(real_groups)]
        for f in shown:
            lines.append(f"| {f['feature']} | " + " | ".join(
                f"{f['auc_by_real_group'][g]:.2f}" for g in real_groups) + " |")
        split = [f for f in split_features(results["features"])
                 if f not in results["excluded"]]
        lines += ["", "real groups on both sides of the phantom (one AUC < 0.25, another "
                  f"> 0.75): {', '.join(split) if split else 'none'}"]
    return "\n".join(lines)


def _check(real: list[Series], phantom: list[Series], args: argparse.Namespace,
           exclude: tuple[str, ...]) -> dict[str, Any]:
    results = run(real, phantom, args.real_frames_per_study, args.frames_per_study,
                  args.folds, args.seed, args.bootstrap, exclude)
    if args.yardstick:
        results["yardstick"] = yardstick(real, phantom, args.seed, exclude)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=Path, nargs="+", action="extend", required=True,
                        help="folders of real DICOM or NIfTI images (repeatable)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--phantom", type=Path, help="an existing phantom cohort")
    source.add_argument("--phantom-studies", type=int, default=24,
                        help="generate a fresh cohort of this many studies (default 24)")
    parser.add_argument("--seed", type=int, default=11,
                        help="seeds the fresh cohort, the frame sampling and the folds")
    parser.add_argument("--real-files", default="*",
                        help="only real files whose names match this glob (e.g. '*_4d.nii.gz')")
    parser.add_argument("--phantom-series", default="cine_sax",
                        help="comma-separated phantom series to compare (default cine_sax: "
                             "the real references are cine)")
    parser.add_argument("--frames-per-study", type=int, default=40,
                        help="phantom frames drawn per study (default 40)")
    parser.add_argument("--real-frames-per-study", type=int, default=240,
                        help="real frames drawn per study (default 240; 0 = all)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--top", type=int, default=12, help="features listed")
    parser.add_argument("--exclude", default="",
                        help="comma-separated feature names or name prefixes not to use")
    parser.add_argument("--yardstick", action="store_true",
                        help="also give each real study's distance to single phantom "
                             "studies and to the other real studies (one real site against "
                             "another is the yardstick)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    names = [n.strip() for n in args.phantom_series.split(",") if n.strip()]
    exclude = tuple(n.strip() for n in args.exclude.split(",") if n.strip())
    unknown = [n for n in exclude if not any(f.startswith(n) for f in FEATURES)]
    if unknown:
        parser.error(f"--exclude: no feature starts with {', '.join(unknown)}")
    real = real_series(args.real, args.real_files)
    if args.phantom is not None:
        phantom = phantom_series(args.phantom, names, None)
        results = _check(real, phantom, args, exclude)
    else:
        from cardiolens.phantom.cohort import generate_cohort

        with tempfile.TemporaryDirectory() as tmp:
            root = generate_cohort(Path(tmp) / "cohort", studies=args.phantom_studies,
                                   seed=args.seed, progress=False)
            phantom = phantom_series(root, names, None)
            results = _check(real, phantom, args, exclude)
    print(report(results, args.top))
    if "yardstick" in results:
        print("\n" + yardstick_report(results["yardstick"]))
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
