"""Where phantom frames differ from real ones: gradient and LBP statistics per image region.

    python scripts/realism_regions.py --real /work/shared/realdata/sunnybrook \
        (--phantom COHORT | --phantom-studies 12 --seed 3) [--phantom-series cine_sax] \
        [--frames-per-study 20] [--json out.json]

Frames are rendered as ``scripts/realism_check.py`` renders them (windowed at the series'
0.5-99.5th percentiles, 8-bit, aspect-true, 256 pixels). Each frame, real or phantom, is
split by its own intensities only (no labels, no contours):

- **body**: the largest connected region of the frame smoothed (Gaussian, 3 pixels) above
  0.04, holes filled; **air** is everything else;
- **body edge**: the body's outer 6 pixels (the smoothed outline lies a few pixels outside
  the skin, so the band straddles it);
- **heart**: a disc of radius 0.14 of the longest side at the image centre, inside the body
  (cine short-axis series centre the heart; check this on other inputs);
- **interior**: the rest of the body.

Per region it prints the median over frames of: the region's pixel share, its median
gradient magnitude (``np.gradient`` of the 0..1 frame, as the check), the share of
moderate gradients (0.03-0.12: the check's ``grad_hist_2`` and ``grad_hist_3``) and of
strong ones (>= 0.12), and the share of the rotation-invariant uniform LBP codes 0 (a local
maximum), 4 (a straight edge), 8 (a local minimum or flat) and 9 (non-uniform). This says
which region carries a gap that the whole-frame check reports (docs/realism_gap.md).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import realism_check as rc  # the sibling script: rendering, readers, LBP
from scipy import ndimage

REGIONS = ("air", "body_edge", "interior", "heart")
STATS = ("share", "grad_p50", "moderate", "strong", "lbp_0", "lbp_4", "lbp_8", "lbp_9")
EDGE_PX = 6
HEART_RADIUS = 0.14


def regions(x: np.ndarray) -> dict[str, np.ndarray]:
    """Boolean masks of :data:`REGIONS` of one 0..1 frame, from its intensities alone."""
    body = ndimage.gaussian_filter(x, 3.0) > 0.04
    labels, n = ndimage.label(body)
    if n:
        sizes = ndimage.sum(body, labels, range(1, n + 1))
        body = labels == 1 + int(np.argmax(sizes))
    body = ndimage.binary_fill_holes(body)
    inner = ndimage.binary_erosion(body, iterations=EDGE_PX)
    h, w = x.shape
    yy, xx = np.mgrid[:h, :w]
    heart = np.hypot(yy - h / 2, xx - w / 2) < HEART_RADIUS * max(h, w)
    return {"air": ~body, "body_edge": body & ~inner, "interior": inner & ~heart,
            "heart": inner & heart}


def lbp_codes(x: np.ndarray) -> np.ndarray:
    """Per-pixel rotation-invariant uniform LBP code (0-9) of the frame's inner pixels,
    as the check's histogram counts them."""
    centre = x[1:-1, 1:-1]
    h, w = centre.shape
    bits = np.stack([x[1 + dy: 1 + dy + h, 1 + dx: 1 + dx + w] >= centre
                     for dy, dx in rc._LBP_OFFSETS]).astype(np.int8)
    transitions = np.abs(bits - np.roll(bits, 1, axis=0)).sum(0)
    return np.where(transitions <= 2, bits.sum(0), 9)


def frame_regions(image: np.ndarray) -> dict[str, dict[str, float]]:
    """:data:`STATS` of each region of one rendered 8-bit frame (regions of fewer than 50
    pixels are left out)."""
    x = np.asarray(image, np.float64) / 255.0
    gy, gx = np.gradient(x)
    grad = np.hypot(gy, gx)
    code = lbp_codes(x)
    out = {}
    for name, mask in regions(x).items():
        if mask.sum() < 50:
            continue
        g, c = grad[mask], code[mask[1:-1, 1:-1]]
        out[name] = {"share": float(mask.mean()), "grad_p50": float(np.median(g)),
                     "moderate": float(np.mean((g >= 0.03) & (g < 0.12))),
                     "strong": float(np.mean(g >= 0.12)),
                     **{f"lbp_{k}": float(np.mean(c == k)) for k in (0, 4, 8, 9)}}
    return out


def summarise(series: list, per_study: int, seed: int) -> dict[str, dict[str, float]]:
    """Median of each region's statistics over up to ``per_study`` frames per study."""
    refs = rc.pick_frames(series, per_study, np.random.default_rng(seed))
    windows: dict[int, tuple[float, float]] = {}
    values: dict[str, dict[str, list[float]]] = {r: {s: [] for s in STATS} for r in REGIONS}
    for s, i in refs:
        if id(s) not in windows:
            windows[id(s)] = rc.series_window(np.concatenate([f.ravel() for f in s.frames]))
        for region, stats in frame_regions(rc.render(s.frames[i], windows[id(s)],
                                                     s.spacing)).items():
            for name, v in stats.items():
                values[region][name].append(v)
    return {r: {s: round(float(np.median(v)), 4) for s, v in d.items() if v}
            for r, d in values.items()}


def table(real: dict, phantom: dict) -> str:
    lines = ["region      statistic   real     phantom"]
    for region in REGIONS:
        for name in STATS:
            a, b = real.get(region, {}).get(name), phantom.get(region, {}).get(name)
            if a is None and b is None:
                continue
            fa = "-" if a is None else f"{a:.4f}"
            fb = "-" if b is None else f"{b:.4f}"
            lines.append(f"{region:11s} {name:11s} {fa:8s} {fb}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=Path, nargs="+", action="extend", required=True,
                        help="folders of real DICOM or NIfTI cine (as realism_check.py)")
    parser.add_argument("--real-files", default="*", help="keep only these file names")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--phantom", type=Path, help="an existing phantom cohort")
    source.add_argument("--phantom-studies", type=int, default=12,
                        help="generate a fresh cohort of this many studies (default 12)")
    parser.add_argument("--seed", type=int, default=3, help="cohort and frame-sampling seed")
    parser.add_argument("--phantom-series", default="cine_sax")
    parser.add_argument("--frames-per-study", type=int, default=20)
    parser.add_argument("--real-frames-per-study", type=int, default=240)
    parser.add_argument("--json", type=Path, help="also write the medians here")
    args = parser.parse_args()
    names = [n.strip() for n in args.phantom_series.split(",") if n.strip()]
    real = summarise(rc.real_series(args.real, args.real_files), args.real_frames_per_study,
                     args.seed)
    if args.phantom is not None:
        phantom = summarise(rc.phantom_series(args.phantom, names, None),
                            args.frames_per_study, args.seed)
    else:
        from cardiolens.phantom.cohort import generate_cohort

        with tempfile.TemporaryDirectory() as tmp:
            root = generate_cohort(Path(tmp) / "cohort", studies=args.phantom_studies,
                                   seed=args.seed, progress=False)
            phantom = summarise(rc.phantom_series(root, names, None), args.frames_per_study,
                                args.seed)
    print(table(real, phantom))
    if args.json is not None:
        args.json.write_text(json.dumps({"real": real, "phantom": phantom}, indent=1) + "\n")


if __name__ == "__main__":
    main()
