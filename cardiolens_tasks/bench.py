"""``cardiolens bench``: measured figures for prompt building, memory, concurrency, logs
and scoring, printed as a table and written as JSON. Pure measurement: no pass/fail.

Figures (one run, same machine):
- prompt build per item, cold (empty cache) and warm, next to the floor: decoding the same
  series with nibabel and PNG-encoding the same number of frames with Pillow directly;
- peak RSS of an Inspect run (instant model) at two sample counts, in fresh processes;
- throughput against a model with fixed latency at 32 connections, as a share of ideal
  (eval time from the log, render cache warm, so process start-up is not counted);
- log bytes per sample with and without images;
- scorer throughput: answers and report sections per second.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
from inspect_ai.log import read_eval_log
from PIL import Image

from .dataset import read_dataset
from .item_scoring import choice_record, report_scores
from .phantom.cohort import generate_cohort
from .prompt_builder import PromptBuilder, PromptSettings
from .rendering import RenderCache

LATENCY, CONNECTIONS = 0.5, 32


def _prompt_build(root: Path, items: int, cache_dir: Path) -> dict[str, float]:
    ds = read_dataset(root)
    chosen = [i for i in ds.items if i.subtask == "diagnosis_etiology"][:items]
    builder = PromptBuilder(root, ds.studies, PromptSettings(budget=16), RenderCache(cache_dir))
    start = time.perf_counter()
    for item in chosen:
        builder.build(item)
    cold = (time.perf_counter() - start) / len(chosen)
    start = time.perf_counter()
    for item in chosen:
        builder.build(item)
    warm = (time.perf_counter() - start) / len(chosen)
    start = time.perf_counter()
    for item in chosen:
        study = ds.studies[item.study_id]
        frames = []
        for key in ("cine_sax", "cine_4ch", "lge_sax", "lge_4ch", "t2_sax", "perf_sax"):
            image: Any = nib.load(str(root / study.series[key].path))
            data = np.asarray(image.dataobj, np.float32)
            frames.append(data[..., 0])
        for k in range(16):
            frame = frames[k % len(frames)]
            scaled = np.clip(frame / max(float(frame.max()), 1.0) * 255, 0, 255)
            image = Image.fromarray(scaled.astype(np.uint8)).resize((256, 256))
            image.save(io.BytesIO(), format="PNG")
    floor = (time.perf_counter() - start) / len(chosen)
    return {"items": len(chosen), "cold_ms": cold * 1e3, "warm_ms": warm * 1e3,
            "floor_ms": floor * 1e3, "cold_over_floor": cold / floor}


def _inspect_run(root: Path, limit: int, log_dir: Path, extra: list[str]) -> dict[str, Any]:
    """Run ``inspect eval`` in a fresh process; wall time and its peak RSS (MB)."""
    code = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)")
    inspect_cli = str(Path(sys.executable).with_name("inspect"))
    command = [sys.executable, "-c", code, inspect_cli, "eval",
               "cardiolens/image_understanding", "--model", "cardiolens/random", "-T",
               f"data={root}", "--limit", str(limit), "--log-dir", str(log_dir), "--display",
               "none", *extra]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy())
    wall = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"inspect eval failed: {result.stderr[-500:]}")
    rss_kb = int(result.stdout.strip().splitlines()[-1])
    logs = sorted(log_dir.glob("*.eval"), key=lambda p: p.stat().st_mtime)
    header = read_eval_log(str(logs[-1]), header_only=True)
    started = datetime.fromisoformat(header.stats.started_at)
    completed = datetime.fromisoformat(header.stats.completed_at)
    return {"samples": limit, "wall_s": wall, "eval_s": (completed - started).total_seconds(),
            "peak_rss_mb": rss_kb / 1024, "log_bytes": logs[-1].stat().st_size}


def _scoring(count: int) -> dict[str, float]:
    rng = np.random.default_rng(0)
    options = ["Anterior", "Anteroseptal", "Inferoseptal", "Inferior", "Inferolateral",
               "Anterolateral"]
    replies = [f"Reasoning...\nAnswer: {', '.join(sorted(rng.choice(list('ABCDEF'), 2)))}"
               for _ in range(count)]
    start = time.perf_counter()
    for reply in replies:
        choice_record(reply, options, "multi", ["Inferior"])
    answers = count / (time.perf_counter() - start)
    report = ("There is focal subendocardial late gadolinium enhancement involving the basal "
              "and mid inferior wall. The maximal transmural extent is 26 to 50%. The pattern "
              "is ischemic, in the RCA territory.")
    n_reports = max(count // 10, 10)
    start = time.perf_counter()
    for _ in range(n_reports):
        report_scores(report, report)
    return {"answers_per_s": answers, "reports_per_s": n_reports / (time.perf_counter() - start)}


def run_bench(quick: bool) -> dict[str, Any]:
    studies = 12 if quick else 60
    small, large = (100, 250) if quick else (1000, 13500)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        os.environ["CARDIOLENS_CACHE_DIR"] = str(work / "cache")
        root = generate_cohort(work / "cohort", studies=studies, seed=0, progress=False)
        items = len(read_dataset(root).items)
        out: dict[str, Any] = {"mode": "quick" if quick else "full", "studies": studies,
                               "items_in_cohort": items}
        out["prompt_build"] = _prompt_build(root, 12 if quick else 60, work / "render")
        large = min(large, items)
        out["rss"] = [_inspect_run(root, n, work / f"rss{n}", ["-T", "log_images=false"])
                      for n in (small, large)]
        out["rss_ratio"] = out["rss"][1]["peak_rss_mb"] / out["rss"][0]["peak_rss_mb"]
        n = CONNECTIONS * (4 if quick else 16)
        run = _inspect_run(root, n, work / "latency", ["-M", f"latency={LATENCY}",
                                                       "--max-connections", str(CONNECTIONS)])
        ideal = n / CONNECTIONS * LATENCY
        out["concurrency"] = {"samples": n, "connections": CONNECTIONS, "latency_s": LATENCY,
                              "eval_s": run["eval_s"], "ideal_s": ideal,
                              "share_of_ideal": ideal / run["eval_s"]}
        with_images = _inspect_run(root, small, work / "img", ["-T", "log_images=true"])
        without = _inspect_run(root, small, work / "noimg", ["-T", "log_images=false"])
        out["log_bytes_per_sample"] = {"with_images": with_images["log_bytes"] / small,
                                       "without_images": without["log_bytes"] / small}
        out["scoring"] = _scoring(2000 if quick else 20000)
    return out


def format_table(result: dict[str, Any]) -> str:
    p, c = result["prompt_build"], result["concurrency"]
    logs = result["log_bytes_per_sample"]
    rows = [
        ("cohort", f"{result['studies']} studies, {result['items_in_cohort']} items "
                   f"({result['mode']})"),
        ("prompt build cold", f"{p['cold_ms']:.1f} ms/item ({p['cold_over_floor']:.2f}x floor)"),
        ("prompt build warm", f"{p['warm_ms']:.2f} ms/item"),
        ("floor (nibabel + Pillow)", f"{p['floor_ms']:.1f} ms/item"),
        *[(f"peak RSS, {r['samples']} samples", f"{r['peak_rss_mb']:.0f} MB") for r in
          result["rss"]],
        ("RSS ratio large/small", f"{result['rss_ratio']:.2f}"),
        (f"throughput, {c['connections']} conn x {c['latency_s']} s",
         f"{c['samples'] / c['eval_s']:.1f} items/s = {100 * c['share_of_ideal']:.0f}% of ideal"),
        ("log per sample, images", f"{logs['with_images'] / 1024:.1f} KB"),
        ("log per sample, no images", f"{logs['without_images'] / 1024:.1f} KB"),
        ("scoring", f"{result['scoring']['answers_per_s']:.0f} answers/s, "
                    f"{result['scoring']['reports_per_s']:.0f} reports/s"),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def main(quick: bool, json_path: Path | None) -> None:
    result = run_bench(quick)
    print(format_table(result))
    if json_path is not None:
        json_path.write_text(json.dumps(result, indent=2))
