"""Free-text CMR reports to QA items, a review sheet for radiologists, and their verdicts.

``build_qa``: each report (per section, or one whole text) goes through the rule-based
finding extractor; asserted findings become taxonomy items with option-text answers (only
where the report states the finding and the study has the subtask's sequences; uncertain
statements make no item), and section texts become report references. Every item records
its provenance. ``write_review_sheet`` exports the proposed items as CSV; radiologists fill
``verdict`` (accept, correct, reject) and ``corrected_answer`` (options separated by ``;``);
``apply_review`` imports the verdicts. With two readers, ``apply_two_reviews`` measures their
agreement (Cohen's kappa per subtask and overall), lists the disagreements for adjudication
and, given the adjudicated sheet, records the audited-sample accuracy of the extraction.

Report text is copied verbatim: section texts become report references in items.jsonl and
proposed answers in the review sheet. The reports must be de-identified first; ``build_qa``
refuses a report whose text shows an obvious identifier (:func:`identifiers`: a plausible
date, a run of 6 or more digits, a phone, NHS or accession number, "DOB", "MRN", "Name:", a
title such as "Dr" or "Patient" before a name that is not a common report word) with one
line per report naming the file and line, unless
``allow_identifiers``. The check is a floor, not a de-identification.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cardiolens.data import vocabulary as vocab
from cardiolens.data.atomic import atomic_file
from cardiolens.data.dataset import (
    ITEMS_FILE,
    Dataset,
    Item,
    iter_jsonl,
    read_dataset,
    write_jsonl,
)
from cardiolens.data.findings import has_sequences
from cardiolens.data.taxonomy import Taxonomy, load_taxonomy
from cardiolens.errors import CardiolensError
from cardiolens.scorers.clinical_score import asserted
from cardiolens.scorers.cmr_findings import Finding, extract
from cardiolens.scorers.cmr_vocabulary import (
    EF_MILD,
    EF_MODERATE,
    EF_NORMAL,
    EF_SEVERE,
    PATTERN_NONISCHEMIC,
    rv_status,
)

SECTION_SUBTASK = {"cine": "report_cine", "lge": "report_lge", "t2": "report_t2",
                   "perfusion": "report_perfusion", "impression": "report_impression"}
LGE_LEVELS = {"basal": vocab.LGE_LEVELS.basal, "mid": vocab.LGE_LEVELS.mid,
              "apical": vocab.LGE_LEVELS.apical, "apex": vocab.LGE_LEVELS.apex}
EF = dict(zip((EF_NORMAL, EF_MILD, EF_MODERATE, EF_SEVERE), vocab.EF_BAND, strict=True))
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
            out[subtask] = vocab.YES_NO.yes
            return True
        if "absent" in values:
            out[subtask] = vocab.YES_NO.no
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
            levels.append(vocab.LGE_LEVELS.papillary)
        if levels:
            out["lge_levels"] = levels
        many("lge_walls", "lge_wall")
        many("lge_layer", "lge_layer")
        one("lge_distribution", "lge_distribution")
        one("lge_transmurality", "lge_transmurality", str)
        one("lge_pattern", "lge_pattern", lambda v: vocab.LGE_PATTERN.nonischemic
            if v == PATTERN_NONISCHEMIC else vocab.LGE_PATTERN.ischemic)
        many("lge_territories", "lge_territory", str)
        if ("lge_rv_insertion", "yes") in facts:
            out["lge_rv_insertion"] = vocab.YES_NO.yes
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
    if out.get("cine_wall_thickness") == vocab.WALL_THICKNESS.thickened:
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


_UNIT = re.compile(r"\s*(?:%|/|(?:ml|l|mm|cm|m|m2|g|kg|mg|mcg|ms|s|sec|min|bpm|mmhg|hz|"
                   r"mm2|cm2|units?|x)\b)", re.IGNORECASE)
_NUMERIC_DATE = re.compile(r"(?<![\d.])(\d{1,4})([/.-])(\d{1,2})\2(\d{4}|\d{1,2})(?![\d]|\.\d)")


_SEGMENTS_BEFORE = re.compile(r"(?i)\bsegments?\b[^.;]*$")


def _numeric_date(text: str) -> bool:
    """A day, month and year written with one separator: year first (4 digits) then month
    <= 12 and day <= 31, or day and month (either order, one of them <= 12, both <= 31)
    then a 2- or 4-digit year; not followed by a unit ("95/40/55 ml/m2", "150/80/47" and
    "10/12/14 mm" are measurements), and not a list of AHA segments ("segments 4/5/10")."""
    for match in _NUMERIC_DATE.finditer(text):
        first, _, second, last = match.groups()
        a, b = int(first), int(second)
        if _UNIT.match(text, match.end()) or _SEGMENTS_BEFORE.search(
                text, max(0, match.start() - 24), match.start()):
            continue                             # a measurement, or "segments 4/5/10"
        if len(first) == 4:                      # 2024-02-29
            if 1 <= b <= 12 and len(last) <= 2 and 1 <= int(last) <= 31:
                return True
            continue
        if (len(first) <= 2 and len(last) in (2, 4) and 1 <= a <= 31 and 1 <= b <= 31
                and min(a, b) <= 12):            # 12/03/2024, 3.12.24, 12/31/24
            return True
    return False


_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?")
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_WORD_DATE = re.compile(
    rf"(?i)\b{_DAY}\s+(?:of\s+)?{_MONTH},?\s+(?:\d{{4}}|'\d{{2}})\b"     # 3rd of March 2021
    rf"|\b{_MONTH}\s+{_DAY},?\s+\d{{4}}\b")                              # March 3, 2021

_COMMON = """
a an and the of in on at to for with by from as or no not is was are were be been has had
have this that these those it its his her their there here all any some
age sex gender weight height bmi position positioning history information info details
demographics preparation prep status consent comfort monitoring cooperation tolerance
tolerated motion movement orientation type category class location name id number
identifier record records group data summary notes note comments comment referral referred
reason indication indications presentation presented presents reports reported denies
underwent positioned prone supine left right feet head first breath breathing hold held
instructions instructed was were is has had with without heart rate rhythm ecg bp
drain drains drained placed placement review reviewed requested request report reports
signed signature verified approved findings finding impression conclusion conclusions
summary technique protocol sequence sequences study studies exam examination scan scanned
comparison prior previous follow followup normal abnormal mild moderate severe trace small
large no none yes lv rv la ra mr tr ar pr ms as ps ts ef
"""
COMMON_WORDS = frozenset(_COMMON.split())
"""Words that follow "Dr", "Patient" or "Pt" in ordinary report text and headings ("Patient
Position: Supine", "Pt Weight 80 kg", "Dr. Drain placed"): not a name."""

_TITLED = re.compile(
    r"\b(?P<title>Dr|DR|dr|Doctor|DOCTOR|doctor|Prof|PROF|prof|Mr|MR|Mrs|MRS|Ms|Miss|Patient|"
    r"PATIENT|Pt|PT)\b\.?:?[ \t]+(?P<name>[A-Za-z][A-Za-z'\u2019-]*)")


def _titled_name(text: str) -> bool:
    """A title before a name: "Dr Smith", "DR SMITH", "dr smith", "Dr. O'Brien", "Patient
    Zyxwvut", "Patient: SMITH, John", "Mr Jones". The name must not be a common report word
    (:data:`COMMON_WORDS`: headings such as "Patient History:"); after "Patient", "Pt",
    "Mr", "Mrs", "Ms" or "Miss" it must be capitalised ("the patient tolerated" is prose,
    "MR moderate" a valve); "MR" and "MRS" count only before a capitalised word in
    mixed case ("MR Smith" is rare, "MR Mild" a regurgitation)."""
    for match in _TITLED.finditer(text):
        title, name = match.group("title"), match.group("name")
        if name.lower().strip("'\u2019-") in COMMON_WORDS:
            continue
        if title.lower() in ("dr", "doctor", "prof"):
            return True
        if title in ("MR", "MRS", "PT"):
            if name[:1].isupper() and name[1:].islower():
                return True
            continue
        if name[:1].isupper() and (name[1:].islower() or name.isupper() or "'" in name):
            return True
    return False


def _pattern(regex: str) -> Callable[[str], bool]:
    compiled = re.compile(regex)
    return lambda text: compiled.search(text) is not None


IDENTIFIER_PATTERNS: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("a date", _numeric_date),
    ("a date", lambda text: _WORD_DATE.search(text) is not None),
    ("a run of 6 or more digits (an MRN, accession or phone number?)",
     _pattern(r"\d{6,}")),
    ("a phone number", _pattern(
        r"\(\d{3}\)\s*\d{3}[-.\s]\d{4}\b|(?<![\d.])\d{3}[-.]\d{3}[-.]\d{4}\b"
        r"|(?<![\d.])\+\d{1,3}[\s-]\d")),
    ("an NHS or ID number in digit groups", _pattern(
        r"(?i)\bNHS\b|(?<![\d.])\d{3}[ -]\d{3}[ -]\d{4}(?![\d.])")),
    ("an accession or ID code", _pattern(
        r"(?i)\b(?:acc(?:ession)?|accn|ref|id|mrn|hosp(?:ital)?\s+no)\b\.?\s*(?:no\.?|number|#)?"
        r"\s*[:#]?\s*[A-Z]{0,4}\d{4,}|\b[A-Z]{1,3}\d{5,}\b")),
    ("'DOB'", _pattern(r"(?i)\bD\.?O\.?B\b|\bdate of birth\b")),
    ("'MRN'", _pattern(r"(?i)\bMRN\b|\bmedical record\b")),
    ("'Name:'", _pattern(r"(?i)\b(?:patient\s+)?(?:full\s+|sur|first\s+|last\s+)?name\s*[:=]"
                         r"\s*\S")),
    ("a title before a name", _titled_name),
)
"""What :func:`identifiers` looks for; each one's description names it on the console (the
matched text never is)."""


