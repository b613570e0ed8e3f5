"""Inspect wrappers around the shared item scoring (``cardiolens.scorers.item_scoring``).

Each scorer parses the output against the options the solver displayed (so shuffled
options score correctly) and stores the item's record in the score's metadata. Corpus
metrics (micro-F1, macro-F1, the confusion matrix, collapse figures) are computed over
all records, never as a mean of per-sample values; lm-eval uses the same functions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from inspect_ai.model import Model, get_model
from inspect_ai.scorer import (
    Metric,
    SampleScore,
    Score,
    Scorer,
    Target,
    Value,
    accuracy,
    grouped,
    mean,
    metric,
    scorer,
    stderr,
)
from inspect_ai.solver import TaskState

from cardiolens.scorers import item_scoring as core
from cardiolens.scorers.judge_rubric import judge_prompt, parse_verdict
from cardiolens.scorers.stats import mean_stderr


def _records(scores: list[SampleScore]) -> list[dict[str, Any]]:
    return [s.score.metadata or {} for s in scores]


@metric(scores="unreduced")
def item_f1() -> Metric:
    """Mean per-item F1 of multi-label items, with its standard error."""

    def compute(scores: list[SampleScore]) -> Value:
        value, err = core.mean_item_f1(_records(scores))
        return {"mean_item_f1": value, "mean_item_f1_stderr": err}

    return compute


@metric(scores="unreduced")
def corpus_micro_f1() -> Metric:
    """Micro-F1 of multi-label items: true/false positives summed over the corpus."""

    def compute(scores: list[SampleScore]) -> Value:
        return core.corpus_micro_f1(_records(scores))

    return compute


@metric(scores="unreduced")
def unparsed_rate() -> Metric:
    """Share of outputs no answer could be read from (refusals included)."""

    def compute(scores: list[SampleScore]) -> Value:
        return core.unparsed_rate(_records(scores))

    return compute


def _choice_score(state: TaskState, target: Target) -> Score:
    record = core.choice_record(state.output.completion, state.metadata.get("options") or [],
                                str(state.metadata.get("answer_type", "single")),
                                list(target.target))
    return Score(value=record["exact"], answer=record["letters"] or None, metadata=record)


def _grouped_with_stderr(key: str) -> list[Metric]:
    return [grouped(accuracy(), key, all=False, name_template=f"{key}/{{group_name}}"),
            grouped(stderr(), key, all=False, name_template=f"{key}/{{group_name}}_stderr")]


@scorer(metrics=[accuracy(), stderr(), item_f1(), corpus_micro_f1(), unparsed_rate(),
                 *_grouped_with_stderr("sequence"), *_grouped_with_stderr("subtask")])
def choice_scorer() -> Scorer:
    """Single choice: correct or not; multi-label: exact match as the value, F1 alongside."""

    async def score(state: TaskState, target: Target) -> Score:
        return _choice_score(state, target)

    return score


def flatten_diagnosis(result: dict[str, Any], classes: Sequence[str]) -> dict[str, float]:
    """Diagnosis metrics as a flat name -> float mapping (Inspect metric values)."""
    out = {name: float(result[name]) for name in
           ("accuracy", "macro_f1", "balanced_accuracy", "top_class_share", "predicted_entropy",
            "true_entropy", "unparsed_rate")}
    for name, value in result["per_class_recall"].items():
        out[f"recall/{name}"] = float(value)
    columns = [*classes, "unparsed"]
    for true_name, row in zip(classes, result["confusion"], strict=True):
        for pred_name, count in zip(columns, row, strict=True):
            out[f"confusion/{true_name}/{pred_name}"] = float(count)
    return out


@metric(scores="unreduced")
def diagnosis_summary() -> Metric:
    """Per diagnosis task: accuracy, macro-F1, balanced accuracy, per-class recall,
    confusion counts and the collapse figures, named ``<task>/<metric>``."""

    def compute(scores: list[SampleScore]) -> Value:
        by_task: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for s in scores:
            task_name = str((s.sample_metadata or {}).get("subtask", "diagnosis"))
            by_task[task_name].append(s.score.metadata or {})
        out: dict[str, float] = {}
        for task_name, records in sorted(by_task.items()):
            result, classes = core.diagnosis_of(records)
            for name, value in flatten_diagnosis(result.to_dict(), classes).items():
                out[f"{task_name}/{name}"] = value
        return out

    return compute


@scorer(metrics=[accuracy(), stderr(), diagnosis_summary(), *_grouped_with_stderr("subtask")])
def diagnosis_scorer() -> Scorer:
    """Single-choice diagnosis; the corpus metrics come from :func:`diagnosis_summary`."""

    async def score(state: TaskState, target: Target) -> Score:
        return _choice_score(state, target)

    return score


@metric(scores="unreduced")
def by_section() -> Metric:
    """Every report metric's mean (and standard error) per report section."""

    def compute(scores: list[SampleScore]) -> Value:
        groups: dict[str, list[dict[str, float]]] = defaultdict(list)
        for s in scores:
            section = (s.sample_metadata or {}).get("subtask", "all")
            assert isinstance(s.score.value, dict)
            groups[str(section)].append({k: float(v) for k, v in s.score.value.items()})
        out: dict[str, float] = {}
        for section, values in sorted(groups.items()):
            for name in core.REPORT_METRICS:
                m, err = mean_stderr([v[name] for v in values])
                out[f"{section}/{name}"] = m
                out[f"{section}/{name}_stderr"] = err
        return out

    return compute


@scorer(metrics=[{name: [mean(), stderr()] for name in core.REPORT_METRICS}, by_section()])
def report_scorer() -> Scorer:
    """Lexical (BLEU-4, ROUGE-L) and clinical (finding F1, contradictions) section scores."""

    async def score(state: TaskState, target: Target) -> Score:
        values = core.report_scores(state.output.completion, target.text)
        return Score(value=dict(values), answer=core.report_text(state.output.completion)[:200],
                     metadata={"answer_type": "report"})

    return score


@metric(scores="unreduced")
def judge_summary() -> Metric:
    """Mean judge score and counts over the verdicts that parsed, and the unparsed rate."""

    def compute(scores: list[SampleScore]) -> Value:
        verdicts = [s.score.metadata or {} for s in scores]
        parsed = [v for v in verdicts if v.get("judge_parsed")]
        out: dict[str, float] = {"judge_unparsed_rate":
                                 1 - len(parsed) / len(verdicts) if verdicts else 0.0}
        for name in ("score", "omissions", "contradictions", "hallucinations"):
            m, err = mean_stderr([float(v[f"judge_{name}"]) for v in parsed])
            out[f"judge_{name}"] = m
            out[f"judge_{name}_stderr"] = err
        return out

    return compute


@scorer(metrics=[judge_summary()])
def judge_scorer(judge: str | Model) -> Scorer:
    """An LLM judge grades each generated section against the reference (CMR rubric)."""

    async def score(state: TaskState, target: Target) -> Score:
        generated = core.report_text(state.output.completion)
        prompt = judge_prompt(str(state.metadata.get("subtask", "report")), target.text,
                              generated)
        reply = await get_model(judge).generate(prompt)
        verdict = parse_verdict(reply.completion)
        meta: dict[str, Any] = {"judge_parsed": verdict is not None}
        if verdict is not None:
            meta.update(judge_score=verdict.score, judge_omissions=verdict.omissions,
                        judge_contradictions=verdict.contradictions,
                        judge_hallucinations=verdict.hallucinations)
        return Score(value=verdict.score if verdict else 0.0, metadata=meta)

    return score
