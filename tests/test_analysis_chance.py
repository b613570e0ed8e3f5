"""Baselines, chance-corrected scores, changed-input ablation, report.md formatting."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from cardiolens.analysis import chance
from cardiolens.analysis.report import (
    ablation_table,
    level_tests,
    metrics_table,
    paired_tests,
    write_analysis,
)
from cardiolens.analysis.results import Row, Run, settings_of
from cardiolens.scorers.diagnosis import diagnosis_metrics
from cardiolens.scorers.statistics import adjust_pvalues, wilcoxon_signed_rank

OPTIONS = ["Yes", "No"]


def _row(study: str, subtask: str, truth: str, predicted: str | None, level: str =
         "image_understanding", **meta: object) -> Row:
    record = {"answer_type": "single", "options": OPTIONS if subtask != "dx" else
              ["ICM", "NICM", "Normal"], "target": [truth],
              "predicted": [predicted] if predicted else [], "parsed": predicted is not None,
              "exact": float(predicted == truth), "f1": float(predicted == truth)}
    return Row(f"{study}/{subtask}", study, level, subtask, "lge", "single", record,
               dict(meta))


def test_baselines_and_chance_corrected_score_by_hand() -> None:
    # 10 items, truth 7 Yes / 3 No; a model that says Yes to all but one Yes
    rows = [_row(f"S{i}", "lge_presence", "Yes", "Yes" if i else "No") for i in range(7)]
    rows += [_row(f"S{i}", "lge_presence", "No", "Yes") for i in range(7, 10)]
    (summary,) = chance.summarise(rows)
    assert summary.score == pytest.approx(0.6) and summary.majority == pytest.approx(0.7)
    assert summary.uniform == pytest.approx(0.5)
    assert summary.chance_corrected == pytest.approx((0.6 - 0.7) / 0.3)
    # recall Yes 6/7, recall No 0/3
    assert summary.balanced_accuracy == pytest.approx((6 / 7 + 0) / 2)
    expected = diagnosis_metrics([r.record["predicted"][0] for r in rows],
                                 [r.record["target"][0] for r in rows], OPTIONS)
    assert summary.balanced_accuracy == pytest.approx(expected.balanced_accuracy)
    # p_o 0.6, p_e 0.7*0.9 + 0.3*0.1 = 0.66
    assert summary.kappa == pytest.approx((0.6 - 0.66) / (1 - 0.66))
    assert summary.min_class_studies == 3


def test_a_majority_answerer_scores_zero_chance_corrected() -> None:
    rows = [_row(f"S{i}", "a", "Yes" if i % 4 else "No", "Yes") for i in range(12)]
    rows += [_row(f"S{i}", "b", "No" if i % 3 else "Yes", "No") for i in range(12)]
    assert chance.macro(rows, "score") > 0.6
    assert chance.macro_chance_corrected(rows) == pytest.approx(0.0)
    scores = chance.study_scores(rows)      # item scores: right +1, wrong -3 (a) or -2 (b)
    assert scores["S0"] == pytest.approx((-3 + -2) / 2) and scores["S1"] == pytest.approx(1)
    assert sum(scores.values()) / len(scores) == pytest.approx(0.0)


def _run(rows: list[Row], level: str = "image_understanding", model: str = "m",
         **settings: object) -> Run:
    return Run(model, level, settings_of(settings), "x.eval", rows)


def test_ablation_and_paired_tests_separate_items_whose_images_changed() -> None:
    same = ["lge_sax:0:0", "lge_sax:1:0"]
    runs = []
    for selection, moved in (("clinical", ["lge_sax:0:0"]), ("random", ["lge_sax:5:0"])):
        rows = [_row(f"S{i}", "lge_presence", "Yes", "Yes" if (i + len(selection)) % 3 else
                     "No", frames=same if i < 6 else moved) for i in range(12)]
        runs.append(_run(rows, selection=selection, budget=2))
    table = metrics_table(runs, replicates=20, seed=0)
    ablation = ablation_table(runs, table)
    assert [a.n_changed for a in ablation] == [6, 6]
    pairs = paired_tests(runs, replicates=20, seed=0)
    assert [(p.subset, p.n_items) for p in pairs] == [("all", 12), ("changed", 6)]


def test_without_logged_frames_a_budget_covering_every_frame_means_no_change() -> None:
    def rows(selection: str) -> list[Row]:
        return [_row(f"S{i}", "t2_edema_presence", "No", "No" if i % 2 else "Yes",
                     frames_available=9) for i in range(4)]
    for budget, changed in ((8, 4), (16, 0)):
        runs = [_run(rows(s), selection=s, budget=budget) for s in ("clinical", "random")]
        ablation = ablation_table(runs, metrics_table(runs, replicates=10, seed=0))
        assert all(a.n_changed == changed for a in ablation)
        assert all(math.isnan(a.changed_value) for a in ablation) == (changed == 0)


def test_paired_p_values_are_adjusted_within_a_family() -> None:
    runs = [_run([_row(f"S{i}", "lge_presence", "Yes", "Yes" if (i * k) % 5 else "No")
                  for i in range(30)], selection="clinical", budget=b)
            for k, b in ((1, 4), (2, 8), (3, 16))]
    pairs = [p for p in paired_tests(runs, 10, 0, adjust="bh") if p.subset == "all"]
    assert len(pairs) == 3
    assert [p.p_adjusted for p in pairs] == pytest.approx(
        adjust_pvalues([p.p_value for p in pairs], "bh"))


def test_level_tests_pair_studies_on_chance_corrected_scores() -> None:
    l1 = [_row(f"S{i}", "a", "Yes" if i % 3 else "No", "Yes" if i % 2 else "No")
          for i in range(15)]
    l3 = [_row(f"S{i}", "dx", "ICM" if i % 2 else "NICM", "NICM", level="diagnosis")
          for i in range(15)]
    (test,) = level_tests([_run(l1), _run(l3, level="diagnosis")])
    a, b = chance.study_scores(l1), chance.study_scores(l3)
    expected = wilcoxon_signed_rank([a[s] for s in sorted(a)], [b[s] for s in sorted(a)])
    assert (test.level_a, test.level_b, test.n_studies) == ("image_understanding",
                                                            "diagnosis", 15)
    assert test.p_value == pytest.approx(expected.p_value)


def test_report_escapes_pipes_and_explains_missing_cis(tmp_path: Path) -> None:
    one = _run([_row("S0", "dx", "ICM", "ICM", level="diagnosis", source="phantom",
                     meta={"sex": "F"})], level="diagnosis", model="openai|gpt")
    written = write_analysis([one], tmp_path, replicates=10, by="meta.sex")
    text = (tmp_path / "report.md").read_text()
    assert "openai\\|gpt" in text and "[nan, nan]" not in text
    assert "n/a: 1 study" in text
    for line in text.splitlines():
        if line.startswith("| openai"):
            cells = line.replace("\\|", "").count("|")
            header = next(h for h in text.split("\n\n") if line in h).splitlines()[0]
            assert cells == header.count("|"), line
    assert (tmp_path / "subgroups.csv") in written
    assert "dx [meta.sex=F]" in (tmp_path / "subgroups.csv").read_text()
    with pytest.raises(ValueError, match="--by must be"):
        write_analysis([one], tmp_path, replicates=10, by="sex")


def test_analyze_help_shows_a_single_percent_sign(capsys: pytest.CaptureFixture[str]) -> None:
    from cardiolens.cli import main

    with pytest.raises(SystemExit):
        main(["analyze", "--help"])
    out = capsys.readouterr().out
    assert "95% CIs" in " ".join(out.split()) and "%%" not in out