def identifiers(text: str) -> list[str]:
    """Descriptions of the obvious identifiers in a report's text (none: [])."""
    return list(dict.fromkeys(what for what, found in IDENTIFIER_PATTERNS if found(text)))


def _read_reports(path: Path, on_problem: Callable[[str], None]
                  ) -> list[tuple[int, str, dict[str, str]]]:
    """``(line, study_id, sections)`` per report line; a bad line is one ``on_problem``
    line."""
    try:
        lines = list(iter_jsonl(path))
    except UnicodeError as exc:
        raise CardiolensError(f"{path}: cannot read ({exc})") from None
    except OSError as exc:
        raise CardiolensError(f"{path}: cannot read ({exc.strerror or exc})") from None
    out = []
    for number, raw in lines:
        try:
            if isinstance(raw, ValueError):     # not UTF-8 or not JSON: this report only
                raise raw
            out.append((number, *_report_of(raw)))
        except ValueError as exc:
            on_problem(f"{path}:{number}: {exc}")
    return out


def _report_of(raw: Any) -> tuple[str, dict[str, str]]:
    """One parsed report line; ValueError names what is wrong."""
    if not isinstance(raw, dict):
        raise ValueError("line is not a JSON object")
    study_id = raw.get("study_id")
    if isinstance(study_id, bool) or not isinstance(study_id, str | int) or study_id == "":
        raise ValueError("missing 'study_id'")
    study = str(study_id)
    if "sections" in raw:
        if not isinstance(raw["sections"], dict):
            raise ValueError("'sections' must be an object")
        sections = {str(k): str(v) for k, v in raw["sections"].items()}
        unknown = set(sections) - set(SECTION_SUBTASK)
        if unknown:
            raise ValueError(f"unknown section(s) {', '.join(sorted(unknown))}")
    elif isinstance(raw.get("report"), str):
        sections = {"report": raw["report"]}
    else:
        raise ValueError("missing 'report' text (or a 'sections' object)")
    return study, sections


