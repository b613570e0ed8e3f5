"""Reports to QA items, the review sheet, and the verdicts back: a round trip."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from cardiolens.cli import main
from cardiolens.data.dataset import read_dataset
from cardiolens.data.validate import validate_dataset
from cardiolens.importers.report_qa import identifiers

from helpers import make_tiny_dataset

REPORTS = [
    {"study_id": "S0", "sections": {
        "cine": "The left ventricle is dilated with thinned walls. LV ejection fraction is "
                "28%. Hypokinesis of the basal and mid inferior wall.",
        "lge": "There is focal transmural late gadolinium enhancement involving the basal and "
               "mid inferior wall. The pattern is ischemic, in the RCA territory.",
        "impression": "Ischemic cardiomyopathy with infarction in the RCA territory."}},
    {"study_id": "S1", "report": "Normal LV size and systolic function (EF 61%). No late "
                                 "enhancement. Possible pericardial effusion."},
    {"study_id": "S9", "report": "No LGE."},
    {"study_id": "S1", "sections": {"echo": "?"}},
]


def test_build_review_apply_round_trip(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    ds = make_tiny_dataset(tmp_path / "ds", studies=2)
    reports = tmp_path / "reports.jsonl"
    reports.write_text("\n".join(json.dumps(r) for r in REPORTS) + "\n{broken\n")
    sheet = tmp_path / "review.csv"
    assert main(["build-qa", str(reports), "--dataset", str(ds), "--review-sheet",
                 str(sheet)]) == 0
    err = capsys.readouterr().err
    assert "study 'S9' is not in" in err and "reports.jsonl:4: unknown section" in err
    assert "reports.jsonl:5:" in err
    assert validate_dataset(ds) == []
    items = {i.item_id: i for i in read_dataset(ds).items}
    assert items["S0/lge_presence"].answer == "Yes"
    assert items["S0/lge_walls"].answer == ["Inferior"]
    assert items["S0/lge_layer"].answer == ["Transmural"]
    assert items["S0/lge_territories"].answer == ["RCA"]
    assert items["S0/cine_lv_size"].answer == "Dilated"
    assert items["S0/cine_lv_function"].answer == "Severely reduced (< 30%)"
    assert items["S0/cine_rwma_walls"].answer == ["Inferior"]
    assert items["S0/diagnosis_etiology"].answer == "Ischemic cardiomyopathy"
    assert items["S0/report_lge"].reference.startswith("There is focal transmural")
    assert items["S1/lge_presence"].answer == "No"
    assert "S1/cine_pericardial_effusion" not in items        # uncertain: no item
    assert items["S0/lge_walls"].extra["provenance"]["review"] == "pending"

    rows = list(csv.DictReader(sheet.open()))
    verdicts = {"S0/lge_walls": ("correct", "Inferior; Inferolateral"),
                "S0/cine_lv_size": ("reject", ""), "S0/lge_presence": ("accept", ""),
                "S1/lge_presence": ("correct", "Maybe")}
    for row in rows:
        if row["item_id"] in verdicts:
            row["verdict"], row["corrected_answer"] = verdicts[row["item_id"]]
    with sheet.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert main(["apply-review", str(sheet), "--dataset", str(ds)]) == 0
    err = capsys.readouterr().err
    assert "'Maybe' is not among the options" in err
    assert validate_dataset(ds) == []
    items = {i.item_id: i for i in read_dataset(ds).items}
    assert items["S0/lge_walls"].answer == ["Inferior", "Inferolateral"]
    assert items["S0/lge_walls"].extra["provenance"]["review"] == "correct"
    assert "S0/cine_lv_size" not in items
    assert items["S0/lge_presence"].extra["provenance"]["review"] == "accept"
    assert items["S1/lge_presence"].answer == "No"
    assert items["S0/lge_layer"].extra["provenance"]["review"] == "pending"


def test_a_model_can_read_messy_reports(tmp_path: Path) -> None:
    from inspect_ai.model import ModelOutput, ModelUsage, get_model

    from cardiolens.importers.report_qa import build_qa
    from cardiolens.inspect_adapter.report_extraction import model_extractor

    ds = make_tiny_dataset(tmp_path / "ds", studies=1)
    reports = tmp_path / "reports.jsonl"
    reports.write_text(json.dumps({"study_id": "S0", "report": "scar inf wall, ?LAD"}) + "\n")
    reply = ModelOutput.from_content("mockllm/model", 'Sure: {"lge_presence": "Yes", '
                                     '"lge_walls": ["Inferior"], "lge_layer": ["Sideways"]}')
    reply.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
    model = get_model("mockllm/model", custom_outputs=[reply])
    summary = build_qa(reports, ds, tmp_path / "sheet.csv", extractor=model_extractor(model),
                       method="inspect model mockllm/model")
    assert summary.items == 2                       # the invalid layer answer is dropped
    items = {i.item_id: i for i in read_dataset(ds).items}
    assert items["S0/lge_walls"].answer == ["Inferior"]
    assert items["S0/lge_walls"].extra["provenance"]["method"] == "inspect model mockllm/model"
    assert validate_dataset(ds) == []


def _fill(sheet: Path, out: Path, verdicts: dict[str, tuple[str, str]]) -> None:
    rows = list(csv.DictReader(sheet.open()))
    for row in rows:
        row["verdict"], row["corrected_answer"] = verdicts.get(row["item_id"], ("", ""))
    with out.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_two_readers_kappa_disagreements_and_adjudication(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sklearn.metrics import cohen_kappa_score

    ds = make_tiny_dataset(tmp_path / "ds", studies=2)
    reports = tmp_path / "reports.jsonl"
    reports.write_text("\n".join(json.dumps(r) for r in REPORTS[:2]) + "\n")
    sheet = tmp_path / "review.csv"
    assert main(["build-qa", str(reports), "--dataset", str(ds), "--review-sheet",
                 str(sheet)]) == 0
    ids = [row["item_id"] for row in csv.DictReader(sheet.open())]
    choice = [i for i in ids if "/report_" not in i]
    a = {i: ("accept", "") for i in choice}
    b = dict(a)
    b["S0/lge_walls"] = ("correct", "Inferior; Inferolateral")
    b["S0/cine_lv_size"] = ("reject", "")
    a["S1/lge_presence"] = ("correct", "Yes")
    _fill(sheet, tmp_path / "a.csv", a)
    _fill(sheet, tmp_path / "b.csv", b)
    capsys.readouterr()
    assert main(["apply-review", str(tmp_path / "a.csv"), str(tmp_path / "b.csv"),
                 "--dataset", str(ds)]) == 0
    err = capsys.readouterr().err
    record = json.loads((ds / "review_agreement.json").read_text())
    assert record["disagreements"] == ["S0/cine_lv_size", "S0/lge_walls", "S1/lge_presence"]
    def labels(path: Path) -> dict[str, str]:
        out = {}
        for row in csv.DictReader(path.open()):
            verdict = row["verdict"]
            answer = {"accept": row["proposed_answer"], "correct": row["corrected_answer"],
                      "reject": "rejected"}.get(verdict)
            if answer is not None:
                out[row["item_id"]] = "; ".join(sorted(answer.split("; ")))
        return out
    la, lb = labels(tmp_path / "a.csv"), labels(tmp_path / "b.csv")
    assert record["overall"]["kappa"] == pytest.approx(
        cohen_kappa_score([la[i] for i in sorted(la)], [lb[i] for i in sorted(la)]))
    assert record["overall"]["items"] == len(choice)
    assert record["per_subtask"]["lge_walls"]["agreement"] == 0.0
    assert record["audited_accuracy"] is None and "overall |" in err
    items = {i.item_id: i for i in read_dataset(ds).items}
    assert items["S0/lge_walls"].extra["provenance"]["review"] == "pending"   # disagreement
    assert items["S0/lge_presence"].extra["provenance"]["review"] == "accept"  # agreed

    disagreements = tmp_path / "b.disagreements.csv"
    rows = list(csv.DictReader(disagreements.open()))
    assert [r["item_id"] for r in rows] == record["disagreements"]
    assert rows[1]["reader_b"] == "Inferior; Inferolateral"
    _fill(disagreements, tmp_path / "adj.csv", {"S0/lge_walls": ("correct", "Inferior"),
                                                "S0/cine_lv_size": ("accept", ""),
                                                "S1/lge_presence": ("accept", "")})
    assert main(["apply-review", str(tmp_path / "a.csv"), str(tmp_path / "b.csv"),
                 "--dataset", str(ds), "--adjudicated", str(tmp_path / "adj.csv")]) == 0
    record = json.loads((ds / "review_agreement.json").read_text())
    audited = len(choice)                      # every item has a final verdict now
    assert record["audited_items"] == audited
    assert record["audited_accuracy"] == pytest.approx((audited - 1) / audited)
    assert "audited-sample accuracy" in capsys.readouterr().err
    items = {i.item_id: i for i in read_dataset(ds).items}
    assert items["S0/lge_walls"].answer == ["Inferior"]
    assert items["S0/lge_walls"].extra["provenance"]["reviewers"] == "adjudicated"


@pytest.mark.parametrize(("text", "found", "secret"), [
    ("Seen on 12/03/2024. Normal LV.", "a date", "12/03/2024"),
    ("Exam 2024-02-29: no LGE.", "a date", "2024-02-29"),
    ("Scanned 3 March 2024, no LGE.", "a date", "March"),
    ("Ref 99817263. No LGE.", "a run of 6 or more digits", "99817263"),
    ("DOB unknown. No LGE.", "'DOB'", "unknown"),
    ("mrn on file. No LGE.", "'MRN'", "mrn on"),
    ("Reported by Dr Wobblegaster. No LGE.", "a title before a name",
     "Wobblegaster"),
    ("Patient Zyxwvut has a normal LV.", "a title before a name", "Zyxwvut"),
])
def test_identifying_report_text_is_refused_unless_allowed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, found: str,
        secret: str) -> None:
    """Report text is copied verbatim into items.jsonl and review.csv: a report showing an
    obvious identifier is one line naming the file and line (never the text), nothing is
    written, and --allow-identifiers copies it."""
    ds = make_tiny_dataset(tmp_path / "ds", studies=2)
    before = (ds / "items.jsonl").read_bytes()
    reports = tmp_path / "reports.jsonl"
    reports.write_text(json.dumps({"study_id": "S1", "report": "No late enhancement. EF 61%, "
                                   "LVEDV 150 ml, 2.5-3.0 mm"}) + "\n"
                       + json.dumps({"study_id": "S0", "report": text}) + "\n")
    sheet = tmp_path / "review.csv"
    args = ["build-qa", str(reports), "--dataset", str(ds), "--review-sheet", str(sheet)]
    assert main(args) == 1
    err = capsys.readouterr().err
    (line,) = [x for x in err.splitlines() if "reports.jsonl:" in x and "shows" in x]
    assert "reports.jsonl:2: report text shows" in line and found in line
    assert "de-identify" in err and "nothing written" in err
    assert secret not in err                                  # the text is not shown
    assert not sheet.exists() and (ds / "items.jsonl").read_bytes() == before
    assert main([*args, "--allow-identifiers"]) == 0
    assert "copied as it is (--allow-identifiers)" in capsys.readouterr().err
    assert sheet.exists()


def test_build_qa_help_says_report_text_is_copied(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["build-qa", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "copied verbatim" in text and "de-identify the reports first" in text
    assert "--allow-identifiers" in text


# rev13c's probe reports (r_fn.jsonl / r_fp.jsonl) and the forms they stand for
IDENTIFYING = [
    "LVEF 35% with akinesia of segments 1-6 (AHA 17-segment). Seen by Dr. O'Brien on March "
    "3, 2021; call (555) 123-4567.",
    "March 3, 2021", "Mar 3 2021", "3rd of March 2021", "Seen 12 Mar. 2024.",
    "Seen on 12/03/2024.", "Exam 2024-02-29: no LGE.", "Dr Smith, 3/4/21.",
    "Name: Jane Doe", "DR SMITH", "dr smith", "Dr. O'Brien", "Patient: SMITH, John",
    "Patient Zyxwvut has a normal LV.", "Mr Jones was scanned.",
    "(555) 123-4567", "call 555-123-4567", "NHS 943 476 5919", "Acc: AB12345",
    "Ref 99817263.", "DOB unknown.",
]
ORDINARY = [
    "Patient Position: Supine. LV normal size, LVEF 55%. LVEDVi/LVESVi/SVi 95/40/55 ml/m2.",
    "Normal study; unchanged from prior study (2019).",
    "95/40/55 ml/m2", "150/80/47", "Patient Position: Supine", "Patient History:",
    "Patient Information:", "Pt Weight 80 kg", "Dr. Drain placed.",
    "LVEF 55% (normal 55-70%), LVEDV 150 ml, LVESV 68 ml.",
    "BP 120/80 mmHg and HR 62 bpm during the scan.",
    "LV dimensions 52/38/10 mm (LVIDd/LVIDs/septum).",
    "Mitral valve: mild MR and trace TR; MS excluded. MR Mild, TR Trace.",
    "No late gadolinium enhancement in segments 1-6 or 13-16.",
    "The patient tolerated the study well; Patient Was positioned supine.",
    "Patient History: chest pain with troponin rise. Patient Details withheld.",
    "Pt Weight 80 kg, Height 175 cm, heart rate 64 bpm.",
    "Follow-up CMR in 6-12 months is advised.",
    "Native T1 1020 ms (normal 950-1050 ms), ECV 27%, T2 48 ms.",
    "Stress perfusion at 140 mcg/kg/min adenosine: no inducible ischaemia.",
    "Aortic root 34 mm at the sinuses; ascending aorta 31 mm; 3/4 chambers normal.",
    "Dr review requested for the LGE pattern. Doctor Comments: none.",
    "TE/TR 1.2/3.4 ms, flip angle 50, 25 phases per R-R interval, slice 8 mm, gap 2 mm.",
    "March of the septum towards the LV (septal bounce) is seen in May scans too.",
    "Severity grade 2/3/4 across the three readers.",
    "LGE in AHA segments 4/5/10.", "Akinesia of segments 1/7/13 and hypokinesia of 2/8.",
]


@pytest.mark.parametrize("text", IDENTIFYING)
def test_identifiers_are_caught(text: str) -> None:
    assert identifiers(text), text


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_report_text_is_not_an_identifier(text: str) -> None:
    """Measurement triples, impossible dates, headings after "Patient" / "Pt" and common
    words after "Dr" are report text, not identifiers."""
    assert identifiers(text) == [], text
