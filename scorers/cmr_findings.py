"""A rule-based CMR finding extractor: free report text to structured findings.

Offline and deterministic (no model weights). The text is split into sentences; each
sentence is assigned topics by keyword (late enhancement, edema, perfusion defect, wall
motion, LV size, thickness, function, RV, effusion, diagnosis), and each topic gets a
polarity: ``present``, ``absent`` (negation cues before the topic word: "no", "without",
"absent", "negative for", "not", or after it: "is absent", "not seen") or ``uncertain``
("possible", "cannot exclude", "may represent"). Locations are read as levels (basal, mid,
apical, apex), walls (six AHA walls, or septal / lateral), AHA segment numbers
("segment 7", "segments 1-3") and coronary territories; layers, distribution,
transmurality, depth and severity from their vocabularies and synonyms (scar / late
enhancement / LGE; subepicardial / epicardial; midmyocardial / mid-wall).

A finding is a ``(slot, value)`` pair, e.g. ``("lge", "present")``,
``("lge_wall", "inferior")``, ``("lv_function", "moderately reduced")``; an extraction maps
findings to their polarity.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from cardiolens.data.anatomy import territory

Finding = tuple[str, str]
Extraction = dict[Finding, str]

LEVEL_WORDS = {"basal": "basal", "base": "basal", "mid": "mid", "mid-ventricular": "mid",
               "midventricular": "mid", "apical": "apical", "apex": "apex"}
WALLS6 = ("anterior", "anteroseptal", "inferoseptal", "inferior", "inferolateral",
          "anterolateral")
WALL_SYNONYMS = {"anteroseptum": "anteroseptal", "inferoseptum": "inferoseptal"}
WALL4 = {"anterior": "anterior", "anteroseptal": "septal", "inferoseptal": "septal",
         "septal": "septal", "septum": "septal", "inferior": "inferior",
         "inferolateral": "lateral", "anterolateral": "lateral", "lateral": "lateral"}
SEGMENTS = {**{i + 1: ("basal", w) for i, w in enumerate(WALLS6)},
            **{i + 7: ("mid", w) for i, w in enumerate(WALLS6)},
            13: ("apical", "anterior"), 14: ("apical", "septal"), 15: ("apical", "inferior"),
            16: ("apical", "lateral"), 17: ("apex", "")}
SEGMENT_NAMES = {"basal anterior": 1, "basal anteroseptal": 2, "basal inferoseptal": 3,
                 "basal inferior": 4, "basal inferolateral": 5, "basal anterolateral": 6}
LAYERS = {"subendocardial": "subendocardial", "mid-wall": "mid-wall", "midwall": "mid-wall",
          "midmyocardial": "mid-wall", "mid-myocardial": "mid-wall",
          "intramyocardial": "mid-wall", "subepicardial": "subepicardial",
          "epicardial": "subepicardial", "transmural": "transmural"}
DISTRIBUTIONS = {"focal": "focal", "patchy": "patchy or multifocal",
                 "multifocal": "patchy or multifocal", "diffuse": "diffuse",
                 "global": "diffuse"}
TERRITORIES = {"lad": "LAD", "left anterior descending": "LAD", "lcx": "LCx",
               "circumflex": "LCx", "rca": "RCA", "right coronary": "RCA"}
SEVERITY = {"hypokine": "hypokinetic", "akine": "akinetic", "dyskine": "dyskinetic"}
FUNCTION = (("severely", "severely reduced"), ("moderately", "moderately reduced"),
            ("mildly", "mildly reduced"))
DIAGNOSES = (
    ("hypertrophic cardiomyopathy", "hypertrophic cardiomyopathy"),
    ("hcm", "hypertrophic cardiomyopathy"),
    ("dilated cardiomyopathy", "dilated cardiomyopathy"), ("dcm", "dilated cardiomyopathy"),
    ("myocarditis", "myocarditis"), ("amyloid", "cardiac amyloidosis"),
    ("sarcoid", "cardiac sarcoidosis"),
    ("other non-ischemic", "other non-ischemic"),
    ("ischemic cardiomyopathy", "ischemic cardiomyopathy"),
    ("ischaemic cardiomyopathy", "ischemic cardiomyopathy"),
    ("infarct", "ischemic cardiomyopathy"),
    ("normal cardiac mri", "normal"), ("normal study", "normal"),
)
TOPICS: dict[str, tuple[str, ...]] = {
    "lge": ("late gadolinium enhancement", "late enhancement", "lge", "scar", "fibrosis",
            "delayed enhancement", "enhancement"),
    "edema": ("edema", "oedema", "t2 signal", "increased t2"),
    "perfusion_defect": ("perfusion defect", "hypoperfusion", "perfusion deficit"),
    "rwma": ("wall motion", "hypokine", "akine", "dyskine"),
    "effusion": ("pericardial effusion", "effusion"),
}
NEGATION = re.compile(r"\b(?:no|without|absent|negative for|not|free of|nor|none)\b")
POST_NEGATION = re.compile(r"\b(?:is|are) (?:absent|not (?:seen|present|identified))\b|"
                           r"\bnot (?:seen|present|identified|demonstrated)\b")
UNCERTAIN = re.compile(r"\b(?:possible|possibly|probable|cannot (?:be )?exclude[d]?|"
                       r"can't exclude|may (?:represent|be)|questionable|equivocal|"
                       r"suspicious for|suggestive of|likely)\b")
_SENTENCE = re.compile(r"(?<=[.;!?])\s+|\n+")


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text.lower()) if s.strip()]


def _first(sentence: str, words: Iterable[str]) -> int:
    hits = [m.start() for w in words for m in [re.search(rf"\b{re.escape(w)}", sentence)] if m]
    return min(hits) if hits else -1


def _polarity(sentence: str, position: int) -> str:
    before = sentence[:position]
    clause = re.split(r"[,;:]| but | with ", before)[-1]
    if NEGATION.search(clause) or POST_NEGATION.search(sentence[position:]):
        return "absent"
    if UNCERTAIN.search(sentence):
        return "uncertain"
    return "present"


def _locations(sentence: str, prefix: str, four_walls: bool) -> set[Finding]:
    out: set[Finding] = set()
    if re.search(r"\ball (?:segments|walls)\b", sentence):
        levels = ("basal", "mid", "apical")
        walls = sorted(set(WALL4.values())) if four_walls else WALLS6
        return ({(f"{prefix}_level", lv) for lv in levels}
                | {(f"{prefix}_wall", w) for w in walls})
    for word, level in LEVEL_WORDS.items():
        if re.search(rf"\b{re.escape(word)}\b(?!-(?:wall|myocard))", sentence):
            out.add((f"{prefix}_level", level))
    for word in (*WALLS6, *WALL_SYNONYMS, "septal", "septum", "lateral"):
        if re.search(rf"(?<![a-z-]){word}\b", sentence):
            wall = WALL_SYNONYMS.get(word, word)
            if four_walls:
                out.add((f"{prefix}_wall", WALL4[wall]))
            else:   # "septal" / "lateral" in a 6-wall context cover both of their walls
                out |= {(f"{prefix}_wall", w) for w in WALLS6 if WALL4[w] == WALL4[wall]
                        and (w == wall or wall not in WALLS6)}
    for match in re.finditer(r"segments? (\d{1,2})(?:\s*(?:-|to)\s*(\d{1,2}))?", sentence):
        lo = int(match.group(1))
        hi = int(match.group(2) or lo)
        for seg in range(lo, min(hi, 17) + 1):
            if seg in SEGMENTS:
                level, wall = SEGMENTS[seg]
                out.add((f"{prefix}_level", level))
                if wall:
                    out.add((f"{prefix}_wall", WALL4[wall] if four_walls else wall))
    return out


def _vocab(sentence: str, slot: str, vocab: Mapping[str, str]) -> set[Finding]:
    return {(slot, value) for word, value in vocab.items()
            if re.search(rf"(?<![a-z-]){re.escape(word)}(?![a-z])", sentence)}


def _lge(sentence: str, pol: str) -> set[Finding]:
    out = {("lge", "present" if pol != "absent" else "absent")}
    if pol == "absent":
        return out
    out |= _locations(sentence, "lge", four_walls=False)
    out |= _vocab(sentence, "lge_layer", LAYERS)
    out |= _vocab(sentence, "lge_distribution", DISTRIBUTIONS)
    out |= _vocab(sentence, "lge_territory", TERRITORIES)
    if "papillary" in sentence:
        out.add(("lge_papillary", "yes"))
    if "insertion" in sentence:
        out.add(("lge_rv_insertion", "yes"))
    band = _transmurality(sentence)
    if band:
        out.add(("lge_transmurality", band))
    return out


def _transmurality(sentence: str) -> str | None:
    if "transmural extent" not in sentence and "transmurality" not in sentence:
        return None
    if re.search(r"(?:less than|under|<\s*=?)\s*25", sentence):
        return "<= 25%"
    if re.search(r"(?:more than|over|>)\s*75", sentence):
        return "> 75%"
    if re.search(r"26\s*(?:to|-)\s*50", sentence):
        return "26-50%"
    if re.search(r"51\s*(?:to|-)\s*75", sentence):
        return "51-75%"
    return None


def _cine(sentence: str) -> set[Finding]:
    out: set[Finding] = set()
    if "left ventric" in sentence or re.search(r"\blv\b", sentence):
        if re.search(r"\bnot dilated\b|\bnormal in size\b|size is normal|\bnormal size\b",
                     sentence):
            out.add(("lv_size", "normal"))
        elif re.search(r"\b(?:dilated|enlarged)\b", sentence) and "right ventric" not in \
                sentence.split("left ventric")[0]:
            out.add(("lv_size", "dilated"))
        elif re.search(r"\bsmall\b", sentence) and "effusion" not in sentence:
            out.add(("lv_size", "small"))
        elif re.search(r"\bis normal\b", sentence) and "size" in sentence:
            out.add(("lv_size", "normal"))
    if re.search(r"hypertrophy\b|thickened", sentence) and not re.search(r"\bno hypertroph",
                                                                         sentence):
        out.add(("wall_thickness", "thickened"))
        for word, pattern in (("concentric", "concentric"),
                              ("asymmetric septal", "asymmetric septal"),
                              ("apical hypertroph", "apical"), ("focal hypertroph", "focal")):
            if word in sentence:
                out.add(("hypertrophy_pattern", pattern))
        thick = sentence.split("thickened", 1)[-1]
        out |= {("thickened_wall", WALL4[w]) for w in ("anterior", "septal", "inferior",
                                                         "lateral")
                if re.search(rf"\b{w}\b", thick)}
    elif re.search(r"thinn", sentence):
        out.add(("wall_thickness", "thinned"))
    elif re.search(r"normal wall thickness|no hypertroph", sentence):
        out.add(("wall_thickness", "normal"))
    if re.search(r"systolic function|ejection fraction|\bef\b", sentence) and \
            "right ventric" not in sentence:
        band = next((value for word, value in FUNCTION if word in sentence), None)
        match = re.search(r"\b(?:ef|ejection fraction)\D{0,12}(\d{1,2}(?:\.\d)?)\s*%", sentence)
        if band is None and match:
            ef = float(match.group(1))
            band = ("normal" if ef >= 50 else "mildly reduced" if ef >= 40
                    else "moderately reduced" if ef >= 30 else "severely reduced")
        if band is None and re.search(r"\b(?:normal|preserved)\b", sentence):
            band = "normal"
        if band:
            out.add(("lv_function", band))
    if ("right ventric" in sentence or re.search(r"\brv\b", sentence)) and \
            "insertion" not in sentence:
        dilated = bool(re.search(r"\bdilated\b", sentence.split("right ventric")[-1]))
        reduced = bool(re.search(r"reduced|impaired", sentence))
        rv = ("dilated with reduced function" if dilated and reduced else "dilated"
              if dilated else "reduced function" if reduced else "normal")
        out.add(("rv", rv))
    return out


def _rwma(sentence: str, pol: str) -> set[Finding]:
    if pol == "absent":
        return {("rwma", "absent")}
    out = {("rwma", "present")}
    out |= _locations(sentence, "rwma", four_walls=True)
    out |= {("rwma_severity", value) for word, value in SEVERITY.items()
            if re.search(rf"\b{word}(?:sis|tic)", sentence)}
    return out


def _diagnosis(sentence: str) -> set[Finding]:
    for word, value in DIAGNOSES:
        if word in sentence:
            if value == "ischemic cardiomyopathy" and "non-ischemic" in sentence:
                continue
            return {("diagnosis", value)}
    if re.search(r"non-?ischemic cardiomyopathy", sentence):
        return {("diagnosis", "other non-ischemic")}
    return set()


def _in_order(sentence: str, first: str, then: str) -> bool:
    """A word ending in ``first`` before a word starting with ``then`` (as the regex
    ``first\\b.*\\bthen``, whose backtracking was quadratic in a long sentence)."""
    head = re.search(rf"{first}\b", sentence)
    tails = [m.start() for m in re.finditer(rf"\b{then}", sentence)]
    return bool(head and tails and head.end() <= tails[-1])


def extract(text: str) -> Extraction:
    """Findings stated in ``text`` with their polarity (present / absent / uncertain)."""
    found: Extraction = {}

    def add(findings: Iterable[Finding], pol: str) -> None:
        for finding in findings:
            found[finding] = "absent" if finding[1] == "absent" else pol

    for sentence in sentences(text):
        topics = {t: _first(sentence, words) for t, words in TOPICS.items()}
        topics = {t: p for t, p in topics.items() if p >= 0}
        if "edema" in topics and "lge" in topics and "enhancement" not in sentence:
            topics.pop("lge")
        if "perfusion_defect" in topics or "perfusion is normal" in sentence or \
                _in_order(sentence, "perfusion", "normal") or \
                _in_order(sentence, r"\bnormal", "perfusion"):    # not "abnormal perfusion"
            pos = topics.get("perfusion_defect", sentence.find("perfusion"))
            pol = _polarity(sentence, pos)
            if "perfusion_defect" not in topics or pol == "absent":
                add([("perfusion_defect", "absent")], "absent")
            else:
                add({("perfusion_defect", "present")}
                    | _locations(sentence, "defect", four_walls=False)
                    | _vocab(sentence, "defect_territory", TERRITORIES)
                    | _vocab(sentence, "defect_depth", {"subendocardial": "subendocardial",
                                                         "transmural": "transmural"}), pol)
            topics.pop("lge", None)
        for topic, pos in topics.items():
            pol = _polarity(sentence, pos)
            if topic == "lge":
                add(_lge(sentence, pol), pol)
            elif topic == "edema":
                edema = {("edema", "present" if pol != "absent" else "absent")}
                if pol != "absent":
                    edema |= (_locations(sentence, "edema", four_walls=False)
                              | _vocab(sentence, "edema_layer", LAYERS)
                              | _vocab(sentence, "edema_distribution", DISTRIBUTIONS))
                add(edema, pol)
            elif topic == "rwma":
                add(_rwma(sentence, pol), pol)
            elif topic == "effusion":
                size = ("none" if pol == "absent" else "moderate or large"
                        if re.search(r"moderate|large", sentence) else "small")
                add([("effusion", size)], "present" if pol == "absent" else pol)
        if re.search(r"\bpattern\b", sentence) and "ischemic" in sentence:
            kind = "non-ischemic" if re.search(r"non-?ischemic", sentence) else "ischemic"
            add([("lge_pattern", kind)], "present")
            add(_vocab(sentence, "lge_territory", TERRITORIES), "present")
        band = _transmurality(sentence)
        if band:
            add([("lge_transmurality", band)], "present")
        if "papillary" in sentence and "enhanc" in sentence:
            add([("lge_papillary", "yes")], "present")
        add(_cine(sentence), "uncertain" if UNCERTAIN.search(sentence) else "present")
        diagnosis = _diagnosis(sentence)
        if diagnosis:
            add(diagnosis, "uncertain" if re.search(r"\bpossible|cannot exclude|probable",
                                                    sentence) else "present")
    return found


# ------------------------------------------------------------ structured findings to facts


def _site_facts(sites: Iterable[str], prefix: str, four_walls: bool) -> set[Finding]:
    out: set[Finding] = set()
    for site in sites:
        parts = site.lower().split()
        level = parts[0]
        out.add((f"{prefix}_level", level))
        if len(parts) > 1:
            out.add((f"{prefix}_wall", WALL4[parts[1]] if four_walls else parts[1]))
    return out


def _lesion_facts(prefix: str, record: Mapping[str, Any]) -> set[Finding]:
    """Location, layer and distribution facts of an LGE or edema record.

    A diffuse lesion is reported as "all segments", which names every level and wall.
    """
    if record["distribution"] == "Diffuse":
        out = {(f"{prefix}_level", lv) for lv in ("basal", "mid", "apical")}
        out |= {(f"{prefix}_wall", w) for w in WALLS6}
    else:
        out = _site_facts(record["sites"], prefix, four_walls=False)
    out |= {(f"{prefix}_layer", LAYERS[str(x).lower()]) for x in record["layers"]}
    out.add((f"{prefix}_distribution", str(record["distribution"]).lower()))
    return out


def _territories(sites: Iterable[str], slot: str) -> set[Finding]:
    out: set[Finding] = set()
    for site in sites:
        level, _, wall = site.partition(" ")
        out.add((slot, territory((level, wall))))
    return out


def _band(fraction: float) -> str:
    percent = fraction * 100 if fraction <= 1 else fraction
    return ("<= 25%" if percent <= 25 else "26-50%" if percent <= 50 else "51-75%"
            if percent <= 75 else "> 75%")


def facts_from_structured(section: str, record: Mapping[str, Any]) -> set[Finding]:
    """The findings of a structured section record (dataset ``findings``) as facts."""
    out: set[Finding] = set()
    if section == "cine":
        out.add(("lv_size", str(record["lv_size"]).lower()))
        out.add(("wall_thickness", str(record["wall_thickness"]).lower()))
        if record.get("hypertrophy_pattern"):
            pattern = str(record["hypertrophy_pattern"]).lower().replace("other focal", "focal")
            out.add(("hypertrophy_pattern", pattern))
        out |= {("thickened_wall", str(w).lower()) for w in record.get("thickened_walls", [])}
        ef = float(record["ef_percent"])
        out.add(("lv_function", "normal" if ef >= 50 else "mildly reduced" if ef >= 40
                 else "moderately reduced" if ef >= 30 else "severely reduced"))
        if record.get("rwma_sites"):
            out.add(("rwma", "present"))
            out |= _site_facts(record["rwma_sites"], "rwma", four_walls=True)
            out.add(("rwma_severity", str(record["rwma_severity"]).lower()))
        else:
            out.add(("rwma", "absent"))
        out.add(("rv", str(record["rv_status"]).lower()))
        out.add(("effusion", str(record["effusion"]).lower()))
    elif section == "lge":
        if not record.get("present"):
            return {("lge", "absent")}
        out.add(("lge", "present"))
        out |= _lesion_facts("lge", record)
        out.add(("lge_transmurality", _band(float(record["transmural_extent"]))))
        out.add(("lge_pattern", "ischemic" if record["ischemic"] else "non-ischemic"))
        if record["ischemic"]:
            out |= _territories(record["sites"], "lge_territory")
        if record.get("papillary"):
            out.add(("lge_papillary", "yes"))
        if record.get("rv_insertion"):
            out.add(("lge_rv_insertion", "yes"))
    elif section == "t2":
        if not record.get("present"):
            return {("edema", "absent")}
        out.add(("edema", "present"))
        out |= _lesion_facts("edema", record)
    elif section == "perfusion":
        if not record.get("present"):
            return {("perfusion_defect", "absent")}
        out.add(("perfusion_defect", "present"))
        out |= _site_facts(record["sites"], "defect", four_walls=False)
        out |= _territories(record["sites"], "defect_territory")
        out.add(("defect_depth", str(record["depth"]).lower()))
    elif section == "impression":
        value = str(record.get("subtype") or record["etiology"]).lower()
        out.add(("diagnosis", value.replace("other non-ischemic", "other non-ischemic")))
    return out
