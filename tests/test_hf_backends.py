"""Real Hugging Face model backends end to end on CPU, with a tiny locally built LLaVA model.

lm-eval's ``hf-multimodal`` and Inspect (through the project's OpenAI-compatible endpoint;
Inspect's ``hf/`` provider refuses images) answer cardiolens prompts with real generation;
the logs are scored and read by ``cardiolens analyze``. Every prompt must reach the model with
one image-token span per image, in caption order, and the images in that order.

Slow (3.5 minutes measured on the shared 2-core machine) and needs the ``[hf]`` extra:
``pytest -m hf`` runs them.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest
from hf_record import digest
from hf_tiny import (
    IMAGE_TOKEN,
    TOKENS_PER_IMAGE,
    TinyChat,
    build_tiny_vlm,
    hf_available,
    image_spans,
    quiet_env,
    serve,
)
from openai_stub import loopback_available

from cardiolens.analysis.results import read_lm_eval_folder
from cardiolens.data.dataset import write_jsonl
from cardiolens.lm_eval_adapter.docs import (
    doc_images,
    doc_prompt,
    doc_text,
    load_docs,
    score_doc,
    task_yaml_path,
)
from cardiolens.phantom.cohort import generate_cohort
from cardiolens.scorers.item_scoring import agg_accuracy, unparsed_rate

MISSING = hf_available()
pytestmark = [pytest.mark.slow, pytest.mark.hf,
              pytest.mark.skipif(MISSING is not None, reason=MISSING or "")]
TASKS = {"cardiolens_diagnosis_etiology": {"level": "diagnosis",
                                           "task": "diagnosis_etiology"},
         "cardiolens_diagnosis_nicm_subtype": {"level": "diagnosis",
                                               "task": "diagnosis_nicm_subtype"},
         "cardiolens_image_understanding_t2": {"level": "image_understanding",
                                               "sequence": "t2"}}
GROUPS = {"cardiolens_diagnosis_etiology": "diagnosis_etiology",     # cardiolens analyze
          "cardiolens_diagnosis_nicm_subtype": "diagnosis_nicm_subtype",
          "cardiolens_image_understanding_t2": "t2"}
LIMIT = 5


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_vlm(tmp_path_factory.mktemp("hf") / "tiny-llava")


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Five phantom studies; the first T2 stack is cut to 5 slices, so the batch of the
    first T2 prompts mixes image counts whatever stack sizes the phantom draws (lm-eval
    sorts a task's requests by length before batching, so the batch holds them all)."""
    root = generate_cohort(tmp_path_factory.mktemp("hfc") / "c5", studies=5, seed=3,
                           progress=False)
    rows = [json.loads(line) for line in (root / "studies.jsonl").read_text().splitlines()]
    t2 = next(row["series"]["t2_sax"] for row in rows if "t2_sax" in row["series"])
    image = nib.load(root / t2["path"])
    data = np.asarray(image.dataobj)           # (H, W, slices) or (H, W, slices, frames)
    kept = data[:, :, :5]
    nib.save(nib.Nifti1Image(kept, image.affine, image.header), root / t2["path"])
    t2["slices"] = 5
    write_jsonl(root / "studies.jsonl", rows)
    return root


def _processor(tiny: Path) -> Any:
    from transformers import AutoProcessor

    return AutoProcessor.from_pretrained(tiny)


def check_prompt(tokenizer: Any, ids: list[int], captions: list[str]) -> list[int]:
    """Assert one span of TOKENS_PER_IMAGE image tokens per caption, each right after its
    caption; return the span lengths."""
    image_id = tokenizer.convert_tokens_to_ids(IMAGE_TOKEN)
    spans = image_spans(ids, image_id)
    assert len(spans) == len(captions)
    end = 0
    for (start, length), caption in zip(spans, captions, strict=True):
        before = tokenizer.decode(ids[end:start], skip_special_tokens=True).rstrip()
        assert before.endswith(caption), (before[-120:], caption)
        end = start + length
    return [length for _, length in spans]


@pytest.mark.parametrize("chat, tasks", [
    (True, list(TASKS)),                   # the processor's chat template places the images
    (False, ["cardiolens_image_understanding_t2"])])  # `<image>` -> the model's image token
