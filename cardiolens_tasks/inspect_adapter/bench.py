"""``cardiolens bench``: measured figures for prompt building, memory, concurrency, logs
and scoring, printed as a table and written as JSON. Pure measurement: no pass/fail.

Figures (one run, same machine):
- prompt build per item, cold (empty cache) and warm, next to the floor: decoding the same
  series with nibabel and PNG-encoding the same number of frames with Pillow directly;
- peak RSS of an Inspect run (instant model) at two sample counts, in fresh processes;
- throughput against a model with fixed latency at 32 connections, as a share of ideal,
  over the sample pipeline (first sample event to last, render cache warm), next to Inspect
  alone with the same pre-built messages and with text-only questions;
- log bytes per sample with and without images;
- scorer throughput: answers and report sections per second.
"""

from __future__ import annotations

import io
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
from inspect_ai import Task
from inspect_ai import eval as inspect_eval
from inspect_ai.dataset import Sample
from inspect_ai.log import read_eval_log
from inspect_ai.model import ChatMessageUser
from inspect_ai.scorer import match
from inspect_ai.solver import generate
from PIL import Image

from cardiolens.data.dataset import read_dataset
from cardiolens.data.vocabulary import WALLS6
from cardiolens.inspect_adapter.solver import to_content
from cardiolens.inspect_adapter.tasks import image_understanding
from cardiolens.phantom.cohort import generate_cohort
from cardiolens.prompting.prompt_builder import PromptBuilder, PromptSettings
from cardiolens.prompting.rendering import RenderCache
from cardiolens.scorers.item_scoring import choice_record, report_scores

LATENCY, CONNECTIONS = 0.5, 32
SEQUENCE_PREFIXES = ("cine", "lge", "t2", "perf")
IU_ITEMS_PER_STUDY = 19   # image-understanding items per phantom study (about 20; margin)


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
            frames.append(data.reshape(*data.shape[:2], -1)[..., 0])   # 3D or 4D NIfTI
        for k in range(16):
            frame = frames[k % len(frames)]
            scaled = np.clip(frame / max(float(frame.max()), 1.0) * 255, 0, 255)
            image = Image.fromarray(scaled.astype(np.uint8)).resize((256, 256))
            image.save(io.BytesIO(), format="PNG")
    floor = (time.perf_counter() - start) / len(chosen)
    return {"items": len(chosen), "cold_ms": cold * 1e3, "warm_ms": warm * 1e3,
            "floor_ms": floor * 1e3, "cold_over_floor": cold / floor}


def _text_only_task(n: int) -> Task:
    """Inspect alone: ``n`` two-option text questions, no plugin work per sample."""
    questions = [Sample(id=i, input=f"Question {i}\nOptions:\nA. yes\nB. no", target="A")
                 for i in range(n)]
    return Task(dataset=questions, solver=generate(), scorer=match(), name="text_only")


def _prebuilt_task(root: Path, n: int) -> Task:
    """Inspect alone with the very messages cardiolens sends, built before the eval starts."""
    ds = read_dataset(root)
    builder = PromptBuilder(root, ds.studies, PromptSettings(), RenderCache(None))
    items = [item for item in ds.items if item.subtask.split("_")[0] in SEQUENCE_PREFIXES]
    samples = [Sample(id=item.item_id, target="A",
                      input=[ChatMessageUser(content=to_content(builder.build(item)))])
               for item in items[:n]]
    return Task(dataset=samples, solver=generate(), scorer=match(), name="same_messages")


def _in_process(task: Task, log_dir: Path, **options: Any) -> dict[str, Any]:
    """One eval in this process (no start-up cost): sample count, span, log size."""
    log = inspect_eval(task, model="cardiolens/random", log_dir=str(log_dir), display="none",
                       **options)[0]
    path = Path(log.location)
    return {"samples": len(log.samples or []), "log_bytes": path.stat().st_size,
            **_sample_span(log.samples or [])}


def _inspect_run(target: str, args: list[str], log_dir: Path) -> dict[str, Any]:
    """Run ``inspect eval`` in a fresh process: wall time, peak RSS (MB), the log's figures."""
    code = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)")
    inspect_cli = str(Path(sys.executable).with_name("inspect"))
    command = [sys.executable, "-c", code, inspect_cli, "eval", target, "--log-dir",
               str(log_dir), "--display", "none", *args]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy())
    wall = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"inspect eval failed: {result.stderr[-500:]}")
    rss_kb = int(result.stdout.strip().splitlines()[-1])
    path = max(log_dir.glob("*.eval"), key=lambda p: p.stat().st_mtime)
    log = read_eval_log(str(path))
    samples = log.samples or []
    errors = sum(1 for sample in samples if sample.error is not None)
    return {"samples": len(samples), "errors": errors, "wall_s": wall,
            "peak_rss_mb": rss_kb / 1024, "log_bytes": path.stat().st_size,
            **_sample_span(samples)}


def _sample_span(samples: list[Any]) -> dict[str, float]:
    """First sample event to last: the sample pipeline's time, without process start-up,
    task set-up and the final log write; and the mean number of samples in flight."""
    spans = [(sample.events[0].timestamp, sample.events[-1].timestamp)
             for sample in samples if sample.events]
    if not spans:
        return {"span_s": float("nan"), "mean_in_flight": float("nan")}
    first, last = min(a for a, _ in spans), max(b for _, b in spans)
    span = (last - first).total_seconds()
    busy = sum((b - a).total_seconds() for a, b in spans)
    return {"span_s": span, "mean_in_flight": busy / span if span > 0 else float("nan")}


