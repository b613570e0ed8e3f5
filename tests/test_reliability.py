"""Runs survive bad data and interruptions: broken studies become sample errors with their
reasons while the rest is scored, and a cancelled run resumes with ``inspect eval-retry``
without redoing finished samples."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.log import EvalLog, read_eval_log, read_eval_log_sample_summaries

from cardiolens.cli.analyze import collect_runs

pytestmark = pytest.mark.slow  # real inspect runs: broken studies, Ctrl-C and eval-retry

INSPECT = str(Path(sys.executable).with_name("inspect"))


def _series_path(root: Path, study_id: str, key: str) -> Path:
    for line in (root / "studies.jsonl").read_text().splitlines():
        study = json.loads(line)
        if study["study_id"] == study_id:
            return root / study["series"][key]["path"]
    raise KeyError(study_id)


def test_eval_with_5_percent_broken_studies_scores_the_rest(cohort40: Path,
                                                            tmp_path: Path) -> None:
    root = tmp_path / "ds"
    shutil.copytree(cohort40, root)
    truncated = _series_path(root, "P0003", "lge_sax")
    truncated.write_bytes(truncated.read_bytes()[: truncated.stat().st_size // 3])
    missing = _series_path(root, "P0017", "cine_sax")
    missing.unlink()                                    # 2 of 40 studies = 5%

    log = inspect_eval("cardiolens/diagnosis", model="cardiolens/random",   # every study
                       task_args={"data": str(root), "etiology": "three_way"},
                       log_dir=str(tmp_path / "logs"), display="none")[0]

    assert log.status == "success", log.error
    samples = log.samples or []
    failed = {str(s.id): s.error.message for s in samples if s.error is not None}
    assert {sid.split("/")[0] for sid in failed} == {"P0003", "P0017"}
    for sid, message in failed.items():
        reason = ("truncated or corrupt gzip data" if sid.startswith("P0003")
                  else "file is missing")
        assert reason in message and ("lge_sax" if sid.startswith("P0003")
                                      else "cine_sax") in message, message
    scored = [s for s in samples if s.error is None]
    assert len(scored) == len(samples) - len(failed) > 0
    assert all(s.scores for s in scored)
    assert log.results is not None and log.results.completed_samples == len(scored)


def _wait_for_samples(run: subprocess.Popen[str], log_dir: Path, count: int,
                      timeout: float) -> Path:
    """The running eval's log once it holds ``count`` finished samples."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and run.poll() is None:
        for path in log_dir.glob("*.eval"):
            try:
                if len(read_eval_log_sample_summaries(str(path))) >= count:
                    return path
            except Exception:                            # the log is being written
                pass
        time.sleep(0.2)
    raise AssertionError(f"no log with {count} finished samples while the run was going")


def _default_sigint() -> None:
    """Ctrl-C interrupts the child even when pytest runs in a background job, where the
    shell starts it with SIGINT ignored and children would inherit that."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _finished(log: EvalLog) -> dict[str, str]:
    """Start time of every sample that finished without error."""
    return {str(s.id): str(s.started_at) for s in log.samples or [] if s.error is None}


def test_cancelled_run_resumes_with_eval_retry_without_redoing_samples(
        cohort40: Path, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    command = [INSPECT, "eval", "cardiolens/image_understanding", "--model", "cardiolens/random",
               "-M", "latency=0.5", "--max-connections", "1", "--log-buffer", "1",
               "-T", f"data={cohort40}", "-T", "sequence=cine", "-T", "limit_studies=2",
               "--log-dir", str(logs), "--display", "none"]
    run = subprocess.Popen(command, env=os.environ.copy(), stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True, preexec_fn=_default_sigint)
    try:
        path = _wait_for_samples(run, logs, 2, timeout=120)
    finally:
        run.send_signal(signal.SIGINT)                  # Ctrl-C, as a user would
        _, err = run.communicate(timeout=120)
    first = read_eval_log(str(path))
    assert first.status in ("cancelled", "error"), err[-500:]
    done_first = _finished(first)
    total = first.eval.dataset.samples
    assert total is not None and 2 <= len(done_first) < total

    retry = subprocess.run([INSPECT, "eval-retry", str(path), "--log-dir", str(logs),
                            "--max-connections", "8", "--display", "none"],
                           capture_output=True, text=True, env=os.environ.copy(), timeout=300)
    assert retry.returncode == 0, retry.stderr[-500:]
    final_path = max(logs.glob("*.eval"), key=lambda p: p.stat().st_mtime)
    final = read_eval_log(str(final_path))
    assert final.status == "success"
    done_final = _finished(final)
    assert len(done_final) == total
    for sample_id, started in done_first.items():    # carried over, not run again
        assert done_final[sample_id] == started, sample_id

    runs, problems = collect_runs([str(logs)], progress=False)   # what `analyze` reads
    assert problems == 0 and len(runs) == 1                       # both logs, one run
    assert len(runs[0].rows) == total and runs[0].errors == 0
