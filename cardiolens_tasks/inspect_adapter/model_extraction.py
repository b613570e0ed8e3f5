"""Model-based finding extraction for ``cardiolens/report_generation -T extractor=<model>``.

The named Inspect model fills the rule-based extractor's slots as JSON
(:mod:`cardiolens.scorers.slot_extraction`) for the generated section and for the
reference; the clinical scores are computed from those readings with the same functions.
A reply that does not parse falls back to the rule-based reading of that text and counts in
``extractor_unparsed_rate``; ``extractor_agreement`` is the finding F1 between the model's
and the rule-based reading of the generated section.

``python -m cardiolens.inspect_adapter.model_extraction --model M [--split test]`` scores
the evaluation set (see :mod:`cardiolens.scorers.extractor_eval`) with the model as the
extractor and prints its figures and its agreement with the rule-based extractor.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from inspect_ai.model import GenerateConfig, Model, get_model
from inspect_ai.scorer import Metric, SampleScore, Score, Scorer, Target, Value, metric, scorer
from inspect_ai.solver import TaskState

from cardiolens.inspect_adapter.scoring import (
    by_section,
    clustered_mean,
    judge_summary,
    judge_verdict,
    report_means,
    report_values,
)
from cardiolens.scorers import item_scoring as core
from cardiolens.scorers.clinical_score import asserted, compare, compare_readings
from cardiolens.scorers.cmr_findings import Reading, read
from cardiolens.scorers.extractor_eval import (
    DEFAULT_DIR,
    PairFigures,
    SentenceFigures,
    load_split,
    pair_figures,
    sentence_figures,
)
from cardiolens.scorers.slot_extraction import parse_slot_reply, slot_prompt


async def model_reading(model: Model, text: str) -> tuple[Reading, bool]:
    """The model's reading of ``text`` and whether it parsed (else the rule-based one)."""
    reply = await model.generate(slot_prompt(text))
    reading = parse_slot_reply(reply.completion)
    return (reading, True) if reading is not None else (read(text), False)


def agreement(a: Reading, b: Reading) -> float:
    """Finding F1 between two readings of the same text."""
    return compare(asserted(a.found), asserted(b.found)).f1


@metric
def extractor_means() -> Metric:
    """The extractor's figures over all sections: mean agreement with the rule-based
    reading (study-clustered stderr) and the share of replies that did not parse."""

    def compute(scores: list[SampleScore]) -> Value:
        value, err = clustered_mean(scores, report_values(scores, "extractor_agreement"))
        unparsed = report_values(scores, "extractor_unparsed_rate")
        return {"extractor_agreement": value, "extractor_agreement_stderr": err,
                "extractor_unparsed_rate": sum(unparsed) / len(unparsed) if unparsed
                else float("nan")}

    return compute


@scorer(metrics=[report_means(), extractor_means(), by_section(), judge_summary()])
def model_extraction_scorer(extractor: str | Model, judge: str | Model | None = None) -> Scorer:
    """The report scores with ``extractor`` (an Inspect model) reading the findings; with
    ``judge``, also the judge's verdict. The same metrics as the rule-based report scorer
    plus the extractor's, in one scorer, so the summary stays two columns in 80."""

    async def score(state: TaskState, target: Target) -> Score:
        model = get_model(extractor, config=GenerateConfig(temperature=0.0))
        generated = core.report_text(state.output.completion)
        hypothesis, ok_h = await model_reading(model, generated)
        reference, ok_r = await model_reading(model, target.text)
        values = core.report_scores(state.output.completion, target.text,
                                    readings=(hypothesis, reference))
        values["extractor_agreement"] = agreement(hypothesis, read(generated))
        values["extractor_unparsed_rate"] = (2 - ok_h - ok_r) / 2
        meta: dict[str, Any] = {"answer_type": "report"}
        if judge is not None:
            meta.update(await judge_verdict(judge, state, target))
        return Score(value=dict(values), answer=generated[:200], metadata=meta)

    return score


def model_reader(model: str | Model) -> Callable[[str], Reading]:
    """A synchronous reader (text -> reading) asking ``model``, for the evaluation script."""
    resolved = get_model(model, config=GenerateConfig(temperature=0.0))
    return lambda text: asyncio.run(model_reading(resolved, text))[0]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cardiolens.inspect_adapter.model_extraction",
                                     description="Score the evaluation set with a model as "
                                                 "the finding extractor.")
    parser.add_argument("--model", required=True, help="an Inspect model, e.g. openai/gpt-4o")
    parser.add_argument("--split", default="test",
                        help="a split in the folder (sentences_<split>.jsonl), or all")
    parser.add_argument("folder", nargs="?", default=str(DEFAULT_DIR))
    args = parser.parse_args(argv)
    try:
        sentences = load_split(Path(args.folder), "sentences", args.split)
        pairs = load_split(Path(args.folder), "pairs", args.split)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    reader = model_reader(args.model)
    readings = {r["text"]: reader(r["text"]) for r in sentences}
    s = sentence_figures(sentences, readings.__getitem__)
    p = pair_figures(pairs, lambda a, b: compare_readings(reader(a), reader(b)))
    agree = [agreement(readings[r["text"]], read(r["text"])) for r in sentences]
    for line in summary_lines(args.model, args.split, s, p,
                              sum(agree) / len(agree) if agree else 1.0):
        print(line)
    return 0


def summary_lines(model: str, split: str, s: SentenceFigures, p: PairFigures,
                  agree: float) -> list[str]:
    """The evaluation figures with the model as the extractor, one topic a line (within 80
    columns unless the model name alone is longer), as ``extractor_eval`` prints its own."""
    return [f"extractor {model}, split {split}",
            f"findings: precision {s.precision:.3f} recall {s.recall:.3f}; "
            f"polarity flips {s.flips}",
            f"same-meaning pairs: F1 >= 0.7 {p.same_f1_ok:.3f}, "
            f"no contradiction {p.same_no_contradiction:.3f}",
            f"clinically-different pairs: contradiction {p.different_contradicted:.3f}",
            f"agreement with the rule-based extractor (mean F1): {agree:.3f}"]


if __name__ == "__main__":
    sys.exit(main())
