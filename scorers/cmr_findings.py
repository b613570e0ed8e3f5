"""A rule-based CMR finding extractor: free report text to structured findings.

Offline and deterministic (no model weights), linear in the text length. The text is
normalised (:mod:`.report_text`: British / American spelling, hyphenation, short tokens),
split into sentences and clauses, and read as:

- **topic mentions** (late enhancement / scar / infarct, edema, perfusion defect, wall
  motion, pericardial effusion, pericardial enhancement), each with its own polarity from its
  clause: ``absent`` for a negation before it ("no", "without", "negative for", "excluding")
  or after it ("is not seen", "is unremarkable", ": none"), ``uncertain`` for a hedge
  ("possible", "suspicious for", "cannot be excluded"). A mention owns the words up to the
  next mention of another topic (split at a comma, "with" or "and"), and reads its levels,
  walls, AHA segments (lists and ranges), layer, distribution, territory and depth there;
- **diagnoses** (etiology and non-ischemic subtype), with the same negation and hedge scope
  ("no LGE to suggest infarction" negates the infarction, "suspicious for sarcoidosis"
  hedges only the sarcoidosis); "consistent with", "in keeping with", "likely" assert;
- **cine statements** per clause and ventricle: LV size (words or an indexed EDV), wall
  thickness (words or a maximal thickness in mm) and pattern, LV function (words, "global
  hypokinesis", or an EF number in any phrasing, banded as the labels are), RV size and
  function;
- **global statements**: "normal CMR", "no abnormality detected" assert a normal etiology
  and imply the absence of each major finding.

A finding is a ``(slot, value)`` pair (vocabulary in :mod:`.cmr_vocabulary`);
:func:`extract` maps findings to their polarity; :func:`read` adds the implied findings and
the values stated as not holding ("myocarditis is unlikely"), which the clinical score uses
for contradictions.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from cardiolens.data.anatomy import territory
from cardiolens.scorers import cmr_vocabulary as V
from cardiolens.scorers.report_text import Clauses, sentences

Finding = tuple[str, str]
Extraction = dict[Finding, str]
PRESENT, ABSENT, UNCERTAIN, DENIED = "present", "absent", "uncertain", "denied"

# ------------------------------------------------------------------ locations and qualifiers

WALL6 = {"anterior": ("anterior",), "anteriorly": ("anterior",),
         "anteroseptal": ("anteroseptal",), "anteroseptum": ("anteroseptal",),
         "inferoseptal": ("inferoseptal",), "inferoseptum": ("inferoseptal",),
         "inferior": ("inferior",), "inferiorly": ("inferior",),
         "inferolateral": ("inferolateral",), "anterolateral": ("anterolateral",),
         "septal": ("anteroseptal", "inferoseptal"), "septum": ("anteroseptal", "inferoseptal"),
         "septally": ("anteroseptal", "inferoseptal"),
         "lateral": ("inferolateral", "anterolateral"),
         "laterally": ("inferolateral", "anterolateral")}
assert {w for ws in WALL6.values() for w in ws} == set(V.WALL6_NAMES)
WALL4 = dict(zip(V.WALL6_NAMES, (V.WALL4_NAMES[0], V.WALL4_NAMES[1], V.WALL4_NAMES[1],
                                  V.WALL4_NAMES[2], V.WALL4_NAMES[3], V.WALL4_NAMES[3]),
                 strict=True))
_WALL = re.compile(r"\b(" + "|".join(sorted(WALL6, key=len, reverse=True)) + r")\b"
                   r"(?!\s+(?:rv\s+)?(?:insertion|papillary|descending|hinge))")
BASAL, MID, APICAL, APEX = V.LEVEL_NAMES
_LEVEL = re.compile(r"\b(basal|base|mid|apical|apically|apex)\b")
_LEVELS = {"basal": BASAL, "base": BASAL, "mid": MID, "apical": APICAL, "apically": APICAL,
           "apex": APEX}
_ALL = re.compile(r"\ball (?:\w+ )?(?:segments|walls)\b|\bcircumferential(?:ly)?\b")
_SEG_LIST = re.compile(r"\bsegments?\s+(\d{1,2}(?:\s*(?:-|to)\s*\d{1,2})?"
                       r"(?:\s*(?:,|and|&|\+|or)\s*\d{1,2}(?:\s*(?:-|to)\s*\d{1,2})?)*)")
_SEG_ITEM = re.compile(r"(\d{1,2})(?:\s*(?:-|to)\s*(\d{1,2}))?")


def _segment_sites(segment: int) -> list[tuple[str, str]]:
    """(level, 6-wall) sites of an AHA segment; the apex has no wall."""
    if 1 <= segment <= 12:
        return [(BASAL if segment <= 6 else MID, V.WALL6_NAMES[(segment - 1) % 6])]
    apical = {13: ("anterior",), 14: WALL6["septal"], 15: ("inferior",),
              16: WALL6["lateral"]}
    if segment in apical:
        return [(APICAL, wall) for wall in apical[segment]]
    return [(APEX, "")] if segment == 17 else []


LAYER_WORDS = {"subendocardial": V.LAYER_SUBENDO, "midwall": V.LAYER_MIDWALL,
               "subepicardial": V.LAYER_SUBEPI, "epicardial": V.LAYER_SUBEPI,
               "transmural": V.LAYER_TRANSMURAL}
_LAYER = re.compile(r"\b(subendocardial|midwall|subepicardial|epicardial|transmural)\b")
DISTRIBUTION_WORDS = {"focal": V.DIST_FOCAL, "patchy": V.DIST_PATCHY,
                      "multifocal": V.DIST_PATCHY, "scattered": V.DIST_PATCHY,
                      "multiple": V.DIST_PATCHY, "diffuse": V.DIST_DIFFUSE,
                      "diffusely": V.DIST_DIFFUSE, "global": V.DIST_DIFFUSE,
                      "widespread": V.DIST_DIFFUSE}
_DISTRIBUTION = re.compile(r"\b(" + "|".join(DISTRIBUTION_WORDS) + r")\b")
_TERRITORY = re.compile(r"\b(lad|anterior descending|lcx|cx|rca)\b")
_TERRITORIES = dict(zip(("lad", "lcx", "rca"), V.TERRITORY_NAMES, strict=True)) | {
    "anterior descending": V.TERRITORY_NAMES[0], "cx": V.TERRITORY_NAMES[1]}


def _locations(text: str, prefix: str, four_walls: bool) -> set[Finding]:
    """Levels and walls named in ``text``: words, "all segments", AHA segment lists."""
    out: set[Finding] = set()
    if _ALL.search(text):
        out |= {(f"{prefix}_level", lv) for lv in (BASAL, MID, APICAL)}
        out |= {(f"{prefix}_wall", WALL4[w] if four_walls else w) for w in V.WALL6_NAMES}
    out |= {(f"{prefix}_level", _LEVELS[m.group(1)]) for m in _LEVEL.finditer(text)}
    for m in _WALL.finditer(text):
        out |= {(f"{prefix}_wall", WALL4[w] if four_walls else w) for w in WALL6[m.group(1)]}
    for m in _SEG_LIST.finditer(text):
        for item in _SEG_ITEM.finditer(m.group(1)):
            lo = int(item.group(1))
            hi = min(int(item.group(2) or lo), 17)
            for segment in range(lo, hi + 1):
                for level, wall in _segment_sites(segment):
                    out.add((f"{prefix}_level", level))
                    if wall:
                        out.add((f"{prefix}_wall", WALL4[wall] if four_walls else wall))
    return out


def _layers(text: str, prefix: str) -> set[Finding]:
    out = set()
    for m in _LAYER.finditer(text):
        if m.group(1) == "transmural" and (text[m.end():m.end() + 4] in ("ity", "ity ")
                                           or text[m.end():m.end() + 7] == " extent"
                                           or "%" in text[max(0, m.start() - 3):m.start()]):
            continue            # "transmurality", "transmural extent", "<25% transmural"
        out.add((f"{prefix}_layer", LAYER_WORDS[m.group(1)]))
    return out


def _vocab(text: str, slot: str, pattern: re.Pattern[str], words: Mapping[str, str]
           ) -> set[Finding]:
    return {(slot, words[m.group(1)]) for m in pattern.finditer(text)}


_TRANSMURALITY = (
    (re.compile(r"(?:<|less than|under|below|up to)\s*=?\s*25\s*%|\b0?\s*-\s*25\s*%"),
     V.TRANS_25),
    (re.compile(r"\b2[56]\s*(?:-|to)\s*50\s*%"), V.TRANS_50),
    (re.compile(r"\b5[01]\s*(?:-|to)\s*75\s*%"), V.TRANS_75),
    (re.compile(r"(?:>|more than|greater than|over|above)\s*=?\s*75\s*%|\b7[56]\s*(?:-|to)\s*"
                r"100\s*%"), V.TRANS_100),
)


def _transmurality(sentence: str) -> str | None:
    if not re.search(r"transmural|\bextent\b", sentence):
        return None
    return next((band for pattern, band in _TRANSMURALITY if pattern.search(sentence)), None)


# ------------------------------------------------------------------------ polarity cues

_NEG_BEFORE = re.compile(
    r"\b(?:no|not|without|absent|negative for|free of|nor|none|neither|excluding|excludes?|"
    r"unlikely|lack of|nil|rule out|rules out|ruling out|rather than)\b")
_NEG_AFTER = re.compile(
    r"^[\s:]*(?:(?:imaging|images|sequences?|signal|mapping|study|is|are|was|were|also|"
    r"myocardial|considered|felt|thought|deemed|very)\s+){0,3}?"
    r"(?:not\s+(?:seen|present|identified|demonstrated|detected|evident|visible|noted|shown|"
    r"typical)|absent|excluded|ruled out|unremarkable|normal|within normal limits|none|nil|"
    r"unlikely|negative)\b")
_HEDGE_BEFORE = re.compile(
    r"\b(?:possible|possibly|may|might|could|cannot (?:be )?excluded?|can't (?:be )?excluded?|"
    r"not excluded|questionable|equivocal|indeterminate|suspicious for|suspected|suspect|"
    r"suggestive of|suggests?|suggesting|possibility of|query|differential|borderline|\?)")
_HEDGE_AFTER = re.compile(
    r"^[\s:]*(?:[a-z0-9]+\s+){0,4}?(?:cannot (?:be )?(?:excluded|ruled out)|can't be "
    r"excluded|is not excluded|(?:is|are|was|were) (?:possible|suspected|questionable|"
    r"equivocal|queried)|(?:may|might|could) be (?:present|seen|noted|identified))")
_NEGATED_HEDGE = re.compile(r"\b(?:cannot|can't|could not|not) (?:be )?(?:exclude[ds]?|"
                            r"ruled? out)\b|\bnot be excluded\b")


def _blank(match: re.Match[str]) -> str:
    return " " * len(match.group(0))


_NOT_ASSERTED = re.compile(r"\b(?:to suggest|to indicate|to support|suggestive of|"
                           r"typical of|in keeping with|consistent with)\b")


_LIST_NEGATION = re.compile(
    r"\b(?:no|without|negative for|free of)\s+((?:[a-z0-9]+\s+){0,4}?[a-z0-9]+"
    r"(?:\s*,\s*(?:[a-z0-9]+\s+){0,3}?[a-z0-9]+)+\s*,?\s+(?:or|nor)\s+"
    r"(?:[a-z0-9]+\s+){0,3})$")
_LIST_STOP = re.compile(r"\b(?:is|are|was|were|but|with|there|has|have|shows?|and)\b")


def _negated_list(sentence: str, start: int) -> bool:
    """A mention at the end of a negated list: "no infarction, infiltration or edema"."""
    m = _LIST_NEGATION.search(sentence[max(0, start - 120):start])
    return m is not None and not _LIST_STOP.search(m.group(1))


def _polarity(sentence: str, clauses: Clauses, start: int, end: int) -> str:
    """Polarity of the mention at ``start:end`` from the cues of its clause."""
    c_start, c_end = clauses.at(start)
    before = sentence[max(c_start, start - 160):start]      # bounded: linear time
    after = sentence[end:min(c_end, end + 80)]
    negations = list(_NEG_BEFORE.finditer(_NEGATED_HEDGE.sub(_blank, before)))
    if negations:
        negation = negations[-1]
        tail = before[negation.end():]
        return DENIED if _NOT_ASSERTED.search(tail) else ABSENT
    if _NEG_AFTER.search(after) or _negated_list(sentence, start):
        return ABSENT
    if _HEDGE_BEFORE.search(before) or _HEDGE_AFTER.search(after):
        return UNCERTAIN
    return PRESENT


# --------------------------------------------------------------------------- diagnoses

_DIAGNOSES: tuple[tuple[re.Pattern[str], str, str | None], ...] = tuple(
    (re.compile(p), etiology, subtype) for p, etiology, subtype in (
        (r"\bhypertrophic (?:obstructive )?cardiomyopathy\b|\bh(?:o)?cm\b",
         V.ETIOLOGY_NONISCHEMIC, V.HCM),
        (r"\bdilated cardiomyopathy\b|\bdcm\b", V.ETIOLOGY_NONISCHEMIC, V.DCM),
        (r"\b(?:peri)?myo(?:peri)?carditis\b", V.ETIOLOGY_NONISCHEMIC, V.MYOCARDITIS),
        (r"\b(?:cardiac )?amyloid(?:osis)?\b", V.ETIOLOGY_NONISCHEMIC, V.AMYLOID),
        (r"\b(?:cardiac )?sarcoid(?:osis)?\b", V.ETIOLOGY_NONISCHEMIC, V.SARCOID),
        (r"\b(?:anderson )?fabry(?: disease)?\b|\bnoncompaction\b|\barvc\b|\btakotsubo\b|"
         r"\barrhythmogenic (?:rv )?cardiomyopathy\b|\bhypertensive heart disease\b|"
         r"\biron overload\b|\bsiderosis\b|\bother nonischemic\b",
         V.ETIOLOGY_NONISCHEMIC, V.OTHER_NICM),
        (r"\bnonischemic (?:\w+ )?(?:cardiomyopathy|heart disease)\b|\bnicm\b",
         V.ETIOLOGY_NONISCHEMIC, None),
        (r"\bischemic (?:\w+ )?(?:cardiomyopathy|heart disease)\b|\bicm\b|\bihd\b",
         V.ETIOLOGY_ISCHEMIC, None),
        (r"\bnormal (?:\w+ ){0,2}?(?:cmr|mri|mr|study|examination|exam|scan)\b|"
         r"\bno (?:(?:significant|other|cardiac|structural|myocardial|valvular|major|or|and)"
         r" ){0,4}abnormalit(?:y|ies)\b"
         r"(?! (?:of|in) )|\bstructurally normal\b|\b(?:study|examination|heart|cmr|scan) "
         r"(?:is|was) (?:\w+ ){0,3}?(?:normal|unremarkable|within normal limits)\b",
         V.ETIOLOGY_NORMAL, None)))


_ANY_DIAGNOSIS = re.compile("|".join(p.pattern for p, _, _ in _DIAGNOSES))

# ------------------------------------------------------------------------ topic mentions

_MENTION = re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in (
    ("pericardial", r"\bpericardi(?:al|um)\s+(?:\w+\s+){0,2}?(?:lge|enhancement|enhances|"
                    r"enhancing)\b|\b(?:lge|enhancement) of the pericardium\b"),
    ("global_hypo", r"\b(?:global(?:ly)?|diffuse(?:ly)?|generalized)\s+(?:lv\s+)?"
                    r"hypokine\w*"),
    ("lge_weak", r"\blge\s+(?:imaging|images|sequences?)\b"),
    ("lge", r"\blge\b|\bscar(?:s|ring|red)?\b|\bfibrosis\b|\b(?:hyper)?enhancement\b|"
            r"\benhances\b|\benhancing\b"),
    ("infarct", r"\binfarct(?:s|ion|ed)?\b"),
    ("edema", r"\bedema(?:tous)?\b|\bt2\s+hyperintens\w*|\b(?:increased|elevated|high|raised)"
              r"\s+(?:native\s+)?(?:t1\s+and\s+)?t2\b"),
    ("edema_weak", r"\b(?:t2w?|stir)(?:\s+(?:imaging|images|mapping|maps|signal|values?|"
                   r"sequences?))?\b"),
    ("defect", r"\bperfusion\s+(?:defects?|deficits?|abnormalit(?:y|ies))\b|"
               r"\bhypoperfus\w+|\bdefects?\b|\bischemia\b"),
    ("perfusion_weak", r"\bperfusion\b"),
    ("rwma", r"\brwma\b|\b(?:hypo|a|dys)kine(?:sis|tic)\b"),
    ("rwma_weak", r"\bwall motion\b"),
    ("effusion", r"\b(?<!pleural )effusions?\b"),
)))
_TOPIC_OF = {"pericardial": "pericardial_enhancement", "lge_weak": "lge", "edema_weak": "edema",
             "defect": "perfusion_defect", "perfusion_weak": "perfusion_defect",
             "rwma_weak": "rwma"}
_SPAN_BREAK = re.compile(r"[,;()]|\b(?:with|and|but|while|whereas|although|plus|in keeping|"
                         r"consistent|compatible|typical)\b")
_ABNORMAL_BEFORE = re.compile(r"\b(?:abnormal|increased|elevated|raised|high|reduced|"
                              r"impaired)\s+(?:\w+\s+){0,2}$")
_NORMAL_BEFORE = re.compile(r"\b(?:normal|unremarkable)\s+(?:\w+\s+){0,2}$")


_GROUP = {"infarct": "lge"}


@dataclass
class _Mention:
    topic: str
    start: int
    end: int
    weak: bool


def _runs(sentence: str) -> list[tuple[list[_Mention], tuple[int, int]]]:
    """Topic mentions in runs of one topic, each run with the span of words it owns.

    Two neighbouring mentions of different topics split the sentence at the last comma,
    "with", "and", ... between them (else at the end of the first); a run of mentions of one
    topic ("infarct scar", "LGE ... fibrosis") shares one span.
    """
    mentions = []
    for m in _MENTION.finditer(sentence):
        name = m.lastgroup or ""
        mentions.append(_Mention(_TOPIC_OF.get(name, name), m.start(), m.end(),
                                 name.endswith("_weak")))
    runs: list[tuple[list[_Mention], tuple[int, int]]] = []
    current: list[_Mention] = []
    start = 0
    for mention in mentions:
        if current and (_GROUP.get(mention.topic, mention.topic) !=
                        _GROUP.get(current[-1].topic, current[-1].topic)):
            breaks = list(_SPAN_BREAK.finditer(sentence, current[-1].end, mention.start))
            cut = breaks[-1].start() if breaks else current[-1].end
            runs.append((current, (start, cut)))
            current, start = [], cut
        current.append(mention)
    if current:
        runs.append((current, (start, len(sentence))))
    return runs


# -------------------------------------------------------------------------- accumulation


@dataclass
class Reading:
    """Everything read from a text.

    ``found``: stated findings and their polarity (present / absent / uncertain);
    ``implied``: findings a statement entails without naming them (a normal study implies
    no late enhancement); ``negated``: values stated as not holding ("myocarditis is
    unlikely"), used only for contradictions.
    """

    found: Extraction = field(default_factory=dict)
    implied: set[Finding] = field(default_factory=set)
    negated: set[Finding] = field(default_factory=set)


class _Collector:
    RANK: ClassVar[dict[str, int]] = {PRESENT: 2, ABSENT: 2, UNCERTAIN: 1}

    def __init__(self) -> None:
        self.found: Extraction = {}
        self.implied: set[Finding] = set()
        self.negated: set[Finding] = set()

    def add(self, findings: Iterable[Finding], polarity: str) -> None:
        if polarity == DENIED:
            return
        for finding in findings:
            pol = ABSENT if finding[1] == V.ABSENT else polarity
            old = self.found.get(finding)
            if old is None or self.RANK[pol] > self.RANK[old]:
                self.found[finding] = pol

    def reading(self) -> Reading:
        found = dict(self.found)
        for slot in ("lge", "infarct", "edema", "perfusion_defect", "rwma",
                     "pericardial_enhancement"):     # a stated finding outranks a negative
            if found.get((slot, V.PRESENT)) == PRESENT:
                found.pop((slot, V.ABSENT), None)
        stated = {slot for (slot, _), pol in found.items() if pol != UNCERTAIN}
        implied = {f for f in self.implied if f[0] not in stated}
        return Reading(found, implied, self.negated - set(found))


def _lesion(prefix: str, span: str, four_walls: bool = False) -> set[Finding]:
    out = _locations(span, prefix, four_walls)
    if not four_walls:
        out |= _layers(span, prefix)
        out |= _vocab(span, f"{prefix}_distribution", _DISTRIBUTION, DISTRIBUTION_WORDS)
    return out


def _read_run(s: str, clauses: Clauses, run: list[_Mention], span_bounds: tuple[int, int],
              polarities: list[str], acc: _Collector, implied: bool) -> None:
    """Findings of a run of mentions of one topic: a negative per negated mention, and the
    qualifiers of the span once, with the strongest polarity of its stated mentions."""
    topic = _GROUP.get(run[0].topic, run[0].topic)
    strong = [(m, p) for m, p in zip(run, polarities, strict=True) if not m.weak]
    for mention, pol in zip(run, polarities, strict=True):
        if not mention.weak:
            continue
        before = s[max(0, mention.start - 40):mention.start]
        if pol == ABSENT or _NORMAL_BEFORE.search(before):
            acc.add([(topic, V.ABSENT)], ABSENT)
        elif _ABNORMAL_BEFORE.search(before) or re.match(
                r"\s+(?:is|are)\s+abnormal", s[mention.end:mention.end + 20]):
            acc.add([(topic, V.PRESENT)], pol)
    stated = [(m, p) for m, p in strong if p in (PRESENT, UNCERTAIN)]
    chars = list(s[span_bounds[0]:span_bounds[1]])
    for mention, pol in strong:
        if pol in (ABSENT, DENIED) and stated:      # "LGE ... but no transmural scar"
            a = clauses.at(mention.start)[0] - span_bounds[0]
            chars[max(a, 0):mention.end - span_bounds[0]] = " " * (
                mention.end - span_bounds[0] - max(a, 0))
        if pol == ABSENT:
            if topic == "effusion":
                acc.add([("effusion", V.EFFUSION_NONE)], PRESENT)
            else:
                acc.add([(mention.topic, V.ABSENT)], ABSENT)
    if not stated:
        return
    span = "".join(chars)
    pol = PRESENT if any(p == PRESENT for _, p in stated) else UNCERTAIN
    if topic == "lge":
        found = {("lge", V.PRESENT)} | _lesion("lge", span)
        found |= _vocab(span, "lge_territory", _TERRITORY, _TERRITORIES)
        if "papillary" in span:
            found.add(("lge_papillary", V.YES))
        if re.search(r"\binsertion|\bhinge point", span):
            found.add(("lge_rv_insertion", V.YES))
        if any(m.topic == "infarct" for m, _ in stated):
            found |= {("infarct", V.PRESENT), ("lge_pattern", V.PATTERN_ISCHEMIC)}
        if implied and all(m.topic == "infarct" for m, _ in stated):
            acc.implied |= found
        else:
            acc.add(found, pol)
    elif topic == "pericardial_enhancement":
        acc.add([("pericardial_enhancement", V.PRESENT)], pol)
    elif topic == "edema":
        acc.add({("edema", V.PRESENT)} | _lesion("edema", span), pol)
    elif topic == "perfusion_defect":
        found = {("perfusion_defect", V.PRESENT)} | _locations(span, "defect", False)
        found |= _vocab(span, "defect_territory", _TERRITORY, _TERRITORIES)
        found |= {("defect_depth", {"subendocardial": V.DEPTH_SUBENDO,
                                    "transmural": V.DEPTH_TRANSMURAL}[m.group(1)])
                  for m in re.finditer(r"\b(subendocardial|transmural)\b", span)}
        acc.add(found, pol)
    elif topic == "rwma":
        found = {("rwma", V.PRESENT)} | _locations(span, "rwma", four_walls=True)
        for m in re.finditer(r"\b(hypo|a|dys)kine", span):
            found.add(("rwma_severity", {"hypo": V.HYPOKINETIC, "a": V.AKINETIC,
                                         "dys": V.DYSKINETIC}[m.group(1)]))
        acc.add(found, pol)
    elif topic == "effusion":
        large = re.search(r"\b(?:moderate|large|significant|sizeable)\b", span)
        acc.add([("effusion", V.EFFUSION_LARGE if large else V.EFFUSION_SMALL)], pol)


# ------------------------------------------------------------------------------- cine

_SUBJECT = re.compile(r"\b(lv|rv|biventricular|ventricles)\b(?!\s+insertion)")
_EF = re.compile(r"\b(?:(lv|rv)\s+)?ef\b(?:\s*\(ef\))?[^0-9%;]{0,30}?(\d{1,3}(?:\.\d+)?)"
                 r"(?:\s*(?:-|to)\s*(\d{1,3}(?:\.\d+)?))?\s*%")
_EDVI = re.compile(r"\b(?:(lv|rv)\s+)?(?:indexed\s+)?(?:(lv|rv)\s+)?edvi?\b[^0-9;]{0,25}?"
                   r"(\d{2,3}(?:\.\d+)?)\s*ml\s*/\s*m")
_MM = re.compile(r"(\d{1,2}(?:\.\d+)?)\s*mm\b")
_DILATED = re.compile(r"\b(?:dilated|dilation|enlarged|enlargement)\b")
_NORMAL_SIZE = re.compile(
    r"\bnondilated\b|\bnormal\s+(?:in\s+)?(?:\w+\s+){0,2}?(?:size|sized|volumes?|"
    r"dimensions?)\b|\b(?:size|volumes?|dimensions?)\b[\s:]*(?:is\s+|are\s+)?(?:normal|"
    r"within normal limits)\b")
_SMALL = re.compile(r"\bsmall\b")
_NEG_NEAR = re.compile(r"\b(?:no|not|without)\s+(?:\w+\s+){0,2}$")


def _negated_near(before: str) -> bool:
    """A "no" / "not" / "without" at most two words before (bounded window)."""
    return bool(_NEG_NEAR.search(before[-60:]))


_FUNCTION_WORD = re.compile(r"\b(?:function|systolic|ef|contractility|contraction|"
                            r"dysfunction|impairment)\b|\b(?:global(?:ly)?|diffuse(?:ly)?|"
                            r"generalized)\s+(?:lv\s+)?hypokine")
_REDUCED = re.compile(r"\b(?:impaired|reduced|depressed|decreased|dysfunction|impairment|"
                      r"poor|hypokine\w*)\b")
_NORMAL_FN = re.compile(r"\b(?:normal|preserved|good|hyperdynamic|within normal limits)\b")
_SEVERITY = ((re.compile(r"\bsevere(?:ly)?\b"), V.EF_SEVERE),
             (re.compile(r"\bmoderate(?:ly)?\b"), V.EF_MODERATE),
             (re.compile(r"\bmild(?:ly)?\b"), V.EF_MILD))
_THICKENED = re.compile(r"\b(?:hypertroph\w*|thickened|thickening|lvh)\b")
_THICK_NORMAL = re.compile(r"\bnormal\s+(?:\w+\s+){0,2}?thickness\b|\bthickness\b[\s:]*"
                           r"(?:is\s+)?(?:\w+\s+)?normal\b")
_THINNED = re.compile(r"\b(?:thinned|thinning|thin)\b")
_PATTERNS = ((re.compile(r"\bconcentric\b"), V.PATTERN_CONCENTRIC),
             (re.compile(r"\basymmetric(?:al)?\b|\bseptal hypertroph"), V.PATTERN_SEPTAL),
             (re.compile(r"\bapical (?:hypertroph|variant)"), V.PATTERN_APICAL),
             (re.compile(r"\bfocal hypertroph"), V.PATTERN_FOCAL))
_SIZE_TOPICS = re.compile(r"\b(?:effusion|lge|scar|area|focus|foci|defect|infarct\w*)\b")


_CINE_WORDS = re.compile(
    r"\b(?:lv|rv|biventricular|ventricles|size|sized|volumes?|dimensions?|cavity|dilat\w*|"
    r"enlarge\w*|small|normal|function|systolic|ef|contractil\w*|dysfunction|impair\w*|"
    r"hypertroph\w*|thick\w*|thin\w*|lvh|hypokine\w*|edvi?|mm|preserved|reduced|"
    r"depressed|decreased|poor|good|hyperdynamic|concentric|asymmetric\w*)\b")
"""Words any cine statement needs: a sentence without them skips the cine reading."""
_SIZE_WORD = re.compile(r"\b(?:size|sized|volumes?|dimensions?|cavity)\b")
_WHOLE_NORMAL = re.compile(r"\b(?:is|are|appears?)\s+normal\b|^\s*normal\s+\w+\s*$")


def _subjects(word: str) -> tuple[str, ...]:
    return {"lv": ("lv",), "rv": ("rv",)}.get(word, ("lv", "rv"))


def _function_value(clause: str) -> str | None:
    reduced = _REDUCED.search(clause)
    negated = reduced and _negated_near(clause[:reduced.start()])
    if reduced and not negated:
        return next((band for pattern, band in _SEVERITY if pattern.search(clause)),
                    V.EF_REDUCED)
    if negated or _NORMAL_FN.search(clause):
        return V.EF_NORMAL
    return None


def _size_value(clause: str, subjects: tuple[str, ...]) -> str | None:
    dilated = _DILATED.search(clause)
    if dilated:
        return V.SIZE_NORMAL if _negated_near(clause[:dilated.start()]) else V.SIZE_DILATED
    if _NORMAL_SIZE.search(clause):
        return V.SIZE_NORMAL
    if _SMALL.search(clause) and subjects == ("lv",):
        return V.SIZE_SMALL
    return None


def _cine(s: str, clauses: Clauses, pol: str, acc: _Collector) -> None:
    """LV / RV size and function, per clause and ventricle; stated numbers (EF, indexed
    EDV) outrank words in the same sentence."""
    words: dict[str, str] = {}
    starts: list[int] = []
    subjects: list[tuple[str, ...]] = []
    first = _SUBJECT.search(s)          # "dilated, thin-walled LV": the first one named
    carried: tuple[str, ...] = _subjects(first.group(1)) if first else ("lv",)
    for start, end in clauses.bounds:
        named = [m.group(1) for m in _SUBJECT.finditer(s, start, end)]
        if named:
            carried = _subjects(named[-1])
        starts.append(start)
        subjects.append(carried)
        clause = s[start:end]
        sizey = bool(first) or bool(_SIZE_WORD.search(clause))
        size = _size_value(clause, carried) if sizey and not _SIZE_TOPICS.search(clause) \
            else None
        function = _function_value(clause) if _FUNCTION_WORD.search(clause) else None
        if named and size is None and function is None and _WHOLE_NORMAL.search(clause):
            size, function = V.SIZE_NORMAL, V.EF_NORMAL        # "the RV is normal"
        for v in carried:
            if size:
                words[f"{v}_size"] = size
            if function:
                words[f"{v}_function"] = function if v == "lv" else (
                    V.FUNCTION_NORMAL if function == V.EF_NORMAL else V.FUNCTION_REDUCED)

    def subject_at(position: int) -> tuple[str, ...]:
        return subjects[max(bisect_right(starts, position) - 1, 0)]

    numbers: dict[str, str] = {}
    for m in _EF.finditer(s):
        values = [float(x) for x in (m.group(2), m.group(3)) if x]
        ef = sum(values) / len(values)
        if 0 < ef <= 100:
            for v in (m.group(1),) if m.group(1) else subject_at(m.start()):
                numbers[f"{v}_function"] = V.ef_value_band(ef) if v == "lv" \
                    else V.rv_function_of_ef(ef)
    for m in _EDVI.finditer(s):
        v = m.group(2) or m.group(1) or subject_at(m.start())[0]
        index = float(m.group(3))
        numbers[f"{v}_size"] = V.lv_size_of_index(index) if v == "lv" \
            else V.rv_size_of_index(index)
    found = {(slot, value) for slot, value in (words | numbers).items()}
    acc.add(found | _thickness(s, clauses), pol)


def _thickness(s: str, clauses: Clauses) -> set[Finding]:
    found: set[Finding] = set()
    value = None
    pericardial = "pericardi" in s and not re.search(r"\b(?:lv|wall|septum|myocardi\w*)\b", s)
    for start, end in clauses.bounds:
        clause = s[start:end]
        thick = _THICKENED.search(clause)
        if thick and not pericardial:
            value = V.THICK_NORMAL if _negated_near(clause[:thick.start()]) \
                else V.THICK_THICKENED
        elif _THICK_NORMAL.search(clause):
            value = value or V.THICK_NORMAL
        elif _THINNED.search(clause):
            value = value or V.THICK_THINNED
    numbers = [float(m.group(1)) for m in _MM.finditer(s)]
    if numbers and re.search(r"thick|hypertroph|measur|septum|\bwall\b", s) and \
            not re.search(r"effusion|pericardi", s):
        value = V.thickness_of_mm(max(numbers))
    if value is None:
        return found
    found.add(("wall_thickness", value))
    if value != V.THICK_THICKENED:
        return found
    found |= {("hypertrophy_pattern", p) for pattern, p in _PATTERNS if pattern.search(s)}
    walls_text = s.split("thickened", 1)[1] if "thickened" in s else s
    found |= {("thickened_wall", f[1]) for f in _locations(walls_text, "x", four_walls=True)
              if f[0] == "x_wall"}
    return found


# ---------------------------------------------------------------------------- sentences


def _read_sentence(s: str, acc: _Collector) -> None:
    clauses = Clauses(s)
    covered = bytearray(len(s) + 1)
    ischemic_diagnosis = hedged = False
    for pattern, etiology, subtype in _DIAGNOSES if _ANY_DIAGNOSIS.search(s) else ():
        for m in pattern.finditer(s):
            if covered[m.start()]:
                continue
            covered[m.start():m.end()] = b"\x01" * (m.end() - m.start())
            pol = _polarity(s, clauses, m.start(), m.end())
            found = [("etiology", etiology)] + ([("diagnosis", subtype)] if subtype else [])
            if pol in (ABSENT, DENIED):
                if etiology != V.ETIOLOGY_NORMAL:
                    acc.negated.update(found if subtype is None else found[1:])
                continue
            acc.add(found, pol)
            hedged = hedged or pol == UNCERTAIN
            if etiology == V.ETIOLOGY_ISCHEMIC and pol == PRESENT:
                ischemic_diagnosis = True
                acc.implied.add(("lge", V.PRESENT))
            elif etiology == V.ETIOLOGY_NORMAL:
                acc.implied |= V.NORMAL_STUDY
    masked = "".join(" " if flag else ch for ch, flag in zip(s, covered, strict=False)) \
        if any(covered) else s
    scar_polarities = []
    for run, span in _runs(masked):
        polarities = [_polarity(masked, clauses, m.start, m.end) for m in run]
        if run[0].topic == "global_hypo":
            continue
        if run[0].topic in ("lge", "infarct"):
            scar_polarities += [p for m, p in zip(run, polarities, strict=True) if not m.weak]
        _read_run(masked, clauses, run, span, polarities, acc, implied=ischemic_diagnosis)
    if not scar_polarities or any(p in (PRESENT, UNCERTAIN) for p in scar_polarities):
        lge_pol = UNCERTAIN if scar_polarities and PRESENT not in scar_polarities \
            else PRESENT
        band = _transmurality(masked)
        lge_facts = _pattern(masked) | ({("lge_transmurality", band)} if band else set())
        if ischemic_diagnosis:          # "ischemic cardiomyopathy (LAD territory infarct)"
            acc.implied |= lge_facts
        else:
            acc.add(lge_facts, lge_pol)
    if _CINE_WORDS.search(masked):
        hedge = _HEDGE_BEFORE.search(masked)
        _cine(masked, clauses, UNCERTAIN if hedge and not scar_polarities and not hedged
              else PRESENT, acc)


def _pattern(s: str) -> set[Finding]:
    """The LGE pattern a sentence names ("a non-ischemic pattern", "ischemic, in the LAD
    territory"), with the territories of an ischemic one."""
    if not re.search(r"\bpattern\b|\bdistribution\b|\bterritor", s):
        return set()
    if re.search(r"\bnonischemic\b|\bnoncoronary\b", s):
        return {("lge_pattern", V.PATTERN_NONISCHEMIC)}
    if re.search(r"\bischemic\b|\bcoronary (?:territory|distribution)\b", s):
        return {("lge_pattern", V.PATTERN_ISCHEMIC)} | _vocab(s, "lge_territory", _TERRITORY,
                                                                _TERRITORIES)
    return set()


def read(text: str) -> Reading:
    """Stated, implied and negated findings of a report text."""
    acc = _Collector()
    for sentence in sentences(text):
        _read_sentence(sentence, acc)
    return acc.reading()


def extract(text: str) -> Extraction:
    """Findings stated in ``text`` with their polarity (present / absent / uncertain)."""
    return read(text).found


# ------------------------------------------------------------ structured findings to facts


def _site_facts(sites: Iterable[str], prefix: str, four_walls: bool) -> set[Finding]:
    out: set[Finding] = set()
    for site in sites:
        parts = site.lower().split()
        out.add((f"{prefix}_level", parts[0]))
        if len(parts) > 1:
            out.add((f"{prefix}_wall", WALL4[parts[1]] if four_walls else parts[1]))
    return out


def _lesion_facts(prefix: str, record: Mapping[str, Any]) -> set[Finding]:
    """Location, layer and distribution facts of an LGE or edema record.

    A diffuse lesion is reported as "all segments", which names every level and wall.
    """
    if record["distribution"] == "Diffuse":
        out = {(f"{prefix}_level", lv) for lv in (BASAL, MID, APICAL)}
        out |= {(f"{prefix}_wall", w) for w in V.WALL6_NAMES}
    else:
        out = _site_facts(record["sites"], prefix, four_walls=False)
    out |= {(f"{prefix}_layer", str(x).lower()) for x in record["layers"]}
    out.add((f"{prefix}_distribution", str(record["distribution"]).lower()))
    return out


def _territories(sites: Iterable[str], slot: str) -> set[Finding]:
    out: set[Finding] = set()
    for site in sites:
        level, _, wall = site.partition(" ")
        out.add((slot, territory((level, wall))))
    return out


def facts_from_structured(section: str, record: Mapping[str, Any]) -> set[Finding]:
    """The findings of a structured section record (dataset ``findings``) as facts."""
    from cardiolens.data.findings import transmurality_band
    out: set[Finding] = set()
    if section == "cine":
        out.add(("lv_size", str(record["lv_size"]).lower()))
        out.add(("wall_thickness", str(record["wall_thickness"]).lower()))
        if record.get("hypertrophy_pattern"):
            pattern = str(record["hypertrophy_pattern"]).lower().replace("other focal", "focal")
            out.add(("hypertrophy_pattern", pattern))
        out |= {("thickened_wall", str(w).lower()) for w in record.get("thickened_walls", [])}
        out.add(("lv_function", V.ef_value_band(float(record["ef_percent"]))))
        if record.get("rwma_sites"):
            out.add(("rwma", V.PRESENT))
            out |= _site_facts(record["rwma_sites"], "rwma", four_walls=True)
            out.add(("rwma_severity", str(record["rwma_severity"]).lower()))
        else:
            out.add(("rwma", V.ABSENT))
        size, function = V.rv_parts(str(record["rv_status"]).lower())
        out |= {("rv_size", size), ("rv_function", function)}
        out.add(("effusion", str(record["effusion"]).lower()))
    elif section == "lge":
        if not record.get("present"):
            return {("lge", V.ABSENT)}
        out.add(("lge", V.PRESENT))
        out |= _lesion_facts("lge", record)
        out.add(("lge_transmurality", transmurality_band(float(record["transmural_extent"]))))
        out.add(("lge_pattern", V.PATTERN_ISCHEMIC if record["ischemic"]
                 else V.PATTERN_NONISCHEMIC))
        if record["ischemic"]:
            out |= _territories(record["sites"], "lge_territory")
        if record.get("papillary"):
            out.add(("lge_papillary", V.YES))
        if record.get("rv_insertion"):
            out.add(("lge_rv_insertion", V.YES))
    elif section == "t2":
        if not record.get("present"):
            return {("edema", V.ABSENT)}
        out.add(("edema", V.PRESENT))
        out |= _lesion_facts("edema", record)
    elif section == "perfusion":
        if not record.get("present"):
            return {("perfusion_defect", V.ABSENT)}
        out.add(("perfusion_defect", V.PRESENT))
        out |= _site_facts(record["sites"], "defect", four_walls=False)
        out |= _territories(record["sites"], "defect_territory")
        out.add(("defect_depth", str(record["depth"]).lower()))
    elif section == "impression":
        out.add(("etiology", str(record["etiology"]).lower()))
        if record.get("subtype"):
            out.add(("diagnosis", str(record["subtype"]).lower()))
    return out
