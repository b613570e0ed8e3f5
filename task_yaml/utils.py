"""lm-eval hooks for the CardioLens tasks: thin calls into the cardiolens core."""

from __future__ import annotations

from typing import Any

from cardiolens.lm_eval_adapter import docs
from cardiolens.scorers import item_scoring as core

load_docs = docs.load_docs
doc_to_text = docs.doc_text
doc_to_image = docs.doc_images
doc_to_target = docs.doc_target

agg_accuracy = core.agg_accuracy
agg_mean_item_f1 = core.agg_mean_item_f1
agg_micro_f1 = core.corpus_micro_f1
agg_unparsed_rate = core.unparsed_rate


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, Any]:
    return docs.process_doc(doc, results[0])


def agg_macro_f1(records: list[dict[str, Any]]) -> float:
    return core.agg_diagnosis("macro_f1", records)


def agg_balanced_accuracy(records: list[dict[str, Any]]) -> float:
    return core.agg_diagnosis("balanced_accuracy", records)


def agg_top_class_share(records: list[dict[str, Any]]) -> float:
    return core.agg_diagnosis("top_class_share", records)


def agg_predicted_entropy(records: list[dict[str, Any]]) -> float:
    return core.agg_diagnosis("predicted_entropy", records)


def agg_true_entropy(records: list[dict[str, Any]]) -> float:
    return core.agg_diagnosis("true_entropy", records)


def agg_mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")
