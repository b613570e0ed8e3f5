"""Model-based finding extraction: the JSON slot reply parser, and
``cardiolens/report_generation -T extractor=<model>`` with a scripted model."""

from __future__ import annotations

from pathlib import Path

import pytest
from inspect_ai import eval as inspect_eval

from cardiolens.scorers.slot_extraction import parse_slot_reply, slot_prompt

from helpers import scripted_model


def test_the_prompt_lists_every_slot_and_the_text() -> None:
    prompt = slot_prompt("No LGE.")
    assert "lge: present | absent" in prompt and "lv_function: normal | " in prompt
    assert prompt.rstrip().endswith("No LGE.\n\nJSON:")


def test_a_reply_is_read_into_the_same_slots_and_bad_entries_are_dropped() -> None:
    reading = parse_slot_reply(
        'Sure: {"findings": {"lge": "present", "lge_wall": ["Inferior", "north"], '
        '"made_up": "x", "lv_function": 3}, "uncertain": {"diagnosis": "myocarditis"}, '
        '"negated": {"diagnosis": ["cardiac amyloidosis"]}}')
    assert reading is not None
    assert reading.found == {("lge", "present"): "present", ("lge_wall", "inferior"): "present",
                             ("diagnosis", "myocarditis"): "uncertain"}
    assert reading.negated == {("diagnosis", "cardiac amyloidosis")}
    assert parse_slot_reply("no JSON here") is None and parse_slot_reply("{broken}") is None
    normal = parse_slot_reply('{"findings": {"etiology": "normal"}}')
    assert normal is not None and ("lge", "absent") in normal.implied


HYP = '{"findings": {"lge": "present", "lge_layer": "subendocardial"}}'
REF = '{"findings": {"lge": "absent"}}'


def test_report_generation_scores_with_a_model_extractor(cohort40: Path,
                                                         tmp_path: Path) -> None:
    from cardiolens.inspect_adapter.tasks import report_generation
    # per sample: the generated section first, then the reference
    extractor = scripted_model([HYP, REF, "not JSON", REF, HYP, REF])
    task = report_generation(data=str(cohort40), section="report_lge", limit_studies=3,
                             extractor=extractor)
    log = inspect_eval(task, model="cardiolens/random", log_dir=str(tmp_path),
                       display="none", max_samples=1)[0]
    assert log.status == "success" and log.samples
    scores = [next(iter(s.scores.values())).value for s in log.samples]
    assert len(scores) == 3
    assert [s["extractor_unparsed_rate"] for s in scores] == [0.0, 0.5, 0.0]
    for s in (scores[0], scores[2]):           # the model's readings: LGE present vs absent
        assert s["contradiction_lge"] == 1.0 and s["clinical_f1"] == 0.0
    assert log.results is not None
    summaries = {name: m.value for sc in log.results.scores for name, m in sc.metrics.items()}
    assert summaries["extractor_unparsed_rate"] == pytest.approx(1 / 6)
    assert {"extractor_agreement", "extractor_agreement_stderr", "contradiction_lge",
            "clinical_f1", "clinical_f1_stderr", "lge/clinical_f1"} <= set(summaries)
    assert all(0.0 <= s["extractor_agreement"] <= 1.0 for s in scores)


def test_extractor_and_judge_share_one_scorer_so_the_summary_stays_two_columns(
        cohort40: Path, tmp_path: Path) -> None:
    """Each scorer is a column pair of the end-of-run summary: the judge rides in the
    extractor's scorer, as in the rule-based one (the 80-column run is in
    test_inspect_tasks.py::test_every_summary_fits_80_columns)."""
    from cardiolens.inspect_adapter.tasks import report_generation
    judge = scripted_model(['{"omissions": 1, "contradictions": 0, "hallucinations": 0, '
                            '"score": 7}'] * 2)
    task = report_generation(data=str(cohort40), section="report_lge", limit_studies=2,
                             extractor=scripted_model([HYP, REF] * 2), judge=judge)
    log = inspect_eval(task, model="cardiolens/random", log_dir=str(tmp_path),
                       display="none", max_samples=1)[0]
    assert log.status == "success" and log.results is not None
    (scored,) = {sc.scorer for sc in log.results.scores}
    assert scored == "model_extraction_scorer"
    names = {name: m.value for sc in log.results.scores for name, m in sc.metrics.items()}
    assert names["judge_score"] == pytest.approx(0.7) and names["extractor_unparsed_rate"] == 0.0
    assert max(len(name) for name in names) <= 29    # name + value in half of 80 columns


def test_without_an_extractor_the_rule_based_reading_is_used(cohort40: Path,
                                                             tmp_path: Path) -> None:
    from cardiolens.inspect_adapter.tasks import report_generation
    task = report_generation(data=str(cohort40), section="report_lge", limit_studies=1)
    log = inspect_eval(task, model="cardiolens/random", log_dir=str(tmp_path), display="none")[0]
    assert log.status == "success" and log.samples
    value = next(iter(log.samples[0].scores.values())).value
    assert "extractor_agreement" not in value and "contradiction_lge" in value


@pytest.mark.parametrize("reply", ["[1, 2]", '{"findings": "lge"}'])
def test_odd_json_gives_an_empty_reading_not_an_error(reply: str) -> None:
    reading = parse_slot_reply(reply)
    assert reading is None or reading.found == {}


def test_the_model_reader_used_by_the_evaluation_script_falls_back_on_bad_replies() -> None:
    from cardiolens.inspect_adapter.model_extraction import agreement, model_reader
    from cardiolens.scorers.cmr_findings import read

    reader = model_reader(scripted_model([REF, "I cannot help with that."]))
    assert reader("Late enhancement is unremarkable.").found == {("lge", "absent"): "absent"}
    text = "Subendocardial LGE in the inferior wall."
    assert agreement(reader(text), read(text)) == 1.0       # the rule-based reading


def test_the_evaluation_script_prints_its_figures_within_80_columns(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from cardiolens.inspect_adapter import model_extraction
    from cardiolens.scorers.cmr_findings import read

    monkeypatch.setattr(model_extraction, "model_reader", lambda model: read)
    assert model_extraction.main(["--model", "openai/gpt-4o-mini", "--split", "test"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "extractor openai/gpt-4o-mini, split test" and len(lines) == 5
    assert max(len(line) for line in lines) <= 80
    assert lines[-1] == "agreement with the rule-based extractor (mean F1): 1.000"
