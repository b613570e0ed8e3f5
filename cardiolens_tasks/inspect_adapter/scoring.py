"""Inspect wrappers around the framework-free scorers in ``cardiolens.scorers``.

Each scorer reads the model output, parses it against the options the solver displayed
(so shuffled options score correctly) and stores what the corpus metrics need in the
score's metadata. Corpus metrics (micro-F1, macro-F1, the confusion matrix, collapse
figures) are computed over all samples, never as a mean of per-sample values.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

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

from ..prompts import REPORT_MARKER
from ..scorers.choice import micro_f1, set_scores
from ..scorers.diagnosis import diagnosis_metrics
from ..scorers.parsing import format_letters, parse_choice
from ..scorers.stats import mean_stderr
from ..scorers.text_metrics import bleu4, rouge_l


def _meta(sample_score: SampleScore) -> dict[str, Any]:
    return sample_score.score.metadata or {}


def _multi(scores: list[SampleScore]) -> list[dict[str, Any]]:
    return [_meta(s) for s in scores if _meta(s).get("answer_type") == "multi"]


@metric(scores="unreduced")
def item_f1() -> Metric:
    """Mean per-item F1 of multi-label items, with its standard error."""

    def compute(scores: list[SampleScore]) -> Value:
        value, err = mean_stderr([float(m["f1"]) for m in _multi(scores)])
        return {"mean_item_f1": value, "mean_item_f1_stderr": err}

    return compute


@metric(scores="unreduced")
def corpus_micro_f1() -> Metric:
    """Micro-F1 of multi-label items: true/false positives summed over the corpus."""

    def compute(scores: list[SampleScore]) -> Value:
        pairs = []
        for m in _multi(scores):
            options = m["options"]
            pairs.append(({options.index(t) for t in m["predicted"]},
                          {options.index(t) for t in m["target"] if t in options}))
        return micro_f1(pairs) if pairs else float("nan")

    return compute


@metric(scores="unreduced")
def unparsed_rate() -> Metric:
    """Share of outputs no answer could be read from (refusals included)."""

    def compute(scores: list[SampleScore]) -> Value:
        metas = [_meta(s) for s in scores]
        return sum(not m.get("parsed", False) for m in metas) / len(metas) if metas else 0.0

    return compute


def _read_choice(state: TaskState, target: Target) -> dict[str, Any]:
    options: list[str] = list(state.metadata.get("options") or [])
    answer_type = str(state.metadata.get("answer_type", "single"))
    parsed = parse_choice(state.output.completion, options, multi=answer_type == "multi")
    truth = list(target.target)
    wanted = {options.index(t) for t in truth if t in options}
    s = set_scores(parsed.indices, wanted)
    return {"answer_type": answer_type, "options": options,
            "predicted": [options[i] for i in parsed.indices], "target": truth,
            "letters": format_letters(parsed.indices), "parsed": parsed.parsed,
            "refused": parsed.refused, "precision": s.precision, "recall": s.recall,
            "f1": s.f1, "exact": s.exact}


def _grouped_with_stderr(key: str) -> list[Metric]:
    return [grouped(accuracy(), key, all=False, name_template=f"{key}/{{group_name}}"),
            grouped(stderr(), key, all=False, name_template=f"{key}/{{group_name}}_stderr")]


@scorer(metrics=[accuracy(), stderr(), item_f1(), corpus_micro_f1(), unparsed_rate(),
                 *_grouped_with_stderr("sequence"), *_grouped_with_stderr("subtask")])
def choice_scorer() -> Scorer:
    """Single choice: correct or not; multi-label: exact match as the value, F1 alongside."""

    async def score(state: TaskState, target: Target) -> Score:
        read = _read_choice(state, target)
        return Score(value=read["exact"], answer=read["letters"] or None, metadata=read)

    return score


@metric(scores="unreduced")
def diagnosis_summary() -> Metric:
    """Per diagnosis task: accuracy, macro-F1, balanced accuracy, per-class recall,
    confusion counts and the collapse figures, named ``<task>/<metric>``."""

    def compute(scores: list[SampleScore]) -> Value:
        by_task: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for s in scores:
            by_task[str((s.sample_metadata or {}).get("subtask", "diagnosis"))].append(_meta(s))
        out: dict[str, float] = {}
        for task_name, metas in sorted(by_task.items()):
            classes = list(dict.fromkeys(c for m in metas for c in sorted(m["options"])))
            result = diagnosis_metrics([m["predicted"][0] if m["predicted"] else None
                                        for m in metas], [m["target"][0] for m in metas],
                                       classes)
            for name, value in flatten_diagnosis(result.to_dict(), classes).items():
                out[f"{task_name}/{name}"] = value
        return out

    return compute


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


@scorer(metrics=[accuracy(), stderr(), diagnosis_summary(), *_grouped_with_stderr("subtask")])
def diagnosis_scorer() -> Scorer:
    """Single-choice diagnosis; the corpus metrics come from :func:`diagnosis_summary`."""

    async def score(state: TaskState, target: Target) -> Score:
        read = _read_choice(state, target)
        return Score(value=read["exact"], answer=read["letters"] or None, metadata=read)

    return score


def report_text(completion: str) -> str:
    """The report section of an output: after the last ``Report:`` line when there is one."""
    if REPORT_MARKER in completion:
        return completion.rsplit(REPORT_MARKER, 1)[1].strip()
    return completion.strip()


@metric(scores="unreduced")
def by_section() -> Metric:
    """BLEU-4 and ROUGE-L means (and standard errors) per report section."""

    def compute(scores: list[SampleScore]) -> Value:
        groups: dict[str, list[dict[str, float]]] = defaultdict(list)
        for s in scores:
            section = (s.sample_metadata or {}).get("subtask", "all")
            assert isinstance(s.score.value, dict)
            groups[str(section)].append({k: float(v) for k, v in s.score.value.items()})
        out: dict[str, float] = {}
        for section, values in sorted(groups.items()):
            for name in ("bleu4", "rouge_l"):
                m, err = mean_stderr([v[name] for v in values])
                out[f"{section}/{name}"] = m
                out[f"{section}/{name}_stderr"] = err
        return out

    return compute


@scorer(metrics=[{"bleu4": [mean(), stderr()], "rouge_l": [mean(), stderr()]}, by_section()])
def report_scorer() -> Scorer:
    """Lexical overlap of the generated section with the reference (BLEU-4, ROUGE-L)."""

    async def score(state: TaskState, target: Target) -> Score:
        hypothesis = report_text(state.output.completion)
        reference = target.text
        return Score(value={"bleu4": bleu4(hypothesis, reference),
                            "rouge_l": rouge_l(hypothesis, reference)},
                     answer=hypothesis[:200], metadata={"answer_type": "report"})

    return score
