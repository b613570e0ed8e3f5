"""The CMR finding extractor on real-report wording the probe split exposed (review rev13):
each class of wording as a minimal sentence plus a variant in other words, so a rule that
only matches the probe's sentence fails here. Polarity first (a flipped negation is worse
than no metric), then hedges, locations and misses."""

from __future__ import annotations

import pytest

from cardiolens.scorers.clinical_score import clinical_scores
from cardiolens.scorers.cmr_findings import extract, read

P, A, U = "present", "absent", "uncertain"
Want = dict[tuple[str, str], str]

# (sentence, findings with the polarity they must have, findings that must not be read)
POLARITY: list[tuple[str, Want, set[tuple[str, str]]]] = [
    # "absence" as a negation
    ("Absence of LGE.", {("lge", "absent"): A}, {("lge", "present")}),
    ("Negative LGE.", {("lge", "absent"): A}, {("lge", "present")}),
    ("Myocardial oedema is not a feature.", {("edema", "absent"): A}, {("edema", "present")}),
    ("LGE in the septum, not felt to be artefactual.", {("lge", "present"): P}, set()),
    ("There are no RWMAs.", {("rwma", "absent"): A}, set()),
    ("There is an absence of myocardial oedema.", {("edema", "absent"): A},
     {("edema", "present")}),
    # resolved / no longer seen / resolution
    ("Oedema has resolved.", {("edema", "absent"): A}, {("edema", "present")}),
    ("The pericardial effusion seen in March has now completely resolved.",
     {("effusion", "none"): P}, {("effusion", "small")}),
    ("The inferior LGE is no longer seen.", {("lge", "absent"): A}, {("lge", "present")}),
    ("Previously reported septal hypokinesis is no longer evident.", {("rwma", "absent"): A},
     {("rwma", "present")}),
    ("Resolution of the apical hypokinesis.", {("rwma", "absent"): A}, {("rwma", "present")}),
    ("Interval resolution of the myocardial oedema.", {("edema", "absent"): A},
     {("edema", "present")}),
    # ... but not a partial resolution
    ("The effusion has partially resolved.", {("effusion", "small"): P},
     {("effusion", "none")}),
    ("Partial resolution of the oedema in the lateral wall.", {("edema", "present"): P},
     {("edema", "absent")}),
    # negation after a bracket or a dash
    ("LGE (PSIR): none.", {("lge", "absent"): A}, {("lge", "present")}),
    ("Late enhancement (magnitude and phase-sensitive) - not seen.", {("lge", "absent"): A},
     {("lge", "present")}),
    ("LGE - absent.", {("lge", "absent"): A}, {("lge", "present")}),
    ("Myocardial oedema (none).", {("edema", "absent"): A}, {("edema", "present")}),
    ("Myocardial oedema \u2013 none.", {("edema", "absent"): A}, {("edema", "present")}),
    ("Delayed enhancement (DE) was absent in all segments.", {("lge", "absent"): A},
     {("lge", "present"), ("lge_level", "basal")}),
    # negated diagnoses with filler words between
    ("Amyloid is felt to be unlikely.", {}, {("diagnosis", "cardiac amyloidosis")}),
    ("Sarcoidosis is thought to be unlikely.", {}, {("diagnosis", "cardiac sarcoidosis")}),
    ("Sarcoid is less likely.", {}, {("diagnosis", "cardiac sarcoidosis")}),
    ("Cardiac amyloidosis is not thought likely.", {}, {("diagnosis", "cardiac amyloidosis")}),
    ("Myocarditis is not favoured.", {}, {("diagnosis", "myocarditis")}),
    ("The LGE is not typical of amyloid.", {("lge", "present"): P}, {("lge", "absent")}),
    ("Iron overload cardiomyopathy excluded.", {}, {("diagnosis", "other non-ischemic")}),
    ("Hypertrophic cardiomyopathy has been excluded.", {},
     {("diagnosis", "hypertrophic cardiomyopathy")}),
    # a negated list that runs over a compound noun
    ("No thrombus, pericardial effusion or LGE.",
     {("effusion", "none"): P, ("lge", "absent"): A}, {("pericardial_enhancement", "present")}),
    ("No pericardial effusion or late enhancement.",
     {("effusion", "none"): P, ("lge", "absent"): A}, {("pericardial_enhancement", "present")}),
    # a short list of findings, then the negation
    ("Pericardial effusion or thickening is not seen.", {("effusion", "none"): P},
     {("effusion", "small")}),
    ("Myocardial oedema and LGE are absent.", {("edema", "absent"): A, ("lge", "absent"): A},
     {("edema", "present")}),
    ("Subendocardial LGE and the RV is normal.", {("lge", "present"): P}, {("lge", "absent")}),
    # exceptions
    ("No LGE apart from a focus at the RV insertion point.",
     {("lge", "present"): P, ("lge_rv_insertion", "yes"): P}, {("lge", "absent")}),
    ("No late enhancement except for a small area in the basal inferolateral wall.",
     {("lge", "present"): P, ("lge_level", "basal"): P, ("lge_wall", "inferolateral"): P},
     {("lge", "absent")}),
    ("Normal LV function other than apical hypokinesis.",
     {("lv_function", "normal"): P, ("rwma", "present"): P}, {("lv_function", "reduced")}),
    ("Preserved left ventricular systolic function save for mild inferior hypokinesis.",
     {("lv_function", "normal"): P, ("rwma", "present"): P, ("rwma_wall", "inferior"): P},
     {("lv_function", "mildly reduced")}),
    # the current value of a change, not the prior one
    ("LVEF improved from 30% to 55%.", {("lv_function", "normal"): P},
     {("lv_function", "moderately reduced")}),
    ("The ejection fraction has fallen from 60 to 38%.",
     {("lv_function", "moderately reduced"): P}, {("lv_function", "normal")}),
    ("LVEF 40% previously, now 55%.", {("lv_function", "normal"): P},
     {("lv_function", "mildly reduced")}),
    ("EF was 35% in 2019 and is now 55%.", {("lv_function", "normal"): P},
     {("lv_function", "moderately reduced")}),
    ("EF 44% (previously 60%).", {("lv_function", "mildly reduced"): P},
     {("lv_function", "normal")}),
    ("LVEDVi decreased from 130 to 96 ml/m2.", {("lv_size", "normal"): P},
     {("lv_size", "dilated")}),
    # a size word inside a negated phrase
    ("Small effusion, not haemodynamically significant.", {("effusion", "small"): P},
     {("effusion", "moderate or large")}),
    ("Trace pericardial effusion, not significant.", {("effusion", "small"): P},
     {("effusion", "moderate or large")}),
    ("Large pericardial effusion.", {("effusion", "moderate or large"): P}, set()),
    # dismissed findings
    ("Focal LGE, felt to be artefactual.", {}, {("lge", "present"), ("lge", "absent")}),
    ("Apparent enhancement of the septum, likely representing artefact.", {},
     {("lge", "present")}),
    ("A small area of enhancement in the septum is likely artefact.", {},
     {("lge", "present"), ("lge_wall", "anteroseptal")}),
    # round 2 (fresh2): a negated list split at its comma, "neither ... nor", more negation
    # words after the finding, a list of diagnoses before its negated verb
    ("There is no LV dilatation, hypertrophy or systolic dysfunction.",
     {("lv_function", "normal"): P, ("wall_thickness", "normal"): P},
     {("lv_function", "reduced"), ("wall_thickness", "thickened")}),
    ("No RV enlargement, thinning or impairment.", {("rv_function", "normal"): P},
     {("rv_function", "reduced"), ("wall_thickness", "thinned")}),
    ("Neither the LV nor the RV is dilated.",
     {("lv_size", "normal"): P, ("rv_size", "normal"): P}, {("rv_size", "dilated")}),
    ("Neither ventricle is dilated.", {("lv_size", "normal"): P, ("rv_size", "normal"): P},
     {("lv_size", "dilated"), ("rv_size", "dilated")}),
    ("Neither the left nor the right ventricle is enlarged.",
     {("lv_size", "normal"): P, ("rv_size", "normal"): P},
     {("rv_size", "dilated"), ("lv_size", "dilated")}),
    ("No evidence of LV dilatation, LV hypertrophy or impaired systolic function.",
     {("lv_size", "normal"): P, ("lv_function", "normal"): P}, {("lv_size", "dilated")}),
    ("No significant LV dilatation, LVH or systolic impairment is seen.",
     {("lv_function", "normal"): P, ("wall_thickness", "normal"): P},
     {("lv_function", "reduced"), ("wall_thickness", "thickened")}),
    ("No evidence of RV dilatation or dysfunction.", {("rv_function", "normal"): P},
     {("rv_function", "reduced")}),
    ("LV is not hypertrophied, dilated or impaired.", {("lv_size", "normal"): P},
     {("lv_size", "dilated")}),
    ("Pericardial effusion is not appreciated.", {("effusion", "none"): P},
     {("effusion", "small")}),
    # ... but a comma without an "or" item is two statements, not a list
    ("No LV dilatation, moderately impaired systolic function.",
     {("lv_size", "normal"): P, ("lv_function", "moderately reduced"): P},
     {("lv_function", "normal")}),
    # a regional hypokinesis is not the function of the ventricle named after it
    ("Inferior wall hypokinesis with normal RV function.",
     {("rv_function", "normal"): P, ("rwma", "present"): P}, {("rv_function", "reduced")}),
    ("Pericardial effusion not detectable.", {("effusion", "none"): P},
     {("effusion", "small")}),
    ("Myocardial oedema is not appreciable on STIR.", {("edema", "absent"): A},
     {("edema", "present")}),
    ("Myocarditis, sarcoidosis and amyloid are not supported by the tissue characterisation.",
     {}, {("diagnosis", "myocarditis"), ("diagnosis", "cardiac sarcoidosis")}),
    ("HCM is not suspected.", {}, {("diagnosis", "hypertrophic cardiomyopathy")}),
    ("Amyloidosis or Fabry disease is not suggested.", {},
     {("diagnosis", "cardiac amyloidosis"), ("diagnosis", "other non-ischemic")}),
    ("The pericardium is of normal thickness and shows no enhancement.",
     {("pericardial_enhancement", "absent"): A}, {("lge", "absent"), ("wall_thickness", "normal")}),
    ("The pericardium does not enhance.", {("pericardial_enhancement", "absent"): A},
     {("lge", "absent"), ("pericardial_enhancement", "present")}),
    # fresh3 round: interval change with words between the two values
    ("LVEF has improved from 31% on the previous scan to 52% today.",
     {("lv_function", "normal"): P}, {("lv_function", "moderately reduced")}),
    ("Ejection fraction fell from 58% at the 2021 study to 33% on this examination.",
     {("lv_function", "moderately reduced"): P}, {("lv_function", "normal")}),
    # "nor" carries the negation to the next predicate
    ("The left ventricle is not dilated, nor is it hypertrophied.",
     {("lv_size", "normal"): P, ("wall_thickness", "normal"): P},
     {("wall_thickness", "thickened")}),
    ("No LV enlargement, nor is LV systolic function impaired.",
     {("lv_size", "normal"): P, ("lv_function", "normal"): P}, {("lv_function", "reduced")}),
    # the RV's wall is not the LV's wall thickness
    ("Normal LV wall thickness, though the RV free wall is hypertrophied.",
     {("wall_thickness", "normal"): P}, {("wall_thickness", "thickened")}),
    ("Right ventricular hypertrophy with left ventricular wall thickness within normal limits.",
     {("wall_thickness", "normal"): P}, {("wall_thickness", "thickened")}),
    # a negated coronary distribution is a non-ischaemic pattern
    ("Patchy LGE, not in a coronary distribution.",
     {("lge", "present"): P, ("lge_pattern", "non-ischemic"): P},
     {("lge_pattern", "ischemic")}),
    ("Mid-wall enhancement that does not follow a coronary artery territory.",
     {("lge", "present"): P, ("lge_pattern", "non-ischemic"): P},
     {("lge_pattern", "ischemic")}),
    # a list of diagnoses closed by any negation verb
    ("MI, infiltration and myocarditis are all excluded.", {("infarct", "absent"): A},
     {("infarct", "present"), ("diagnosis", "myocarditis"), ("lge", "present")}),
    ("Sarcoidosis, myocarditis and infarction have all been ruled out.",
     {("infarct", "absent"): A},
     {("infarct", "present"), ("diagnosis", "cardiac sarcoidosis"),
      ("diagnosis", "myocarditis")}),
]

