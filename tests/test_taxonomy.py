"""The taxonomy file: counts, option contracts and validation errors."""

from __future__ import annotations

import copy
from pathlib import Path

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


def test_every_subtask_has_a_reasoning_checklist_and_a_source() -> None:
    tax = load_taxonomy()
    for subtask in tax.subtasks.values():
        assert len(subtask.reasoning) >= 2 and subtask.source in ("paper", "inferred", "project")
    # the paper's LGE-segment checklist, in its order
    steps = tax.get("lge_levels").reasoning
    assert [s.split(":")[0] for s in steps[:4]] == [
        "Segment identification", "Enhancement presence by segment",
        "Distribution along the long axis", "Consistency across frames"]
    assert tax.get("lge_levels").reasoning_source == "paper"
    assert "thinning, thickening or bulging" in " ".join(tax.get("cine_wall_thickness").reasoning)


def test_function_subtasks_are_the_ones_that_need_an_ed_es_pair() -> None:
    tax = load_taxonomy()
    needs = {s.id for s in tax.subtasks.values() if s.function}
    assert {"cine_lv_function", "cine_rwma_presence", "cine_rv_status", "diagnosis_etiology",
            "diagnosis_nicm_subtype"} <= needs
    assert not needs & {"lge_levels", "cine_wall_thickness", "t2_edema_presence"}


def test_reasoning_prompt_lists_the_checklist_and_standard_does_not() -> None:
    from cardiolens.data.dataset import Item
    from cardiolens.prompting.prompts import build_prompt

    subtask = load_taxonomy().get("lge_levels")
    item = Item("S/lge_levels", "S", "image_understanding", "lge_levels", ["Apex"])
    reasoning = build_prompt(item, subtask, [], {}, {}, style="reasoning")
    standard = build_prompt(item, subtask, [], {}, {}, style="standard")
    blind = build_prompt(item, subtask, [], {}, {}, style="reasoning", images=False)
    for n, step in enumerate(subtask.reasoning, 1):
        assert f"{n}. {step}" in reasoning.question and step not in standard.question
        assert step not in blind.question       # the checklist reads images; blind has none
    assert reasoning.question.rstrip().endswith("'Answer: <letters separated by commas>'.")


def test_etiology_is_binary_on_diseased_studies_by_default() -> None:
    from cardiolens.data.dataset import Item
    from cardiolens.data.items import asked_items

    items = [Item(f"S{n}/diagnosis_etiology", f"S{n}", "diagnosis", "diagnosis_etiology", a)
             for n, a in enumerate(["Normal", "Ischemic cardiomyopathy",
                                    "Non-ischemic cardiomyopathy"])]
    binary = asked_items(items)
    assert [i.answer for i in binary] == ["Ischemic cardiomyopathy",
                                          "Non-ischemic cardiomyopathy"]
    assert all(i.options == ["Ischemic cardiomyopathy", "Non-ischemic cardiomyopathy"]
               for i in binary)
    three = asked_items(items, {"diagnosis_etiology": "three_way"})
    assert [i.answer for i in three] == [i.answer for i in items]
    assert all(i.options is None for i in three)
    with pytest.raises(TaxonomyError, match="unknown variant 'four'"):
        asked_items(items, {"diagnosis_etiology": "four"})


def test_docs_taxonomy_table_matches_the_file() -> None:
    from pathlib import Path

    text = (Path(__file__).parent.parent / "docs" / "taxonomy.md").read_text()
    rows = {line.split("|")[2].strip().strip("`"): [c.strip() for c in line.split("|")]
            for line in text.splitlines() if line.startswith("| ") and "`" in line}
    for subtask in load_taxonomy().subtasks.values():
        cells = rows[subtask.id]
        assert cells[3] == ", ".join(subtask.series) and cells[4] == subtask.source
        assert (cells[5] == "yes") == subtask.function and cells[6] == subtask.reasoning_source


def test_version_is_2_0_since_the_default_etiology_is_binary_and_1_0_datasets_still_read(
        tmp_path: Path) -> None:
    """Dropping Normal from the default etiology question makes scores incomparable with
    1.0 (a MAJOR change); the stored answers did not change, so 1.0 datasets validate and
    any other version is named."""
    import json

    from cardiolens.data.validate import validate_dataset

    from helpers import make_tiny_dataset

    taxonomy = load_taxonomy()
    assert taxonomy.version == "2.0" and taxonomy.dataset_versions == ("2.0", "1.0")
    assert taxonomy.subtasks["diagnosis_etiology"].default_variant == "binary"
    root = make_tiny_dataset(tmp_path / "d")
    card = json.loads((root / "cardiolens.json").read_text())
    assert card["taxonomy_version"] == "2.0"
    for version, problems in (("1.0", []), ("0.9", ["taxonomy_version '0.9' differs from "
                                                    "this package's '2.0' (reads datasets "
                                                    "of 2.0, 1.0)"])):
        (root / "cardiolens.json").write_text(json.dumps({**card, "taxonomy_version": version}))
        assert [p.reason for p in validate_dataset(root)] == problems
