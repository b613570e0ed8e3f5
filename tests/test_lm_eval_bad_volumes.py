"""A bad volume met while lm-eval builds prompts: its documents are dropped before lm-eval
sees them, with one line naming the file and the reason, the other documents run, and the
metrics equal the Inspect run's, where the same items are sample errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from inspect_ai import eval as inspect_eval
from lm_eval import simple_evaluate
from test_lm_eval_tasks import ReplayRandom

from cardiolens.data.volumes import write_volume
from cardiolens.lm_eval_adapter import task_manager
from cardiolens.lm_eval_adapter.docs import doc_text, load_docs
from cardiolens.phantom.cohort import generate_cohort


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """5 studies; one diseased study's LGE truncated, another's T2 of the wrong shape."""
    root = generate_cohort(tmp_path_factory.mktemp("bad") / "c5", studies=5, seed=3,
                           progress=False)
    diseased = [d["study_id"] for d in load_docs(data=str(root), level="diagnosis",
                                                 task="diagnosis_etiology", cache=False)["test"]]
    studies = {json.loads(line)["study_id"]: json.loads(line)
               for line in (root / "studies.jsonl").read_text().splitlines()}
    lge = root / studies[diseased[0]]["series"]["lge_sax"]["path"]
    lge.write_bytes(lge.read_bytes()[: lge.stat().st_size // 3])
    info = studies[diseased[1]]["series"]["t2_sax"]
    write_volume(root / info["path"], np.zeros((8, 8, info["slices"] + 1, info["frames"]),
                                               np.float32), (1.5, 1.5, 8.0))
    return root, {diseased[0]: "truncated or corrupt gzip data",
                  diseased[1]: "does not match slices x frames"}


def test_documents_with_unreadable_volumes_are_dropped_with_one_line(
        broken: tuple[Path, dict[str, str]], capsys: pytest.CaptureFixture[str]) -> None:
    root, reasons = broken
    docs = load_docs(data=str(root), level="diagnosis", task="diagnosis_etiology",
                     cache=False)["test"]
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("cardiolens: dropped 2 of ")
    assert "lge_sax.nii.gz: truncated or corrupt gzip data" in line
    assert "t2_sax.nii.gz: shape" in line and "does not match slices x frames" in line
    assert not {d["study_id"] for d in docs} & set(reasons)
    assert all(doc_text(d) for d in docs)             # the rest build


def test_text_only_prompts_read_no_volume(broken: tuple[Path, dict[str, str]],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """images=false reads no volume, so nothing is dropped (Inspect has no error either)."""
    root, reasons = broken
    docs = load_docs(data=str(root), level="diagnosis", task="diagnosis_etiology",
                     images="false")["test"]
    assert set(reasons) <= {d["study_id"] for d in docs}
    assert "dropped" not in capsys.readouterr().err


@pytest.mark.slow
def test_the_same_items_are_scored_as_in_inspect(broken: tuple[Path, dict[str, str]],
                                                 tmp_path: Path) -> None:
    """lm-eval runs to the end; Inspect's sample errors are the dropped documents, and the
    same answers give the same metrics on the rest."""
    root, reasons = broken
    results = simple_evaluate(model=ReplayRandom(), tasks=["cardiolens_diagnosis_etiology"],
                              task_manager=task_manager(data=str(root)), log_samples=True)
    assert results is not None
    lm = results["results"]["cardiolens_diagnosis_etiology"]
    log = inspect_eval("cardiolens/diagnosis", model="cardiolens/random",
                       task_args={"data": str(root), "task": "diagnosis_etiology"},
                       log_dir=str(tmp_path / "logs"), display="none")[0]
    assert log.status == "success" and log.results is not None
    errors = {str(s.id).split("/")[0]: s.error.message for s in log.samples or [] if s.error}
    assert set(errors) == set(reasons)
    assert all(reasons[study] in message for study, message in errors.items())
    scored = {d["doc"]["study_id"] for d in results["samples"]["cardiolens_diagnosis_etiology"]}
    assert not scored & set(reasons) and scored
    values = {n: m.value for s in log.results.scores for n, m in s.metrics.items()}
    for name in ("accuracy", "macro_f1", "balanced_accuracy", "unparsed_rate"):
        assert lm[f"{name},none"] == pytest.approx(values[f"diagnosis_etiology/{name}"],
                                                   abs=1e-9), name
    shutil.rmtree(tmp_path / "logs")
