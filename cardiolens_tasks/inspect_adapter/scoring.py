"""Inspect wrappers around the shared item scoring (``cardiolens.scorers.item_scoring``).

Each scorer parses the output against the options the solver displayed (so shuffled
options score correctly) and stores the item's record in the score's metadata. Corpus
metrics (micro-F1, macro-F1, balanced accuracy, collapse figures) are computed over all
records, never as a mean of per-sample values; lm-eval uses the same functions.

**The summary** (the metrics in the log, printed at the end of ``inspect eval``) holds the
headline figures only, named to fit an 80-column terminal: accuracy with its standard
error, per sequence (Level 1) or per diagnosis task (Level 3); mean item F1, corpus
micro-F1, macro-F1, balanced accuracy, the collapse figures and the unparsed rate; report
metrics overall and the main ones per section. Every standard error is **clustered by study**
(``study_id`` in the sample metadata, Inspect's ``stderr(cluster=...)``): the items of one
study share its images and findings, so they are not independent.

**The detail stays in the samples.** Each sample's score metadata
(``sample.scores["choice_scorer" | "diagnosis_scorer"].metadata``) is the item's record:
``options`` (displayed order), ``predicted`` (option texts read from the output; empty when
unparsed), ``target``, ``parsed``, ``refused``, ``exact``, ``precision``, ``recall``,
``f1``. Confusion counts and per-class recall are :func:`core.diagnosis_of` over the
records of one diagnosis task (``sample.metadata["subtask"]``); per-subtask accuracy is the
mean ``exact`` per subtask. ``cardiolens analyze`` reads them from there.
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
    metric,
    scorer,
    stderr,
    value_to_float,
)
from inspect_ai.solver import TaskState

from cardiolens.scorers import item_scoring as core
from cardiolens.scorers.judge_rubric import judge_prompt, parse_verdict

CLUSTER = "study_id"
"""Sample metadata key the standard errors cluster on: items of one study are correlated."""

TO_FLOAT = value_to_float()
SEQUENCE_ORDER = ("cine", "lge", "t2", "perf", "cross")
SECTION_ORDER = ("cine", "lge", "t2", "perfusion", "impression")
SECTION_METRICS = ("bleu4", "rouge_l", "clinical_f1", "contradiction_rate")
"""Report metrics shown per section (all of ``core.REPORT_METRICS`` are shown overall)."""
DIAGNOSIS_SUMMARY = ("accuracy", "accuracy_stderr", "macro_f1", "balanced_accuracy",
                     "unparsed_rate", "top_class_share", "predicted_entropy", "true_entropy")
"""Per diagnosis task, in summary order (headline first, then the collapse figures)."""


def _records(scores: list[SampleScore]) -> list[dict[str, Any]]:
    return [s.score.metadata or {} for s in scores]


def study_stderr() -> Metric:
    """Standard error of the mean, clustered by study."""
    return stderr(cluster=CLUSTER)


def clustered_mean(scores: Sequence[SampleScore], values: Sequence[float]) -> tuple[float, float]:
    """Mean of ``values`` (one per score, same order) and its study-clustered standard error;
    NaNs when there are no values."""
    if not values:
        return float("nan"), float("nan")
    derived = [SampleScore(score=Score(value=float(v)), sample_id=s.sample_id,
                           sample_metadata=s.sample_metadata)
               for s, v in zip(scores, values, strict=True)]
    err = study_stderr()(derived)  # type: ignore[arg-type]  # (Metric's union signature)
    return sum(values) / len(values), float(err)  # type: ignore[arg-type]


@metric(scores="unreduced")
def item_f1() -> Metric:
    """Mean per-item F1 of multi-label items, with its study-clustered standard error."""

    def compute(scores: list[SampleScore]) -> Value:
        multi = [s for s in scores if (s.score.metadata or {}).get("answer_type") == "multi"]
        value, err = clustered_mean(multi, [float((s.score.metadata or {})["f1"])
                                            for s in multi])
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


def _ordered(groups: dict[str, list[SampleScore]], order: Sequence[str]) -> list[str]:
    return [g for g in order if g in groups] + sorted(g for g in groups if g not in order)


@metric
def by_sequence() -> Metric:
    """Accuracy and its study-clustered stderr per sequence group (``sequence/lge``,
    ``sequence/lge_stderr``)."""

    def compute(scores: list[SampleScore]) -> Value:
        groups: dict[str, list[SampleScore]] = defaultdict(list)
        for s in scores:
            groups[str((s.sample_metadata or {}).get("sequence"))].append(s)
        out: dict[str, float] = {}
        for name in _ordered(groups, SEQUENCE_ORDER):
            members = groups[name]
            value, err = clustered_mean(members, [TO_FLOAT(s.score.value) for s in members])
            out[f"sequence/{name}"], out[f"sequence/{name}_stderr"] = value, err
        return out

    return compute


@scorer(metrics=[accuracy(), study_stderr(), by_sequence(), item_f1(), corpus_micro_f1(),
                 unparsed_rate()])
def choice_scorer() -> Scorer:
    """Single choice: correct or not; multi-label: exact match as the value, F1 alongside."""

    async def score(state: TaskState, target: Target) -> Score:
        return _choice_score(state, target)

    return score


def summarise_diagnosis(scores: Sequence[SampleScore]) -> dict[str, float]:
    """Per diagnosis task (``sample.metadata["subtask"]``) the :data:`DIAGNOSIS_SUMMARY`
    figures, named ``<task>/<figure>``."""
    by_task: dict[str, list[SampleScore]] = defaultdict(list)
    for s in scores:
        by_task[str((s.sample_metadata or {}).get("subtask", "diagnosis"))].append(s)
    out: dict[str, float] = {}
    for task_name, task_scores in sorted(by_task.items()):
        records = _records(task_scores)
        result = core.diagnosis_of(records)[0].to_dict()
        value, err = clustered_mean(task_scores, [float(r["exact"]) for r in records])
        figures = {**result, "accuracy": value, "accuracy_stderr": err}
        for name in DIAGNOSIS_SUMMARY:
            out[f"{task_name}/{name}"] = float(figures[name])
    return out


@metric(scores="unreduced")
def diagnosis_summary() -> Metric:
    """Per diagnosis task: accuracy (clustered stderr), macro-F1, balanced accuracy,
    unparsed rate and the collapse figures; confusion counts stay in the samples."""

    def compute(scores: list[SampleScore]) -> Value:
        return summarise_diagnosis(scores)

    return compute


@scorer(metrics=[accuracy(), study_stderr(), diagnosis_summary()])
def diagnosis_scorer() -> Scorer:
    """Single-choice diagnosis; the corpus metrics come from :func:`diagnosis_summary`."""

    async def score(state: TaskState, target: Target) -> Score:
        return _choice_score(state, target)

    return score


def report_values(scores: Sequence[SampleScore], name: str) -> list[float]:
    """Each score's value of ``name`` (report scorers score a dict of metrics)."""
    values = []
    for s in scores:
        assert isinstance(s.score.value, dict)
        values.append(float(s.score.value[name]))
    return values


