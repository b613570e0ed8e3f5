"""The clinical report score on real-style report prose: the sign flips, spellings, numbers
and scopes that the extractor used to get wrong, and the goals on the held-out split of the
hand-labelled evaluation set (tests/data/report_sentences)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cardiolens.scorers.clinical_score import asserted, clinical_scores
from cardiolens.scorers.cmr_findings import extract, read
from cardiolens.scorers.cmr_vocabulary import SLOT_VALUES
from cardiolens.scorers.extractor_eval import (
    SAME_F1,
    available_splits,
    main,
    pair_figures,
    read_jsonl,
    sentence_figures,
)
from cardiolens.scorers.item_scoring import CONTRADICTION_METRICS, report_scores

DATA = Path(__file__).parent / "data" / "report_sentences"


def facts(text: str) -> set[tuple[str, str]]:
    return asserted(extract(text))


@pytest.mark.parametrize("text, wanted, unwanted", [
    ("Findings are consistent with a non-ischaemic cardiomyopathy.",
     {("etiology", "non-ischemic cardiomyopathy")}, {("etiology", "ischemic cardiomyopathy")}),
    ("No LGE to suggest infarction or infiltration.", {("lge", "absent")},
     {("etiology", "ischemic cardiomyopathy"), ("infarct", "present"), ("lge", "present")}),
    ("LVEF 35%.", {("lv_function", "moderately reduced")}, set()),
    ("The ejection fraction was estimated at 62 per cent.", {("lv_function", "normal")}, set()),
    ("Transmural infarction of the infero-lateral wall.",
     {("lge", "present"), ("lge_layer", "transmural"), ("lge_wall", "inferolateral")}, set()),
    ("Subendocardial LGE in segments 1, 2, 7 and 8.",
     {("lge_level", "basal"), ("lge_level", "mid"), ("lge_wall", "anterior"),
      ("lge_wall", "anteroseptal")}, set()),
    ("Pericardial enhancement without myocardial involvement.",
     {("pericardial_enhancement", "present")}, {("lge", "present")}),
    ("Mid-wall fibrosis of the interventricular septum.",
     {("lge_layer", "mid-wall"), ("lge_wall", "anteroseptal"), ("lge_wall", "inferoseptal")},
     set()),
    ("LV dilatation with impaired systolic function.",
     {("lv_size", "dilated"), ("lv_function", "reduced")}, set()),
    ("Global hypokinesis.", {("lv_function", "reduced")}, {("rwma", "present")}),
    ("Late enhancement imaging is unremarkable.", {("lge", "absent")}, set()),
    ("Regional wall motion is normal.", {("rwma", "absent")}, set()),
    ("Maximal wall thickness 19 mm in the basal septum.",
     {("wall_thickness", "thickened"), ("thickened_wall", "septal")}, set()),
    ("LVEDVi 125 ml/m2.", {("lv_size", "dilated")}, set()),
    ("LVEF 58% and RVEF 38%.", {("lv_function", "normal"), ("rv_function", "reduced")}, set()),
    ("LGE: No myocardial LGE.", {("lge", "absent")}, {("lge", "present")}),
    ("LGE: subendocardial scar in the inferior wall.",
     {("lge", "present"), ("lge_wall", "inferior")}, set()),
    ("No evidence of myocardial oedema, infarction or infiltration.",
     {("edema", "absent"), ("infarct", "absent")}, {("infarct", "present"), ("lge", "present")}),
    ("No LGE, small pericardial effusion.", {("lge", "absent"), ("effusion", "small")}, set()),
])
def test_real_style_sentences(text: str, wanted: set[tuple[str, str]],
                              unwanted: set[tuple[str, str]]) -> None:
    got = facts(text)
    assert wanted <= got, got
    assert not unwanted & got, got


def test_a_hedge_lands_on_the_diagnosis_not_on_the_finding() -> None:
    got = extract("Patchy subepicardial LGE of the lateral wall, suspicious for sarcoidosis.")
    assert got[("lge", "present")] == "present"
    assert got[("diagnosis", "cardiac sarcoidosis")] == "uncertain"


@pytest.mark.parametrize("generated, reference, group", [
    ("Non-ischaemic cardiomyopathy, no infarction.",
     "Ischaemic cardiomyopathy with LAD infarction.", "diagnosis"),
    ("LVEF 60%.", "LVEF 30%.", "lv_function"),
    ("Normal CMR.", "Subendocardial scar in the basal inferior wall.", "lge"),
    ("No abnormality detected.", "The left ventricle is dilated.", "lv_size"),
    ("Subendocardial LGE of the inferior wall.", "Subepicardial LGE of the inferior wall.",
     "lge_layer"),
    ("Myocarditis is unlikely.", "Acute myocarditis.", "diagnosis"),
    ("Global hypokinesis.", "Normal LV systolic function.", "lv_function"),
])
def test_clinically_opposite_statements_contradict(generated: str, reference: str,
                                                   group: str) -> None:
    scores = clinical_scores(generated, reference)
    assert scores.contradictions >= 1 and group in scores.contradicted_groups
    assert report_scores(generated, reference)[f"contradiction_{group}"] == 1.0


@pytest.mark.parametrize("generated, reference", [
    ("Late enhancement imaging is unremarkable.", "No LGE."),
    ("Regional wall motion is normal.", "No regional wall motion abnormality."),
    ("Normal CMR.", "No significant abnormality is identified."),
    ("Impaired LV function, EF 38%.", "Moderately reduced left ventricular systolic function."),
    ("Normal cardiac MRI.", "Normal LV size and function, no late enhancement."),
])
def test_same_meaning_in_other_words_scores_high_without_contradiction(
        generated: str, reference: str) -> None:
    scores = clinical_scores(generated, reference)
    assert scores.f1 >= SAME_F1 and scores.contradictions == 0
    assert all(report_scores(generated, reference)[m] == 0.0 for m in CONTRADICTION_METRICS)


def test_a_normal_report_implies_absences_only_where_the_text_is_silent() -> None:
    reading = read("Normal study. Small pericardial effusion.")
    assert ("lge", "absent") in reading.implied
    assert not any(slot == "effusion" for slot, _ in reading.implied)
    stated = read("Normal CMR apart from subendocardial LGE in the inferior wall.")
    assert ("lge", "absent") not in stated.implied


def test_every_label_uses_the_slot_vocabulary() -> None:
    for path in sorted(DATA.glob("sentences_*.jsonl")):
        for row in read_jsonl(path):
            for label in row["findings"] + row["hedged"]:
                slot, _, value = label.partition("=")
                assert value in SLOT_VALUES.get(slot, ()), (path.name, label)


def test_the_evaluation_set_is_large_enough_and_split() -> None:
    sentences = [r for s in ("dev", "test") for r in read_jsonl(DATA / f"sentences_{s}.jsonl")]
    pairs = [r for s in ("dev", "test") for r in read_jsonl(DATA / f"pairs_{s}.jsonl")]
    assert len(sentences) >= 150 and len(pairs) >= 60
    dev = {r["text"] for r in read_jsonl(DATA / "sentences_dev.jsonl")}
    test = {r["text"] for r in read_jsonl(DATA / "sentences_test.jsonl")}
    assert not dev & test


def test_the_splits_do_not_share_sentences() -> None:
    texts = {s: {r["text"] for r in read_jsonl(DATA / f"sentences_{s}.jsonl")}
             for s in available_splits(DATA)}
    assert set(texts) >= {"dev", "test", "fresh", "probe"}
    for a in texts:
        for b in texts:
            assert a == b or not texts[a] & texts[b], (a, b)


@pytest.mark.parametrize("split", ["dev", "fresh", "probe", "fresh2", "fresh3"])
def test_no_polarity_flips_on_the_tuned_splits(split: str) -> None:
    """The splits tuned on stay free of flipped negations (a regression guard)."""
    s = sentence_figures(read_jsonl(DATA / f"sentences_{split}.jsonl"))
    assert s.flips == 0, s.errors


def test_goals_on_the_held_out_split() -> None:
    s = sentence_figures(read_jsonl(DATA / "sentences_test.jsonl"))
    p = pair_figures(read_jsonl(DATA / "pairs_test.jsonl"))
    assert s.precision >= 0.9 and s.recall >= 0.85, s.errors
    assert s.flips == 0, s.errors
    assert p.same_f1_ok >= 0.9 and p.same_no_contradiction >= 0.9, p.errors
    assert p.different_contradicted >= 0.9, p.errors


def test_the_script_reports_and_names_a_bad_file(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--split", "dev"]) == 0
    assert "findings: precision" in capsys.readouterr().out
    (tmp_path / "sentences_test.jsonl").write_text("{broken\n")
    (tmp_path / "pairs_test.jsonl").write_text("")
    assert main([str(tmp_path)]) == 2
    assert "sentences_test.jsonl:1: not valid JSON" in capsys.readouterr().err


def test_the_script_takes_any_split_in_the_folder(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--split", "probe"]) == 0
    assert capsys.readouterr().out.startswith("split probe: 213 sentences, 48 pairs")
    row = '{"text": "No LGE.", "findings": ["lge=absent"], "hedged": []}\n'
    (tmp_path / "sentences_mine.jsonl").write_text(row)      # no pairs file: no pairs
    (tmp_path / "sentences_other.jsonl").write_text(row * 2)
    (tmp_path / "pairs_other.jsonl").write_text(
        '{"a": "No LGE.", "b": "LGE absent.", "label": "same"}\n')
    assert available_splits(tmp_path) == ("mine", "other")
    assert main([str(tmp_path), "--split", "mine"]) == 0
    assert "split mine: 1 sentences, 0 pairs" in capsys.readouterr().out
    assert main([str(tmp_path), "--split", "all"]) == 0
    assert "split all: 3 sentences, 1 pairs" in capsys.readouterr().out
    assert main([str(tmp_path), "--split", "test"]) == 2
    assert "no split 'test'" in (err := capsys.readouterr().err) and "mine, other" in err
    assert main([str(tmp_path / "empty"), "--split", "all"]) == 2
    assert "no sentences_<split>.jsonl" in capsys.readouterr().err