HEDGES: list[tuple[str, Want, set[tuple[str, str]]]] = [
    ("Concerning for myocarditis.", {("diagnosis", "myocarditis"): U}, set()),
    ("Appearances worrying for cardiac sarcoidosis.", {("diagnosis", "cardiac sarcoidosis"): U},
     set()),
    ("Myocarditis is a possibility.", {("diagnosis", "myocarditis"): U}, set()),
    ("Cardiac amyloidosis remains a possibility.", {("diagnosis", "cardiac amyloidosis"): U},
     set()),
    ("Amyloid cannot be entirely excluded.", {("diagnosis", "cardiac amyloidosis"): U}, set()),
    ("Sarcoidosis cannot be completely ruled out.", {("diagnosis", "cardiac sarcoidosis"): U},
     set()),
    ("Fabry disease should be considered.", {("diagnosis", "other non-ischemic"): U}, set()),
    ("Cardiac amyloidosis should also be considered.",
     {("diagnosis", "cardiac amyloidosis"): U}, set()),
    ("Appearances are suggestive, though not diagnostic, of cardiac sarcoidosis.",
     {("diagnosis", "cardiac sarcoidosis"): U}, set()),
    ("The findings are suspicious, in this clinical context, for myocarditis.",
     {("diagnosis", "myocarditis"): U}, set()),
    ("Not inconsistent with amyloidosis.", {("diagnosis", "cardiac amyloidosis"): U}, set()),
    ("The findings are not incompatible with sarcoidosis.",
     {("diagnosis", "cardiac sarcoidosis"): U}, set()),
    ("It is difficult to exclude subtle LGE.", {("lge", "present"): U}, {("lge", "absent")}),
    ("It is not possible to confidently rule out myocarditis.",
     {("diagnosis", "myocarditis"): U}, set()),
    ("?myocarditis", {("diagnosis", "myocarditis"): U}, set()),
    ("The absence of LGE does not exclude myocarditis.",
     {("lge", "absent"): A, ("diagnosis", "myocarditis"): U}, {("lge", "present")}),
    # a hedge word does not make a measured number uncertain
    ("Borderline LV function, EF 52%.", {("lv_function", "normal"): P}, set()),
    ("Possibly mildly impaired LV function, LVEF 47%.", {("lv_function", "mildly reduced"): P},
     set()),
    ("Borderline LV systolic function.", {},
     {("lv_function", "normal"), ("lv_function", "reduced")}),
    # round 2 (fresh2): a hedge after a long subject, a finding left open against an
    # artefact, a trailing clause that opens with a hedge (its sites only are uncertain)
    ("Subtle enhancement of the anterolateral papillary muscle is suspected.",
     {("lge", "present"): U, ("lge_papillary", "yes"): U}, set()),
    ("Faint oedema in the mid inferior wall of the left ventricle is questionable.",
     {("edema", "present"): U}, set()),
    ("Subendocardial perfusion defect in the apical septum, concerning for ischaemia versus "
     "artefact.", {("perfusion_defect", "present"): U}, set()),
    ("Apical perfusion defect, possibly artefactual.", {("perfusion_defect", "present"): U},
     set()),
    ("Small inferior perfusion defect, which may represent artefact.",
     {("perfusion_defect", "present"): U}, set()),
    ("Inferior perfusion deficit, likely true ischaemia or dark-rim artefact.",
     {("perfusion_defect", "present"): U}, set()),
    ("Mid-wall LGE in the septum, possibly also involving the inferior RV insertion point.",
     {("lge", "present"): P, ("lge_wall", "inferoseptal"): P, ("lge_rv_insertion", "yes"): U},
     set()),
    ("Patchy fibrosis of the basal lateral wall, perhaps extending to the inferior wall.",
     {("lge", "present"): P, ("lge_wall", "anterolateral"): P, ("lge_wall", "inferior"): U},
     set()),
    # fresh3 round: "X and Y are considered" hedges (not "considered likely")
    ("Sarcoidosis and myocarditis are considered.",
     {("diagnosis", "cardiac sarcoidosis"): U, ("diagnosis", "myocarditis"): U},
     {("diagnosis", "myocarditis")}),
    ("Cardiac amyloidosis is also being considered given the diffuse enhancement.",
     {("diagnosis", "cardiac amyloidosis"): U}, set()),
    # a headed field whose value is a hedge word
    ("Oedema: possible subtle increase in T2 signal in the mid inferior segment.",
     {("edema", "present"): U, ("edema_wall", "inferior"): U}, {("edema", "present")}),
    ("LGE - equivocal.", {("lge", "present"): U}, {("lge", "present")}),
]

