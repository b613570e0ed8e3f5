"""Free-text CMR reports to QA items, a review sheet for radiologists, and their verdicts.

``build_qa``: each report (per section, or one whole text) goes through the rule-based
finding extractor; asserted findings become taxonomy items with option-text answers (only
where the report states the finding and the study has the subtask's sequences; uncertain
statements make no item), and section texts become report references. Every item records
its provenance. ``write_review_sheet`` exports the proposed items as CSV; radiologists fill
``verdict`` (accept, correct, reject) and ``corrected_answer`` (options separated by ``;``);
``apply_review`` imports the verdicts.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cardiolens.data.atomic import atomic_file
from cardiolens.data.dataset import ITEMS_FILE, Dataset, Item, read_dataset, write_jsonl
from cardiolens.data.findings import has_sequences
from cardiolens.data.taxonomy import Taxonomy, load_taxonomy
from cardiolens.errors import CardiolensError
from cardiolens.scorers.clinical_score import asserted
from cardiolens.scorers.cmr_findings import Finding, extract
from cardiolens.scorers.cmr_vocabulary import rv_status

SECTION_SUBTASK = {"cine": "report_cine", "lge": "report_lge", "t2": "report_t2",
                   "perfusion": "report_perfusion", "impression": "report_impression"}
LGE_LEVELS = {"basal": "Basal segment", "mid": "Mid segment", "apical": "Apical segment",
              "apex": "Apex"}
EF = {"normal": "Normal (EF >= 50%)", "mildly reduced": "Mildly reduced (40-49%)",
      "moderately reduced": "Moderately reduced (30-39%)",
      "severely reduced": "Severely reduced (< 30%)"}
REVIEW_COLUMNS = ("item_id", "study_id", "subtask", "question", "proposed_answer", "options",
                  "verdict", "corrected_answer", "comment")


def _title(value: str) -> str:
    return value[:1].upper() + value[1:]


def _values(facts: set[Finding], slot: str) -> list[str]:
    return sorted(v for s, v in facts if s == slot)


def answers_from_facts(facts: set[Finding]) -> dict[str, str | list[str]]:
    """Taxonomy answers (option texts) stated by a set of asserted findings."""
    out: dict[str, str | list[str]] = {}

    def presence(slot: str, subtask: str) -> bool:
        values = _values(facts, slot)
        if "present" in values:
            out[subtask] = "Yes"
            return True
        if "absent" in values:
            out[subtask] = "No"
        return False

    def many(subtask: str, slot: str, mapping: Callable[[str], str] = _title) -> None:
        values = _values(facts, slot)
        if values:
            out[subtask] = [mapping(v) for v in values]

    def one(subtask: str, slot: str, mapping: Callable[[str], str] = _title) -> None:
        values = _values(facts, slot)
        if len(values) == 1:
            out[subtask] = mapping(values[0])

    if presence("lge", "lge_presence"):
        levels = [LGE_LEVELS[v] for v in _values(facts, "lge_level")]
        if ("lge_papillary", "yes") in facts:
            levels.append("Papillary muscle")
        if levels:
            out["lge_levels"] = levels
        many("lge_walls", "lge_wall")
        many("lge_layer", "lge_layer")
        one("lge_distribution", "lge_distribution")
        one("lge_transmurality", "lge_transmurality", str)
        one("lge_pattern", "lge_pattern", lambda v: "Non-ischemic" if v == "non-ischemic"
            else "Ischemic (follows a coronary territory)")
        many("lge_territories", "lge_territory", str)
        if ("lge_rv_insertion", "yes") in facts:
            out["lge_rv_insertion"] = "Yes"
    if presence("edema", "t2_edema_presence"):
        many("t2_edema_levels", "edema_level")
        many("t2_edema_walls", "edema_wall")
        many("t2_edema_layer", "edema_layer")
        one("t2_edema_distribution", "edema_distribution")
    if presence("perfusion_defect", "perf_defect_presence"):
        many("perf_defect_levels", "defect_level")
        many("perf_defect_walls", "defect_wall")
        many("perf_defect_territories", "defect_territory", str)
        one("perf_defect_depth", "defect_depth")
    if presence("rwma", "cine_rwma_presence"):
        many("cine_rwma_levels", "rwma_level")
        many("cine_rwma_walls", "rwma_wall")
        one("cine_rwma_severity", "rwma_severity")
    one("cine_lv_size", "lv_size")
    one("cine_wall_thickness", "wall_thickness")
    if out.get("cine_wall_thickness") == "Thickened":
        many("cine_thickened_walls", "thickened_wall")
    one("cine_lv_function", "lv_function", lambda v: EF.get(v, v))    # "reduced": no item
    rv_size, rv_function = _values(facts, "rv_size"), _values(facts, "rv_function")
    if len(rv_size) == 1 and len(rv_function) == 1:
        out["cine_rv_status"] = _title(rv_status(rv_size[0], rv_function[0]))
    one("cine_pericardial_effusion", "effusion")
    one("diagnosis_etiology", "etiology")
    one("diagnosis_nicm_subtype", "diagnosis")
    return out


def _valid(answer: str | list[str], options: Iterable[str]) -> bool:
    values = [answer] if isinstance(answer, str) else answer
    return bool(values) and set(values) <= set(options)


Extractor = Callable[[str], dict[str, Any]]
"""Report text -> {subtask id: answer}; the rule-based one, or a model (see the adapter)."""


def rule_based_answers(text: str) -> dict[str, Any]:
    return dict(answers_from_facts(asserted(extract(text))))


def extraction_prompt(text: str, taxonomy: Taxonomy) -> str:
    """The instruction a language model gets to read a messy report into answers."""
    lines = ["Read this cardiac MRI report and return the findings it states as one JSON "
             "object mapping question ids to answers. Use only these ids and, as answers, "
             "only the listed option texts (a list for questions marked multi). Leave out "
             "anything the report does not state clearly.", ""]
    for sub in taxonomy.subtasks.values():
        if sub.answer_type != "report":
            kind = "multi" if sub.answer_type == "multi" else "single"
            lines.append(f"{sub.id} ({kind}): {' | '.join(sub.options)}")
    lines += ["", "Report:", text, "", "JSON:"]
    return "\n".join(lines)


def parse_model_answers(reply: str) -> dict[str, Any]:
    """The JSON object in a model reply (the outermost braces), or {} when there is none."""
    start, end = reply.find("{"), reply.rfind("}")
    if start < 0 or end <= start:
        return {}
    try:
        value = json.loads(reply[start:end + 1])
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def items_for_report(study_id: str, sections: dict[str, str], series_keys: Iterable[str],
                     taxonomy: Taxonomy, extractor: Extractor = rule_based_answers,
                     method: str = "rule-based extractor") -> list[Item]:
    """Proposed items (answers and report references) of one study's report."""
    text = "\n".join(sections.values())
    answers = extractor(text)
    sequences = {key.split("_")[0] for key in series_keys}
    provenance = {"provenance": {"source": "report", "method": method,
                                 "review": "pending"}}
    items: list[Item] = []
    for subtask in taxonomy.subtasks.values():
        if not has_sequences(subtask, sequences):
            continue
        if subtask.answer_type == "report":
            section = next((k for k, v in SECTION_SUBTASK.items() if v == subtask.id), "")
            if sections.get(section, "").strip():
                items.append(Item(f"{study_id}/{subtask.id}", study_id, subtask.level,
                                  subtask.id, reference=sections[section].strip(),
                                  extra=provenance))
            continue
        answer = answers.get(subtask.id)
        if answer is not None and _valid(answer, subtask.options):
            items.append(Item(f"{study_id}/{subtask.id}", study_id, subtask.level, subtask.id,
                              answer, extra=provenance))
    return items


