"""`cardiolens audit`: label shortcuts, the clinician's rules, priors, and the phantom's
disease model measured with them (label sets only, no pixels)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from cardiolens.audit.labels import (
    PATTERN_FINDINGS,
    LabelSet,
    clinician_rules,
    fit_tree,
    label_audit,
    lookup_accuracy,
    phantom_label_sets,
    predict_tree,
)
from cardiolens.audit.priors import prior_baselines, wording_baselines
from cardiolens.audit.report import format_priors
from cardiolens.cli import main
from cardiolens.data.dataset import Item
from cardiolens.data.findings import build_items
from cardiolens.data.taxonomy import load_taxonomy
from cardiolens.phantom.cohort import (
    DEFAULT_SEED,
    DEFAULT_STUDIES,
    plan_diagnoses,
    sample_params,
    smallest_cohort,
)
from cardiolens.phantom.labels import findings_from_params
from cardiolens.prompting.prompts import displayed_options


def test_lookup_rule_finds_an_informative_finding_and_not_a_random_one() -> None:
    rng = np.random.default_rng(0)
    targets = [str(t) for t in rng.choice(["a", "b", "c"], 300, p=[0.5, 0.3, 0.2])]
    assert lookup_accuracy(targets, targets) == 1.0
    noise = [str(v) for v in rng.integers(0, 4, 300)]
    assert abs(lookup_accuracy(noise, targets) - 0.5) < 0.1


def test_tree_learns_a_two_feature_rule() -> None:
    rng = np.random.default_rng(1)
    x = rng.random((400, 5)) < 0.5
    y = (x[:, 1] & ~x[:, 3]).astype(int)
    tree = fit_tree(x, y, 2, depth=2)
    assert np.array_equal(predict_tree(tree, x), y)
    assert fit_tree(x, y, 2, depth=0).feature is None


def test_clinician_rules_read_the_findings_as_a_cardiologist_would() -> None:
    normal = {"cine_lv_function": "Normal (EF >= 50%)", "cine_wall_thickness": "Normal",
              "lge_presence": "No", "perf_defect_presence": "No", "cine_rwma_presence": "No"}
    athlete = {**normal, "cine_lv_size": "Dilated", "cine_rv_status": "Dilated"}
    insertion = {**normal, "lge_presence": "Yes", "lge_rv_insertion": "Yes",
                 "lge_walls": ["Anteroseptal", "Inferoseptal"], "lge_distribution": "Focal",
                 "lge_pattern": "Non-ischemic"}
    hibernating = {**normal, "perf_defect_presence": "Yes", "cine_rwma_presence": "Yes",
                   "cine_lv_function": "Mildly reduced (40-49%)"}
    hcm_defect = {**hibernating, "cine_wall_thickness": "Thickened"}
    scar = {**normal, "lge_presence": "Yes", "lge_pattern": "Ischemic (follows a coronary "
            "territory)"}
    assert [clinician_rules(a) for a in (normal, athlete, insertion)] == ["Normal"] * 3
    assert clinician_rules(hibernating) == clinician_rules(scar) == "Ischemic cardiomyopathy"
    assert clinician_rules(hcm_defect) == "Non-ischemic cardiomyopathy"


def test_priors_give_majority_and_option_a_rates() -> None:
    answers = ["Normal", "Normal", "Dilated", "Small"]
    items = [Item(f"S{i}/cine_lv_size", f"S{i}", "image_understanding", "cine_lv_size",
                  answer=a) for i, a in enumerate(answers)]
    items.append(Item("S0/cine_rwma_walls", "S0", "image_understanding", "cine_rwma_walls",
                      answer=["Anterior", "Septal"]))
    priors = prior_baselines(items)
    shown_first = [displayed_options(item, load_taxonomy().subtasks["cine_lv_size"],
                                     shuffle=True, seed=0)[0] for item in items[:4]]
    assert shown_first != ["Normal"] * 4          # the shuffle moves "Normal" off position A
    shuffled_a = sum(a == f for a, f in zip(answers, shown_first, strict=True)) / 4
    assert priors["cine_lv_size"] == {"items": 4, "majority_answer": "Normal", "majority": 0.5,
                                      "option_a": 0.5, "option_a_shuffled": shuffled_a,
                                      "options_seen": 3, "never_right": []}
    assert priors["cine_rwma_walls"]["option_a"] == 0.0      # the whole set must match
    # a multi-label answer makes each of its options a right answer
    assert priors["cine_rwma_walls"]["never_right"] == ["Inferior", "Lateral"]


def test_audit_names_the_options_that_are_no_right_answer() -> None:
    # a model that never picks such an option loses nothing on the dataset, so the audit
    # lists them; the default cohort has none
    items = [Item(f"S{i}/cine_lv_size", f"S{i}", "image_understanding", "cine_lv_size",
                  answer=a) for i, a in enumerate(["Normal", "Dilated", "Normal"])]
    lines = format_priors(prior_baselines(items))
    assert "  cine_lv_size" + " " * 14 + " Small" in lines
    full = [Item(f"S{i}/cine_lv_size", f"S{i}", "image_understanding", "cine_lv_size",
                 answer=a) for i, a in enumerate(["Normal", "Dilated", "Small"])]
    assert format_priors(prior_baselines(full))[-1].startswith("Every option of every")
    # an item's own options are what it shows: only those can be never right
    own = [Item(f"S{i}/cine_lv_size", f"S{i}", "image_understanding", "cine_lv_size",
                answer="Normal", options=["Normal", "Dilated"]) for i in range(2)]
    assert prior_baselines(own)["cine_lv_size"]["never_right"] == ["Dilated"]
    # any iterable of items, a generator too
    assert prior_baselines(iter(items))["cine_lv_size"]["never_right"] == ["Small"]


def test_shuffled_options_take_position_a_off_the_majority_on_the_default_cohort() -> None:
    # taxonomy order puts "Normal"/"None" first, so answering "A" scores the majority rate
    # in many subtasks; the prompts' default shuffle brings it to about one in k: within a
    # binomial bound of 1/k per subtask (a 2-option subtask of 29 items reads 0.66 by chance
    # on the default cohort) and over all those subtasks pooled
    taxonomy = load_taxonomy()
    plan = plan_diagnoses(DEFAULT_STUDIES, DEFAULT_SEED)
    params = [sample_params(DEFAULT_SEED, study, diagnosis)
              for study, diagnosis in enumerate(plan)]
    items = [item for p in params for item in build_items(
        p.study_id, findings_from_params(p), ["cine_sax", "cine_4ch", "lge_sax", "t2_sax",
                                              "perf_sax"], {})]
    priors = prior_baselines(items)
    fixed = [sid for sid, row in priors.items() if row["option_a"] == row["majority"] >= 0.7]
    assert len(fixed) >= 3
    hits = expected = variance = 0.0
    for sid in fixed:
        n, chance = priors[sid]["items"], 1 / len(taxonomy.get(sid).options)
        spread = (chance * (1 - chance) / n) ** 0.5
        assert priors[sid]["option_a_shuffled"] <= chance + 3 * spread, sid
        hits += priors[sid]["option_a_shuffled"] * n
        expected += chance * n
        variance += chance * (1 - chance) * n
    assert hits <= expected + 3 * variance ** 0.5
    assert hits < sum(priors[sid]["majority"] * priors[sid]["items"] for sid in fixed) / 2


def _options_never_right(studies: int, seed: int) -> dict[str, set[str]]:
    """The options of each subtask that no study of the phantom cohort has as its answer."""
    seen: dict[str, set[str]] = {}
    for ls in phantom_label_sets(studies, seed):
        seen.setdefault("diagnosis_etiology", set()).add(ls.etiology)
        if ls.subtype:
            seen.setdefault("diagnosis_nicm_subtype", set()).add(ls.subtype)
        for sid, answer in ls.answers.items():
            seen.setdefault(sid, set()).update([answer] if isinstance(answer, str) else answer)
    missing = {subtask.id: set(subtask.options) - seen.get(subtask.id, set())
               for subtask in load_taxonomy().subtasks.values()
               if subtask.answer_type != "report"}
    return {sid: options for sid, options in missing.items() if options}


def test_default_cohort_makes_every_option_a_right_answer() -> None:
    # issue 14: at least 10 studies of every diagnosis, every option a right answer
    counts = Counter(plan_diagnoses(DEFAULT_STUDIES, DEFAULT_SEED))
    assert len(counts) == 8 and min(counts.values()) >= 10
    assert _options_never_right(DEFAULT_STUDIES, DEFAULT_SEED) == {}


def test_audit_finds_the_same_unused_options_as_the_label_sets() -> None:
    # the audit's never_right (from the items) agrees with the label sets' answers
    from cardiolens.audit.labels import phantom_items
    from cardiolens.audit.priors import never_right

    for seed in range(DEFAULT_SEED + 1):
        found = {sid: set(options)
                 for sid, options in never_right(phantom_items(DEFAULT_STUDIES, seed)).items()}
        assert found == _options_never_right(DEFAULT_STUDIES, seed), seed


def test_default_cohort_is_the_smallest_with_ten_of_each_at_the_first_covering_seed() -> None:
    # issue 14: 10 studies of every diagnosis in as few studies as the prevalence allows
    # (the first run generates them); the default seed is the first whose cohort of that
    # size makes every option a right answer
    assert smallest_cohort(10) == DEFAULT_STUDIES
    for seed in range(DEFAULT_SEED):
        assert _options_never_right(DEFAULT_STUDIES, seed), seed


def test_no_single_finding_but_the_pattern_gives_away_the_etiology() -> None:
    result = label_audit(phantom_label_sets(400, seed=3))
    single = {sid: acc["etiology"] for sid, acc in result["single"].items()
              if sid not in PATTERN_FINDINGS}
    worst = max(single, key=lambda sid: single[sid])
    assert single[worst] <= 0.78, (worst, single[worst])   # 2,000 sets: <= 0.75 (README)
    assert result["clinician_rules"]["etiology"] >= 0.9
    assert result["majority"]["etiology"] < result["tree"]["etiology"]


def test_audit_command_prints_a_table_and_writes_json(cohort40: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "audit.json"
    assert main(["audit", str(cohort40), "--json", str(out)]) == 0
    table = capsys.readouterr().out
    assert "Label shortcuts (40 studies" in table and "clinician_rules" in table
    figures = json.loads(out.read_text())
    assert set(figures["label_shortcuts"]["single"]) == {
        s.id for s in load_taxonomy().by_level("image_understanding")}
    assert figures["priors"]["diagnosis_etiology"]["items"] == 40
    assert "Wording (single-answer subtasks" in table
    unused = {sid: row["never_right"] for sid, row in figures["priors"].items()
              if row["never_right"]}
    # 40 studies leave rare options unused: exactly the options no answer in items.jsonl
    # names; the table lists each of them
    answered: dict[str, set[str]] = {}
    for line in (cohort40 / "items.jsonl").read_text().splitlines():
        record = json.loads(line)
        answer = record.get("answer")
        if answer is not None:
            answered.setdefault(record["subtask"], set()).update(
                [answer] if isinstance(answer, str) else answer)
    taxonomy = load_taxonomy()
    expected = {sid: [o for o in taxonomy.subtasks[sid].options if o not in answered[sid]]
                for sid in figures["priors"]}
    assert unused == {sid: options for sid, options in expected.items() if options} != {}
    section = table.split("no item's right answer")[1].split("Wording")[0]
    for sid, options in unused.items():
        assert f"  {sid:26} {'; '.join(options)}\n" in section, sid
    assert set(figures["wording"]["cine_lv_size"]) == {"shortest", "longest", "question_words"}


def test_audit_of_a_folder_that_is_no_dataset_is_one_line(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]
                                                           ) -> None:
    assert main(["audit", str(tmp_path / "missing")]) == 1
    err = capsys.readouterr().err
    assert "missing" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_label_sets_skip_studies_without_a_diagnosis() -> None:
    from cardiolens.audit.labels import label_sets_from_items

    items = [Item("A/cine_lv_size", "A", "image_understanding", "cine_lv_size", "Normal"),
             Item("B/diagnosis_etiology", "B", "diagnosis", "diagnosis_etiology", "Normal")]
    assert label_sets_from_items(items) == [LabelSet("B", {}, "Normal", None)]


def test_audit_of_phantom_label_sets_needs_no_dataset(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "labels.json"
    assert main(["audit", "--phantom", "60", "--phantom-seed", "2", "--json", str(out)]) == 0
    assert "Label shortcuts (60 studies" in capsys.readouterr().out
    # a seed's unused options, before generating its pixels: seed 0 of the default size
    # leaves "Edema without LGE" unused, the default seed nothing
    assert main(["audit", "--phantom", str(DEFAULT_STUDIES), "--phantom-seed", "0"]) == 0
    assert "Edema without LGE" in capsys.readouterr().out.split("no item's right answer")[1]
    assert main(["audit", "--phantom", str(DEFAULT_STUDIES), "--phantom-seed",
                 str(DEFAULT_SEED)]) == 0
    assert "Every option of every subtask with items" in capsys.readouterr().out
    assert json.loads(out.read_text())["label_shortcuts"]["studies"] == 60
    assert main(["audit", str(tmp_path), "--phantom", "60"]) == 1
    assert "one of the two" in capsys.readouterr().err
    assert main(["audit"]) == 1


def test_wording_rules_find_an_answer_given_away_by_its_wording() -> None:
    # a label set whose answer is always the longest option, never the shortest
    sub = load_taxonomy().subtasks["cine_lv_size"]
    longest = max(sub.options, key=len)
    items = [Item(f"S{i}/cine_lv_size", f"S{i}", "image_understanding", "cine_lv_size",
                  answer=longest) for i in range(5)]
    items.append(Item("S0/cine_rwma_walls", "S0", "image_understanding", "cine_rwma_walls",
                      answer=["Anterior"]))                      # multi-label: not rated
    rates = wording_baselines(items)
    assert set(rates) == {"cine_lv_size"}
    assert rates["cine_lv_size"]["longest"] == 1.0
    assert rates["cine_lv_size"]["shortest"] == 0.0


def test_no_wording_rule_beats_the_majority_on_the_default_cohort_plan() -> None:
    plan = plan_diagnoses(DEFAULT_STUDIES, DEFAULT_SEED)
    params = [sample_params(DEFAULT_SEED, i, d) for i, d in enumerate(plan)]
    items = [item for p in params for item in build_items(
        p.study_id, findings_from_params(p), ["cine_sax", "cine_4ch", "lge_sax", "t2_sax",
                                              "perf_sax"], {})]
    priors = prior_baselines(items)
    for sid, rates in wording_baselines(items).items():
        assert max(rates.values()) <= priors[sid]["majority"], (sid, rates)


def test_caption_numbers_do_not_give_away_the_diagnosis() -> None:
    # a caption states each image's slice count, phase count and ES phase, the perfusion
    # dynamics and the displayed field of view and scale; no one of these may tell a model
    # the diagnosis or a finding without the pixels: each number's best lookup rule stays
    # within 0.04 of the majority rate (README "Caption numbers" for the combined figures)
    numbers: dict[str, list[str]] = {}
    targets: dict[str, list[str]] = {}
    plan = plan_diagnoses(600, 5)
    for index, diagnosis in enumerate(plan):
        p = sample_params(5, index, diagnosis)
        a, s = p.acq, p.scan
        stated = {"slices": a.n_slices, "phases": a.n_phases, "es_phase": a.es_phase,
                  "dynamics": a.n_dynamics, "mm_per_pixel": f"{a.pixel_mm:.3g}",
                  "fov": f"{s.cols * a.pixel_mm:.0f}x{s.rows * a.pixel_mm:.0f}"}
        stated["cine_timing"] = (a.n_slices, a.n_phases, a.es_phase)
        for name, value in stated.items():
            numbers.setdefault(name, []).append(str(value))
        f = findings_from_params(p)
        for name, value in {"etiology": f.etiology, "diagnosis": diagnosis,
                            "lv_size": f.cine.lv_size, "lge": str(f.lge is not None),
                            "edema": str(f.edema is not None)}.items():
            targets.setdefault(name, []).append(value)
    for target, y in targets.items():
        majority = Counter(y).most_common(1)[0][1] / len(y)
        for name, values in numbers.items():
            assert lookup_accuracy(values, y) <= majority + 0.04, (name, target)