LOCATIONS: list[tuple[str, Want, set[tuple[str, str]]]] = [
    ("LGE in all basal segments.", {("lge_level", "basal"): P, ("lge_wall", "inferior"): P},
     {("lge_level", "mid"), ("lge_level", "apical")}),
    ("Oedema involving all mid segments.", {("edema_level", "mid"): P},
     {("edema_level", "basal"), ("edema_level", "apical")}),
    ("The septum is thickened, the lateral wall is not.",
     {("wall_thickness", "thickened"): P, ("thickened_wall", "septal"): P},
     {("thickened_wall", "lateral")}),
    ("The inferior wall is hypertrophied but the septum is not.",
     {("thickened_wall", "inferior"): P}, {("thickened_wall", "septal")}),
    ("Pericardium: no effusion or enhancement.",
     {("pericardial_enhancement", "absent"): A, ("effusion", "none"): P}, {("lge", "absent")}),
    ("Pericardium: normal thickness, no enhancement.",
     {("pericardial_enhancement", "absent"): A}, {("lge", "absent")}),
    ("Anteroapical dyskinesis.", {("rwma_level", "apical"): P, ("rwma_wall", "anterior"): P},
     set()),
    ("Inferoapical akinesis.", {("rwma_level", "apical"): P, ("rwma_wall", "inferior"): P,
                                ("rwma_severity", "akinetic"): P}, set()),
    ("LGE confined to the subepicardium of the lateral wall.",
     {("lge_layer", "subepicardial"): P}, set()),
    ("Patchy enhancement of the subendocardium.", {("lge_layer", "subendocardial"): P}, set()),
    ("LGE at the apical cap.", {("lge_level", "apex"): P}, {("lge_level", "apical")}),
    # round 2 (fresh2): AHA segments after a colon, "all segments ... except", RV wall motion
    ("Hypokinetic segments: 4, 5, 10, 11.",
     {("rwma_level", "basal"): P, ("rwma_level", "mid"): P, ("rwma_wall", "inferior"): P,
      ("rwma_wall", "lateral"): P}, set()),
    ("Akinetic segments: 7-8.", {("rwma_level", "mid"): P, ("rwma_wall", "anterior"): P,
                                 ("rwma_wall", "septal"): P}, set()),
    ("All segments contract normally except the apical inferior segment, which is akinetic.",
     {("rwma", "present"): P, ("rwma_wall", "inferior"): P, ("rwma_level", "apical"): P},
     {("rwma_wall", "anterior"), ("rwma_level", "basal")}),
    ("All segments are normal apart from the mid inferoseptum, which is hypokinetic.",
     {("rwma_wall", "septal"): P, ("rwma_level", "mid"): P}, {("lv_function", "reduced")}),
    ("All walls move normally apart from the basal anterior wall, which is hypokinetic.",
     {("rwma_wall", "anterior"): P, ("rwma_level", "basal"): P},
     {("rwma_wall", "inferior"), ("rwma_level", "mid")}),
    ("The right ventricular free wall is hypokinetic.", {("rv_function", "reduced"): P},
     {("rwma", "present")}),
    ("Akinesis of the RV free wall.", {("rv_function", "reduced"): P}, {("rwma", "present")}),
    ("LGE: present; layer: subendocardial; segments 5, 6, 11.",
     {("lge_layer", "subendocardial"): P, ("lge_wall", "inferolateral"): P,
      ("lge_level", "mid"): P}, set()),
    ("Oedema: present; location: basal inferior wall.",
     {("edema", "present"): P, ("edema_level", "basal"): P, ("edema_wall", "inferior"): P},
     set()),
    ("Perfusion defect was noted at subendocardium of mid anterolateral wall.",
     {("defect_depth", "subendocardial"): P}, set()),
    ("Scar burden approx. 18% of LV mass, mostly subendocardial, in the LCx territory.",
     {("lge_layer", "subendocardial"): P, ("lge_territory", "LCx"): P}, set()),
    # fresh3 round: "T2 elevation" is oedema, diffuse where the text says so
    ("Diffuse T2 elevation across all segments (global T2 62 ms).",
     {("edema", "present"): P, ("edema_distribution", "diffuse"): P}, set()),
    # "inferior septum" is the inferoseptal wall; a junction is the RV insertion, not a wall
    ("Late gadolinium enhancement is seen at the mid-wall of basal inferior septum.",
     {("lge_wall", "inferoseptal"): P}, {("lge_wall", "inferior"), ("lge_wall", "anteroseptal")}),
    ("Scar in the mid anterior septal segment.", {("lge_wall", "anteroseptal"): P},
     {("lge_wall", "anterior"), ("lge_wall", "inferoseptal")}),
    ("Insertion-point fibrosis at the inferior junction; otherwise no LGE.",
     {("lge_rv_insertion", "yes"): P}, {("lge_wall", "inferior")}),
    ("Small focus of enhancement at the anterior RV junction.",
     {("lge_rv_insertion", "yes"): P}, {("lge_wall", "anterior")}),
    # from base to apex passes the mid level
    ("Mid-wall enhancement in the septum extending from the basal to the apical septum.",
     {("lge_level", "basal"): P, ("lge_level", "mid"): P, ("lge_level", "apical"): P}, set()),
    ("Subepicardial LGE of the lateral wall from base to apex.",
     {("lge_level", "basal"): P, ("lge_level", "mid"): P}, set()),
    # "all walls" at the levels named: those levels only
    ("Ring-like subepicardial LGE of the basal and mid LV, involving all walls at those levels.",
     {("lge_level", "basal"): P, ("lge_level", "mid"): P, ("lge_wall", "anterior"): P},
     {("lge_level", "apical")}),
    ("Circumferential mid-wall enhancement at the basal level.",
     {("lge_level", "basal"): P, ("lge_wall", "inferolateral"): P},
     {("lge_level", "mid"), ("lge_level", "apical")}),
]