@dataclass(frozen=True)
class BuildSummary:
    reports: int
    items: int


def build_qa(reports: Path, dataset_root: Path, review_sheet: Path,
             on_problem: Callable[[str], None] = print,
             extractor: Extractor = rule_based_answers,
             method: str = "rule-based extractor",
             allow_identifiers: bool = False) -> BuildSummary:
    """Add report-derived items to the dataset (replacing same ids) and write the sheet.
    Report text is copied verbatim into both: a report showing an obvious identifier
    (:func:`identifiers`) is one line naming the file and line, and nothing is written
    unless ``allow_identifiers``."""
    taxonomy = load_taxonomy()
    dataset = read_dataset(dataset_root)
    read = _read_reports(reports, on_problem)
    flagged = 0
    for number, _, sections in read:
        found = identifiers("\n".join(sections.values()))
        if found:
            flagged += 1
            on_problem(f"{reports}:{number}: report text shows {', '.join(found)}"
                       + ("; copied as it is (--allow-identifiers)" if allow_identifiers
                          else "; de-identify it first"))
    if flagged and not allow_identifiers:
        raise CardiolensError(
            f"{reports}: {flagged} report(s) show obvious identifiers and report text is "
            f"copied verbatim into the dataset and {review_sheet}; nothing written "
            "(de-identify the reports, or pass --allow-identifiers if they are not "
            "identifiers)")
    proposed: list[Item] = []
    used = 0
    for _, study_id, sections in read:
        study = dataset.studies.get(study_id)
        if study is None:
            on_problem(f"{reports}: study {study_id!r} is not in {dataset_root}")
            continue
        used += 1
        proposed += items_for_report(study_id, sections, study.series, taxonomy, extractor,
                                     method)
    if not used:        # a wrong or empty file must not replace the sheet being reviewed
        raise CardiolensError(f"{reports}: no report of a study in {dataset_root}; the "
                              f"dataset and {review_sheet} are left unchanged")
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