def _read_reports(path: Path, on_problem: Callable[[str], None]) -> list[tuple[str, dict[str,
                                                                                      str]]]:
    out = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CardiolensError(f"{path}: cannot read ({exc.__class__.__name__})") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            study = str(raw["study_id"])
            if "sections" in raw:
                sections = {str(k): str(v) for k, v in dict(raw["sections"]).items()}
                unknown = set(sections) - set(SECTION_SUBTASK)
                if unknown:
                    raise ValueError(f"unknown section(s) {', '.join(sorted(unknown))}")
            else:
                sections = {"report": str(raw["report"])}
        except (ValueError, KeyError, TypeError) as exc:
            on_problem(f"{path}:{number}: {exc}")
            continue
        out.append((study, sections))
    return out


@dataclass(frozen=True)
class BuildSummary:
    reports: int
    items: int


def build_qa(reports: Path, dataset_root: Path, review_sheet: Path,
             on_problem: Callable[[str], None] = print,
             extractor: Extractor = rule_based_answers,
             method: str = "rule-based extractor") -> BuildSummary:
    """Add report-derived items to the dataset (replacing same ids) and write the sheet."""
    taxonomy = load_taxonomy()
    dataset = read_dataset(dataset_root)
    proposed: list[Item] = []
    used = 0
    for study_id, sections in _read_reports(reports, on_problem):
        study = dataset.studies.get(study_id)
        if study is None:
            on_problem(f"{reports}: study {study_id!r} is not in {dataset_root}")
            continue
        used += 1
        proposed += items_for_report(study_id, sections, study.series, taxonomy, extractor,
                                     method)
    _write_items(dataset, proposed)
    write_review_sheet(proposed, review_sheet, taxonomy)
    return BuildSummary(used, len(proposed))


