"""``cardiolens analyze``: results tables with study-level CIs, paired tests, ablations, plots.

Input: :class:`~cardiolens.analysis.results.Run` objects (from Inspect logs or lm-eval folders).
Output in one folder: ``report.md``, ``metrics.csv``, ``paired_tests.csv``,
``ablation.csv``, a confusion-matrix PNG per run and diagnosis task, ``landscape.png``.
Point estimates are computed with the same functions the scorers use, so they equal the
metrics in the logs.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cardiolens.analysis.plots import confusion_png, landscape_png
from cardiolens.analysis.results import Row, Run
from cardiolens.scorers import item_scoring as core
from cardiolens.scorers.statistics import bootstrap_ci, paired_binary, paired_bootstrap

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
    },
    "diagnosis": {
        "accuracy": lambda rows: core.accuracy(_records(rows))[0],
        "macro_f1": lambda rows: core.diagnosis_of(_records(rows))[0].macro_f1,
    },
    "report_generation": {name: _mean(name) for name in
                          ("bleu4", "rouge_l", "clinical_f1", "contradiction_rate")},
}
HEADLINE = {"image_understanding": "accuracy", "diagnosis": "accuracy",
            "report_generation": "clinical_f1"}
LEVEL_NAMES = {"image_understanding": "L1 image understanding (accuracy)",
               "report_generation": "L2 report (clinical F1)",
               "diagnosis": "L3 diagnosis (etiology accuracy)"}


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


def groups_of(run: Run) -> dict[str, list[Row]]:
    """``all`` plus per-sequence (Level 1) or per-subtask (reports, diagnosis) groups."""
    out: dict[str, list[Row]] = {}
    if run.level != "diagnosis":
        out["all"] = list(run.rows)
    for row in run.rows:
        key = row.sequence if run.level == "image_understanding" else row.subtask
        out.setdefault(key, []).append(row)
    return out


def metrics_table(runs: Sequence[Run], replicates: int, seed: int,
                  progress: Callable[[Run], None] | None = None) -> list[TableRow]:
    table: list[TableRow] = []
    for run in runs:
        for group, rows in groups_of(run).items():
            for name, metric in METRICS[run.level].items():
                if name == "mean_item_f1" and not any(r.answer_type == "multi" for r in rows):
                    continue
                est = bootstrap_ci(rows, metric, lambda r: r.study_id, replicates, seed)
                table.append(TableRow(run, group, name, est.value, est.low, est.high,
                                      est.n_items, est.n_studies))
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


def paired_tests(runs: Sequence[Run], replicates: int, seed: int) -> list[PairRow]:
    """Every pair of runs of one level, on the items both scored."""
    out: list[PairRow] = []
    for a, b in itertools.combinations(runs, 2):
        if a.level != b.level:
            continue
        rows_b = {r.item_id: r for r in b.rows}
        shared = [(r, rows_b[r.item_id]) for r in a.rows if r.item_id in rows_b]
        if not shared:
            continue
        if a.level == "report_generation":
            for name in ("clinical_f1", "rouge_l"):
                triples = [(float(x.record[name]), float(y.record[name]), x.study_id)
                           for x, y in shared if name in x.record and name in y.record]
                if triples:
                    res = paired_bootstrap(triples, replicates, seed)
                    out.append(PairRow(a, b, name, res.test, res.n_items, res.mean_a,
                                       res.mean_b, res.difference, res.p_value, ""))
            continue
        binary = paired_binary([(float(x.record["exact"]), float(y.record["exact"]))
                                for x, y in shared])
        out.append(PairRow(a, b, "accuracy", binary.test, binary.n_items, binary.mean_a,
                           binary.mean_b, binary.difference, binary.p_value,
                           f"{binary.discordant[0]}/{binary.discordant[1]}"
                           if binary.discordant else ""))
        multi = [(float(x.record["f1"]), float(y.record["f1"]), x.study_id)
                 for x, y in shared if x.answer_type == "multi"]
        if multi:
            res = paired_bootstrap(multi, replicates, seed)
            out.append(PairRow(a, b, "item_f1", res.test, res.n_items, res.mean_a,
                               res.mean_b, res.difference, res.p_value, ""))
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:80]


def _fmt(value: float) -> str:
    return "nan" if value != value else f"{value:.3f}"


def write_analysis(runs: Sequence[Run], out: Path, replicates: int = 1000, seed: int = 0,
                   progress: Callable[[Run], None] | None = None) -> list[Path]:
    """Write the report, tables and figures for ``runs`` into ``out``; the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    table = metrics_table(runs, replicates, seed, progress)
    pairs = paired_tests(runs, replicates, seed)

    metrics_csv = out / "metrics.csv"
    with metrics_csv.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["model", "setting", "level", "group", "metric", "value", "ci_low",
                         "ci_high", "n_items", "n_studies"])
        for t in table:
            writer.writerow([t.run.model, t.run.setting_label, t.run.level, t.group, t.metric,
                             t.value, t.low, t.high, t.n_items, t.n_studies])
    written.append(metrics_csv)

    pairs_csv = out / "paired_tests.csv"
    with pairs_csv.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["level", "run_a", "run_b", "metric", "test", "n_items", "mean_a",
                         "mean_b", "difference", "p_value", "discordant_a_only/b_only"])
        for p in pairs:
            writer.writerow([p.a.level, p.a.label, p.b.label, p.metric, p.test, p.n_items,
                             p.mean_a, p.mean_b, p.difference, p.p_value, p.discordant])
    written.append(pairs_csv)

    ablation = sorted((t for t in table if t.metric == HEADLINE[t.run.level] and t.group == (
        "all" if t.run.level != "diagnosis" else "diagnosis_etiology")),
        key=lambda t: (t.run.model, t.run.level, str(t.run.settings["selection"]),
                       int(t.run.settings["budget"]), str(t.run.settings["prompt"])))
    ablation_csv = out / "ablation.csv"
    with ablation_csv.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["model", "level", "selection", "budget", "prompt", "images",
                         "metric", "value", "ci_low", "ci_high"])
        for t in ablation:
            s = t.run.settings
            writer.writerow([t.run.model, t.run.level, s["selection"], s["budget"],
                             s["prompt"], s["images"], t.metric, t.value, t.low, t.high])
    written.append(ablation_csv)

    figures: list[Path] = []
    for run in runs:
        if run.level != "diagnosis":
            continue
        for subtask, rows in groups_of(run).items():
            result, classes = core.diagnosis_of(_records(rows))
            path = out / f"confusion_{_slug(run.label)}_{subtask}.png"
            confusion_png(result, classes, f"{run.label} - {subtask}", path)
            figures.append(path)
    landscape: dict[str, dict[str, float]] = {run.label: {} for run in runs}
    for t in ablation:
        landscape[t.run.label][LEVEL_NAMES[t.run.level]] = t.value
    landscape_path = out / "landscape.png"
    landscape_png(landscape, list(LEVEL_NAMES.values()), landscape_path)
    figures.append(landscape_path)
    written += figures

    report = out / "report.md"
    report.write_text(_markdown(runs, table, pairs, ablation, figures, replicates),
                      encoding="utf-8")
    written.append(report)
    return written