def _not_utf8(path: Path) -> str:
    """Where a file stops being UTF-8: the line and the byte (a sheet is read whole, as a
    CSV field may span lines)."""
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16 text; save it as CSV UTF-8"
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return (f"not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); save it as "
                "CSV UTF-8")
    return "not UTF-8 text; save it as CSV UTF-8"


def _read_sheet(sheet: Path) -> list[tuple[str, dict[str, str]]]:
    """Rows of a review sheet with their ``file:line`` location."""
    try:
        with sheet.open(newline="", encoding="utf-8-sig") as handle:   # Excel's BOM
            reader = csv.DictReader(handle)
            rows = list(reader)
            header = reader.fieldnames
    except OSError as exc:
        raise CardiolensError(f"{sheet}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise CardiolensError(f"{sheet}: {_not_utf8(sheet)}") from None
    except csv.Error as exc:
        raise CardiolensError(f"{sheet}: cannot read review sheet ({exc})") from None
    if not header:
        raise CardiolensError(f"{sheet}: file is empty (a review sheet has a header row)")
    missing = [name for name in ("item_id", "verdict") if name not in header]
    if missing:
        raise CardiolensError(f"{sheet}: not a review sheet (no {' or '.join(missing)} "
                              "column; cardiolens build-qa writes one)")
    return [(f"{sheet}:{number}", row) for number, row in enumerate(rows, 2)]


def apply_review(sheet: Path, dataset_root: Path,
                 on_problem: Callable[[str], None] = print) -> dict[str, int]:
    """Apply accept / correct / reject verdicts; counts per verdict (blank = pending)."""
    return _apply_rows(_read_sheet(sheet), dataset_root, on_problem)


def _apply_rows(rows: list[tuple[str, dict[str, str]]], dataset_root: Path,
                on_problem: Callable[[str], None]) -> dict[str, int]:
    taxonomy = load_taxonomy()
    dataset = read_dataset(dataset_root)
    by_id = {item.item_id: item for item in dataset.items}
    counts = {"accept": 0, "correct": 0, "reject": 0, "pending": 0}
    removed: set[str] = set()
    for where, row in rows:
        verdict = (row.get("verdict") or "").strip().lower()
        item = by_id.get(row.get("item_id", ""))
        if item is None:
            on_problem(f"{where}: item {row.get('item_id')!r} is not in the dataset")
            continue
        if not verdict:
            counts["pending"] += 1
            continue
        if verdict not in VERDICTS:
            on_problem(f"{where}: verdict {verdict!r} is not accept, correct or reject")
            continue
        review: dict[str, Any] = {**item.extra.get("provenance", {}), "review": verdict}
        if row.get("comment"):
            review["comment"] = row["comment"].strip()
        if row.get("reviewers"):
            review["reviewers"] = row["reviewers"]
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


# ------------------------------------------------------------- two readers and adjudication

VERDICTS = ("accept", "correct", "reject")
REJECTED = "(rejected)"
AGREEMENT_FILE = "review_agreement.json"


def _canonical(text: str, answer_type: str) -> str:
    if answer_type == "report":
        return " ".join(text.split())
    values = [v.strip() for v in text.split(";") if v.strip()]
    return "; ".join(sorted(values) if answer_type == "multi" else values)


def reviewer_answer(row: dict[str, str], answer_type: str) -> str | None:
    """What a reviewer says the answer is: the proposed answer (accept), the corrected one
    (correct) or :data:`REJECTED`; ``None`` for a blank or unknown verdict."""
    verdict = (row.get("verdict") or "").strip().lower()
    if verdict == "accept":
        return _canonical(row.get("proposed_answer") or "", answer_type)
    if verdict == "correct":
        return _canonical(row.get("corrected_answer") or "", answer_type)
    return REJECTED if verdict == "reject" else None


@dataclass(frozen=True)
class Agreement:
    """Two readers' agreement: Cohen's kappa per subtask and overall, on the items both
    reviewed (labels: :func:`reviewer_answer`), and the items they disagree on."""

    per_subtask: dict[str, dict[str, float]]
    overall: dict[str, float]
    disagreements: list[str]
    audited_accuracy: float | None = None
    """Share of the final (agreed or adjudicated) verdicts that accept the proposed answer:
    the accuracy of the report-to-QA extraction on the audited sample."""
    audited_items: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"per_subtask": self.per_subtask, "overall": self.overall,
                "disagreements": self.disagreements, "audited_accuracy": self.audited_accuracy,
                "audited_items": self.audited_items}