def test_hf_multimodal_scores_cardiolens_prompts_with_every_image_in_caption_order(
        tiny: Path, cohort: Path, tmp_path: Path, chat: bool, tasks: list[str]) -> None:
    record, out = tmp_path / "record.jsonl", tmp_path / "out"
    result = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("hf_record.py")), str(record),
         "--model", "hf-multimodal", "--model_args", f"pretrained={tiny},max_images=16",
         "--device", "cpu", "--batch_size", str(LIMIT), "--include_path", str(task_yaml_path()),
         "--tasks", ",".join(tasks), "--limit", str(LIMIT),
         *(["--apply_chat_template"] if chat else []),
         "--gen_kwargs", "max_gen_toks=12", "--metadata", json.dumps({"data": str(cohort)}),
         "--output_path", str(out), "--log_samples"],
        capture_output=True, text=True, timeout=1200, env=quiet_env())
    assert result.returncode == 0, result.stderr[-3000:]

    # what reached the model: batches of prompts (ids) and their images, flattened in order;
    # documents of different studies can share a text, so a prompt is its text and images
    processor = _processor(tiny)
    tokenizer = processor.tokenizer
    expected: Counter[tuple[str, tuple[str, ...]]] = Counter()
    captions: dict[str, list[str]] = {}
    sizes: dict[str, int] = {}
    for task in tasks:
        task_docs = list(load_docs(data=str(cohort), **TASKS[task])["test"])[:LIMIT]
        sizes[task] = len(task_docs)
        for doc in task_docs:
            text = doc_text(doc).replace("<image>", "").strip()
            captions[text] = [image.caption for image in doc_prompt(doc).images]
            expected[(text, tuple(digest(processor.image_processor(image, return_tensors="pt")
                                         ["pixel_values"][0]) for image in doc_images(doc)))] += 1
    received: Counter[tuple[str, tuple[str, ...]]] = Counter()
    counts, mixed_batch = [], False
    for line in record.read_text().splitlines():
        batch = json.loads(line)
        digests = iter(batch["images"])
        batch_counts = []
        for ids in batch["input_ids"]:
            text = tokenizer.decode(ids, skip_special_tokens=True).strip()
            lengths = check_prompt(tokenizer, ids, captions[text])
            assert lengths == [TOKENS_PER_IMAGE] * len(captions[text])
            received[(text, tuple(next(digests) for _ in lengths))] += 1
            batch_counts.append(len(lengths))
        assert next(digests, None) is None             # no image without its token span
        mixed_batch |= len(set(batch_counts)) > 1
        counts.extend(batch_counts)
    assert received == expected                        # every prompt, its images, in order
    assert len(counts) == sum(sizes.values()) and min(sizes.values()) > 0
    assert mixed_batch                                 # padding across different image counts
    print(f"image-token spans per prompt: {sorted(counts)}")

    # real scoring, read back by cardiolens analyze
    runs = read_lm_eval_folder(out)
    assert {run.level for run in runs} == {TASKS[task]["level"] for task in tasks}
    assert sum(len(run.rows) for run in runs) == sum(sizes.values())
    analysis = tmp_path / "analysis"
    subprocess.run([str(Path(sys.executable).with_name("cardiolens")), "analyze", str(out),
                    "--out", str(analysis)], check=True, capture_output=True, timeout=600)
    with open(analysis / "metrics.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {(r["group"], r["n_items"]) for r in rows if r["metric"] == "accuracy"} >= {
        (GROUPS[task], str(size)) for task, size in sizes.items()}

    # the logged metrics are the project's scores of the logged generations
    results = json.loads(next(out.glob("*/results_*.json")).read_text())["results"]
    for task in tasks:
        load_docs(data=str(cohort), max_images=16, **TASKS[task])  # the run's documents
        lines = next(out.glob(f"*/samples_{task}_*.jsonl")).read_text().splitlines()
        samples = [json.loads(line) for line in lines]
        answers = [sample["filtered_resps"][0] for sample in samples]
        assert len(answers) == sizes[task] and all(isinstance(a, str) and a for a in answers)
        records = [score_doc(sample["doc"], answer) for sample, answer in zip(samples, answers,
                                                                              strict=True)]
        assert results[task]["accuracy,none"] == pytest.approx(agg_accuracy(records))
        assert results[task]["unparsed_rate,none"] == pytest.approx(unparsed_rate(records))


@pytest.mark.skipif(not loopback_available(), reason="no loopback network in this sandbox")
def test_inspect_scores_cardiolens_prompts_through_the_served_tiny_model(
        tiny: Path, cohort: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from inspect_ai import eval as inspect_eval

    chat = TinyChat(tiny, max_new_tokens=12)
    with serve(chat, "tiny-llava") as url:
        monkeypatch.setenv("TINY_BASE_URL", url)
        monkeypatch.setenv("TINY_API_KEY", "none")
        log = inspect_eval("cardiolens/diagnosis", model="openai-api/tiny/tiny-llava",
                           task_args={"data": str(cohort), "task": "diagnosis_etiology"},
                           limit=3, log_dir=str(tmp_path / "logs"), display="none")[0]
    assert log.status == "success" and log.results is not None and log.samples
    metrics = {n for s in log.results.scores for n in s.metrics}
    assert {"accuracy", "diagnosis_etiology/macro_f1"} <= metrics
    assert len(chat.seen) == len(log.samples) == 3
    assert sorted(s.output.completion for s in log.samples) == sorted(r["answer"]
                                                                     for r in chat.seen)

    # Inspect sends the intro, then each caption followed by its image, then the question
    tokenizer = chat.processor.tokenizer
    prompts = [doc_prompt(doc) for doc in load_docs(data=str(cohort), level="diagnosis",
                                                    task="diagnosis_etiology")["test"]]
    by_text = {"".join([p.intro, *(i.caption for i in p.images), p.question]): p
               for p in prompts}
    for request in chat.seen:
        prompt = by_text[tokenizer.decode(request["input_ids"], skip_special_tokens=True).strip()]
        captions = [image.caption for image in prompt.images]
        assert request["images"] == request["pixel_images"] == len(captions) == 16
        lengths = check_prompt(tokenizer, request["input_ids"], captions)
        assert lengths == [TOKENS_PER_IMAGE] * 16
    print(f"image-token spans per Inspect request: {[len(r['spans']) for r in chat.seen]}")

    analysis = tmp_path / "analysis"
    subprocess.run([str(Path(sys.executable).with_name("cardiolens")), "analyze",
                    str(tmp_path / "logs"), "--out", str(analysis)], check=True,
                   capture_output=True, timeout=600)
    with open(analysis / "metrics.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert ("diagnosis_etiology", "3") in {(r["group"], r["n_items"]) for r in rows
                                           if r["metric"] == "accuracy"}
