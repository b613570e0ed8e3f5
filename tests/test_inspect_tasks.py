"""The registered Inspect tasks end to end, offline, with the cardiolens/random model."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.log import EvalLog, read_eval_log
from inspect_ai.model import (
    ChatMessageUser,
    ContentImage,
    ContentText,
    Model,
)
from openai_stub import images_in, loopback_available, openai_stub, texts_in
from PIL import Image

from cardiolens.data.dataset import read_dataset
from cardiolens.inspect_adapter.scoring import DIAGNOSIS_SUMMARY
from cardiolens.inspect_adapter.solver import IMAGE_PLACEHOLDER
from cardiolens.scorers.diagnosis import diagnosis_metrics
from cardiolens.scorers.item_scoring import diagnosis_of
from cardiolens.scorers.parsing import parse_choice

from helpers import scripted_model

STUDIES = 3



def run(task_name: str, log_dir: Path, model: str | Model = "cardiolens/random",
        **task_args: object) -> EvalLog:
    args = {"limit_studies": STUDIES, **task_args}
    log = inspect_eval(f"cardiolens/{task_name}", model=model, task_args=args,
                       log_dir=str(log_dir), display="none")[0]
    assert log.status == "success", log.error
    return log


def metric_values(log: EvalLog) -> dict[str, float]:
    assert log.results is not None
    return {name: m.value for score in log.results.scores for name, m in score.metrics.items()}


def images_of(log: EvalLog) -> dict[str, list[str]]:
    out = {}
    for sample in log.samples or []:
        user = next(m for m in sample.messages if isinstance(m, ChatMessageUser))
        assert isinstance(user.content, list)
        out[str(sample.id)] = [p.image for p in user.content if isinstance(p, ContentImage)]
    return out


@pytest.fixture(scope="module")
def private_data(cohort40: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first studies of the cohort, relabelled as a hospital dataset."""
    root = tmp_path_factory.mktemp("private") / "ds"
    shutil.copytree(cohort40, root)
    card = json.loads((root / "cardiolens.json").read_text())
    card["source"] = "hospital"
    (root / "cardiolens.json").write_text(json.dumps(card))
    return root


def test_diagnosis_log_has_the_paper_metrics_and_they_recompute(cohort40: Path,
                                                                tmp_path: Path) -> None:
    log = run("diagnosis", tmp_path, data=str(cohort40))
    # the taxonomy the run used, as the dataset card records it (docs/taxonomy.md, history)
    assert log.eval.metadata is not None
    assert log.eval.metadata["taxonomy_version"] == "2.0" == \
        read_dataset(cohort40).card.taxonomy_version
    values = metric_values(log)
    assert {"accuracy", "stderr"} <= set(values)
    for task_name in ("diagnosis_etiology", "diagnosis_nicm_subtype"):
        for name in DIAGNOSIS_SUMMARY:
            assert f"{task_name}/{name}" in values, name
    # the detail is in the samples, not the summary
    assert not any("confusion" in name or "recall" in name for name in values)
    answers = {i.item_id: i.answer for i in read_dataset(cohort40).items}
    predicted, target, records = [], [], []
    for sample in log.samples or []:
        if sample.metadata["subtask"] != "diagnosis_etiology":
            continue
        record = (sample.scores or {})["diagnosis_scorer"].metadata
        options = record["options"]
        parsed = parse_choice(sample.output.completion, options, multi=False)
        predicted.append(options[parsed.indices[0]] if parsed.parsed else None)
        target.append(str(answers[str(sample.id)]))
        records.append(record)
    classes = sorted(set(options))
    expected = diagnosis_metrics(predicted, target, classes)
    assert values["diagnosis_etiology/accuracy"] == pytest.approx(expected.accuracy)
    assert values["diagnosis_etiology/macro_f1"] == pytest.approx(expected.macro_f1)
    assert values["diagnosis_etiology/balanced_accuracy"] == pytest.approx(
        expected.balanced_accuracy)
    from_samples, sample_classes = diagnosis_of(records)
    assert sample_classes == classes and from_samples.confusion == expected.confusion
    # standard errors cluster by study (items of one study are correlated)
    exact = [(s.metadata["study_id"], float(s.scores["diagnosis_scorer"].value))
             for s in log.samples or []]
    assert values["stderr"] == pytest.approx(clustered_stderr(exact))