def _agreement_of(pairs: list[tuple[str, str, str]]) -> dict[str, float]:
    from cardiolens.scorers.statistics import cohen_kappa

    a, b = [x for _, x, _ in pairs], [y for _, _, y in pairs]
    agree = sum(x == y for x, y in zip(a, b, strict=True))
    return {"items": len(pairs), "agreement": agree / len(pairs) if pairs else float("nan"),
            "kappa": cohen_kappa(a, b)}


def apply_two_reviews(sheet_a: Path, sheet_b: Path, dataset_root: Path,
                      adjudicated: Path | None = None,
                      on_problem: Callable[[str], None] = print,
                      disagreements_sheet: Path | None = None) -> tuple[dict[str, int], Agreement]:
    """Two readers' sheets: kappa per subtask and overall, disagreements for adjudication.

    Items both readers reviewed with the same answer take that verdict; items they disagree
    on stay pending unless the ``adjudicated`` sheet gives a verdict (it also overrides).
    Disagreements are written as a review sheet (``disagreements_sheet``, with both
    answers) to fill in as the adjudicated sheet. The agreement (and, with an adjudicated
    sheet, the audited-sample accuracy) is recorded in ``review_agreement.json``.
    """
    taxonomy = load_taxonomy()
    rows_a = {row.get("item_id", ""): (where, row) for where, row in _read_sheet(sheet_a)}
    rows_b = {row.get("item_id", ""): (where, row) for where, row in _read_sheet(sheet_b)}
    known = set(taxonomy.subtasks)
    labelled: dict[str, list[tuple[str, str, str]]] = {}
    final: dict[str, tuple[str, dict[str, str]]] = {}
    disagreements: list[str] = []
    for item_id, (where, row) in rows_a.items():
        if item_id not in rows_b or row.get("subtask") not in known:
            continue
        answer_type = taxonomy.get(row["subtask"]).answer_type
        x = reviewer_answer(row, answer_type)
        y = reviewer_answer(rows_b[item_id][1], answer_type)
        if x is None or y is None:
            continue
        labelled.setdefault(row["subtask"], []).append((item_id, x, y))
        if x == y:
            final[item_id] = (where, {**row, "reviewers": "2 agreed"})
        else:
            disagreements.append(item_id)
    if adjudicated is not None:
        for where, row in _read_sheet(adjudicated):
            if (row.get("verdict") or "").strip():
                final[row.get("item_id", "")] = (where, {**row, "reviewers": "adjudicated"})
    per_subtask = {s: _agreement_of(pairs) for s, pairs in sorted(labelled.items())}
    overall = _agreement_of([p for pairs in labelled.values() for p in pairs])
    audited = [r for _, r in final.values()]
    accuracy = (sum((r.get("verdict") or "").strip().lower() == "accept" for r in audited)
                / len(audited) if adjudicated is not None and audited else None)
    agreement = Agreement(per_subtask, overall, sorted(disagreements), accuracy,
                          len(audited) if adjudicated is not None else 0)
    if disagreements_sheet is not None:
        _write_disagreements(disagreements_sheet, [rows_a[i][1] for i in agreement.disagreements],
                             {i: rows_b[i][1] for i in agreement.disagreements})
    counts = _apply_rows(list(final.values()), dataset_root, on_problem)
    (dataset_root / AGREEMENT_FILE).write_text(json.dumps(agreement.to_json(), indent=2) + "\n",
                                              encoding="utf-8")
    return counts, agreement


def _write_disagreements(path: Path, rows_a: list[dict[str, str]],
                         rows_b: dict[str, dict[str, str]]) -> None:
    taxonomy = load_taxonomy()
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*REVIEW_COLUMNS, "reader_a", "reader_b"])
        for row in rows_a:
            answer_type = taxonomy.get(row["subtask"]).answer_type
            other = rows_b[row["item_id"]]
            writer.writerow([*(row.get(c, "") for c in REVIEW_COLUMNS[:6]), "", "", "",
                             reviewer_answer(row, answer_type),
                             reviewer_answer(other, answer_type)])
