"""A rule-based CMR finding extractor: free report text to structured findings.

Offline and deterministic (no model weights), linear in the text length. The text is
normalised (:mod:`.report_text`: British / American spelling, hyphenation, short tokens),
split into sentences and clauses, and read as:

- **topic mentions** (late enhancement / scar / infarct, edema, perfusion defect, wall
  motion, pericardial effusion, pericardial enhancement), each with its own polarity from its
  clause: ``absent`` for a negation before it ("no", "without", "negative for", "excluding",
  "absence of", "resolution of") or after it ("is not seen", "is unremarkable", ": none",
  "- absent", "(PSIR): none", "has resolved", "is no longer seen"), ``uncertain`` for a hedge
  ("possible", "suspicious for", "concerning for", "cannot be excluded", "is a possibility",
  "should be considered"); a finding "felt to be artefactual" asserts nothing, and "no LGE
  apart from a focus at ..." asserts the focus. A mention owns the words up to the
  next mention of another topic (split at a comma, "with" or "and"), and reads its levels,
  walls, AHA segments (lists and ranges), layer, distribution, territory and depth there
  (:mod:`.finding_locations`);
- **diagnoses** (etiology and non-ischemic subtype), with the same negation and hedge scope
  ("no LGE to suggest infarction" negates the infarction, "suspicious for sarcoidosis"
  hedges only the sarcoidosis); "consistent with", "in keeping with", "likely" assert;
- **cine statements** per clause and ventricle: LV size (words or an indexed EDV), wall
  thickness (words or a maximal thickness in mm) and pattern, LV function (words, "global
  hypokinesis", or an EF number in any phrasing, banded as the labels are), RV size and
  function (:mod:`.cine_statements`);
- **global statements**: "normal CMR", "no abnormality detected" assert a normal etiology
  and imply the absence of each major finding.

A finding is a ``(slot, value)`` pair (vocabulary in :mod:`.cmr_vocabulary`);
:func:`extract` maps findings to their polarity; :func:`read` adds the implied findings and
the values stated as not holding ("myocarditis is unlikely"), which the clinical score uses
for contradictions. :func:`facts_from_structured` (:mod:`.structured_facts`) gives the same
findings from a dataset's structured record.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import ClassVar

from cardiolens.scorers import cmr_vocabulary as V
from cardiolens.scorers.cine_statements import CINE_WORDS, cine_findings
from cardiolens.scorers.finding_locations import (
    distributions,
    layers,
    locations,
    territories,
    transmurality,
)
from cardiolens.scorers.report_text import Clauses, sentences
from cardiolens.scorers.structured_facts import facts_from_structured

__all__ = ["Extraction", "Finding", "Reading", "extract", "facts_from_structured", "read"]

Finding = tuple[str, str]
Extraction = dict[Finding, str]
PRESENT, ABSENT, UNCERTAIN, DENIED = "present", "absent", "uncertain", "denied"

# ------------------------------------------------------------------------ polarity cues

_NEG_BEFORE = re.compile(
    r"\b(?:no|not|without|absent|absence of|negative(?: for)?|free of|free from|nor|none|"
    r"neither|"
    r"excluding|excludes?|unlikely|lack of|nil|rule out|rules out|ruling out|rather than|"
    r"(?<!partial )(?<!incomplete )(?<!partly )resolution of|resolved)\b")
# Words that may stand between a finding and a negation after it: auxiliaries, "felt to be",
# and the head noun of a named disease ("iron overload cardiomyopathy excluded").
_FILLER = (r"(?:(?:imaging|images|sequences?|signal|mapping|study|is|are|was|were|has|have|"
           r"had|been|also|now|therefore|overall|all|both|each|confidently|definitely|"
           r"myocardial|very|cardiomyopathy|disease|"
           r"process|syndrome|involvement|infiltration|heart)\s+|"
           r"(?:considered|felt|thought|deemed|judged|believed)\s+(?:to\s+be\s+)?)")
# what a finding "is no longer" ("seen", "evident", ...)
_SEEN = r"(?:seen|present|identified|demonstrated|detected|evident|visible|apparent)"
_NEG_AFTER = re.compile(
    r"^[\s:=-]*" + _FILLER + r"{0,4}?"
    r"(?:undetectable|not\s+(?:seen|present|identified|demonstrated|detected|evident|visible|"
    r"noted|shown|detectable|appreciable|apparent|discernible|demonstrable|observed|found|"
    r"visuali[sz]ed|depicted|suggested|indicated|suspected|appreciated|"
    r"typical(?!\s+(?:of|for)\b)|(?:a\s+)?(?:\w+\s+)?feature|favored|supported|"
    r"(?:thought\s+|felt\s+|considered\s+)?(?:to\s+be\s+)?likely)|absent|excluded|"
    r"ruled out|unremarkable|normal|"
    r"within normal limits|none|nil|"
    r"unlikely|less likely|negative|preserved|(?:now\s+|since\s+|completely\s+|fully\s+)?"
    r"(?:resolved|disappeared)|no longer\s+(?:\w+\s+)?" + _SEEN +
    r"|(?:no|nil)\s+(?:[a-z]+\s+){0,2}?(?:signal|"
    r"abnormalit(?:y|ies)|defects?|hyperintensit(?:y|ies)|changes?)\b)\b")
# A finding earlier seen and now gone, named some words before ("the effusion described in
# 2022 has resolved", "the inferior LGE is no longer seen"); not "has partially resolved".
_GONE_AFTER = re.compile(
    r"^[\s:=-]*(?:[a-z0-9/]+\s+){0,6}?(?:(?:has|have|had)\s+(?:(?:now|since|completely|"
    r"fully|entirely)\s+){0,2}(?:resolved|disappeared)|(?:is|are|was|were)\s+"
    r"(?:now\s+)?no longer\s+(?:\w+\s+)?" + _SEEN + r")\b")
# A finding the report goes on to dismiss ("focal LGE ..., felt to be artefactual").
_DISMISSED = re.compile(
    r"(?<!not )(?<!n't )\b(?:(?:felt|thought|considered|deemed|believed|presumed|likely|"
    r"probably|most likely)"
    r"\s+(?:to\s+(?:be|represent|reflect)\s+|represent(?:s|ing)?\s+|reflect(?:s|ing)?\s+)?"
    r"(?:an?\s+)?|(?:is|are|was|were)\s+(?:an?\s+)?|(?:represent(?:s|ing)?|reflect(?:s|ing)?|"
    r"due to|in keeping with|consistent with)\s+(?:an?\s+)?)(?:artifact(?:ual)?s?|spurious|"
    r"partial volume(?: effect)?)\b")
# a word that ends a list of findings: a ventricle, size, function or a verb
_NOT_AN_ITEM = r"(?!(?:lv|rv|the|size|function|is|are|was|were)\b)"
# "pericardial effusion or thickening is not seen": a short list after the mention, then the
# negation (no ventricle, size or function word in the list)
_LIST_THEN = re.compile(r"^(?:\s*(?:,|or|and|nor)\s+(?:" + _NOT_AN_ITEM + r"[a-z0-9]+\b\s*)"
                        r"{1,2})+")
# A list of subjects the mention heads, across commas, up to its verb ("X, Y and Z are ...")
# ("and" with a plural verb, "or" / "nor" with either; no ventricle or "the" among the items:
# "LGE and the RV is normal" is two statements; an item may be blanked: a diagnosis read
# before is masked out of the sentence)
_ITEM = r"(?:" + _NOT_AN_ITEM + r"[a-z0-9]+\b\s*){1,3}?"
_SUBJECT_LIST = re.compile(r"(?:\s*,\s*" + _ITEM + r")*\s*,?\s*(?:and\s+(?:" + _ITEM + r")?" +
                           r"(?=(?:are|were|have|had)\b)|(?:or|nor)\s+" + _ITEM +
                           r"(?=(?:are|is|were|was|has|have|had)\b))")
_HEDGE_BEFORE = re.compile(
    r"\?|\b(?:possible|possibly|may|might|could|cannot (?:be )?(?:\w+ly )?excluded?|"
    r"can't (?:be )?(?:\w+ly )?excluded?|(?:does|do|did) not (?:\w+ly )?exclude|"
    r"not (?:\w+ly )?excluded|questionable|equivocal|indeterminate|suspicious for|"
    r"suspected|suspect|suspicious\b|suggestive|suggests?|suggesting|possibility of|query|queried|"
    r"differential|borderline|concerning for|concern for|worrying for|worrisome for|"
    r"consider\b|not (?:inconsistent|incompatible) with|(?:difficult|hard|impossible|not "
    r"possible) to (?:\w+ly )?(?:exclude|rule out))")
_HEDGE_AFTER = re.compile(
    r"^[\s:]*(?:[a-z0-9]+\s+){0,8}?(?:(?:cannot|can't|could not|is not|are not)(?: be)?"
    r"(?: \w+ly)? (?:excluded|ruled out)|(?:is|are|was|were) (?:possible|suspected|"
    r"questionable|equivocal|queried)|(?:is|are|was|were) (?:also )?(?:being )?considered"
    r"(?=\s*(?:$|[,;(]|(?:in|as|given|because)\b))|(?:may|might|could) be (?:present|seen|noted|"
    r"identified)|(?:is|are|remains?|was|were) (?:also |still )?(?:a|an|the) (?:\w+ )?"
    r"(?:possibility|consideration|differential|concern)|(?:should|must|needs? to|would|"
    r"could) (?:also )?be (?:considered|excluded|ruled out))")
_HEDGE_FIELD = re.compile(r"\s*[:=-]\s*(?:possible|possibly|equivocal|questionable|query|"
                          r"suspected|indeterminate)\b")
"""A headed field whose value is a hedge word ("Oedema: possible")."""
_NEGATED_HEDGE = re.compile(r"\b(?:cannot|can't|could not|not) (?:be )?(?:\w+ly )?"
                            r"(?:exclude[ds]?|ruled? out)\b|\bnot be excluded\b|"
                            r"\bnot (?:inconsistent|incompatible) with\b|"
                            r"\b(?:difficult|hard|impossible|possible) to (?:\w+ly )?"
                            r"(?:exclude|rule out)\b")


def _blank(match: re.Match[str]) -> str:
    return " " * len(match.group(0))


_NOT_ASSERTED = re.compile(r"\b(?:to suggest|to indicate|to support|suggestive of|"
                           r"typical of|in keeping with|consistent with)\b")


_NEG_LIST_HEAD = r"\b(?:no|without|negative for|free of)\s+"
_ITEMS = r"((?:[a-z0-9]+\s+){0,4}?[a-z0-9]+(?:\s*,\s*(?:[a-z0-9]+\s+){0,3}?[a-z0-9]+)*)"
_LIST_LAST = re.compile(_NEG_LIST_HEAD + _ITEMS + r"\s*,?\s+(?:or|nor)\s+(?:[a-z0-9]+\s+){0,3}$")
_LIST_MIDDLE = re.compile(_NEG_LIST_HEAD + _ITEMS + r"\s*,\s*(?:[a-z0-9]+\s+){0,3}$")
_LIST_GOES_ON = re.compile(r"^(?:\s*,\s*(?:[a-z0-9]+\s+){0,3}?[a-z0-9]+)*\s*,?\s+(?:or|nor)\b")
_LIST_STOP = re.compile(r"\b(?:is|are|was|were|but|with|there|has|have|shows?|and)\b")


def _negated_list(sentence: str, start: int, end: int) -> bool:
    """A mention inside a negated list: "no edema, infarction or infiltration" (the
    clause split at the commas would otherwise end the negation at the first item)."""
    before = sentence[max(0, start - 120):start]
    m = _LIST_LAST.search(before)
    if m is None and _LIST_GOES_ON.match(sentence[end:end + 80]):
        m = _LIST_MIDDLE.search(before)
    return m is not None and not _LIST_STOP.search(m.group(1))


_EVIDENCE = re.compile(r"\b(?:given|in view of|because of|on the basis of|owing to|based on)\b")
"""The evidence a hedged or negated diagnosis rests on follows these words, and is stated."""
_BRACKET = re.compile(r"\s*\([^()]{0,40}\)")
_DANGLING = re.compile(r"^\s*(?:of|for)\b")


def _polarity(sentence: str, clauses: Clauses, start: int, end: int) -> str:
    """Polarity of the mention at ``start:end`` from the cues of its clause.

    A bracket right after the mention ("LGE (PSIR): none") is skipped, so the negation
    after it still counts; a negated hedge nearer the mention than a negation wins ("the
    absence of LGE does not exclude myocarditis"); a clause that starts with a dangling
    "of" / "for" ("suggestive, though not diagnostic, of sarcoidosis") also takes the
    hedges of the clauses before it in the sentence.
    """
    c_start, c_end = clauses.at(start)
    before = sentence[max(c_start, start - 160):start]      # bounded: linear time
    after_start = end
    bracket = _BRACKET.match(sentence, end, min(len(sentence), end + 44))
    if bracket is not None:         # right after the mention (only spaces between)
        if _NEG_AFTER.search(sentence[bracket.start():bracket.end()].strip(" ()")):
            return ABSENT                   # "LGE (none)"
        after_start = bracket.end()
        c_end = clauses.at(after_start)[1]
    after = sentence[after_start:min(c_end, after_start + 80)]
    cut = max((m.end() for m in _EVIDENCE.finditer(before)), default=0)
    before = before[cut:]       # "myocarditis cannot be excluded given the diffuse LGE"
    blanked = _NEGATED_HEDGE.sub(_blank, before)
    negations = list(_NEG_BEFORE.finditer(blanked))
    hedges = list(_NEGATED_HEDGE.finditer(before))
    if negations and not (hedges and hedges[-1].start() > negations[-1].start()):
        negation = negations[-1]
        tail = before[negation.end():]
        return DENIED if _NOT_ASSERTED.search(tail) else ABSENT
    listed = _LIST_THEN.match(after)
    if listed:
        after = after[listed.end():]
    else:       # "myocarditis, sarcoidosis and amyloid are not supported": the subject list
        subject = _SUBJECT_LIST.match(sentence, after_start, min(len(sentence),
                                                                 after_start + 120))
        if subject is not None:
            after = sentence[subject.end():min(len(sentence), subject.end() + 80)]
    if not hedges and (_NEG_AFTER.search(after) or _GONE_AFTER.search(after)
                       or _negated_list(sentence, start, end)):
        return ABSENT
    if hedges or _HEDGE_BEFORE.search(before) or _HEDGE_AFTER.search(after) \
            or _HEDGE_FIELD.match(after):
        return UNCERTAIN
    if _DANGLING.match(before) and _HEDGE_BEFORE.search(
            sentence[max(0, c_start - 120):c_start]):
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
        (r"\bnonischemic (?:\w+ )?(?:cardiomyopathy|heart disease|etiology|origin|"
         r"cause)\b|\bnicm\b", V.ETIOLOGY_NONISCHEMIC, None),
        (r"\bischemic (?:\w+ )?(?:cardiomyopathy|heart disease|etiology|origin|cause)\b|"
         r"\bicm\b|\bihd\b", V.ETIOLOGY_ISCHEMIC, None),
        (r"\b(?:normal|unremarkable) (?:\w+ ){0,2}?(?:cmr|mri|mr|study|examination|exam|"
         r"scan)\b|"
         r"\bno (?:\w+ )?abnormalit(?:y|ies) of (?:the )?(?:cardiac|heart|heart's|myocardial) "
         r"(?:structure|function)(?: (?:or|and) (?:structure|function))?\b|"
         r"\b(?:structurally )?normal heart\b(?! (?:size|rate|rhythm|valves?|sounds?|function))|"
         r"\bno (?:evidence of )?(?:(?:significant|other|cardiac|structural|functional|"
         r"myocardial|valvular|"
         r"major|or|and)"
         r" ){0,4}(?:abnormalit(?:y|ies)|pathology)\b"
         r"(?! (?:of|in) )|\bstructurally (?:and functionally )?normal\b|"
         r"\bfunctionally and structurally normal\b|\b(?:study|examination|heart|cmr|scan) "
         r"(?:is|was) (?:\w+ ){0,3}?(?:normal|unremarkable|within normal limits)\b|"
         r"\b(?:study|examination|cmr|scan|mri)\s+(?:\w+\s+)?within normal limits in all "
         r"respects\b|\b(?:normal|unremarkable) (?:cmr|mri|study|examination|scan)\b|"
         r"\b(?:cmr|study|examination|scan) (?:\w+ )?(?:normal|unremarkable) in all respects\b",
         V.ETIOLOGY_NORMAL, None)))


_ANY_DIAGNOSIS = re.compile("|".join(p.pattern for p, _, _ in _DIAGNOSES))

# ------------------------------------------------------------------------ topic mentions

_MENTION = re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in (
    ("pericardial", r"\bpericardi(?:al|um)\s+(?:(?!(?:effusions?|fluid|no|not|with|without|"
                    r"does|do|did)\b)"
                    r"\w+\s+){0,2}?(?:lge|enhancement|enhances|enhancing)\b|"
                    r"\b(?:lge|enhancement) of the pericardium\b"),
    ("global_hypo", r"\b(?:global(?:ly)?|diffuse(?:ly)?|generalized)\s+(?:lv\s+)?"
                    r"(?:hypokine|hypocontractil)\w*"),
    ("lge_weak", r"\blge\s+(?:imaging|images|sequences?)\b"),
    ("lge", r"\blge\b|\bscar(?:s|ring|red)?\b|\bfibrosis\b|\b(?:hyper)?enhancement\b|"
            r"\benhances?\b|\benhancing\b"),
    ("infarct", r"\binfarct(?:s|ion|ed)?\b"),
    ("edema", r"\bedema(?:tous)?\b|\bt2\s+hyperintens\w*|\b(?:increased|elevated|high|raised|"
              r"prolonged)\s+(?:native\s+)?(?:t1\s+and\s+)?t2\b|"
              r"\bt2\s+(?:signal\s+|values?\s+|times?\s+)?(?:elevation|prolongation)\b|"
              r"\b(?:increase|elevation|rise)\s+(?:in|of)\s+(?:the\s+)?(?:native\s+)?t2\b"),
    ("edema_weak", r"\b(?:t2w?|stir)(?:\s+(?:imaging|images|mapping|maps|signal|values?|"
                   r"sequences?))?\b"),
    ("defect", r"\bperfusion\s+(?:defects?|deficits?|abnormalit(?:y|ies))\b|"
               r"\bhypoperfus\w+|\bdefects?\b|\bischemia\b"),
    ("perfusion_weak", r"\bperfusion\b"),
    ("rwma", r"\brwmas?\b|\b(?:hypo|a|dys)kine(?:sis|tic)\b|\bhypocontractil(?:e|ity)\b"),
    ("rwma_weak", r"\bwall motion\b|\bregional\s+(?:(?:lv|systolic|wall|myocardial)\s+){0,2}"
                  r"(?:function|contractility|contraction)\b|"
                  r"\bregional\s+(?:variation|differences?|heterogeneity)\b"),
    ("effusion", r"\b(?<!pleural )effusions?\b|\bpericardial fluid\b|\bfluid\s+(?:in|within|"
                 r"around)\s+(?:the\s+)?(?:pericardial\s+(?:space|sac|cavity)|pericardium)\b"),
)))
_TOPIC_OF = {"pericardial": "pericardial_enhancement", "lge_weak": "lge", "edema_weak": "edema",
             "defect": "perfusion_defect", "perfusion_weak": "perfusion_defect",
             "rwma_weak": "rwma"}
_SPAN_BREAK = re.compile(r"[,;()]|\b(?:with|and|but|while|whereas|although|plus|in keeping|"
                         r"consistent|compatible|typical)\b")
_ABNORMAL_BEFORE = re.compile(r"\b(?:abnormal|increased|elevated|raised|high|reduced|"
                              r"impaired|prolonged)\s+(?:\w+\s+){0,3}$")
_ABNORMAL_AFTER = re.compile(
    r"^[\s:=-]*(?:(?:is|are|was|were|shows?|showed|demonstrates?|with)\s+)?(?:(?:\w+ly|"
    r"regionally|focally)\s+)?(?:abnormal|increased|elevated|raised|high|prolonged)\b")
_EXCEPTION = re.compile(r"\b(?:apart from|other than|except(?: for)?|save for|with the "
                        r"exception of)\b")
_PERICARDIUM_HEADING = re.compile(r"^\s*pericardi(?:um|al)\b[^:]{0,20}:")
# "The pericardium is of normal thickness and shows no enhancement": the pericardium is the
# subject and no myocardial word follows, so its enhancement is the pericardium's
_PERICARDIUM_SUBJECT = re.compile(r"^\s*(?:the\s+)?pericardium\b")
_MYOCARDIAL = re.compile(r"\b(?:myocardi\w*|lv|rv|septum|septal|walls?|segments?|"
                         r"ventricles?|biventricular)\b")
# A finding left open between itself and an artefact ("defect ..., ischaemia versus artefact")
_OR_ARTIFACT = re.compile(r"\b(?:versus|vs\.?|or)\s+(?:\w+\s+){0,2}?artifacts?\b|"
                          r"\b(?:possibly|perhaps|(?:may|might|could)\s+(?:be|represent|"
                          r"reflect))\s+(?:an?\s+)?"
                          r"(?:\w+\s+)?artifact(?:ual|s)?\b")
# A clause of the span that opens with a hedge ("LGE in the septum, possibly also involving
# the RV insertion point"): its sites are uncertain, the rest of the span stands
_HEDGED_CLAUSE = re.compile(r"\s*(?:(?:and|or|with)\s+)?(?:possibly|perhaps|maybe|"
                            r"questionably|equivocally|potentially|may|might|could)\b")
# A regional wall-motion word about the RV ("the RV free wall is hypokinetic"): RV function
_RV_WALL = re.compile(r"\brv\b(?!\s+insertion)")
_LV_WORD = re.compile(r"\blv\b|\bseptum\b|\bseptal\b|\bsegments?\b|\binfer\w+|\bantero\w+|"
                      r"\bapical\b")
_NORMAL_BEFORE = re.compile(r"\b(?:normal|unremarkable)\s+(?:\w+\s+){0,2}$")


_GROUP = {"infarct": "lge"}
_HEADING = re.compile(r"\s*:")
_TOPIC_HEADING = re.compile(r"\b(?:wall motion|rwma|perfusion|lge|t[12]\w*|stir|edema|"
                            r"pericardi\w+|mapping|imaging|function|lv|rv)\s*:\s*$")


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
    pericardium = _PERICARDIUM_HEADING.match(sentence) is not None or (
        _PERICARDIUM_SUBJECT.match(sentence) is not None
        and not _MYOCARDIAL.search(sentence))
    for m in _MENTION.finditer(sentence):
        name = m.lastgroup or ""
        if pericardium and name == "lge":       # "Pericardium: no effusion or enhancement"
            name = "pericardial"
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
    out = locations(span, prefix, four_walls)
    if not four_walls:
        out |= layers(span, prefix)
        out |= distributions(span, f"{prefix}_distribution")
    return out


def _read_run(s: str, clauses: Clauses, run: list[_Mention], span_bounds: tuple[int, int],
              polarities: list[str], acc: _Collector, implied: bool) -> list[str]:
    """Findings of a run of mentions of one topic: a negative per negated mention, and the
    qualifiers of the span once, with the strongest polarity of its stated mentions.
    Returns the polarities after dismissals ("felt to be artefactual": nothing asserted) and
    exceptions ("no LGE apart from a focus at ...": the exception is present)."""
    topic = _GROUP.get(run[0].topic, run[0].topic)
    chars = list(s[span_bounds[0]:span_bounds[1]])
    polarities = list(polarities)
    cut = 0
    for i, mention in enumerate(run):       # windows bounded: linear time
        near = min(span_bounds[1], mention.end + 120)
        if _OR_ARTIFACT.search(s, mention.end, near):
            if polarities[i] == PRESENT:    # "concerning for ischaemia versus artefact"
                polarities[i] = UNCERTAIN
        elif _DISMISSED.search(s, mention.end, near):
            polarities[i] = DENIED          # "focal LGE ..., felt to be artefactual"
        exception = _EXCEPTION.search(s, mention.end, near)
        if polarities[i] == ABSENT and exception is not None and not mention.weak:
            # "no LGE apart from a small focus at the RV insertion": the exception is a
            # finding of the same topic, read from the words after "apart from"
            polarities[i] = PRESENT
            cut = max(cut, exception.end() - span_bounds[0])
    chars[:cut] = " " * cut
    strong = [(m, p) for m, p in zip(run, polarities, strict=True) if not m.weak]
    for mention, pol in zip(run, polarities, strict=True):
        if not mention.weak:
            continue
        before = s[max(0, mention.start - 40):mention.start]
        if pol == ABSENT or _NORMAL_BEFORE.search(before):
            acc.add([(topic, V.ABSENT)], ABSENT)
        elif pol != DENIED and (_ABNORMAL_BEFORE.search(before) or _ABNORMAL_AFTER.match(
                s[mention.end:mention.end + 60])):
            strong.append((mention, pol))   # "T2 mapping: elevated values in the ...
    stated = [(m, p) for m, p in strong if p in (PRESENT, UNCERTAIN)]
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
        return polarities
    pol = PRESENT if any(p == PRESENT for _, p in stated) else UNCERTAIN
    if topic == "rwma" and _RV_WALL.search(s, *clauses.at(stated[0][0].start)) and not \
            _LV_WORD.search(s, *clauses.at(stated[0][0].start)):
        acc.add([("rv_function", V.FUNCTION_REDUCED)], pol)    # "the RV free wall is akinetic"
        return polarities
    hedged_chars = [" "] * len(chars)
    if pol == PRESENT:
        own = {clauses.at(m.start) for m, _ in stated}
        for a, b in clauses.bounds:
            if (a, b) not in own and span_bounds[0] <= a < span_bounds[1] and \
                    _HEDGED_CLAUSE.match(s, a, b):
                lo, hi = a - span_bounds[0], min(b, span_bounds[1]) - span_bounds[0]
                hedged_chars[lo:hi] = chars[lo:hi]
                chars[lo:hi] = " " * (hi - lo)
    span = "".join(chars)
    if pol == PRESENT and "".join(hedged_chars).strip():
        main = _Collector()
        _qualify(s, topic, stated, span, span_bounds, main, pol, implied)
        _qualify(s, topic, stated, "".join(hedged_chars), span_bounds, acc, UNCERTAIN,
                 implied, main.found)
    _qualify(s, topic, stated, span, span_bounds, acc, pol, implied)
    return polarities


def _qualify(s: str, topic: str, stated: list[tuple[_Mention, str]], span: str,
             span_bounds: tuple[int, int], acc: _Collector, pol: str, implied: bool,
             known: Extraction | None = None) -> None:
    """The findings of a run's span: the topic and its sites and qualifiers; with ``known``,
    only those not already in it (the sites of a hedged clause)."""
    if known is not None:
        inner = _Collector()
        _qualify(s, topic, stated, span, span_bounds, inner, pol, implied)
        acc.add({f for f in inner.found if f not in known}, pol)
        return
    if topic == "lge":
        found = {("lge", V.PRESENT)} | _lesion("lge", span)
        found |= territories(span, "lge_territory")
        if "papillary" in span:
            found.add(("lge_papillary", V.YES))
        if re.search(r"\binsertion|\bhinge point|\b(?:inferior|anterior|superior|posterior)\s+"
                     r"(?:rv\s+)?junction", span):
            found.add(("lge_rv_insertion", V.YES))
        if re.search(r"\b(?:matching|corresponding)\s+(?:\w+\s+)?infarct", span):
            found |= territories(s[max(0, span_bounds[0] - 160):span_bounds[1]],
                                 "lge_territory")   # "LAD territory oedema, a matching infarct"
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
        found = {("perfusion_defect", V.PRESENT)} | locations(span, "defect", False)
        found |= territories(span, "defect_territory")
        found |= {("defect_depth", {"subendocardial": V.DEPTH_SUBENDO,
                                    "transmural": V.DEPTH_TRANSMURAL}[m.group(1)])
                  for m in re.finditer(r"\b(subendocardial|transmural)\b", span)}
        acc.add(found, pol)
    elif topic == "rwma":
        found = {("rwma", V.PRESENT)} | locations(span, "rwma", four_walls=True)
        for m in re.finditer(r"\b(hypo|a|dys)(?:kine|contractil)", span):
            found.add(("rwma_severity", {"hypo": V.HYPOKINETIC, "a": V.AKINETIC,
                                         "dys": V.DYSKINETIC}[m.group(1)]))
        acc.add(found, pol)
    elif topic == "effusion":
        large = any(not re.search(r"\b(?:no|not|non|without)\s+(?:\w+\s+){0,2}$",
                                  span[max(0, m.start() - 40):m.start()])
                    for m in re.finditer(r"\b(?:moderate|large|significant|sizeable|big|"
                                         r"massive)\b", span))
        acc.add([("effusion", V.EFFUSION_LARGE if large else V.EFFUSION_SMALL)], pol)


# ---------------------------------------------------------------------------- sentences


def _read_sentence(s: str, acc: _Collector) -> None:
    clauses = Clauses(s)
    covered = bytearray(len(s) + 1)
    ischemic_diagnosis = hedged = False
    for pattern, etiology, subtype in _DIAGNOSES if _ANY_DIAGNOSIS.search(s) else ():
        for m in pattern.finditer(s):
            if covered[m.start()] or (etiology == V.ETIOLOGY_NORMAL and _TOPIC_HEADING.search(
                    s, max(0, m.start() - 40), m.start())):
                continue        # "Wall motion: no abnormality" is about wall motion
            covered[m.start():m.end()] = b"\x01" * (m.end() - m.start())
            pol = _polarity(s, clauses, m.start(), m.end())
            found = [("etiology", etiology)] + ([("diagnosis", subtype)] if subtype else [])
            if pol in (ABSENT, DENIED):
                if etiology != V.ETIOLOGY_NORMAL:
                    acc.negated.update(found if subtype is None else found[1:])
                continue
            acc.add(found, pol)
            if subtype == V.HCM and re.search(r"\bapical\s+$", s[max(0, m.start() - 10):
                                                                 m.start()]):
                acc.add([("hypertrophy_pattern", V.PATTERN_APICAL)], pol)   # "apical HCM"
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
        labelled = [m for m in run
                    if m.topic == "infarct" or not _HEADING.match(masked, m.end)]
        run = labelled or run       # "LGE: no myocardial LGE": the heading is a label
        polarities = [_polarity(masked, clauses, m.start, m.end) for m in run]
        if run[0].topic == "global_hypo":
            continue
        polarities = _read_run(masked, clauses, run, span, polarities, acc,
                               implied=ischemic_diagnosis)
        if run[0].topic in ("lge", "infarct"):
            scar_polarities += [p for m, p in zip(run, polarities, strict=True) if not m.weak]
    if not scar_polarities or any(p in (PRESENT, UNCERTAIN) for p in scar_polarities):
        lge_pol = UNCERTAIN if scar_polarities and PRESENT not in scar_polarities \
            else PRESENT
        band = transmurality(masked)
        lge_facts = _pattern(masked) | ({("lge_transmurality", band)} if band else set())
        if ischemic_diagnosis:          # "ischemic cardiomyopathy (LAD territory infarct)"
            acc.implied |= lge_facts
        else:
            acc.add(lge_facts, lge_pol)
    if CINE_WORDS.search(masked):
        hedge = _HEDGE_BEFORE.search(masked)
        measured: set[str] = set()
        cine = cine_findings(masked, clauses, measured)
        if hedge and not scar_polarities and not hedged:    # a number is not hedged
            acc.add({f for f in cine if f[0] in measured}, PRESENT)
            acc.add({f for f in cine if f[0] not in measured}, UNCERTAIN)
        else:
            acc.add(cine, PRESENT)


_NOT_CORONARY = re.compile(r"\b(?:not|nor)\s+(?:\w+\s+){0,3}?(?:coronary|ischemic|vascular)\s+"
                           r"(?:artery\s+)?(?:territor\w*|distribution|pattern)\b")
"""A negated coronary distribution ("not in a coronary distribution", "does not follow a
coronary territory") names a non-ischemic pattern (bounded: at most three words between)."""


def _pattern(s: str) -> set[Finding]:
    """The LGE pattern a sentence names ("a non-ischemic pattern", "ischemic, in the LAD
    territory"), with the territories of an ischemic one."""
    if re.search(r"\b(?:nonischemic|noncoronary)\s+(?:type\s+)?(?:\w+\s+)?(?:lge|scar|"
                 r"fibrosis|enhancement)\b", s):
        return {("lge_pattern", V.PATTERN_NONISCHEMIC)}     # "non-ischaemic LGE in ..."
    if not re.search(r"\bpattern\b|\bdistribution\b|\bterritor", s):
        return set()
    if re.search(r"\bnonischemic\b|\bnoncoronary\b", s) or _NOT_CORONARY.search(s):
        return {("lge_pattern", V.PATTERN_NONISCHEMIC)}     # "not in a coronary distribution"
    if re.search(r"\bischemic\b|\bcoronary (?:territory|distribution)\b", s):
        return {("lge_pattern", V.PATTERN_ISCHEMIC)} | territories(s, "lge_territory")
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