@metric
def report_means() -> Metric:
    """Every report metric's mean over all sections; the headline ones (all but the
    contradictions per slot group) with their study-clustered stderr."""

    def compute(scores: list[SampleScore]) -> Value:
        out: dict[str, float] = {}
        for name in core.REPORT_METRICS:
            mean_value, err = clustered_mean(scores, report_values(scores, name))
            out[name] = mean_value
            if name not in core.CONTRADICTION_METRICS:
                out[f"{name}_stderr"] = err
        return out

    return compute


@metric(scores="unreduced")
def by_section() -> Metric:
    """BLEU-4, ROUGE-L, clinical F1 and contradiction rate per report section, named
    ``<section>/<metric>`` without the ``report_`` prefix (``impression/clinical_f1``)."""

    def compute(scores: list[SampleScore]) -> Value:
        groups: dict[str, list[SampleScore]] = defaultdict(list)
        for s in scores:
            section = str((s.sample_metadata or {}).get("subtask", "all"))
            groups[section.removeprefix("report_")].append(s)
        out: dict[str, float] = {}
        for section in _ordered(groups, SECTION_ORDER):
            for name in SECTION_METRICS:
                values = report_values(groups[section], name)
                out[f"{section}/{name}"] = sum(values) / len(values)
        return out

    return compute


@metric(scores="unreduced")
def judge_summary() -> Metric:
    """With a judge: mean judge score and counts over the verdicts that parsed
    (study-clustered stderr), and the unparsed rate. Without one: nothing."""

    def compute(scores: list[SampleScore]) -> Value:
        judged = [s for s in scores if "judge_parsed" in (s.score.metadata or {})]
        if not judged:
            return {}
        parsed = [s for s in judged if (s.score.metadata or {})["judge_parsed"]]
        out: dict[str, float] = {"judge_unparsed_rate": 1 - len(parsed) / len(judged)}
        for name in ("score", "omissions", "contradictions", "hallucinations"):
            values = [float((s.score.metadata or {})[f"judge_{name}"]) for s in parsed]
            out[f"judge_{name}"], out[f"judge_{name}_stderr"] = clustered_mean(parsed, values)
        return out

    return compute


async def judge_verdict(judge: str | Model, state: TaskState, target: Target) -> dict[str, Any]:
    """An LLM judge grades the generated section against the reference (CMR rubric)."""
    generated = core.report_text(state.output.completion)
    prompt = judge_prompt(str(state.metadata.get("subtask", "report")), target.text, generated)
    reply = await get_model(judge).generate(prompt)
    verdict = parse_verdict(reply.completion)
    meta: dict[str, Any] = {"judge_parsed": verdict is not None}
    if verdict is not None:
        meta.update(judge_score=verdict.score, judge_omissions=verdict.omissions,
                    judge_contradictions=verdict.contradictions,
                    judge_hallucinations=verdict.hallucinations)
    return meta


@scorer(metrics=[report_means(), by_section(), judge_summary()])
def report_scorer(judge: str | Model | None = None) -> Scorer:
    """Lexical (BLEU-4, ROUGE-L) and clinical (finding F1, contradictions) section scores;
    with ``judge``, also an LLM judge's verdict (in the score metadata, summarised by
    :func:`judge_summary`). One scorer, so the summary stays two columns wide."""

    async def score(state: TaskState, target: Target) -> Score:
        values = core.report_scores(state.output.completion, target.text)
        meta: dict[str, Any] = {"answer_type": "report"}
        if judge is not None:
            meta.update(await judge_verdict(judge, state, target))
        return Score(value=dict(values), answer=core.report_text(state.output.completion)[:200],
                     metadata=meta)

    return score


