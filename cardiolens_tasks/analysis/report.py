"""``cardiolens analyze``: results tables with study-level CIs, paired tests, ablations, plots.

Input: :class:`~cardiolens.analysis.results.Run` objects (from Inspect logs or lm-eval folders).
Output in one folder: ``report.md``, ``metrics.csv``, ``subtasks.csv`` (baselines and
chance-corrected scores, :mod:`cardiolens.analysis.chance`), ``levels.csv``,
``paired_tests.csv`` (with multiplicity-adjusted p-values), ``level_tests.csv`` (Wilcoxon
between levels), ``ablation.csv`` (all items and items whose input changed),
``subgroups.csv`` (with ``by``), a confusion-matrix PNG per run and diagnosis task (and per
subgroup), ``landscape.png``. Point estimates of the logged metrics are computed with the
same functions the scorers use, so they equal the metrics in the logs.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from cardiolens.analysis import chance
from cardiolens.analysis.plots import confusion_png, landscape_png
from cardiolens.analysis.results import Row, Run
from cardiolens.scorers import item_scoring as core
from cardiolens.scorers.statistics import (
    adjust_pvalues,
    bootstrap_ci,
    paired_binary,
    paired_bootstrap,
    wilcoxon_signed_rank,
)

Metric = Callable[[Sequence[Row]], float]


def _records(rows: Sequence[Row]) -> list[dict]:
    return [r.record for r in rows]


def _mean(name: str) -> Metric:
    def compute(rows: Sequence[Row]) -> float:
        values = [float(r.record[name]) for r in rows if name in r.record]
        return sum(values) / len(values) if values else float("nan")
    return compute


METRICS: dict[str, dict[str, Metric]] = {
    "image_understanding": {
        "accuracy": lambda rows: core.accuracy(_records(rows))[0],
        "mean_item_f1": lambda rows: core.mean_item_f1(_records(rows))[0],
        "balanced_accuracy": chance.macro_balanced_accuracy,
        "chance_corrected": chance.macro_chance_corrected,
    },
    "diagnosis": {
        "accuracy": lambda rows: core.accuracy(_records(rows))[0],
        "macro_f1": lambda rows: core.diagnosis_of(_records(rows))[0].macro_f1,
        "balanced_accuracy": lambda rows: core.diagnosis_of(_records(rows))[0].balanced_accuracy,
        "kappa": chance.kappa,
        "chance_corrected": chance.macro_chance_corrected,
    },
    "report_generation": {**{name: _mean(name) for name in
                             ("bleu4", "rouge_l", "clinical_f1", "contradiction_rate")},
                          "chance_corrected": chance.macro_chance_corrected},
}
HEADLINE = {"image_understanding": "accuracy", "diagnosis": "accuracy",
            "report_generation": "clinical_f1"}
LEVEL_NAMES = {"image_understanding": "L1 image understanding",
               "report_generation": "L2 report generation",
               "diagnosis": "L3 diagnosis"}
LEVEL_ORDER = tuple(LEVEL_NAMES)


@dataclass(frozen=True)
class TableRow:
    run: Run
    group: str
    metric: str
    value: float
    low: float
    high: float
    n_items: int
    n_studies: int
    note: str = ""
    """Why the CI is missing or unreliable (empty when it is fine)."""


def groups_of(run: Run) -> dict[str, list[Row]]:
    """``all`` plus per-sequence (Level 1) or per-subtask (reports, diagnosis) groups."""
    out: dict[str, list[Row]] = {}
    if run.level != "diagnosis":
        out["all"] = list(run.rows)
    for row in run.rows:
        key = row.sequence if run.level == "image_understanding" else row.subtask
        out.setdefault(key, []).append(row)
    return out


def ci_note(rows: Sequence[Row]) -> str:
    """``n/a: one study`` or ``unreliable: ...`` when a CI of these rows cannot be trusted."""
    studies = len({r.study_id for r in rows})
    if studies < 2:
        return f"n/a: {studies} study (a study-level bootstrap needs two or more)"
    fewest = chance.min_class_studies(rows)
    if fewest is not None and fewest < chance.MIN_CLASS_STUDIES:
        return f"unreliable: a class has {fewest} < {chance.MIN_CLASS_STUDIES} studies"
    return ""


def metrics_table(runs: Sequence[Run], replicates: int, seed: int,
                  progress: Callable[[Run], None] | None = None,
                  groups: Callable[[Run], dict[str, list[Row]]] = groups_of) -> list[TableRow]:
    table: list[TableRow] = []
    for run in runs:
        for group, rows in groups(run).items():
            note = ci_note(rows)
            for name, metric in METRICS[run.level].items():
                if name == "mean_item_f1" and not any(r.answer_type == "multi" for r in rows):
                    continue
                if name in ("balanced_accuracy", "kappa") and not any(
                        r.answer_type == "single" for r in rows):
                    continue
                est = bootstrap_ci(rows, metric, lambda r: r.study_id, replicates, seed)
                table.append(TableRow(run, group, name, est.value, est.low, est.high,
                                      est.n_items, est.n_studies, note))
        if progress:
            progress(run)
    return table


@dataclass(frozen=True)
class PairRow:
    a: Run
    b: Run
    metric: str
    test: str
    n_items: int
    mean_a: float
    mean_b: float
    difference: float
    p_value: float
    discordant: str
    subset: str = "all"
    """``all`` items both runs scored, or ``changed``: those whose images differ."""
    p_adjusted: float = float("nan")


def input_changed(a: Row, b: Row, budget_a: int, budget_b: int) -> bool:
    """Whether an item's images differ between two runs.

    Exact when both logs list the selected frames; otherwise from ``frames_available``:
    the images are the same (all frames) when both budgets are at least that many.
    """
    if a.meta.get("frames") is not None and b.meta.get("frames") is not None:
        return list(a.meta["frames"]) != list(b.meta["frames"])
    available = a.meta.get("frames_available", b.meta.get("frames_available"))
    if available is None:
        return True
    return min(budget_a, budget_b) < int(available)


def _input_differs(a: Run, b: Run) -> bool:
    keys = ("selection", "budget")
    return any(a.settings.get(k) != b.settings.get(k) for k in keys) and \
        a.settings.get("images", True) and b.settings.get("images", True)


def _pair_rows(a: Run, b: Run, shared: list[tuple[Row, Row]], subset: str, replicates: int,
               seed: int) -> list[PairRow]:
    out: list[PairRow] = []
    if not shared:
        return out
    if a.level == "report_generation":
        for name in ("clinical_f1", "rouge_l"):
            triples = [(float(x.record[name]), float(y.record[name]), x.study_id)
                       for x, y in shared if name in x.record and name in y.record]
            if triples:
                res = paired_bootstrap(triples, replicates, seed)
                out.append(PairRow(a, b, name, res.test, res.n_items, res.mean_a,
                                   res.mean_b, res.difference, res.p_value, "", subset))
        return out
    binary = paired_binary([(float(x.record["exact"]), float(y.record["exact"]))
                            for x, y in shared])
    out.append(PairRow(a, b, "accuracy", binary.test, binary.n_items, binary.mean_a,
                       binary.mean_b, binary.difference, binary.p_value,
                       f"{binary.discordant[0]}/{binary.discordant[1]}"
                       if binary.discordant else "", subset))
    multi = [(float(x.record["f1"]), float(y.record["f1"]), x.study_id)
             for x, y in shared if x.answer_type == "multi"]
    if multi:
        res = paired_bootstrap(multi, replicates, seed)
        out.append(PairRow(a, b, "item_f1", res.test, res.n_items, res.mean_a,
                           res.mean_b, res.difference, res.p_value, "", subset))
    return out


def paired_tests(runs: Sequence[Run], replicates: int, seed: int,
                 adjust: str = "holm") -> list[PairRow]:
    """Every pair of runs of one level and model, on the items both scored.

    Pairs whose selection or budget differ are also tested on the items whose images
    changed (:func:`input_changed`). P-values are adjusted for multiplicity (``holm`` or
    ``bh``) within each family: one level, model, metric and subset.
    """
    out: list[PairRow] = []
    for a, b in itertools.combinations(runs, 2):
        if a.level != b.level or a.model != b.model:
            continue
        rows_b = {r.item_id: r for r in b.rows}
        shared = [(r, rows_b[r.item_id]) for r in a.rows if r.item_id in rows_b]
        out += _pair_rows(a, b, shared, "all", replicates, seed)
        if _input_differs(a, b):
            budgets = int(a.settings["budget"]), int(b.settings["budget"])
            changed = [(x, y) for x, y in shared if input_changed(x, y, *budgets)]
            out += _pair_rows(a, b, changed, "changed", replicates, seed)
    families: dict[tuple[str, str, str, str], list[int]] = {}
    for i, p in enumerate(out):
        families.setdefault((p.a.level, p.a.model, p.metric, p.subset), []).append(i)
    adjusted = list(out)
    for members in families.values():
        for i, value in zip(members, adjust_pvalues([out[i].p_value for i in members], adjust),
                            strict=True):
            adjusted[i] = replace(out[i], p_adjusted=value)
    return adjusted


@dataclass(frozen=True)
class LevelTest:
    model: str
    setting: str
    level_a: str
    level_b: str
    n_studies: int
    mean_a: float
    mean_b: float
    statistic: float
    p_value: float
    method: str
    p_adjusted: float = float("nan")


def level_tests(runs: Sequence[Run], adjust: str = "holm") -> list[LevelTest]:
    """Wilcoxon signed-rank between levels within a model and setting, paired by study, on
    study-level chance-corrected scores (:func:`cardiolens.analysis.chance.study_scores`)."""
    by_key: dict[tuple[str, str], dict[str, Run]] = {}
    for run in runs:
        by_key.setdefault((run.model, run.setting_label), {})[run.level] = run
    out: list[LevelTest] = []
    for (model, setting), levels in by_key.items():
        present = [lv for lv in LEVEL_ORDER if lv in levels]
        for la, lb in itertools.combinations(present, 2):
            sa, sb = chance.study_scores(levels[la].rows), chance.study_scores(levels[lb].rows)
            studies = sorted(set(sa) & set(sb))
            if not studies:
                continue
            x, y = [sa[s] for s in studies], [sb[s] for s in studies]
            res = wilcoxon_signed_rank(x, y)
            out.append(LevelTest(model, setting, la, lb, len(studies), sum(x) / len(x),
                                 sum(y) / len(y), res.statistic, res.p_value, res.method))
    p_adj = adjust_pvalues([t.p_value for t in out], adjust)
    return [replace(t, p_adjusted=p) for t, p in zip(out, p_adj, strict=True)]


def _setting_key(run: Run, without: Sequence[str]) -> tuple[str, ...]:
    return tuple(str(run.settings.get(k)) for k in ("budget", "prompt", "images", "etiology")
                 if k not in without)


@dataclass(frozen=True)
class AblationRow:
    row: TableRow
    changed_value: float
    n_changed: int


def ablation_table(runs: Sequence[Run], table: Sequence[TableRow]) -> list[AblationRow]:
    """The headline per run, on all items and on the items whose images differ between the
    protocols compared at the same budget and prompt (:func:`input_changed`)."""
    head = sorted((t for t in table if t.metric == HEADLINE[t.run.level] and t.group == (
        "all" if t.run.level != "diagnosis" else "diagnosis_etiology")),
        key=lambda t: (t.run.model, t.run.level, str(t.run.settings["selection"]),
                       int(t.run.settings["budget"]), str(t.run.settings["prompt"])))
    peers: dict[tuple[str, ...], list[Run]] = {}
    for run in runs:
        peers.setdefault((run.model, run.level, *_setting_key(run, ())), []).append(run)
    out = []
    for t in head:
        group = peers[(t.run.model, t.run.level, *_setting_key(t.run, ()))]
        rows = [r for r in t.run.rows if t.group == "all" or r.subtask == t.group]
        others = [{r.item_id: r for r in p.rows} for p in group if p is not t.run]
        budget = int(t.run.settings["budget"])
        changed = [r for r in rows if not others or any(
            r.item_id in o and input_changed(r, o[r.item_id], budget, budget) for o in others)]
        value = METRICS[t.run.level][t.metric](changed) if changed else float("nan")
        out.append(AblationRow(t, value, len(changed)))
    return out


def subgroup_of(row: Row, by: str) -> str:
    """The subgroup of a row for ``--by``: ``source`` or ``meta.<field>`` of its study."""
    if by == "source":
        return str(row.meta.get("source") or "unknown")
    if by.startswith("meta.") and len(by) > 5:
        value = (row.meta.get("meta") or {}).get(by[5:])
        return "unknown" if value in (None, "") else str(value)
    raise ValueError(f"--by must be 'source' or 'meta.<field>', not {by!r}")


def subgroups_of(by: str) -> Callable[[Run], dict[str, list[Row]]]:
    def groups(run: Run) -> dict[str, list[Row]]:
        out: dict[str, list[Row]] = {}
        for group, rows in groups_of(run).items():
            for row in rows:
                out.setdefault(f"{group} [{by}={subgroup_of(row, by)}]", []).append(row)
        return dict(sorted(out.items()))
    return groups


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:80]


def _fmt(value: float) -> str:
    return "nan" if value != value else f"{value:.3f}"


def _md(text: object) -> str:
    """A Markdown table cell: pipes escaped."""
    return str(text).replace("|", "\\|")


def _ci(t: TableRow) -> str:
    if t.note.startswith("n/a"):
        return t.note
    interval = f"[{_fmt(t.low)}, {_fmt(t.high)}]"
    return f"{interval} ({t.note})" if t.note else interval


def _metric_row(t: TableRow) -> str:
    """One row of the metrics and subgroups tables."""
    return (f"| {_md(t.run.model)} | {_md(t.run.setting_label)} | {t.run.level} | "
            f"{_md(t.group)} | {t.metric} | {_fmt(t.value)} | {_ci(t)} | {t.n_items} | "
            f"{t.n_studies} |")


def _write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def landscape_values(runs: Sequence[Run]) -> dict[str, dict[str, float]]:
    """Subtask-macro chance-corrected score per level, averaged over the selection
    protocols of each model and (budget, prompt, images) setting: the paper's Figure 3."""
    cells: dict[str, dict[str, list[float]]] = {}
    for run in runs:
        s = run.settings
        blind = " blind" if not s.get("images", True) else ""
        label = f"{run.model} | b{s.get('budget')} {s.get('prompt')}{blind}"
        value = chance.macro_chance_corrected(run.rows)
        if value == value:
            cells.setdefault(label, {}).setdefault(LEVEL_NAMES[run.level], []).append(value)
    return {label: {lv: sum(v) / len(v) for lv, v in levels.items()}
            for label, levels in cells.items()}


