"""`cardiolens bench` measures and reports every figure (values are not goals here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cardiolens.inspect_adapter.bench import format_table


def test_table_lists_every_figure() -> None:
    result = {"mode": "quick", "studies": 2, "items_in_cohort": 50,
              "prompt_build": {"items": 2, "cold_ms": 30.0, "warm_ms": 1.0, "floor_ms": 20.0,
                               "cold_over_floor": 1.5},
              "rss": [{"samples": 10, "peak_rss_mb": 300.0},
                      {"samples": 40, "peak_rss_mb": 330.0}], "rss_ratio": 1.1,
              "concurrency": {"connections": 32, "latency_s": 0.5,
                              "cardiolens": {"samples": 64, "items_per_s": 58.2,
                                             "share_of_ideal": 0.909, "mean_in_flight": 29.0},
                              "cardiolens_no_realtime": {"samples": 64, "items_per_s": 59.0,
                                                         "share_of_ideal": 0.92,
                                                         "mean_in_flight": 29.5},
                              "inspect_same_messages": {"samples": 64, "items_per_s": 60.0,
                                                        "share_of_ideal": 0.94,
                                                        "mean_in_flight": 30.5},
                              "inspect_text_only": {"samples": 64, "items_per_s": 61.0,
                                                    "share_of_ideal": 0.95,
                                                    "mean_in_flight": 30.7}},
              "log_bytes_per_sample": {"with_images": 50000.0, "without_images": 3000.0},
              "scoring": {"answers_per_s": 1000.0, "reports_per_s": 100.0}}
    table = format_table(result)
    for text in ("1.50x floor", "1.00 ms/item", "300 MB", "330 MB", "1.10",
                 "58.2 items/s = 91% of ideal", "92% of ideal", "94% of ideal",
                 "95% of ideal", "48.8 KB", "2.9 KB", "1000 answers/s"):
        assert text in table, text


@pytest.mark.slow        # `cardiolens bench --quick` end to end, about 2 min
def test_quick_bench_runs_and_reports_every_figure(tmp_path: Path) -> None:
    """`cardiolens bench --quick` on a fresh install: every figure measured, none missing."""
    out = tmp_path / "bench.json"
    cli = Path(sys.executable).with_name("cardiolens")
    done = subprocess.run([str(cli), "bench", "--quick", "--json", str(out)],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-800:]
    result = json.loads(out.read_text())
    assert format_table(result) in done.stdout
    build = result["prompt_build"]
    assert 0 < build["warm_ms"] < build["cold_ms"] and build["floor_ms"] > 0
    assert [r["samples"] for r in result["rss"]] == [60, 200]
    assert all(r["errors"] == 0 and r["peak_rss_mb"] > 0 for r in result["rss"])
    for run in ("cardiolens", "cardiolens_no_realtime", "inspect_same_messages",
                "inspect_text_only"):
        figures = result["concurrency"][run]
        assert figures["samples"] == 96 and 0 < figures["share_of_ideal"] <= 1.0, run
    logs = result["log_bytes_per_sample"]
    assert logs["with_images"] > 10 * logs["without_images"] > 0   # images dominate
    assert result["scoring"]["answers_per_s"] > 0 and result["scoring"]["reports_per_s"] > 0
