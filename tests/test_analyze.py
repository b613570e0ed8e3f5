"""`cardiolens analyze` over a grid of offline runs: tables, CIs, paired tests, figures."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import pytest
from inspect_ai import eval as inspect_eval
from scipy.stats import binomtest

from cardiolens.analysis.results import Row, Run, merge_runs, settings_of
from cardiolens.cli import main
from cardiolens.scorers.statistics import bootstrap_ci, mcnemar_exact, paired_bootstrap

GRID = [(selection, budget, prompt) for selection in ("clinical", "random")
        for budget in (4, 8) for prompt in ("standard", "reasoning")]


@pytest.fixture(scope="module")
def grid_logs(cohort40: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    log_dir = tmp_path_factory.mktemp("grid")
    for selection, budget, prompt in GRID:
        log = inspect_eval("cardiolens/diagnosis", model="cardiolens/random",
                           task_args={"data": str(cohort40), "limit_studies": 12,
                                      "selection": selection, "budget": budget,
                                      "prompt": prompt, "task": "diagnosis_etiology"},
                           log_dir=str(log_dir), display="none")[0]
        assert log.status == "success"
    return log_dir


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


@pytest.mark.slow
def test_analyze_writes_tables_and_figures_that_match_the_logs(
        grid_logs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (grid_logs / "broken.eval").write_bytes(b"not a log")
    out = tmp_path / "analysis"
    assert main(["analyze", str(grid_logs), "--out", str(out), "--replicates", "300",
                 "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "broken.eval: cannot read Inspect log" in err and "Traceback" not in err
    for name in ("report.md", "metrics.csv", "paired_tests.csv", "ablation.csv",
                 "landscape.png"):
        assert (out / name).stat().st_size > 0
    assert len(list(out.glob("confusion_*.png"))) == len(GRID)

    from inspect_ai.log import read_eval_log
    metrics = _rows(out / "metrics.csv")
    for log_file in sorted(grid_logs.glob("*.eval")):
        if log_file.name == "broken.eval":
            continue
        log = read_eval_log(str(log_file))
        assert log.results is not None
        logged = {n: m.value for s in log.results.scores for n, m in s.metrics.items()}
        args = log.eval.task_args
        setting = f"{args['selection']} b{args['budget']} {args['prompt']}"
        mine = {r["metric"]: r for r in metrics if r["setting"] == setting}
        for name in ("accuracy", "macro_f1"):
            value = float(mine[name]["value"])
            assert value == pytest.approx(logged[f"diagnosis_etiology/{name}"], abs=1e-12)
            assert float(mine[name]["ci_low"]) <= value <= float(mine[name]["ci_high"])

    pairs = _rows(out / "paired_tests.csv")
    assert len([p for p in pairs if p["subset"] == "all"]) == len(GRID) * (len(GRID) - 1) // 2
    for row in pairs:
        b, c = (int(x) for x in row["discordant_a_only/b_only"].split("/"))
        expected = binomtest(b, b + c, 0.5).pvalue if b + c else 1.0
        assert float(row["p_value"]) == pytest.approx(expected, rel=1e-9)
    ablation = _rows(out / "ablation.csv")
    assert {(r["selection"], r["budget"], r["prompt"]) for r in ablation} == {
        (s, str(b), p) for s, b, p in GRID}


@pytest.mark.parametrize("b, c", [(0, 0), (1, 0), (3, 7), (10, 2), (25, 25), (40, 11)])
def test_mcnemar_matches_scipy(b: int, c: int) -> None:
    expected = binomtest(b, b + c, 0.5).pvalue if b + c else 1.0
    assert mcnemar_exact(b, c) == pytest.approx(expected, rel=1e-12)


def test_bootstrap_resamples_studies_not_items() -> None:
    # two studies: one with 9 correct items, one with 1 wrong item; item-level resampling
    # would give a tight CI, study-level resampling spans the two studies' means
    rows = [("s1", 1.0)] * 9 + [("s2", 0.0)]
    est = bootstrap_ci(rows, lambda rs: sum(v for _, v in rs) / len(rs), lambda r: r[0],
                       replicates=500, seed=1)
    assert est.value == pytest.approx(0.9) and est.n_studies == 2
    assert est.low == pytest.approx(0.0) and est.high == pytest.approx(1.0)


def test_paired_bootstrap_detects_a_clear_difference() -> None:
    rows = [(0.9, 0.2, f"s{i}") for i in range(30)]
    result = paired_bootstrap(rows, replicates=200, seed=0)
    assert result.difference == pytest.approx(0.7) and result.p_value == 0.0
    same = paired_bootstrap([(0.5, 0.5, f"s{i}") for i in range(10)], replicates=50)
    assert same.difference == 0.0 and not math.isnan(same.p_value)


def test_shards_and_resumed_logs_merge_into_one_run() -> None:
    def row(item: str, correct: bool) -> Row:
        return Row(item, item.split("/")[0], "diagnosis", "diagnosis_etiology", "cross",
                   "single", {"correct": correct})

    settings = settings_of({})
    cancelled = Run("m", "diagnosis", settings, "logs/1.eval", [row("P1/d", False)], errors=1,
                    failed_ids={"P2/d"})
    retried = Run("m", "diagnosis", settings, "logs/2.eval",
                  [row("P1/d", True), row("P2/d", True)])
    other_shard = Run("m", "diagnosis", settings, "host2/3.eval", [row("P3/d", True)],
                      errors=1, failed_ids={"P4/d"})
    other_setting = Run("m", "diagnosis", settings_of({"budget": 4}), "logs/4.eval",
                        [row("P1/d", False)])
    merged = merge_runs([cancelled, retried, other_shard, other_setting])
    assert len(merged) == 2
    main_run = merged[0]
    assert sorted(r.item_id for r in main_run.rows) == ["P1/d", "P2/d", "P3/d"]
    assert next(r for r in main_run.rows if r.item_id == "P1/d").record["correct"]  # later log
    assert main_run.errors == 1 and main_run.failed_ids == {"P4/d"}   # P2 was scored later
    assert main_run.source == "logs/1.eval + 2.eval + 3.eval"


@pytest.mark.parametrize("setting, value", [("image_size", 512), ("max_images", 8),
                                            ("shuffle_options", False), ("layout", "mosaic"),
                                            ("seed", 3), ("scale", False)])
def test_runs_that_differ_in_any_prompt_setting_stay_apart(setting: str, value: Any) -> None:
    row = Row("P1/d", "P1", "diagnosis", "diagnosis_etiology", "cross", "single",
              {"correct": True})
    base = Run("m", "diagnosis", settings_of({}), "logs/1.eval", [row])
    other = Run("m", "diagnosis", settings_of({setting: value}), "logs/2.eval", [row])
    merged = merge_runs([base, other])
    assert len(merged) == 2
    assert merged[0].settings[setting] != merged[1].settings[setting]
    assert merged[0].label != merged[1].label                # the reports tell them apart
    assert f"{setting}={value}" in merged[1].label


def test_every_prompt_setting_is_a_run_key_with_the_task_default() -> None:
    from dataclasses import asdict

    from cardiolens.prompting.prompt_builder import PromptSettings

    assert settings_of({}) == asdict(PromptSettings())
    # the same run as Inspect logs it (typed) and as lm-eval's metadata has it (strings)
    typed = settings_of({"budget": 8, "images": False, "image_size": 384, "model": "x"})
    loose = settings_of({"budget": "8", "images": "false", "image_size": "384"})
    assert typed == loose == {**asdict(PromptSettings()), "budget": 8, "images": False,
                              "image_size": 384}


def _lm_eval_run(folder: Path, stamp: str, doc_extra: dict[str, Any],
                 metadata: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"results_{stamp}.json").write_text(json.dumps(
        {"results": {"cardiolens_diagnosis_etiology": {}},
         "config": {"model": "hf", "metadata": metadata}}))
    doc = {"item_id": "S0/diagnosis_etiology", "study_id": "S0", "level": "diagnosis",
           "subtask": "diagnosis_etiology", "answer_type": "single", **doc_extra}
    (folder / f"samples_cardiolens_diagnosis_etiology_{stamp}.jsonl").write_text(
        json.dumps({"doc": doc, "accuracy": {"correct": True}}) + "\n")


def test_lm_eval_runs_keep_the_settings_they_ran_with(tmp_path: Path) -> None:
    from dataclasses import asdict

    from cardiolens.analysis.results import read_lm_eval_folder
    from cardiolens.prompting.prompt_builder import PromptSettings

    # documents that record their settings, and older ones that do not: those ran before
    # options were shuffled by default, unless the user asked for it
    recorded = json.dumps({**asdict(PromptSettings()), "budget": 8})
    _lm_eval_run(tmp_path / "new", "T1", {"settings": recorded}, {"budget": "8"})
    _lm_eval_run(tmp_path / "old", "T2", {}, {"budget": "8"})
    _lm_eval_run(tmp_path / "asked", "T3", {}, {"shuffle_options": "true"})
    new, old, asked = (read_lm_eval_folder(tmp_path / name)[0].settings
                       for name in ("new", "old", "asked"))
    assert new == {**asdict(PromptSettings()), "budget": 8}
    assert new["shuffle_options"] is True and old["shuffle_options"] is False
    assert old == {**new, "shuffle_options": False, "scale": False}
    assert asked["shuffle_options"] is True
    # recorded before the scale option existed: ran without it
    before_scale = json.dumps({k: v for k, v in json.loads(recorded).items() if k != "scale"})
    _lm_eval_run(tmp_path / "unscaled", "T4", {"settings": before_scale}, {})
    assert read_lm_eval_folder(tmp_path / "unscaled")[0].settings == {**new, "scale": False}