def write_analysis(runs: Sequence[Run], out: Path, replicates: int = 1000, seed: int = 0,
                   progress: Callable[[Run], None] | None = None, adjust: str = "holm",
                   by: str | None = None) -> list[Path]:
    """Write the report, tables and figures for ``runs`` into ``out``; the files written."""
    if by is not None:
        for run in runs[:1]:
            for row in run.rows[:1]:
                subgroup_of(row, by)        # refuses a malformed --by before any work
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    table = metrics_table(runs, replicates, seed, progress)
    pairs = paired_tests(runs, replicates, seed, adjust)
    levels = level_tests(runs, adjust)
    ablation = ablation_table(runs, table)
    summaries = {id(run): chance.summarise(run.rows) for run in runs}

    written.append(_write_csv(out / "metrics.csv", [
        "model", "setting", "level", "group", "metric", "value", "ci_low", "ci_high",
        "n_items", "n_studies", "ci_note"], [
        [t.run.model, t.run.setting_label, t.run.level, t.group, t.metric, t.value, t.low,
         t.high, t.n_items, t.n_studies, t.note] for t in table]))
    written.append(_write_csv(out / "subtasks.csv", [
        "model", "setting", "level", "subtask", "n_items", "n_studies", "score",
        "balanced_accuracy", "kappa", "majority_baseline", "uniform_baseline",
        "chance_corrected", "min_class_studies"], [
        [run.model, run.setting_label, run.level, s.subtask, s.n_items, s.n_studies, s.score,
         s.balanced_accuracy, s.kappa, s.majority, s.uniform, s.chance_corrected,
         s.min_class_studies] for run in runs for s in summaries[id(run)]]))
    level_rows = [[run.model, run.setting_label, run.level, len(run.rows),
                   chance.macro(run.rows, "score"), chance.macro(run.rows, "majority"),
                   chance.macro(run.rows, "uniform"),
                   chance.macro(run.rows, "balanced_accuracy"), chance.macro(run.rows, "kappa"),
                   chance.macro_chance_corrected(run.rows)] for run in runs]
    written.append(_write_csv(out / "levels.csv", [
        "model", "setting", "level", "n_items", "macro_score", "macro_majority",
        "macro_uniform", "macro_balanced_accuracy", "macro_kappa", "macro_chance_corrected"],
        level_rows))
    written.append(_write_csv(out / "paired_tests.csv", [
        "level", "run_a", "run_b", "metric", "subset", "test", "n_items", "mean_a", "mean_b",
        "difference", "p_value", f"p_{adjust}", "discordant_a_only/b_only"], [
        [p.a.level, p.a.label, p.b.label, p.metric, p.subset, p.test, p.n_items, p.mean_a,
         p.mean_b, p.difference, p.p_value, p.p_adjusted, p.discordant] for p in pairs]))
    written.append(_write_csv(out / "level_tests.csv", [
        "model", "setting", "level_a", "level_b", "n_studies", "mean_a", "mean_b",
        "statistic", "p_value", f"p_{adjust}", "method"], [
        [t.model, t.setting, t.level_a, t.level_b, t.n_studies, t.mean_a, t.mean_b,
         t.statistic, t.p_value, t.p_adjusted, t.method] for t in levels]))
    written.append(_write_csv(out / "ablation.csv", [
        "model", "level", "selection", "budget", "prompt", "images", "metric", "value",
        "ci_low", "ci_high", "value_changed", "n_items", "n_items_changed"], [
        [a.row.run.model, a.row.run.level, *(a.row.run.settings[k] for k in
         ("selection", "budget", "prompt", "images")), a.row.metric, a.row.value, a.row.low,
         a.row.high, a.changed_value, a.row.n_items, a.n_changed] for a in ablation]))
    subgroups: list[TableRow] = []
    if by is not None:
        subgroups = metrics_table(runs, replicates, seed, groups=subgroups_of(by))
        written.append(_write_csv(out / "subgroups.csv", [
            "model", "setting", "level", "group", "metric", "value", "ci_low", "ci_high",
            "n_items", "n_studies", "ci_note"], [
            [t.run.model, t.run.setting_label, t.run.level, t.group, t.metric, t.value, t.low,
             t.high, t.n_items, t.n_studies, t.note] for t in subgroups]))

    figures: list[Path] = []
    for run in runs:
        if run.level != "diagnosis":
            continue
        groups = groups_of(run) if by is None else {**groups_of(run), **subgroups_of(by)(run)}
        for subtask, rows in groups.items():
            result, classes = core.diagnosis_of(_records(rows))
            path = out / f"confusion_{_slug(run.label)}_{_slug(subtask)}.png"
            confusion_png(result, classes, f"{run.label} - {subtask}", path)
            figures.append(path)
    landscape_path = out / "landscape.png"
    landscape_png(landscape_values(runs), list(LEVEL_NAMES.values()), landscape_path)
    figures.append(landscape_path)
    written += figures

    report = out / "report.md"
    report.write_text(_markdown(runs, table, summaries, level_rows, pairs, levels, ablation,
                                subgroups, figures, replicates, adjust), encoding="utf-8")
    written.append(report)
    return written