def clustered_stderr(pairs: list[tuple[str, float]]) -> float:
    """Cluster-robust standard error of a mean with the C/(C-1) correction."""
    mean = sum(v for _, v in pairs) / len(pairs)
    sums: dict[str, float] = {}
    for cluster, value in pairs:
        sums[cluster] = sums.get(cluster, 0.0) + value - mean
    c = len(sums)
    return (sum(d * d for d in sums.values()) * c / (c - 1)) ** 0.5 / len(pairs)


def test_image_understanding_and_reports_run(cohort40: Path, tmp_path: Path) -> None:
    log = run("image_understanding", tmp_path, data=str(cohort40), sequence="lge",
              budget=4, log_images=True)
    values = metric_values(log)
    assert {"accuracy", "mean_item_f1", "corpus_micro_f1", "unparsed_rate"} <= set(values)
    assert any(name.startswith("sequence/lge") for name in values)
    assert all(len(v) <= 4 for v in images_of(log).values())
    report = run("report_generation", tmp_path, data=str(cohort40), section="report_lge")
    assert {"bleu4", "rouge_l"} <= {n.split("/")[-1] for n in metric_values(report)}


def test_same_seed_same_prompts_and_random_protocol_follows_the_seed(cohort40: Path,
                                                                     tmp_path: Path) -> None:
    args = {"data": str(cohort40), "subtask": "cine_lv_function", "selection": "random",
            "budget": 4, "cache": False, "log_images": True}
    a = images_of(run("image_understanding", tmp_path / "a", seed=1, **args))
    b = images_of(run("image_understanding", tmp_path / "b", seed=1, **args))
    c = images_of(run("image_understanding", tmp_path / "c", seed=2, **args))
    assert a == b and all(len(v) == 4 for v in a.values())
    assert a != c


def test_blind_control_sends_no_images_and_random_answers_vary(cohort40: Path,
                                                                tmp_path: Path) -> None:
    log = run("diagnosis", tmp_path, data=str(cohort40), images=False, log_images=True,
              task="diagnosis_etiology", limit_studies=8)
    assert all(v == [] for v in images_of(log).values())
    samples = log.samples or []
    assert all("image" not in str(s.messages[0].content).lower() for s in samples)
    # every blind prompt of a subtask is alike: cardiolens/random seeds on the item too
    assert len({s.output.completion for s in samples}) > 1
    again = run("diagnosis", tmp_path / "again", data=str(cohort40), images=False,
                task="diagnosis_etiology", limit_studies=8)
    assert [s.output.completion for s in again.samples or []] == \
        [s.output.completion for s in samples]


def _log_text(log: EvalLog, samples_only: bool = False) -> str:
    with zipfile.ZipFile(log.location) as archive:
        return "".join(archive.read(name).decode("utf-8", "replace")
                       for name in archive.namelist()
                       if not samples_only or name.startswith("samples/"))