MISSES: list[tuple[str, Want, set[tuple[str, str]]]] = [
    # statements about both ventricles in one clause
    ("The LV is mildly dilated and the RV is impaired.",
     {("lv_size", "dilated"): P, ("rv_function", "reduced"): P}, {("rv_size", "dilated")}),
    ("Severely dilated LV with an LVEF of 25% and a normal RV.",
     {("lv_size", "dilated"): P, ("rv_size", "normal"): P, ("rv_function", "normal"): P},
     {("rv_size", "dilated")}),
    ("The LV is not dilated but is severely impaired.",
     {("lv_size", "normal"): P, ("lv_function", "severely reduced"): P}, set()),
    ("LV and RV are dilated.", {("lv_size", "dilated"): P, ("rv_size", "dilated"): P}, set()),
    ("Normal LV and RV size and function.",
     {("lv_size", "normal"): P, ("rv_size", "normal"): P, ("rv_function", "normal"): P}, set()),
    ("Dilated LV without LGE.", {("lv_size", "dilated"): P, ("lge", "absent"): A}, set()),
    ("Enlarged left ventricle with no scar.", {("lv_size", "dilated"): P, ("lge", "absent"): A},
     set()),
    ("Small focus of LGE in the septum.", {("lge", "present"): P}, {("lv_size", "small")}),
    ("Old inferior MI.", {("infarct", "present"): P, ("lge_wall", "inferior"): P}, set()),
    ("Previous NSTEMI with subendocardial LGE in the lateral wall.",
     {("infarct", "present"): P, ("lge_layer", "subendocardial"): P}, set()),
    ("No PDE.", {("lge", "absent"): A}, set()),
    ("DE: none.", {("lge", "absent"): A}, set()),
    ("Maximal wall thickness 1.8 cm.", {("wall_thickness", "thickened"): P}, set()),
    ("The septum measures 1.1 cm.", {("wall_thickness", "normal"): P}, set()),
    ("LV EDV 205 ml (indexed 104 ml/m2).", {("lv_size", "dilated"): P}, set()),
    ("Unremarkable cardiac MRI.", {("etiology", "normal"): P}, set()),
    ("Unremarkable CMR study.", {("etiology", "normal"): P}, set()),
    ("No cardiac pathology identified.", {("etiology", "normal"): P}, set()),
    ("No significant cardiac pathology.", {("etiology", "normal"): P}, set()),
    ("Structurally and functionally normal heart.", {("etiology", "normal"): P}, set()),
    ("Functionally and structurally normal heart.", {("etiology", "normal"): P}, set()),
    ("RV: normal.", {("rv_size", "normal"): P, ("rv_function", "normal"): P}, set()),
    ("Right ventricle: normal.", {("rv_size", "normal"): P, ("rv_function", "normal"): P},
     set()),
    ("The RV is impaired.", {("rv_function", "reduced"): P}, set()),
    ("The right ventricle appears moderately impaired.", {("rv_function", "reduced"): P},
     set()),
    ("Regional wall motion was preserved.", {("rwma", "absent"): A}, set()),
    ("Wall motion is preserved throughout.", {("rwma", "absent"): A}, set()),
    ("Wall motion: no regional abnormality.", {("rwma", "absent"): A}, set()),
    ("Regional wall motion: no abnormality.", {("rwma", "absent"): A}, set()),
    ("STIR: no high signal.", {("edema", "absent"): A}, set()),
    ("T2-weighted imaging: no increased signal.", {("edema", "absent"): A}, set()),
    ("T2 mapping: elevated values in the septum.",
     {("edema", "present"): P, ("edema_wall", "inferoseptal"): P}, set()),
    ("T2 values are elevated in the basal inferior wall.",
     {("edema", "present"): P, ("edema_level", "basal"): P, ("edema_wall", "inferior"): P},
     set()),
    ("Increased signal intensity on T2-weighted images in the apical segments.",
     {("edema", "present"): P, ("edema_level", "apical"): P}, set()),
    ("High signal on STIR images in the lateral wall.",
     {("edema", "present"): P, ("edema_wall", "anterolateral"): P}, set()),
    ("Non-ischaemic LGE in the septum.", {("lge_pattern", "non-ischemic"): P}, set()),
    ("Non-coronary mid-wall fibrosis.", {("lge_pattern", "non-ischemic"): P}, set()),
    ("Apical HCM.", {("hypertrophy_pattern", "apical"): P}, set()),
    ("Apical hypertrophic cardiomyopathy.", {("hypertrophy_pattern", "apical"): P}, set()),
    ("The LV contracts normally.", {("lv_function", "normal"): P}, set()),
    ("The left ventricle is contracting normally.", {("lv_function", "normal"): P}, set()),
    ("Regular LV dimensions and function.",
     {("lv_size", "normal"): P, ("lv_function", "normal"): P}, set()),
    ("Regular left ventricular size and systolic function.",
     {("lv_size", "normal"): P, ("lv_function", "normal"): P}, set()),
    ("Two foci of LGE in the septum.", {("lge_distribution", "patchy or multifocal"): P},
     set()),
    ("Several foci of mid-wall enhancement.", {("lge_distribution", "patchy or multifocal"): P},
     set()),
    ("The left ventricle is hyperdynamic.", {("lv_function", "normal"): P}, set()),
    ("Findings are most in keeping with an ischaemic aetiology.",
     {("etiology", "ischemic cardiomyopathy"): P}, set()),
    ("A non-ischaemic aetiology is favoured.",
     {("etiology", "non-ischemic cardiomyopathy"): P}, set()),
    ("Transmural oedema in the RCA territory with a corresponding infarct.",
     {("infarct", "present"): P, ("lge_territory", "RCA"): P}, set()),
    # round 2 (fresh2): number words, absolute volumes, verbless "within normal limits",
    # "not increased", single transmurality percentages, "normal global and regional"
    ("Ejection fraction is forty-four percent.", {("lv_function", "mildly reduced"): P}, set()),
    ("The LVEF is twenty per cent.", {("lv_function", "severely reduced"): P}, set()),
    ("LVEDV 301 mL, LVEF 31%.", {("lv_size", "dilated"): P}, set()),
    ("RV end-diastolic volume 180 ml.", {("rv_size", "normal"): P}, set()),
    ("LV size and function within normal limits.",
     {("lv_size", "normal"): P, ("lv_function", "normal"): P}, set()),
    ("RV size and function normal.", {("rv_size", "normal"): P, ("rv_function", "normal"): P},
     set()),
    ("RV volumes are not increased.", {("rv_size", "normal"): P}, {("rv_size", "dilated")}),
    ("LV size not increased.", {("lv_size", "normal"): P}, {("lv_size", "dilated")}),
    ("LV wall thickness is not increased.", {("wall_thickness", "normal"): P},
     {("wall_thickness", "thickened")}),
    ("Subendocardial LGE involving approximately 40% of wall thickness.",
     {("lge_transmurality", "26-50%"): P}, set()),
    ("Infarct transmurality about 90%.", {("lge_transmurality", "> 75%"): P}, set()),
    ("Scar involving less than 50% of the wall thickness.", {},
     {("lge_transmurality", "26-50%")}),
    ("Normal global and regional LV function.",
     {("lv_function", "normal"): P, ("rwma", "absent"): A}, set()),
    ("Regional LV function is normal.", {("rwma", "absent"): A}, {("rwma", "present")}),
    ("No abnormality of cardiac structure or function.", {("etiology", "normal"): P}, set()),
    ("No structural or functional cardiac abnormality.", {("etiology", "normal"): P}, set()),
    ("No evidence of cardiac structural or functional abnormality.",
     {("etiology", "normal"): P}, set()),
    ("LV wall thickness is normal throughout except for the basal septum, which measures "
     "16 mm.", {("wall_thickness", "thickened"): P}, {("lv_size", "normal")}),
    ("The LV myocardium is normal in thickness.", {("wall_thickness", "normal"): P},
     {("lv_function", "normal")}),
    ("Focal hypertrophy of the basal anterolateral wall measuring 17 mm; the remaining "
     "segments are normal in thickness.", {("wall_thickness", "thickened"): P},
     {("wall_thickness", "normal")}),
    ("HCM, septal phenotype, max 21 mm.",
     {("hypertrophy_pattern", "asymmetric septal"): P, ("thickened_wall", "septal"): P}, set()),
    ("No pericardial fluid.", {("effusion", "none"): P}, {("effusion", "small")}),
    ("No fluid in the pericardial space.", {("effusion", "none"): P}, {("effusion", "small")}),
    ("A small amount of fluid within the pericardial sac.", {("effusion", "small"): P}, set()),
    ("Prolonged T2 values in the basal inferolateral wall.",
     {("edema", "present"): P, ("edema_wall", "inferolateral"): P}, set()),
    ("Focal increase in T2 signal in the apical anterior wall.",
     {("edema", "present"): P, ("edema_wall", "anterior"): P}, set()),
    # the evidence after "given" is stated, though the diagnosis is hedged
    ("Eosinophilic myocarditis cannot be excluded given the diffuse subendocardial LGE.",
     {("lge", "present"): P, ("lge_layer", "subendocardial"): P,
      ("diagnosis", "myocarditis"): U}, set()),
    ("Possible sarcoidosis in view of the patchy mid-wall fibrosis.",
     {("lge", "present"): P, ("diagnosis", "cardiac sarcoidosis"): U}, set()),
    # the myocardium spared: no myocardial LGE
    ("Pericardial LGE with a thickened pericardium; the myocardium is spared.",
     {("lge", "absent"): A, ("pericardial_enhancement", "present"): P}, {("lge", "present")}),
    ("Enhancement of the pericardium, the myocardium itself appears spared.",
     {("lge", "absent"): A, ("pericardial_enhancement", "present"): P}, {("lge", "present")}),
    # no regional variation of a global impairment: no regional wall motion abnormality
    ("Moderate global impairment of LV function, without any regional variation.",
     {("rwma", "absent"): A}, {("rwma", "present")}),
    ("Globally reduced LV function with no regional differences.",
     {("rwma", "absent"): A, ("lv_function", "reduced"): P}, {("rwma", "present")}),
    # fresh3 round: an EF after a bracket, "pct" / "per cent"
    ("Left ventricular ejection fraction (Simpson's, short-axis stack) measured 38 per cent.",
     {("lv_function", "moderately reduced"): P}, set()),
    ("LVEF (biplane, area-length method) is 44 pct.", {("lv_function", "mildly reduced"): P},
     set()),
    # normal size in other words
    ("LV volumes are within the normal range for age and sex.", {("lv_size", "normal"): P},
     {("lv_size", "dilated")}),
    ("Right ventricular dimensions and systolic performance within normal limits.",
     {("rv_size", "normal"): P, ("rv_function", "normal"): P}, set()),
    ("RV size and contractility are normal.",
     {("rv_size", "normal"): P, ("rv_function", "normal"): P}, set()),
    # a list of attributes closed by "are normal"
    ("LV size, wall thickness and systolic function are within normal limits.",
     {("lv_size", "normal"): P, ("wall_thickness", "normal"): P, ("lv_function", "normal"): P},
     set()),
    ("Left ventricular volumes, mass and ejection fraction are all normal.",
     {("lv_size", "normal"): P, ("lv_function", "normal"): P}, set()),
    ("The left ventricle is normal in size and thickness.",
     {("lv_size", "normal"): P, ("wall_thickness", "normal"): P},
     {("wall_thickness", "thickened")}),
    ("Left ventricle normal in cavity size and wall thickness.",
     {("lv_size", "normal"): P, ("wall_thickness", "normal"): P}, set()),
    # a bare function word after the ventricle's clause
    ("The LV is not dilated, but impaired.",
     {("lv_size", "normal"): P, ("lv_function", "reduced"): P}, {("lv_function", "normal")}),
    ("The right ventricle is normal in size but severely impaired.",
     {("rv_size", "normal"): P, ("rv_function", "reduced"): P}, {("rv_function", "normal")}),
    # "hypocontractile", "dilated and impaired"
    ("The RV is enlarged and hypocontractile.",
     {("rv_size", "dilated"): P, ("rv_function", "reduced"): P}, {("rv_function", "normal")}),
    ("The LV is mildly dilated and moderately impaired.",
     {("lv_size", "dilated"): P, ("lv_function", "moderately reduced"): P}, set()),
    ("Left ventricle hypertrophied but hypocontractile.",
     {("wall_thickness", "thickened"): P, ("lv_function", "reduced"): P}, set()),
    # "hypocontractile" said of a wall is a regional wall-motion abnormality
    ("The septum is hypocontractile.",
     {("rwma", "present"): P, ("rwma_wall", "septal"): P, ("rwma_severity", "hypokinetic"): P},
     set()),
    ("Hypocontractility of the inferior wall.",
     {("rwma", "present"): P, ("rwma_wall", "inferior"): P}, set()),
    # "ASH"; a normal study in other words
    ("ASH measuring 22 mm.",
     {("wall_thickness", "thickened"): P, ("hypertrophy_pattern", "asymmetric septal"): P},
     set()),
    ("Cardiac MR within normal limits in all respects.", {("etiology", "normal"): P}, set()),
    ("The study is normal in all respects.", {("etiology", "normal"): P}, set()),
    # the endocardial third; a fraction of the wall as a transmurality band
    ("Basal inferolateral LGE confined to the endocardial third.",
     {("lge_layer", "subendocardial"): P}, set()),
    ("LGE involving one-third of the wall thickness.",
     {("lge_transmurality", "26-50%"): P}, set()),
    ("Scar extends through two thirds of the wall.", {("lge_transmurality", "51-75%"): P},
     set()),
]