def _write_items(dataset: Dataset, new: list[Item]) -> None:
    replaced = {item.item_id for item in new}
    keep = [item for item in dataset.items if item.item_id not in replaced]
    write_jsonl(dataset.root / ITEMS_FILE, (i.to_json() for i in [*keep, *new]))


def write_review_sheet(items: Iterable[Item], path: Path, taxonomy: Taxonomy) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path) as tmp, tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(REVIEW_COLUMNS)
        for item in items:
            sub = taxonomy.get(item.subtask)
            proposed = item.answer if item.answer is not None else item.reference or ""
            writer.writerow([item.item_id, item.study_id, item.subtask, sub.question,
                             "; ".join(proposed) if isinstance(proposed, list) else proposed,
                             "; ".join(sub.options), "", "", ""])


def apply_review(sheet: Path, dataset_root: Path,
                 on_problem: Callable[[str], None] = print) -> dict[str, int]:
    """Apply accept / correct / reject verdicts; counts per verdict (blank = pending)."""
    taxonomy = load_taxonomy()
    dataset = read_dataset(dataset_root)
    by_id = {item.item_id: item for item in dataset.items}
    counts = {"accept": 0, "correct": 0, "reject": 0, "pending": 0}
    removed: set[str] = set()
    with sheet.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for number, row in enumerate(rows, 2):
        verdict = (row.get("verdict") or "").strip().lower()
        item = by_id.get(row.get("item_id", ""))
        where = f"{sheet}:{number}"
        if item is None:
            on_problem(f"{where}: item {row.get('item_id')!r} is not in the dataset")
            continue
        if not verdict:
            counts["pending"] += 1
            continue
        if verdict not in ("accept", "correct", "reject"):
            on_problem(f"{where}: verdict {verdict!r} is not accept, correct or reject")
            continue
        review: dict[str, Any] = {**item.extra.get("provenance", {}), "review": verdict}
        if row.get("comment"):
            review["comment"] = row["comment"].strip()
        if verdict == "reject":
            removed.add(item.item_id)
        elif verdict == "correct":
            sub = taxonomy.get(item.subtask)
            text = (row.get("corrected_answer") or "").strip()
            if sub.answer_type == "report":
                if not text:
                    on_problem(f"{where}: 'correct' needs a corrected_answer")
                    continue
                by_id[item.item_id] = replace(item, reference=text,
                                              extra={**item.extra, "provenance": review})
            else:
                values = [v.strip() for v in text.split(";") if v.strip()]
                answer: str | list[str] = values if sub.answer_type == "multi" else (
                    values[0] if len(values) == 1 else "")
                if not _valid(answer, sub.options):
                    on_problem(f"{where}: corrected answer {text!r} is not among the options")
                    continue
                by_id[item.item_id] = replace(item, answer=answer,
                                              extra={**item.extra, "provenance": review})
        else:
            by_id[item.item_id] = replace(item, extra={**item.extra, "provenance": review})
        counts[verdict] += 1
    items = [by_id[i.item_id] for i in dataset.items if i.item_id not in removed]
    write_jsonl(dataset.root / ITEMS_FILE, (i.to_json() for i in items))
    return counts