def test_images_stay_out_of_the_log_unless_asked_for(private_data: Path, cohort40: Path,
                                                     tmp_path: Path) -> None:
    private = run("diagnosis", tmp_path / "p", data=str(private_data), task="diagnosis_etiology")
    assert "data:image/png;base64" not in _log_text(private)
    samples = _log_text(private, samples_only=True)
    assert str(private_data.resolve()) not in samples and "volumes/" not in samples
    asked = run("diagnosis", tmp_path / "q", data=str(private_data),
                task="diagnosis_etiology", log_images=True)
    assert "data:image/png;base64" in _log_text(asked)
    phantom = run("diagnosis", tmp_path / "r", data=str(cohort40), task="diagnosis_etiology")
    assert "data:image/png;base64" not in _log_text(phantom)
    # what inspect view shows is still there: captions, question, options and answer
    for sample in phantom.samples or []:
        user = next(m for m in sample.messages if isinstance(m, ChatMessageUser))
        assert isinstance(user.content, list)
        texts = [p.text for p in user.content if isinstance(p, ContentText)]
        assert texts[1].startswith("Image 1: ") and IMAGE_PLACEHOLDER in texts
        assert "Question:" in texts[-1] and "Options:" in texts[-1]
        assert sample.output.completion
    # small: the compressed sample entries of the log (measured ~3 KB per sample)
    with zipfile.ZipFile(str(phantom.location)) as archive:
        sizes = [i.compress_size for i in archive.infolist() if i.filename.startswith("samples/")]
    assert len(sizes) == STUDIES and max(sizes) < 12_000


def test_garbage_outputs_count_as_wrong_and_unparsed(cohort40: Path, tmp_path: Path) -> None:
    garbage = ["", "\x00\x01", "I cannot provide a diagnosis.", "Z" * 5000, "{]", "Answer:"]
    model = scripted_model(garbage * 10)
    log = run("diagnosis", tmp_path, model=model, data=str(cohort40), limit_studies=8,
              task="diagnosis_etiology")
    values = metric_values(log)
    assert values["accuracy"] == 0.0
    assert values["diagnosis_etiology/unparsed_rate"] == 1.0
    assert values["diagnosis_etiology/top_class_share"] == 0.0


