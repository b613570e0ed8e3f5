"""The lm-eval tasks: valid YAML, API requests with every image, parity with Inspect."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.log import resolve_sample_attachments
from inspect_ai.model import ChatMessageUser, ContentImage, ContentText
from lm_eval import simple_evaluate
from lm_eval.api.model import LM
from openai_stub import images_in, loopback_available, openai_stub
from PIL import Image

from cardiolens.analysis.results import read_lm_eval_folder
from cardiolens.inspect_adapter.models import random_answer
from cardiolens.lm_eval_adapter import task_manager
from cardiolens.lm_eval_adapter.docs import (
    doc_images,
    doc_prompt,
    doc_text,
    load_docs,
    options_from,
    task_yaml_path,
)
from cardiolens.phantom.cohort import generate_cohort

YAML_TASKS = ["cardiolens", "cardiolens_image_understanding", "cardiolens_diagnosis",
              "cardiolens_report_generation"]


@pytest.fixture(scope="module")
def cohort5(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_cohort(tmp_path_factory.mktemp("lm") / "c5", studies=5, seed=3,
                           progress=False)


def _lm_eval_cli() -> str:
    return str(Path(sys.executable).with_name("lm_eval"))


@pytest.mark.slow
def test_every_yaml_validates() -> None:
    result = subprocess.run([_lm_eval_cli(), "validate", "--tasks", ",".join(YAML_TASKS),
                             "--include_path", str(task_yaml_path())],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "valid" in result.stdout + result.stderr
    names = {p.stem for p in task_yaml_path().glob("cardiolens_*.yaml")}
    assert names <= set(task_manager().all_tasks)


def test_lm_eval_path_command_prints_the_yaml_folder() -> None:
    out = subprocess.run([str(Path(sys.executable).with_name("cardiolens")), "lm-eval-path"],
                         capture_output=True, text=True, check=True).stdout.strip()
    assert (Path(out) / "_template_yaml").is_file()


@pytest.mark.parametrize("metadata, line", [
    ({"budget": "many"}, "cardiolens: budget must be an integer in [1, 256], not 'many' "
                         "(lm-eval task options come from --metadata, model args and the "
                         "task YAML)"),
    ({"data": "no_such_folder"}, "no_such_folder: not a dataset folder"),
])
def test_bad_metadata_on_the_lm_eval_command_line_is_one_line_not_a_traceback(
        cohort5: Path, tmp_path: Path, metadata: dict[str, str], line: str) -> None:
    result = subprocess.run(
        [_lm_eval_cli(), "--model", "dummy", "--include_path", str(task_yaml_path()),
         "--tasks", "cardiolens_diagnosis_etiology", "--limit", "1",
         "--metadata", json.dumps({"data": str(cohort5), **metadata})],
        capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("cardiolens: ") and last.endswith(line)


def test_metadata_as_key_value_pairs_reaches_the_option_check(cohort5: Path,
                                                               tmp_path: Path) -> None:
    """The README's way around lm-eval's own JSON error: ``--metadata key=value ...``."""
    result = subprocess.run(
        [_lm_eval_cli(), "--model", "dummy", "--include_path", str(task_yaml_path()),
         "--tasks", "cardiolens_diagnosis_etiology", "--limit", "1",
         "--metadata", f"data={cohort5}", "budget=many"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(
        "cardiolens: budget must be an integer in [1, 256], not 'many'")


def test_an_uncaught_cardiolens_error_prints_one_line_other_errors_keep_the_traceback(
        ) -> None:
    code = ("from cardiolens.lm_eval_adapter.uncaught import report_as_one_line\n"
            "from cardiolens.errors import DatasetError\n"
            "report_as_one_line(); report_as_one_line()\n"
            "raise {}('x: bad')\n")
    own = subprocess.run([sys.executable, "-c", code.format("DatasetError")],
                         capture_output=True, text=True, timeout=60)
    other = subprocess.run([sys.executable, "-c", code.format("KeyError")],
                           capture_output=True, text=True, timeout=60)
    assert (own.returncode, own.stderr) == (1, "cardiolens: x: bad\n")
    assert other.returncode == 1 and "Traceback" in other.stderr


def test_options_are_coerced_unknown_keys_ignored_bad_values_refused() -> None:
    options = options_from({"level": "image_understanding", "budget": "8", "images": "false",
                            "base_url": "http://x", "model": "m", "max_images": "16",
                            "selection": "random", "subtask": "lge_walls,lge_layer",
                            "limit_studies": "2", "version": 1.0, "cache": "no"})
    settings = options.settings
    assert (settings.budget, settings.images, settings.max_images) == (8, False, 16)
    assert options.subtasks == {"lge_walls", "lge_layer"} and options.limit_studies == 2
    assert options.cache is False
    with pytest.raises(ValueError, match="budget"):
        options_from({"level": "diagnosis", "budget": "many"})
    with pytest.raises(ValueError, match="selection"):
        options_from({"level": "diagnosis", "selection": "best"})
    # the same filters and the same refusal as the Inspect task
    with pytest.raises(ValueError, match=r"^subtask: unknown image_understanding subtask\(s\): "
                                         r"lge_wals; choose from "):
        options_from({"level": "image_understanding", "subtask": "lge_wals"})


def test_relative_data_path_resolves_from_the_working_directory(
        cohort5: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(cohort5.parent)
    docs = load_docs(data=cohort5.name, level="diagnosis", task="diagnosis_etiology",
                     etiology="three_way")["test"]
    assert len(docs) == 5 and "/" not in docs[0]["source"]
    diseased = [d for d in docs if json.loads(d["target"]) != "Normal"]
    binary = load_docs(data=cohort5.name, level="diagnosis", task="diagnosis_etiology")
    assert len(binary["test"]) == len(diseased) < 5        # the paper's default


class ReplayRandom(LM):
    """The cardiolens/random answers, computed from the lm-eval prompt text and item."""

    MULTIMODAL = True

    def generate_until(self, requests: list[Any], disable_tqdm: bool = False) -> list[str]:
        return [random_answer(r.args[0].replace(" <image>", ""), 0, r.doc["item_id"])
                for r in requests]

    def loglikelihood(self, requests: list[Any], disable_tqdm: bool = False) -> list[Any]:
        raise NotImplementedError

    def loglikelihood_rolling(self, requests: list[Any],
                              disable_tqdm: bool = False) -> list[Any]:
        raise NotImplementedError


def _inspect_metrics(task_name: str, data: Path, log_dir: Path, **args: Any) -> tuple[
        dict[str, float], Any]:
    log = inspect_eval(f"cardiolens/{task_name}", model="cardiolens/random",
                       task_args={"data": str(data), **args}, log_dir=str(log_dir),
                       display="none")[0]
    assert log.status == "success" and log.results is not None
    values = {n: m.value for s in log.results.scores for n, m in s.metrics.items()}
    return values, log


@pytest.mark.slow
def test_same_outputs_same_metrics_images_and_text_as_inspect(cohort5: Path,
                                                              tmp_path: Path) -> None:
    results = simple_evaluate(model=ReplayRandom(), tasks=["cardiolens_diagnosis_etiology",
                                                           "cardiolens_image_understanding_lge"],
                              task_manager=task_manager(data=str(cohort5)), log_samples=True)
    assert results is not None
    lm = results["results"]
    diag, log = _inspect_metrics("diagnosis", cohort5, tmp_path / "d", task="diagnosis_etiology",
                                 log_images=True)
    etiology = lm["cardiolens_diagnosis_etiology"]
    for name in ("accuracy", "macro_f1", "balanced_accuracy", "top_class_share",
                 "predicted_entropy", "true_entropy", "unparsed_rate"):
        assert etiology[f"{name},none"] == pytest.approx(diag[f"diagnosis_etiology/{name}"],
                                                         abs=1e-9), name
    lge, _ = _inspect_metrics("image_understanding", cohort5, tmp_path / "i", sequence="lge")
    lm_lge = lm["cardiolens_image_understanding_lge"]
    assert lm_lge["accuracy,none"] == pytest.approx(lge["accuracy"], abs=1e-9)
    assert lm_lge["mean_item_f1,none"] == pytest.approx(lge["mean_item_f1"], abs=1e-9)
    assert lm_lge["corpus_micro_f1,none"] == pytest.approx(lge["corpus_micro_f1"], abs=1e-9)

    docs = {d["doc"]["item_id"]: d for d in results["samples"]["cardiolens_diagnosis_etiology"]}
    for sample in log.samples:
        sample = resolve_sample_attachments(sample, "full")
        user = next(m for m in sample.messages if isinstance(m, ChatMessageUser))
        assert isinstance(user.content, list)
        texts = [p.text for p in user.content if isinstance(p, ContentText)]
        inspect_images = [np.asarray(Image.open(io.BytesIO(base64.b64decode(
            p.image.split(",", 1)[1])))) for p in user.content if isinstance(p, ContentImage)]
        doc = docs[str(sample.id)]
        lm_text = doc_text(doc["doc"]).replace(" <image>", "")
        assert doc_text(doc["doc"]) in json.dumps(doc["arguments"], default=str) or \
            doc["arguments"][0][0] == doc_text(doc["doc"])
        assert lm_text == "\n".join(texts)
        lm_images = [np.asarray(img)[..., 0] for img in doc_images(doc["doc"])]
        assert all(img.mode == "RGB" for img in doc_images(doc["doc"]))
        assert len(lm_images) == len(inspect_images) == 16
        assert all(np.array_equal(a, b) for a, b in zip(lm_images, inspect_images, strict=True))


@pytest.mark.skipif(not loopback_available(), reason="no loopback network in this sandbox")
@pytest.mark.slow
def test_local_chat_completions_requests_carry_every_budgeted_image(cohort5: Path,
                                                                    tmp_path: Path) -> None:
    with openai_stub(lambda body: "Answer: B") as (url, requests):
        result = subprocess.run(
            [_lm_eval_cli(), "--model", "local-chat-completions", "--model_args",
             f"base_url={url}/chat/completions,model=stub,max_images=16,tokenizer_backend=none",
             "--include_path", str(task_yaml_path()), "--tasks", "cardiolens_diagnosis",
             "--apply_chat_template", "--metadata", json.dumps({"data": str(cohort5)}),
             "--output_path", str(tmp_path / "out"), "--log_samples"],
            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "macro_f1" in result.stdout
    assert len(requests) >= 5
    assert all(len(images_in(r)) == 16 for r in requests)
    assert all(u.startswith("data:image/png;base64,") for r in requests for u in images_in(r))

    runs = read_lm_eval_folder(tmp_path / "out")        # cardiolens analyze reads it too
    assert {run.level for run in runs} == {"diagnosis"}
    assert all("base_url" not in run.model and run.model for run in runs)   # model_name
    rows = [row for run in runs for row in run.rows]
    assert all(row.meta["frames_available"] > 0 and row.meta["source"] for row in rows)
    assert len(rows) == len(requests)
    assert all(row.record["letters"] == "B" for row in rows)


@pytest.mark.parametrize("layout, count", [("separate", 8), ("mosaic", 2)])
def test_one_image_token_per_image_for_hf_and_vllm_backends(cohort5: Path, layout: str,
                                                            count: int) -> None:
    docs = load_docs(data=str(cohort5), level="image_understanding", sequence="cine",
                     budget="8", layout=layout, max_images="2")["test"]
    for doc in list(docs)[:3]:
        images = doc_images(doc)
        assert doc_text(doc).count("<image>") == len(images) == count
        assert all(image.mode == "RGB" for image in images)
        assert all(np.ptp(np.asarray(image).astype(int), axis=2).max() == 0 for image in images)


def test_max_images_below_the_budget_is_reported(cohort5: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    options = {"data": str(cohort5), "level": "diagnosis", "task": "diagnosis_etiology"}
    load_docs(max_images="16", **options)
    load_docs(max_images="4", layout="mosaic", **options)
    assert "max_images" not in capsys.readouterr().err
    load_docs(max_images="4", **options)
    assert "max_images=4 is below budget=16" in capsys.readouterr().err


def test_another_levels_filter_is_refused_not_ignored() -> None:
    with pytest.raises(ValueError, match=r"^diagnosis has no subtask filter; its subtask "
                                         r"filter is task"):
        options_from({"level": "diagnosis", "subtask": "diagnosis_etiology"})
    with pytest.raises(ValueError, match=r"^report_generation has no sequence filter"):
        options_from({"level": "report_generation", "sequence": "lge"})
    assert options_from({"level": "diagnosis", "task": "diagnosis_etiology"}).subtasks == {
        "diagnosis_etiology"}
    with pytest.raises(ValueError) as info:                    # one reason, not two
        options_from({"level": "image_understanding", "section": "report_lge"})
    assert str(info.value) == ("image_understanding has no section filter; its subtask "
                               "filter is subtask")



@pytest.mark.parametrize("budget", [2, 32])
def test_docs_mark_items_whose_images_every_protocol_shares(cohort5: Path, budget: int) -> None:
    docs = load_docs(data=str(cohort5), level="image_understanding", sequence="t2",
                     budget=str(budget))["test"]
    prompts = {p: {d["item_id"]: doc_prompt(d).frames for d in load_docs(
        data=str(cohort5), level="image_understanding", sequence="t2", budget=str(budget),
        selection=p)["test"]} for p in ("clinical", "random", "data_driven")}
    for doc in docs:
        assert doc["identical_across_protocols"] == (budget >= doc["frames_available"])
        same = prompts["clinical"][doc["item_id"]] == prompts["random"][doc["item_id"]] == \
            prompts["data_driven"][doc["item_id"]]
        if doc["identical_across_protocols"]:
            assert same
    assert all(d["identical_across_protocols"] for d in docs) == (budget == 32)


def test_docs_record_every_prompt_setting_in_effect(cohort5: Path) -> None:
    # lm-eval's metadata holds only the options a user gave; the documents (and so the
    # samples files) hold every setting, defaults included, for `cardiolens analyze`
    from dataclasses import asdict

    from cardiolens.prompting.prompt_builder import PromptSettings

    docs = load_docs(data=str(cohort5), level="diagnosis", task="diagnosis_etiology",
                     budget="8")["test"]
    recorded = {json.loads(doc["settings"])["budget"] for doc in docs}
    assert recorded == {8}
    assert json.loads(docs[0]["settings"]) == {**asdict(PromptSettings()), "budget": 8}
