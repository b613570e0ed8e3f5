"""`cardiolens prerender`: the tasks' prompts, rendered once into Parquet, in parallel."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import datasets
import pytest

from cardiolens.cli import main
from cardiolens.lm_eval_adapter.docs import doc_prompt, documents, load_docs

from helpers import make_tiny_dataset

STUDIES = ("P0000", "P0001", "P0002")


@pytest.fixture()
def three_studies(cohort40: Path, tmp_path: Path) -> Path:
    """The cohort's first three studies as a dataset of their own."""
    root = tmp_path / "ds"
    root.mkdir()
    shutil.copy(cohort40 / "cardiolens.json", root)
    for name in ("studies.jsonl", "items.jsonl"):
        lines = [line for line in (cohort40 / name).read_text().splitlines()
                 if json.loads(line)["study_id"] in STUDIES]
        (root / name).write_text("\n".join(lines) + "\n")
    for study in STUDIES:
        shutil.copytree(cohort40 / "volumes" / study, root / "volumes" / study)
    return root


def test_prerendered_rows_are_the_tasks_prompts_and_errors_stay_rows(
        three_studies: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = three_studies / "volumes" / "P0002" / "t2_sax.nii.gz"
    broken.write_bytes(broken.read_bytes()[:200])
    out = tmp_path / "prompts.parquet"
    code = main(["prerender", str(out), "--level", "diagnosis", "--data", str(three_studies),
                 "--budget", "8", "--num-proc", "2"])
    assert code == 0
    err = capsys.readouterr().err
    broken_items = [json.loads(line) for line in (three_studies / "items.jsonl").read_text()
                    .splitlines()]
    n_broken = sum(1 for item in broken_items
                   if item["study_id"] == "P0002" and item["level"] == "diagnosis")
    assert n_broken and f"({n_broken} with errors)" in err
    assert "P0002/" in err and "t2_sax.nii.gz" in err

    rows = datasets.Dataset.from_parquet(str(out))
    assert isinstance(rows, datasets.Dataset)
    rows = rows.cast_column("images", datasets.Sequence(datasets.Image(decode=False)))
    docs = documents({"data": str(three_studies), "level": "diagnosis", "budget": 8},
                     drop_unreadable=False)["test"]       # lm-eval's load_docs drops P0002
    assert sorted(rows["item_id"]) == sorted(docs["item_id"])
    by_id = {doc["item_id"]: doc for doc in docs}
    for row in rows:
        if row["study_id"] == "P0002":
            assert row["error"] and row["images"] == [] and "t2_sax" in row["error"]
            continue
        prompt = doc_prompt(by_id[row["item_id"]])
        assert row["error"] == ""
        assert [image["bytes"] for image in row["images"]] == [i.png for i in prompt.images]
        assert len(row["images"]) == 8 and row["text"].count("<image>") == 8
        assert row["options"] == prompt.options
        assert json.loads(row["target"]) in prompt.options


SPAWNED = """
import sys, multiprocess
multiprocess.set_start_method("spawn", force=True)
from pathlib import Path
from cardiolens.lm_eval_adapter.prerender import prerender
summary = prerender(Path(sys.argv[2]), num_proc=2, data=sys.argv[1], level="diagnosis",
                    budget=4, cache=False)
print(summary.rows, len(summary.errors))
"""


@pytest.mark.slow
def test_prerender_workers_started_by_spawn_render_every_row(tmp_path: Path) -> None:
    """macOS and Windows start worker processes by spawning a fresh interpreter, which
    has none of the parent's loaded datasets; every row must still render."""
    ds = make_tiny_dataset(tmp_path / "ds", studies=2)
    out = tmp_path / "prompts.parquet"
    done = subprocess.run([sys.executable, "-c", SPAWNED, str(ds), str(out)],
                          capture_output=True, text=True, timeout=600, check=True)
    rows, errors = map(int, done.stdout.split()[-2:])
    assert rows == len(load_docs(data=str(ds), level="diagnosis")["test"]) and rows > 0
    assert errors == 0