def _markdown(runs: Sequence[Run], table: Sequence[TableRow], pairs: Sequence[PairRow],
              ablation: Sequence[TableRow], figures: Sequence[Path], replicates: int) -> str:
    lines = ["# CardioLens results", "",
             f"95% CIs: percentile bootstrap over studies ({replicates} replicates); items of "
             "one study are resampled together. Paired tests use the items both runs scored: "
             "exact McNemar for correct/incorrect, a paired study-level bootstrap for F1 and "
             "report scores.", "", "## Runs", "",
             "| model | setting | level | items | errors | source |", "|---|---|---|---|---|---|"]
    for run in runs:
        lines.append(f"| {run.model} | {run.setting_label} | {run.level} | {len(run.rows)} | "
                     f"{run.errors} | {Path(run.source).name} |")
    lines += ["", "## Metrics", "", "| model | setting | level | group | metric | value "
              "| 95% CI | items | studies |", "|---|---|---|---|---|---|---|---|---|"]
    for t in table:
        lines.append(f"| {t.run.model} | {t.run.setting_label} | {t.run.level} | {t.group} | "
                     f"{t.metric} | {_fmt(t.value)} | [{_fmt(t.low)}, {_fmt(t.high)}] | "
                     f"{t.n_items} | {t.n_studies} |")
    lines += ["", "## Ablation (protocol x budget x prompt)", "",
              "| model | level | selection | budget | prompt | images | metric | value | 95% CI |",
              "|---|---|---|---|---|---|---|---|---|"]
    for t in ablation:
        s = t.run.settings
        lines.append(f"| {t.run.model} | {t.run.level} | {s['selection']} | {s['budget']} | "
                     f"{s['prompt']} | {s['images']} | {t.metric} | {_fmt(t.value)} | "
                     f"[{_fmt(t.low)}, {_fmt(t.high)}] |")
    lines += ["", "## Paired tests", "", "| level | A | B | metric | test | items | A | B | "
              "A-B | p |", "|---|---|---|---|---|---|---|---|---|---|"]
    for p in pairs:
        lines.append(f"| {p.a.level} | {p.a.label} | {p.b.label} | {p.metric} | {p.test} | "
                     f"{p.n_items} | {_fmt(p.mean_a)} | {_fmt(p.mean_b)} | "
                     f"{_fmt(p.difference)} | {p.p_value:.4g} |")
    lines += ["", "## Figures", ""] + [f"![{f.stem}]({f.name})" for f in figures]
    return "\n".join(lines) + "\n"