def _check(text: str, want: Want, unwanted: set[tuple[str, str]]) -> None:
    got = extract(text)
    assert {f: got.get(f) for f in want} == want, got
    assert not {f for f in unwanted if got.get(f) in (P, A)}, got


@pytest.mark.parametrize("text, want, unwanted", POLARITY)
def test_negations_in_report_wording(text: str, want: Want,
                                     unwanted: set[tuple[str, str]]) -> None:
    _check(text, want, unwanted)


@pytest.mark.parametrize("text, want, unwanted", HEDGES)
def test_hedges_in_report_wording(text: str, want: Want,
                                  unwanted: set[tuple[str, str]]) -> None:
    _check(text, want, unwanted)


@pytest.mark.parametrize("text, want, unwanted", LOCATIONS)
def test_locations_in_report_wording(text: str, want: Want,
                                     unwanted: set[tuple[str, str]]) -> None:
    _check(text, want, unwanted)


@pytest.mark.parametrize("text, want, unwanted", MISSES)
def test_findings_in_report_wording(text: str, want: Want,
                                    unwanted: set[tuple[str, str]]) -> None:
    _check(text, want, unwanted)


def test_negated_diagnoses_are_kept_for_contradictions() -> None:
    assert ("diagnosis", "cardiac amyloidosis") in read("Amyloid is felt to be unlikely.").negated
    assert clinical_scores("Sarcoidosis is thought to be unlikely.",
                           "Cardiac sarcoidosis.").contradictions == 1


@pytest.mark.parametrize("a, b", [
    ("The effusion described in 2022 has resolved.", "Small pericardial effusion."),
    ("LVEF improved from 30% to 55%.", "LVEF 30%."),
    ("Absence of myocardial oedema.", "Oedema in the inferolateral wall."),
])
def test_resolved_and_prior_values_contradict_the_opposite(a: str, b: str) -> None:
    assert clinical_scores(a, b).contradictions >= 1
