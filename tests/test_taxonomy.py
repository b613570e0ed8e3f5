"""The taxonomy file: counts, option contracts and validation errors."""

from __future__ import annotations

import copy

import pytest
import yaml

from cardiolens.data.taxonomy import load_taxonomy, parse_taxonomy
from cardiolens.errors import TaxonomyError

TAXONOMY_FILE = "taxonomy.yaml"


def _raw() -> dict:
    from importlib import resources
    return yaml.safe_load(resources.files("cardiolens.data").joinpath(TAXONOMY_FILE).read_text())


def test_choice_subtasks_have_unique_options_and_routed_series() -> None:
    tax = load_taxonomy()
    for sub in tax.subtasks.values():
        assert sub.question.strip()
        assert sub.series, sub.id
        if sub.answer_type in ("single", "multi"):
            assert len(sub.options) >= 2, sub.id
            assert len(set(sub.options)) == len(sub.options), sub.id


@pytest.mark.parametrize("mutate, message", [
    (lambda r: r["levels"]["image_understanding"].pop(0), "32"),
    (lambda r: r["levels"]["image_understanding"][1].update(answer_type="maybe"), "answer_type"),
    (lambda r: r["levels"]["image_understanding"][1].update(when="sometimes"), "condition"),
    (lambda r: r["levels"]["image_understanding"][1].update(options=["A", "A"]), "option"),
    (lambda r: r["levels"]["image_understanding"][1].pop("question"), "question"),
    (lambda r: r["levels"]["image_understanding"][1].update(sequences=["xray"]), "xray"),
])
def test_malformed_taxonomy_is_refused_with_a_reason(mutate, message: str) -> None:
    raw = copy.deepcopy(_raw())
    mutate(raw)
    with pytest.raises(TaxonomyError, match=message):
        parse_taxonomy(raw)