@pytest.mark.skipif(not loopback_available(), reason="no loopback network in this sandbox")
def test_openai_api_requests_carry_the_budgeted_grayscale_images(
        cohort40: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with openai_stub(lambda body: "B") as (base_url, requests):
        monkeypatch.setenv("LOCAL_BASE_URL", base_url)
        monkeypatch.setenv("LOCAL_API_KEY", "not-a-key")
        run("diagnosis", tmp_path, model="openai-api/local/stub", data=str(cohort40),
            budget=8, task="diagnosis_etiology")
    assert len(requests) == STUDIES
    for request in requests:
        urls = images_in(request)
        assert len(urls) == 8
        for url in urls:
            assert url.startswith("data:image/png;base64,")
            image = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
            assert image.mode == "L"
        texts = texts_in(request)
        captions = [t for t in texts if t.startswith("Image ")]
        assert [c.split(":")[0] for c in captions] == [f"Image {n}" for n in range(1, 9)]
        assert captions[0].startswith("Image 1: Cine short-axis")
        assert "Options:" in texts[-1]


@pytest.mark.slow        # generates the default cohort and runs the README command
def test_readme_quickstart_command_runs_on_the_default_cohort(tmp_path: Path) -> None:
    """``inspect eval cardiolens/diagnosis --model cardiolens/random`` with no data given
    prints a summary that fits an 80-column terminal, headline metrics first."""
    import os
    import subprocess
    import sys
    env = {**os.environ, "CARDIOLENS_CACHE_DIR": str(tmp_path / "cache"), "COLUMNS": "80"}
    inspect_cli = Path(sys.executable).with_name("inspect")
    result = subprocess.run([str(inspect_cli), "eval", "cardiolens/diagnosis", "--model",
                             "cardiolens/random", "-T", "limit_studies=3", "--log-dir",
                             str(tmp_path / "logs"), "--display", "rich"],
                            capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert any((tmp_path / "cache").glob("phantom-*/cardiolens.json"))
    summary = result.stdout[result.stdout.index("diagnosis_scorer"):]
    lines = [line.rstrip() for line in summary.splitlines()]
    assert max(len(line) for line in lines) <= 80 and "…" not in summary
    tokens = [line.split() for line in lines]
    names = [row[i] for row in tokens for i in range(len(row) - 1)
             if re.fullmatch(r"-?\d+\.\d{3}", row[i + 1])]       # row-major: a name, a value
    assert names[:2] == ["accuracy", "diagnosis_etiology/accuracy"]
    for name in ("macro_f1", "balanced_accuracy", "unparsed_rate"):
        assert f"diagnosis_nicm_subtype/{name}" in names
    assert len(lines) < 30 and not any("confusion" in n or "recall" in n for n in names)


@pytest.mark.slow
@pytest.mark.parametrize("task_name, extra", [
    ("image_understanding", []), ("report_generation", []),
    pytest.param("report_generation", ["-T", "extractor=cardiolens/random", "-T",
                                       "judge=cardiolens/random"], id="extractor+judge")])
def test_every_summary_fits_80_columns(task_name: str, extra: list[str], cohort40: Path,
                                       tmp_path: Path) -> None:
    import os
    import subprocess
    import sys
    env = {**os.environ, "COLUMNS": "80"}
    inspect_cli = Path(sys.executable).with_name("inspect")
    result = subprocess.run([str(inspect_cli), "eval", f"cardiolens/{task_name}", "--model",
                             "cardiolens/random", "-T", f"data={cohort40}", "-T",
                             "limit_studies=2", *extra, "--log-dir", str(tmp_path),
                             "--display", "rich"],
                            capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    summary = result.stdout[result.stdout.index("total time"):]     # every scorer column
    assert max(len(line.rstrip()) for line in summary.splitlines()) <= 80
    assert "…" not in summary and "stderr" in summary


def test_llm_judge_grades_reports_with_a_scripted_model(cohort40: Path, tmp_path: Path) -> None:
    replies = ['{"omissions": 1, "contradictions": 0, "hallucinations": 2, "score": 6}',
               "Not JSON at all", 'Reasoning... {"omissions": 0, "contradictions": 1, '
               '"hallucinations": 0, "score": 2}']
    judge = scripted_model(replies * 10)
    from cardiolens.inspect_adapter.tasks import report_generation
    task = report_generation(data=str(cohort40), section="report_lge", limit_studies=3,
                             judge=judge)
    log = inspect_eval(task, model="cardiolens/random", log_dir=str(tmp_path),
                       display="none", max_samples=1)[0]
    assert log.status == "success"
    values = metric_values(log)
    assert values["judge_score"] == pytest.approx(0.4)          # (0.6 + 0.2) / 2 parsed
    assert values["judge_unparsed_rate"] == pytest.approx(1 / 3)
    assert values["judge_contradictions"] == pytest.approx(0.5)
    assert "clinical_f1" in {n.split("/")[-1] for n in values}


SYSTEM = "You are a cardiac MRI reader. Answer with the letter only."


def test_a_system_message_chained_in_front_reaches_the_model(private_data: Path,
                                                             tmp_path: Path) -> None:
    from inspect_ai import task_with
    from inspect_ai.event import ModelEvent
    from inspect_ai.model import ChatMessageSystem
    from inspect_ai.solver import chain, system_message

    from cardiolens.inspect_adapter.tasks import diagnosis
    task = diagnosis(data=str(private_data), task="diagnosis_etiology", limit_studies=2)
    composed = task_with(task, solver=chain(system_message(SYSTEM), task.solver))
    log = inspect_eval(composed, model=scripted_model(["B"] * 10), log_dir=str(tmp_path),
                       display="none")[0]
    assert log.status == "success" and len(log.samples or []) == 2
    log = read_eval_log(log.location, resolve_attachments=True)
    for sample in log.samples or []:
        model_input = next(e for e in sample.events if isinstance(e, ModelEvent)).input
        assert isinstance(model_input[0], ChatMessageSystem)
        assert model_input[0].text == SYSTEM
        users = [m for m in model_input if isinstance(m, ChatMessageUser)]
        assert len(users) == 1 and "Options:" in users[0].text   # the question once
        assert sample.output.completion == "B"
    # the composed chain still keeps the private images out of the log
    assert "data:image/png;base64" not in _log_text(log)
    assert images_of(log) and all(v == [] for v in images_of(log).values())