def _markdown(runs: Sequence[Run], table: Sequence[TableRow],
              summaries: dict[int, list[chance.SubtaskSummary]], level_rows: list[list[object]],
              pairs: Sequence[PairRow], levels: Sequence[LevelTest],
              ablation: Sequence[AblationRow], subgroups: Sequence[TableRow],
              figures: Sequence[Path], replicates: int, adjust: str) -> str:
    method = {"holm": "Holm", "bh": "Benjamini-Hochberg"}[adjust]
    lines = ["# CardioLens results", "",
             f"95% CIs: percentile bootstrap over studies ({replicates} replicates); items of "
             "one study are resampled together. A CI is marked unreliable when a true class "
             f"has fewer than {chance.MIN_CLASS_STUDIES} studies, n/a with one study. "
             "Baselines come from the evaluated items' answers: majority (always the most "
             "frequent answer) and uniform (a random option). Chance-corrected = (score - "
             "majority) / (1 - majority): 0 is a prior-only answerer, 1 perfect; levels and "
             "groups average it over subtasks (subtask-macro). Paired tests use the items "
             "both runs scored: exact McNemar for correct/incorrect, a paired study-level "
             f"bootstrap for F1 and report scores; p-values are {method}-adjusted within each "
             "level, model, metric and subset.", "", "## Runs", "",
             "| model | setting | level | items | errors | source |", "|---|---|---|---|---|---|"]
    for run in runs:
        lines.append(f"| {_md(run.model)} | {_md(run.setting_label)} | {run.level} | "
                     f"{len(run.rows)} | {run.errors} | {_md(Path(run.source).name)} |")
    lines += ["", "## Levels (subtask-macro)", "",
              "| model | setting | level | items | score | majority | uniform | balanced acc. "
              "| kappa | chance-corrected |", "|---|---|---|---|---|---|---|---|---|---|"]
    for row in level_rows:
        lines.append("| " + " | ".join(_md(v) if isinstance(v, str) else
                                       (_fmt(v) if isinstance(v, float) else str(v))
                                       for v in row) + " |")
    lines += ["", "## Levels compared (Wilcoxon signed-rank on study-level chance-corrected "
              "scores)", "", f"| model | setting | A | B | studies | A | B | W | p | p {method} |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for lt in levels:
        lines.append(f"| {_md(lt.model)} | {_md(lt.setting)} | {lt.level_a} | {lt.level_b} | "
                     f"{lt.n_studies} | {_fmt(lt.mean_a)} | {_fmt(lt.mean_b)} | "
                     f"{_fmt(lt.statistic)} | {lt.p_value:.4g} | {lt.p_adjusted:.4g} |")
    lines += ["", "## Metrics", "", "| model | setting | level | group | metric | value "
              "| 95% CI | items | studies |", "|---|---|---|---|---|---|---|---|---|"]
    lines += [_metric_row(t) for t in table]
    lines += ["", "## Subtasks: baselines and chance-corrected scores", "",
              "| model | setting | subtask | items | score | balanced acc. | kappa | majority "
              "| uniform | chance-corrected |", "|---|---|---|---|---|---|---|---|---|---|"]
    for run in runs:
        for s in summaries[id(run)]:
            lines.append(f"| {_md(run.model)} | {_md(run.setting_label)} | {s.subtask} | "
                         f"{s.n_items} | {_fmt(s.score)} | {_fmt(s.balanced_accuracy)} | "
                         f"{_fmt(s.kappa)} | {_fmt(s.majority)} | {_fmt(s.uniform)} | "
                         f"{_fmt(s.chance_corrected)} |")
    lines += ["", "## Ablation (protocol x budget x prompt)", "",
              "All items, and the items whose images differ between the protocols compared "
              "at that budget (identical inputs dilute a protocol effect).", "",
              "| model | level | selection | budget | prompt | images | metric | value | "
              "95% CI | changed items | value on changed |", "|---|---|---|---|---|---|---|---|"
              "---|---|---|"]
    for a in ablation:
        t, cfg = a.row, a.row.run.settings
        lines.append(f"| {_md(t.run.model)} | {t.run.level} | {cfg['selection']} | "
                     f"{cfg['budget']} | {cfg['prompt']} | {cfg['images']} | {t.metric} | "
                     f"{_fmt(t.value)} | {_ci(t)} | {a.n_changed}/{t.n_items} | "
                     f"{_fmt(a.changed_value)} |")
    lines += ["", "## Paired tests", "", f"| level | A | B | metric | subset | test | items | "
              f"A | B | A-B | p | p {method} |", "|---" * 12 + "|"]
    for p in pairs:
        lines.append(f"| {p.a.level} | {_md(p.a.label)} | {_md(p.b.label)} | {p.metric} | "
                     f"{p.subset} | {p.test} | {p.n_items} | {_fmt(p.mean_a)} | "
                     f"{_fmt(p.mean_b)} | {_fmt(p.difference)} | {p.p_value:.4g} | "
                     f"{p.p_adjusted:.4g} |")
    if subgroups:
        lines += ["", "## Subgroups", "", "| model | setting | level | group | metric | value "
                  "| 95% CI | items | studies |", "|---|---|---|---|---|---|---|---|---|"]
        lines += [_metric_row(t) for t in subgroups]
    lines += ["", "## Figures", ""] + [f"![{f.stem}]({f.name})" for f in figures]
    return "\n".join(lines) + "\n"