def _throughput(task: Task, log_dir: Path, **options: Any) -> dict[str, Any]:
    run = _in_process(task, log_dir, model_args={"latency": LATENCY},
                      max_connections=CONNECTIONS, **options)
    ideal = math.ceil(run["samples"] / CONNECTIONS) * LATENCY
    return {"samples": run["samples"], "span_s": run["span_s"], "ideal_s": ideal,
            "mean_in_flight": run["mean_in_flight"], "share_of_ideal": ideal / run["span_s"],
            "items_per_s": run["samples"] / run["span_s"]}


def _scoring(count: int) -> dict[str, float]:
    rng = np.random.default_rng(0)
    options = list(WALLS6)
    replies = [f"Reasoning...\nAnswer: {', '.join(sorted(rng.choice(list('ABCDEF'), 2)))}"
               for _ in range(count)]
    start = time.perf_counter()
    for reply in replies:
        choice_record(reply, options, "multi", [WALLS6.inferior])
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
    """Every figure of one bench run (quick: small cohort and counts, about a minute), in a
    temporary folder with its own render cache (the user's cache is left alone)."""
    previous = os.environ.get("CARDIOLENS_CACHE_DIR")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["CARDIOLENS_CACHE_DIR"] = str(Path(tmp) / "cache")
        try:
            return _run_bench(quick, Path(tmp))
        finally:
            if previous is None:
                os.environ.pop("CARDIOLENS_CACHE_DIR", None)
            else:
                os.environ["CARDIOLENS_CACHE_DIR"] = previous


def _run_bench(quick: bool, work: Path) -> dict[str, Any]:
    began = time.perf_counter()
    small, large = (60, 200) if quick else (1000, 13500)
    studies = 12 if quick else math.ceil(large / IU_ITEMS_PER_STUDY)
    root = generate_cohort(work / "cohort", studies=studies, seed=0, progress=not quick)
    task = "cardiolens/image_understanding"
    data = ["--model", "cardiolens/random", "-T", f"data={root}"]
    out: dict[str, Any] = {"mode": "quick" if quick else "full", "studies": studies,
                           "items_in_cohort": len(read_dataset(root).items)}
    out["prompt_build"] = _prompt_build(root, 8 if quick else 60, work / "render")
    out["rss"] = [_inspect_run(task, [*data, "-T", "log_images=false", "--limit", str(n)],
                               work / f"rss{n}") for n in (small, large)]
    out["rss_ratio"] = out["rss"][1]["peak_rss_mb"] / out["rss"][0]["peak_rss_mb"]
    n = CONNECTIONS * (3 if quick else 16)
    out["concurrency"] = {
        "connections": CONNECTIONS, "latency_s": LATENCY,
        "cardiolens": _throughput(image_understanding(data=str(root), log_images=False),
                                  work / "latency", limit=n),
        "cardiolens_no_realtime": _throughput(
            image_understanding(data=str(root), log_images=False), work / "latency_nrt",
            limit=n, log_realtime=False),
        "inspect_same_messages": _throughput(_prebuilt_task(root, n), work / "prebuilt",
                                             log_images=False),
        "inspect_text_only": _throughput(_text_only_task(n), work / "text_only"),
    }
    with_images = _in_process(image_understanding(data=str(root), log_images=True),
                              work / "log_images", limit=small)
    without = out["rss"][0]                       # the same run with log_images=false
    out["log_bytes_per_sample"] = {
        "with_images": with_images["log_bytes"] / with_images["samples"],
        "without_images": without["log_bytes"] / without["samples"]}
    out["scoring"] = _scoring(2000 if quick else 20000)
    out["bench_seconds"] = time.perf_counter() - began
    return out


def format_table(result: dict[str, Any]) -> str:
    p, c = result["prompt_build"], result["concurrency"]
    logs = result["log_bytes_per_sample"]

    def rate(run: dict[str, Any]) -> str:
        return (f"{run['items_per_s']:.1f} items/s = {100 * run['share_of_ideal']:.0f}% of ideal "
                f"({run['samples']} samples, {run['mean_in_flight']:.1f} in flight)")

    rows = [
        ("cohort", f"{result['studies']} studies, {result['items_in_cohort']} items "
                   f"({result['mode']})"),
        ("prompt build cold", f"{p['cold_ms']:.1f} ms/item ({p['cold_over_floor']:.2f}x floor)"),
        ("prompt build warm", f"{p['warm_ms']:.2f} ms/item"),
        ("floor (nibabel + Pillow)", f"{p['floor_ms']:.1f} ms/item"),
        *[(f"peak RSS, {r['samples']} samples", f"{r['peak_rss_mb']:.0f} MB") for r in
          result["rss"]],
        ("RSS ratio large/small", f"{result['rss_ratio']:.2f}"),
        (f"throughput, {c['connections']} conn x {c['latency_s']} s", rate(c["cardiolens"])),
        ("  same, --no-log-realtime", rate(c["cardiolens_no_realtime"])),
        ("  Inspect, same messages", rate(c["inspect_same_messages"])),
        ("  Inspect, text only", rate(c["inspect_text_only"])),
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
