"""Phantom against real CMR: generic image statistics side by side.

Regenerates the realism table of the README:

    python scripts/realism_table.py --real /work/shared/realdata/sunnybrook --studies 12 \
        [--dataset demo --seed 7]

Real: every frame of the CC0 Sunnybrook cine study (pydicom; the ``dev`` or ``dicom``
extra). Phantom: every ``cine_sax`` frame of a fresh phantom cohort. Each frame is windowed
at its own 0.5-99.5th percentiles to 0..1 (as prompts are), then measured: intensity
quantiles, 64-bin histogram entropy (bits), background fraction (< 0.05), gradient
magnitude (mean, 90th percentile, per pixel), edge density (gradient > 0.15), noise level
(Immerkaer's Laplacian estimate), and the LV (epicardium) area over the field of view (real:
expert epicardial contours; phantom: the drawn LV at end-diastole). The last line is the
5-fold accuracy of a logistic regression telling phantom frames from real ones with these
statistics (0.5 would mean indistinguishable), then the same without the two lowest
quantiles (this real study's background outside its circular mask is exactly 0).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from cardiolens.audit.pixels import cross_validated_accuracy
from cardiolens.data.dataset import SeriesInfo, read_dataset
from cardiolens.data.volumes import SeriesVolume, scale_stored
from cardiolens.phantom.cohort import generate_cohort, plan_diagnoses, sample_params
from cardiolens.phantom.geometry import tissue
from cardiolens.phantom.params import DIAGNOSES
from cardiolens.phantom.sequences import Renderer

NAMES = ("q05", "q25", "q50", "q75", "q95", "entropy", "background", "grad_mean", "grad_p90",
         "edge_density", "noise")


def read_cine(root: Path, info: SeriesInfo) -> np.ndarray:
    """A whole series as float32 (H, W, slices, frames), base to apex."""
    stored, slope, inter = SeriesVolume.open(root, info).read_all_stored()
    return scale_stored(stored, slope, inter).transpose(2, 3, 0, 1)


def frame_statistics(frame: np.ndarray) -> np.ndarray:
    lo, hi = np.percentile(frame, [0.5, 99.5])
    x = np.clip((frame - lo) / max(hi - lo, 1e-9), 0.0, 1.0)
    counts = np.histogram(x, bins=64, range=(0, 1))[0] / x.size
    nz = counts[counts > 0]
    gy, gx = np.gradient(x)
    grad = np.hypot(gx, gy)
    lap = (x[:-2, 1:-1] + x[2:, 1:-1] + x[1:-1, :-2] + x[1:-1, 2:] - 4 * x[1:-1, 1:-1]
           + 0.5 * (x[:-2, :-2] + x[2:, 2:] + x[:-2, 2:] + x[2:, :-2]) - 2 * x[1:-1, 1:-1])
    noise = np.sqrt(np.pi / 2) * np.mean(np.abs(lap)) / 6.0
    return np.array([*np.percentile(x, [5, 25, 50, 75, 95]), -(nz * np.log2(nz)).sum(),
                     np.mean(x < 0.05), grad.mean(), np.percentile(grad, 90),
                     np.mean(grad > 0.15), noise])


def real_frames(root: Path) -> tuple[list[np.ndarray], list[float]]:
    """Every frame of the real study in (slice location, trigger time) order."""
    import pydicom

    files = sorted((root / "SCD0000101").glob("*.dcm"), key=lambda p: int(p.stem))
    frames, ratios, keys = [], [], []
    for path in files:
        ds = pydicom.dcmread(str(path))
        frames.append(ds.pixel_array.astype(np.float64))
        keys.append((float(ds.SliceLocation), float(ds.TriggerTime)))
    frames = [frames[i] for i in sorted(range(len(frames)), key=keys.__getitem__)]
    contours = sorted((root / "contours").glob("*/o-contours/*.txt"))
    for path in contours:
        xy = np.loadtxt(path)
        area = 0.5 * abs(np.dot(xy[:, 0], np.roll(xy[:, 1], 1))
                         - np.dot(xy[:, 1], np.roll(xy[:, 0], 1)))
        shape = frames[0].shape
        ratios.append(area / (shape[0] * shape[1]))
    return frames, ratios


def phantom_frames(studies: int, seed: int, dataset: Path | None, uniform: bool = False
                   ) -> tuple[list[np.ndarray], list[float]]:
    """Frames and LV/FOV ratios of the first ``studies`` studies of ``dataset`` (a phantom
    cohort made with ``seed``), or of a fresh cohort."""
    frames, ratios = [], []
    with tempfile.TemporaryDirectory() as tmp:
        root = dataset or generate_cohort(Path(tmp) / "c", studies=studies, seed=seed,
                                          progress=False)
        data = read_dataset(root)
        total = len(data.studies)
        for sid, study in sorted(data.studies.items())[:studies]:
            cine = read_cine(root, study.series["cine_sax"])
            frames.extend(cine[:, :, s, f] for s in range(cine.shape[2])
                          for f in range(cine.shape[3]))
            plan = plan_diagnoses(total, seed, {d: 1.0 for d in DIAGNOSES} if uniform else None)
            index = int(sid[1:])
            renderer = Renderer(sample_params(seed, index, plan[index]))
            k = cine.shape[2] // 2
            t = tissue(renderer.model, renderer.sax_plane(k), np.zeros(1))
            lv = float((t.lv_blood + t.papillary + t.lv_myo).sum())
            ratios.append(lv / (cine.shape[0] * cine.shape[1]))
    return frames, ratios


def sheet(frames: list[np.ndarray], per_row: int, rows: list[int], out: Path) -> None:
    """Tiles of ``frames`` (each windowed at its own 0.5-99.5th percentiles): one row per
    entry of ``rows`` (a frame offset), ``per_row`` slices across."""
    from PIL import Image

    def tile(frame: np.ndarray) -> np.ndarray:
        lo, hi = np.percentile(frame, [0.5, 99.5])
        x = np.clip((frame - lo) / max(hi - lo, 1e-9) * 255, 0, 255).astype(np.uint8)
        return np.asarray(Image.fromarray(x).resize((160, round(160 * x.shape[0] / x.shape[1]))))

    n_slices = len(frames) // per_row
    grid = [np.hstack([tile(frames[k * per_row + r]) for k in range(n_slices)]) for r in rows]
    Image.fromarray(np.vstack(grid)).save(out)


def phantom_study_frames(dataset: Path, seed: int
                         ) -> tuple[list[np.ndarray], int, list[int]] | None:
    """The first study's cine short-axis frames (slice-major) with its ED and ES offsets."""
    data = read_dataset(dataset)
    _, study = sorted(data.studies.items())[0]
    info = study.series["cine_sax"]
    cine = read_cine(dataset, info)
    frames = [cine[:, :, s, f] for s in range(cine.shape[2]) for f in range(cine.shape[3])]
    return frames, cine.shape[3], [info.ed_frame or 0, info.es_frame or 0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=Path, default=Path("/work/shared/realdata/sunnybrook"))
    parser.add_argument("--studies", type=int, default=12)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--dataset", type=Path, default=None,
                        help="an existing phantom cohort made with --seed (default: a fresh one)")
    parser.add_argument("--uniform", action="store_true",
                        help="--dataset was made with equal diagnosis shares")
    parser.add_argument("--sheets", type=Path, default=None,
                        help="also write real_cine.png and phantom_cine.png (base to apex, ED "
                             "and a systolic frame) into this folder")
    args = parser.parse_args()
    real, real_ratio = real_frames(args.real)
    phantom, phantom_ratio = phantom_frames(args.studies, args.seed, args.dataset, args.uniform)
    if args.sheets is not None:
        sheet(real, 20, [0, 8], args.sheets / "real_cine.png")
        first = phantom_study_frames(args.dataset, args.seed) if args.dataset else None
        if first is not None:
            sheet(*first, args.sheets / "phantom_cine.png")
    stats = {"real": np.array([frame_statistics(f) for f in real]),
             "phantom": np.array([frame_statistics(f) for f in phantom])}
    print(f"| statistic | real ({len(real)} frames) | phantom ({len(phantom)} frames, "
          f"{args.studies} studies) |")
    print("|---|---|---|")
    for i, name in enumerate(NAMES):
        r, p = stats["real"][:, i], stats["phantom"][:, i]
        print(f"| {name} | {np.median(r):.3f} ({np.percentile(r, 10):.3f}-"
              f"{np.percentile(r, 90):.3f}) | {np.median(p):.3f} ({np.percentile(p, 10):.3f}-"
              f"{np.percentile(p, 90):.3f}) |")
    print(f"| LV area / field of view | {np.median(real_ratio):.3f} | "
          f"{np.median(phantom_ratio):.3f} |")
    rng = np.random.default_rng(0)
    pick = rng.choice(len(phantom), size=min(len(phantom), len(real)), replace=False)
    x = np.vstack([stats["real"], stats["phantom"][pick]])
    y = np.r_[np.zeros(len(real)), np.ones(len(pick))]
    print(f"\nphantom-vs-real classifier on these statistics, 5-fold accuracy: "
          f"{cross_validated_accuracy(x, y, 5, 0):.3f} (balanced classes, chance 0.5)")
    keep = [i for i, name in enumerate(NAMES) if name not in ("q05", "q25")]
    print(f"the same without q05 and q25 (the real study's masked background is exactly 0): "
          f"{cross_validated_accuracy(x[:, keep], y, 5, 0):.3f}")


if __name__ == "__main__":
    main()
