"""Scoring one item's output and aggregating records: shared by every framework adapter.

A choice record is a plain dict (JSON-ready) with what corpus metrics need; the Inspect
scorers store it in ``Score.metadata`` and lm-eval's ``process_results`` returns it, so
both frameworks compute their metrics from the same records with the same functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cardiolens.data.answer_format import REPORT_MARKER
from cardiolens.scorers.choice import micro_f1, set_scores
from cardiolens.scorers.clinical_score import (
    CONTRADICTION_GROUPS,
    clinical_scores,
    compare_readings,
)
from cardiolens.scorers.cmr_findings import Reading
from cardiolens.scorers.diagnosis import DiagnosisMetrics, diagnosis_metrics
from cardiolens.scorers.parsing import format_letters, parse_choice
from cardiolens.scorers.stats import mean_stderr
from cardiolens.scorers.text_metrics import bleu4, rouge_l

Record = dict[str, Any]


def choice_record(output: str, options: Sequence[str], answer_type: str,
                  truth: Sequence[str]) -> Record:
    """Parse ``output`` against the displayed ``options`` and score it against ``truth``."""
    options = list(options)
    parsed = parse_choice(output, options, multi=answer_type == "multi")
    wanted = {options.index(t) for t in truth if t in options}
    s = set_scores(parsed.indices, wanted)
    return {"answer_type": answer_type, "options": options,
            "predicted": [options[i] for i in parsed.indices], "target": list(truth),
            "letters": format_letters(parsed.indices), "parsed": parsed.parsed,
            "refused": parsed.refused, "precision": s.precision, "recall": s.recall,
            "f1": s.f1, "exact": s.exact}


def report_text(output: str) -> str:
    """The report section of an output: after the last ``Report:`` marker when present."""
    if REPORT_MARKER in output:
        return output.rsplit(REPORT_MARKER, 1)[1].strip()
    return output.strip()


CONTRADICTION_METRICS = tuple(f"contradiction_{group}" for group in CONTRADICTION_GROUPS)
REPORT_METRICS = ("bleu4", "rouge_l", "clinical_precision", "clinical_recall", "clinical_f1",
                  "contradiction_rate", *CONTRADICTION_METRICS)


def report_scores(output: str, reference: str,
                  readings: tuple[Reading, Reading] | None = None) -> dict[str, float]:
    """Lexical (BLEU-4, ROUGE-L) and clinical (finding-level) scores of one section.

    ``contradiction_rate`` is the share of the exclusive slots both texts fill that they
    fill with opposite values; ``contradiction_<group>`` is 1.0 when the section contradicts
    the reference in that slot group (LGE, LGE layer, LV function, LV size, diagnosis,
    other), so its mean is the share of sections with such a contradiction. ``readings`` (of
    the generated section and of the reference) replace the rule-based extractor's, e.g. a
    model's.
    """
    hypothesis = report_text(output)
    clinical = compare_readings(*readings) if readings else clinical_scores(hypothesis,
                                                                            reference)
    return {"bleu4": bleu4(hypothesis, reference), "rouge_l": rouge_l(hypothesis, reference),
            "clinical_precision": clinical.precision, "clinical_recall": clinical.recall,
            "clinical_f1": clinical.f1, "contradiction_rate": clinical.contradiction_rate,
            **{f"contradiction_{group}": float(group in clinical.contradicted_groups)
               for group in CONTRADICTION_GROUPS}}


def accuracy(records: Sequence[Record]) -> tuple[float, float]:
    """Mean exact match and its standard error."""
    return mean_stderr([float(r["exact"]) for r in records])


def _multi(records: Sequence[Record]) -> list[Record]:
    return [r for r in records if r["answer_type"] == "multi"]


def mean_item_f1(records: Sequence[Record]) -> tuple[float, float]:
    """Mean per-item F1 of the multi-label records, and its standard error."""
    return mean_stderr([float(r["f1"]) for r in _multi(records)])


def corpus_micro_f1(records: Sequence[Record]) -> float:
    """Micro-F1 over the multi-label records (NaN when there are none)."""
    pairs = []
    for r in _multi(records):
        options = r["options"]
        pairs.append(({options.index(t) for t in r["predicted"]},
                      {options.index(t) for t in r["target"] if t in options}))
    return micro_f1(pairs) if pairs else float("nan")


def unparsed_rate(records: Sequence[Record]) -> float:
    return sum(not r["parsed"] for r in records) / len(records) if records else 0.0


def diagnosis_of(records: Sequence[Record]) -> tuple[DiagnosisMetrics, list[str]]:
    """Diagnosis metrics of single-choice records; classes are the sorted option texts."""
    classes = sorted({c for r in records for c in r["options"]})
    result = diagnosis_metrics([r["predicted"][0] if r["predicted"] else None for r in records],
                               [r["target"][0] for r in records], classes)
    return result, classes


# ------------------------------------------- corpus aggregations named like the metrics

def agg_accuracy(records: Sequence[Record]) -> float:
    return accuracy(records)[0]


def agg_mean_item_f1(records: Sequence[Record]) -> float:
    return mean_item_f1(records)[0]


def agg_diagnosis(name: str, records: Sequence[Record]) -> float:
    """One diagnosis metric (``macro_f1``, ``top_class_share``, ...) over the records."""
    return float(getattr(diagnosis_of(records)[0], name))
