"""The CMR finding extractor: agreement with the phantom's structured findings, and a
hand-written set of tricky sentences (negation, uncertainty, synonyms, segments)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cardiolens.data.dataset import read_dataset
from cardiolens.scorers.clinical_score import asserted, clinical_scores
from cardiolens.scorers.cmr_findings import extract, facts_from_structured

SECTION = {"report_cine": "cine", "report_lge": "lge", "report_t2": "t2",
           "report_perfusion": "perfusion", "report_impression": "impression"}
P, A, U = "present", "absent", "uncertain"

# (sentence, findings that must be extracted with that polarity)
TRICKY: list[tuple[str, dict[tuple[str, str], str]]] = [
    ("No late gadolinium enhancement.", {("lge", "absent"): A}),
    ("LGE is absent.", {("lge", "absent"): A}),
    ("There is no evidence of myocardial scar.", {("lge", "absent"): A}),
    ("Late enhancement is not seen.", {("lge", "absent"): A}),
    ("Without late enhancement to suggest fibrosis.", {("lge", "absent"): A}),
    ("Negative for delayed enhancement.", {("lge", "absent"): A}),
    ("Scar in the basal inferior wall.", {("lge", "present"): P, ("lge_level", "basal"): P,
                                          ("lge_wall", "inferior"): P}),
    ("Subendocardial scar of the mid anteroseptum.", {("lge_layer", "subendocardial"): P,
                                                      ("lge_level", "mid"): P}),
    ("Epicardial LGE of the basal inferolateral wall.", {("lge_layer", "subepicardial"): P,
                                                          ("lge_wall", "inferolateral"): P}),
    ("Subepicardial late enhancement laterally.", {("lge_layer", "subepicardial"): P}),
    ("Midmyocardial enhancement in the septum.", {("lge_layer", "mid-wall"): P}),
    ("Mid-wall LGE in the basal inferoseptal wall.", {("lge_layer", "mid-wall"): P,
                                                       ("lge_wall", "inferoseptal"): P,
                                                       ("lge_level", "basal"): P}),
    ("Transmural infarct scar in segments 7-8.", {("lge_layer", "transmural"): P,
                                                  ("lge_level", "mid"): P,
                                                  ("lge_wall", "anterior"): P,
                                                  ("lge_wall", "anteroseptal"): P}),
    ("LGE in segment 4.", {("lge_level", "basal"): P, ("lge_wall", "inferior"): P}),
    ("LGE in segments 13 to 14.", {("lge_level", "apical"): P}),
    ("Apical LGE in segment 17.", {("lge_level", "apex"): P}),
    ("Possible subendocardial LGE in the inferior wall.", {("lge", "present"): U}),
    ("Cannot exclude a small focus of scar.", {("lge", "present"): U}),
    ("Equivocal late enhancement at the apex.", {("lge", "present"): U}),
    ("Patchy LGE of the inferolateral wall.", {("lge_distribution", "patchy or multifocal"): P}),
    ("Multifocal late enhancement.", {("lge_distribution", "patchy or multifocal"): P}),
    ("Diffuse subendocardial enhancement involving all segments.",
     {("lge_distribution", "diffuse"): P, ("lge_level", "apical"): P}),
    ("The transmural extent is less than 25%.", {("lge_transmurality", "<= 25%"): P}),
    ("Maximal transmurality more than 75%.", {("lge_transmurality", "> 75%"): P}),
    ("Enhancement at the RV insertion points.", {("lge_rv_insertion", "yes"): P}),
    ("The papillary muscle enhances.", {("lge_papillary", "yes"): P}),
    ("The pattern is ischemic, in the LAD territory.", {("lge_pattern", "ischemic"): P,
                                                         ("lge_territory", "LAD"): P}),
    ("This is a non-ischemic pattern.", {("lge_pattern", "non-ischemic"): P}),
    ("Scar in the circumflex territory.", {("lge_territory", "LCx"): P}),
    ("Infarction in the right coronary territory.", {("lge_territory", "RCA"): P}),
    ("No myocardial edema.", {("edema", "absent"): A}),
    ("T2-weighted images show no myocardial oedema.", {("edema", "absent"): A}),
    ("Increased T2 signal in the basal lateral wall.", {("edema", "present"): P,
                                                        ("edema_level", "basal"): P}),
    ("Subepicardial edema of the inferolateral wall.", {("edema_layer", "subepicardial"): P,
                                                        ("edema_wall", "inferolateral"): P}),
    ("Possible edema in the septum.", {("edema", "present"): U}),
    ("Diffuse myocardial edema.", {("edema_distribution", "diffuse"): P}),
    ("No perfusion defect.", {("perfusion_defect", "absent"): A}),
    ("First-pass perfusion is normal.", {("perfusion_defect", "absent"): A}),
    ("Stress perfusion is normal without a defect.", {("perfusion_defect", "absent"): A}),
    ("Subendocardial perfusion defect in the inferior wall.",
     {("perfusion_defect", "present"): P, ("defect_depth", "subendocardial"): P,
      ("defect_wall", "inferior"): P}),
    ("Transmural hypoperfusion of the anterior wall in the LAD territory.",
     {("perfusion_defect", "present"): P, ("defect_territory", "LAD"): P}),
    ("No regional wall motion abnormality.", {("rwma", "absent"): A}),
    ("There are no regional wall motion abnormalities.", {("rwma", "absent"): A}),
    ("Hypokinesis of the basal inferior wall.", {("rwma", "present"): P,
                                                 ("rwma_severity", "hypokinetic"): P,
                                                 ("rwma_wall", "inferior"): P}),
    ("The anteroseptum is akinetic.", {("rwma_severity", "akinetic"): P,
                                       ("rwma_wall", "septal"): P}),
    ("Apical dyskinesis.", {("rwma_severity", "dyskinetic"): P, ("rwma_level", "apical"): P}),
    ("The left ventricle is dilated.", {("lv_size", "dilated"): P}),
    ("The left ventricle is not dilated.", {("lv_size", "normal"): P}),
    ("Left ventricular cavity size is enlarged.", {("lv_size", "dilated"): P}),
    ("The LV is normal in size.", {("lv_size", "normal"): P}),
    ("LV ejection fraction is 35%.", {("lv_function", "moderately reduced"): P}),
    ("EF 62%, normal systolic function.", {("lv_function", "normal"): P}),
    ("Severely impaired LV systolic function.", {("lv_function", "severely reduced"): P}),
    ("Global systolic function is mildly reduced (EF 45%).",
     {("lv_function", "mildly reduced"): P}),
    ("Asymmetric septal hypertrophy with thickened septal wall.",
     {("wall_thickness", "thickened"): P, ("hypertrophy_pattern", "asymmetric septal"): P,
      ("thickened_wall", "septal"): P}),
    ("Concentric hypertrophy.", {("hypertrophy_pattern", "concentric"): P}),
    ("Normal wall thickness.", {("wall_thickness", "normal"): P}),
    ("Thinned walls.", {("wall_thickness", "thinned"): P}),
    ("The right ventricle is dilated with reduced systolic function.",
     {("rv_size", "dilated"): P, ("rv_function", "reduced"): P}),
    ("Normal right ventricular size and systolic function.",
     {("rv_size", "normal"): P, ("rv_function", "normal"): P}),
    ("No pericardial effusion.", {("effusion", "none"): P}),
    ("A small pericardial effusion is present.", {("effusion", "small"): P}),
    ("Moderate to large pericardial effusion.", {("effusion", "moderate or large"): P}),
    ("Findings are consistent with cardiac amyloidosis.",
     {("diagnosis", "cardiac amyloidosis"): P}),
    ("Hypertrophic cardiomyopathy.", {("diagnosis", "hypertrophic cardiomyopathy"): P}),
    ("Features of myocarditis.", {("diagnosis", "myocarditis"): P}),
    ("Ischemic cardiomyopathy with an LAD infarct.",
     {("etiology", "ischemic cardiomyopathy"): P}),
    ("Non-ischemic cardiomyopathy, most likely dilated cardiomyopathy.",
     {("diagnosis", "dilated cardiomyopathy"): P}),
    ("Normal cardiac MRI.", {("etiology", "normal"): P}),
    ("Possible cardiac sarcoidosis.", {("diagnosis", "cardiac sarcoidosis"): U}),
]


def _correct(text: str, expected: dict[tuple[str, str], str]) -> bool:
    got = extract(text)
    return all(got.get(finding) == polarity for finding, polarity in expected.items())


def test_tricky_sentences() -> None:
    assert len(TRICKY) >= 60
    wrong = [text for text, expected in TRICKY if not _correct(text, expected)]
    score = 1 - len(wrong) / len(TRICKY)
    print(f"\ntricky set: {len(TRICKY) - len(wrong)}/{len(TRICKY)} = {score:.3f}")
    assert score >= 0.95, wrong


def test_agreement_with_the_phantom_structured_findings(cohort40: Path) -> None:
    reports = [i for i in read_dataset(cohort40).items if i.level == "report_generation"]
    agree = sum(asserted(extract(i.reference or "")) ==
                facts_from_structured(SECTION[i.subtask], i.findings or {}) for i in reports)
    print(f"\nphantom agreement: {agree}/{len(reports)} = {agree / len(reports):.3f}")
    assert agree / len(reports) >= 0.99


@pytest.mark.parametrize("generated, reference, contradictions", [
    ("No late enhancement.", "Subendocardial LGE of the basal inferior wall.", 1),
    ("The left ventricle is dilated.", "The left ventricle is normal in size.", 1),
    ("Subendocardial LGE of the basal inferior wall.",
     "There is focal subendocardial late gadolinium enhancement involving the basal inferior "
     "wall.", 0),
])
def test_contradictions_are_counted(generated: str, reference: str,
                                    contradictions: int) -> None:
    assert clinical_scores(generated, reference).contradictions == contradictions


def test_clinical_f1_rewards_findings_not_wording() -> None:
    reference = "There is focal subendocardial LGE involving the basal and mid inferior wall."
    same = clinical_scores("Focal subendocardial scar of the basal and mid inferior wall.",
                           reference)
    wrong = clinical_scores("Focal subepicardial scar of the apical anterior wall.", reference)
    assert same.f1 == 1.0 and wrong.f1 < 0.5
