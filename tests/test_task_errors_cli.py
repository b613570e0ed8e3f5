"""Each common task-parameter mistake, through the real ``inspect eval`` command line.

Inspect prints a task's prerequisite error as the message alone (no traceback) and exits
non-zero. Its printer wraps at the terminal width, so the test sets a wide one: the
message itself is one line.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cardiolens.phantom.cohort import generate_cohort

pytestmark = pytest.mark.slow  # one `inspect eval` subprocess per mistake

VALID = ("data, task, selection, budget, prompt, images, layout, image_size, captions, scale, "
         "max_images, shuffle_options, seed, etiology, cache, limit_studies, log_images")
MISTAKES = [
    ("budget=0", "cardiolens/diagnosis: budget must be an integer in [1, 256], not 0"),
    ("selection=foo", "cardiolens/diagnosis: selection must be one of random, clinical, "
                      "data_driven, not 'foo'"),
    ("data=/nonexistent", "cardiolens/diagnosis: data: /nonexistent: not a dataset folder"),
    ("budgett=3", f"cardiolens/diagnosis: unknown parameter(s): budgett; valid: {VALID}"),
    ("task=diagnosis_bogus", "cardiolens/diagnosis: task: unknown diagnosis subtask(s): "
                             "diagnosis_bogus; choose from diagnosis_etiology, "
                             "diagnosis_nicm_subtype"),
]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_cohort(tmp_path_factory.mktemp("tiny") / "ds", studies=2, seed=5,
                           progress=False)


@pytest.mark.parametrize("mistake, message", MISTAKES, ids=[m for m, _ in MISTAKES])
def test_a_task_mistake_is_one_line_and_a_failed_exit(mistake: str, message: str, tiny: Path,
                                                      tmp_path: Path) -> None:
    inspect_cli = Path(sys.executable).with_name("inspect")
    data = [] if mistake.startswith("data=") else ["-T", f"data={tiny}"]
    env = {**os.environ, "COLUMNS": "400", "CARDIOLENS_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.run([str(inspect_cli), "eval", "cardiolens/diagnosis", *data,
                           "-T", mistake, "--model", "cardiolens/random", "--limit", "1",
                           "--log-dir", str(tmp_path / "logs")],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    assert proc.returncode != 0
    assert lines == [message], proc.stdout + proc.stderr
    assert not (tmp_path / "logs").exists() or not any((tmp_path / "logs").iterdir())


def test_the_readme_table_lists_every_task_parameter() -> None:
    from cardiolens.inspect_adapter.tasks import parameters

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    table = [line for line in readme.splitlines() if line.startswith("| `")]
    for level in ("image_understanding", "report_generation", "diagnosis"):
        for option in parameters(level):
            assert any(f"`{option.name}`" in line.split("|")[1] for line in table), option.name
