"""Cine statements of a CMR report sentence: LV size (words or an indexed EDV), wall thickness
(words or a maximal thickness in mm) and hypertrophy pattern, LV function (words, "global
hypokinesis", or an EF number in any phrasing, banded as the labels are), RV size and
function, each per clause and for the ventricle the clause is about."""

from __future__ import annotations

import re
from bisect import bisect_right

from cardiolens.scorers import cmr_vocabulary as V
from cardiolens.scorers.finding_locations import WALL6, locations
from cardiolens.scorers.report_text import Clauses

Finding = tuple[str, str]


_SUBJECT = re.compile(r"\b(lv|rv|biventricular|ventricles|(?:both|either|neither) ventricle)\b"
                      r"(?!\s+insertion)")
_EF = re.compile(r"\b(?:(lv|rv)\s+)?ef\b(?:\s*\([^()0-9]{0,40}\))?[^0-9%;]{0,30}?"
                 r"(\d{1,3}(?:\.\d+)?)"
                 r"(?:\s*(?:-|to)\s*(\d{1,3}(?:\.\d+)?))?\s*%")
_EDVI = re.compile(r"\b(?:(lv|rv)\s+)?(?:indexed\s+)?(?:(lv|rv)\s+)?edvi?\b[^0-9;]{0,25}?"
                   r"(?:\d{2,3}(?:\.\d+)?\s*ml\b(?!\s*/)[^0-9;]{0,20}?)?"   # "205 ml (indexed
                   r"(?:(\d{2,3}(?:\.\d+)?)\s*(?:ml\s*/\s*m2?\s*)?(?:to|->)\s*)?"  # "from 130 to
                   r"(\d{2,3}(?:\.\d+)?)\s*ml\s*/\s*m")
_EDV_ML = re.compile(r"\b(lv|rv)\s+edv\b(?!\s*i\b)[^0-9;/]{0,20}?(\d{2,3}(?:\.\d+)?)\s*ml\b"
                     r"(?!\s*/)")
"""An absolute EDV ("LVEDV 301 mL"), read only when the sentence gives no indexed one."""
_EF_THEN = re.compile(r"\s*(?:to|->)\s*(\d{1,3}(?:\.\d+)?)\s*%")
_EF_FROM_TO = re.compile(r"\s*(?:(?!(?:and|but|with|to)\b)[a-z0-9/]+[\s,]+){0,6}?(?:to|->)\s*"
                         r"(\d{1,3}(?:\.\d+)?)\s*%")
"""After "from X%", words before the current value ("from 31% on the previous scan to 52%
today"); bounded to six words."""
_EF_PRIOR = re.compile(r"\s*(?:previously|prior|before|at baseline|on the (?:prior|previous)"
                       r"(?: \w+)?)\s*(?:,|;|and\b|now\b|$)")
"""The number before is the prior one ("LVEF 40% previously, now 55%"); not "41% (previously
55%)", where the bracket holds the prior one."""
_EF_NOW = re.compile(r"\b(?:now|currently|at present|today)\s+(?:\w+\s+){0,2}?"
                     r"(\d{1,3}(?:\.\d+)?)\s*%")
_MM = re.compile(r"(\d{1,2}(?:\.\d+)?)\s*mm\b")
_SIZE_OF_TOPIC = re.compile(r"^[\s,]*(?:(?!(?:lv|rv|with|without|and|but|no)\b)\w+\s+){0,2}?"
                            r"(?:effusion|lge|scar|area|focus|foci|"
                            r"defect|infarct\w*|aneurysm|thrombus|mass)\b")
_DILATED = re.compile(r"\b(?:dilated|dilation|enlarged|enlargement)\b")
_NORMAL_SIZE = re.compile(
    r"\bnondilated\b|\b(?:normal|regular)\s+(?:in\s+)?(?:\w+\s+){0,3}?(?:size|sized|"
    r"volumes?|dimensions?)\b|\b(?:size|volumes?|dimensions?)\b[\s:]*(?:is\s+|are\s+)?"
    r"(?:normal|within normal limits)\b|\b(?:size|volumes?|dimensions?)\s+and\s+(?:\w+\s+)?"
    r"function\s+(?:(?:is|are|was|were)\s+)?(?:normal|within normal limits)\b|"
    r"\b(?:size|volumes?|dimensions?)\b[\s:]*(?:(?:is|are|was|were)\s+)?within\s+(?:the\s+)?"
    r"normal\s+(?:limits|range)\b|"                   # "volumes are within the normal range"
    r"\b(?:size|volumes?|dimensions?)\s+and\s+(?:\w+\s+){0,2}?(?:function|performance|"
    r"contractility)\s+(?:(?:is|are|was|were)\s+)?(?:normal|within (?:the )?normal "
    r"(?:limits|range))\b|"
    r"\b(?:size|volumes?|dimensions?)\s+(?:(?:is|are|was|were)\s+)?not\s+(?:increased|enlarged|"
    r"raised|elevated)\b")
_SMALL = re.compile(r"\bsmall\b")
_BARE_SIZE = re.compile(r"\s*(?:(?:lv|rv|the)\s+){0,2}(?:size|volumes?|dimensions?)\s*$")
_LIST_NORMAL = re.compile(r"\s*,\s*(?:[a-z ]{1,40}?,\s*){0,3}?[a-z ]{1,40}?\band\s+[a-z ]{1,40}?\s+"
                          r"(?:are|were)\s+(?:all\s+)?(?:normal|within (?:the )?normal "
                          r"(?:limits|range))\b")
"""A size noun heading a list that ends "... and Z are normal" (bounded window)."""
_NEG_NEAR = re.compile(r"\b(?:no|not|without)\s+(?:(?:evidence|signs?|features?)\s+of\s+)?"
                       r"(?:\w+\s+){0,2}$|"
                       r"\b(?:no|without)\s+(?:(?:evidence|signs?|features?)\s+of\s+)?"
                       r"(?:\w+\s+){1,3}(?:or|nor)\s+(?:\w+\s+){0,2}$|"
                       r"\bneither\s+(?:\w+\s+){1,4}nor\s+(?:\w+\s+){1,4}$|"
                       r"\bneither\s+(?:\w+\s+){1,3}$|"     # "neither ventricle is dilated"
                       r"^\s*nor\s+(?:\w+\s+){0,5}$")    # "not dilated, nor is it hypertrophied"
# A clause that goes on with a list negated in the clause before ("no LV dilatation,
# hypertrophy or systolic dysfunction" is split at its comma): the head of the list and its
# items, each a word or two, up to the comma that starts this clause.
_NEG_LIST_BEFORE = re.compile(r"\b(?:no|not|without|negative for|free of)\s+"
                              r"(?:[a-z0-9]+\s+){0,3}?[a-z0-9]+\s*,\s*"
                              r"(?:(?:[a-z0-9]+\s+){0,2}?[a-z0-9]+\s*,\s*){0,4}$")
_LIST_CLAUSE = re.compile(r"\s*(?:(?!(?:is|are|was|were|but|with|has|have|shows?|there)\b)"
                          r"[a-z0-9]+\b\s*){1,6}(?:(?:is|are|was|were)\s+(?:seen|present|noted|"
                          r"identified|demonstrated|evident)\s*)?$")


def _negated_near(before: str) -> bool:
    """A "no" / "not" / "without" at most two words before, or heading a short "or" list
    ("no hypertrophy or systolic dysfunction"), or "neither ... nor ..." (bounded window)."""
    return bool(_NEG_NEAR.search(before[-60:]))


_LIST_ENDS = re.compile(r"(?:[^,;]{0,60},){0,4}?[^,;]{0,60}?\b(?:or|nor)\b")
"""The list goes on to its "or" / "nor" item: "no LV dilatation, moderately impaired systolic
function" is two statements, "no LV dilatation, hypertrophy or dysfunction" one list."""


def _continues_negated_list(s: str, start: int, end: int) -> bool:
    """The clause ``s[start:end]`` is an item of a list negated in the clause before."""
    return bool(_LIST_CLAUSE.match(s, start, end)) and bool(
        _LIST_ENDS.match(s, start, min(len(s), start + 200))) and bool(
        _NEG_LIST_BEFORE.search(s, max(0, start - 100), start))


_FUNCTION_WORD = re.compile(r"\b(?:function|systolic|ef|contractility|contraction|"
                            r"contracts|contracting|dysfunction|impairment|hyperdynamic)\b|"
                            r"\b(?:global(?:ly)?|diffuse(?:ly)?|generalized)\s+(?:lv\s+)?"
                            r"hypokine")
# "the RV is (mildly) impaired": a function predicate of a named ventricle, no size word
_FUNCTION_PREDICATE = re.compile(r"\b(?:(?:is|are|was|were|remains?|appears?)\s+(?:\w+ly\s+)?|"
                                 r"(?:is|are|was|were)\s+(?:\w+ly\s+)?(?:dilated|enlarged|"
                                 r"hypertrophied)\s+(?:and|but)\s+(?:\w+ly\s+)?)"
                                 r"(?:impaired|depressed|hypokinetic|hypocontractile|preserved)\b")
_GOES_ON = re.compile(r"\s*(?:(?:and|but)\s+)?(?:is|are|was|were|appears?|remains?)\b")
"""A clause that goes on with the ventricle named before ("not dilated but is impaired")."""
_BARE_PREDICATE = re.compile(r"\s*(?:(?:and|but|yet)\s+)?(?:\w+ly\s+)?(?:impaired|depressed|"
                             r"hypokinetic|hypocontractile)\s*$")
"""A clause that is only a function word after a clause naming the ventricle ("the LV is not
dilated, but impaired")."""
_RELATIVE = re.compile(r"\b(?:which|that)\s*$")
"""A clause that goes on from "which": about the site before it ("the mid inferoseptum, which is
hypokinetic"), not about a ventricle."""
_REDUCED = re.compile(r"\b(?:impaired|reduced|depressed|decreased|dysfunction|impairment|"
                      r"poor|poorly|hypocontractile)\b|(?:\b(?:global(?:ly)?|diffuse(?:ly)?|generalized)\s+"
                      r"(?:lv\s+|rv\s+)?|\b(?:is|are|was|were|appears?|remains?)\s+(?:\w+ly\s+)?)"
                      r"hypokine\w*")
"""Reduced function; "hypokinesis" only when global or said of the ventricle ("the RV is
hypokinetic"): "inferior wall hypokinesis with normal RV function" is a regional one."""
_NORMAL_FN = re.compile(r"\b(?:normal|normally|preserved|good|hyperdynamic|regular|"
                        r"within normal limits)\b")
_SEVERITY = ((re.compile(r"\bsevere(?:ly)?\b"), V.EF_SEVERE),
             (re.compile(r"\bmoderate(?:ly)?\b"), V.EF_MODERATE),
             (re.compile(r"\bmild(?:ly)?\b"), V.EF_MILD))
_THICKENED = re.compile(r"\b(?:hypertroph\w*|thickened|thickening|lvh)\b")
# normal thickness: "normal in size and thickness", "size, wall thickness and function are normal"
_THICK_NORMAL = re.compile(r"\bnormal\s+(?:(?!(?:increased|raised|reduced|decreased|abnormal|"
                           r"but|with)\b)\w+\s+){0,5}?thickness\b|"
                           r"\bthickness(?:\s*,\s*(?:\w+\s+){0,2}?\w+|\s+and\s+(?:\w+\s+){0,2}?\w+)"
                           r"{1,3}\s+(?:is|are|was|were)\s+(?:normal|within (?:the )?normal "
                           r"(?:limits|range))\b|"
                           r"\bthickness\b[\s:]*"
                           r"(?:is\s+)?(?:\w+\s+)?normal\b|\bthickness\s+(?:is|was)\s+not\s+"
                           r"(?:increased|raised)\b")
_REST = re.compile(r"\b(?:remaining|other|rest of the|elsewhere)\b")
"""A statement about the rest of the walls ("the remaining segments are normal in
thickness"), which does not state the maximal thickness."""
_THINNED = re.compile(r"\b(?:thinned|thinning|thin)\b")
_PATTERNS = ((re.compile(r"\bconcentric\b"), V.PATTERN_CONCENTRIC),
             (re.compile(r"\basymmetric(?:al)?\b|\bseptal (?:hypertroph|phenotype|variant|"
                         r"morphology|predominant)"), V.PATTERN_SEPTAL),
             (re.compile(r"\bapical (?:hypertroph|variant|hcm\b)"), V.PATTERN_APICAL),
             (re.compile(r"\bfocal hypertroph"), V.PATTERN_FOCAL))
_LIST_GOES_ON = re.compile(r"^\s*(?:(?:and|or|the|walls?|segments?|basal|mid|apical|apex|"
                           + "|".join(WALL6) + r")\b\s*)+$")
"""A clause that only continues a list of sites ("thickened anterior, septal, inferior and
lateral walls" is split at its commas)."""
_SIZE_TOPICS = re.compile(r"\b(?:effusion|lge|scar|area|focus|foci|defect|infarct\w*)\b")


CINE_WORDS = re.compile(
    r"\b(?:lv|rv|biventricular|ventricles|size|sized|volumes?|dimensions?|cavity|dilat\w*|"
    r"enlarge\w*|small|normal|function|systolic|ef|contractil\w*|dysfunction|impair\w*|"
    r"hypertroph\w*|thick\w*|thin\w*|lvh|hypokine\w*|edvi?|mm|preserved|reduced|"
    r"depressed|decreased|poor|good|hyperdynamic|concentric|asymmetric\w*)\b")
"""Words any cine statement needs: a sentence without them skips the cine reading."""
_SIZE_WORD = re.compile(r"\b(?:size|sized|volumes?|dimensions?|cavity)\b")
_WHOLE_NORMAL = re.compile(r"\b(?:is|are|appears?)\s+normal\b|"
                           r"^\s*(?:(?:and|with)\s+)?(?:(?:the|an?)\s+)?normal\s+\w+\s*$|"
                           r"^\s*\w+\s*:\s*normal\s*$")


_NOT_WHOLE = re.compile(r"\b(?:thick\w*|walls?|myocardium|mass|signal|t1|t2|ecv|motion|"
                        r"trabecula\w*)\b")
"""An attribute named: "the LV wall thickness is normal" is not "the LV is normal"."""


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
    """The ventricle's size a clause states; a size word of a lesion ("small focus of LGE",
    "enlarged scar") does not count."""
    def own(m: re.Match[str] | None) -> bool:
        return m is not None and not _SIZE_OF_TOPIC.match(clause[m.end():m.end() + 40])
    dilated = _DILATED.search(clause)
    if own(dilated):
        assert dilated is not None
        return V.SIZE_NORMAL if _negated_near(clause[:dilated.start()]) else V.SIZE_DILATED
    if own(_NORMAL_SIZE.search(clause)):
        return V.SIZE_NORMAL
    if own(_SMALL.search(clause)) and subjects == ("lv",):
        return V.SIZE_SMALL
    return None


_BOTH = re.compile(r"\b(?:lv|rv)\s+(?:and|or|nor)\s+(?:the\s+)?(?:lv|rv)\b")
_NEXT_VENTRICLE = re.compile(r"\b(and|with)\s+(?:the\s+|an?\s+)?(?:(?!(?:lv|rv)\b)\w+\s+)?"
                             r"(?=(?:lv|rv)\b)")
_PREDICATE = re.compile(_DILATED.pattern + "|" + _NORMAL_SIZE.pattern + "|" + _SMALL.pattern
                        + "|" + _REDUCED.pattern + "|" + _NORMAL_FN.pattern)


def _ventricle_parts(s: str, bounds: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Clauses, each split again where "and" / "with" turns to the other ventricle after a
    statement about the first ("the LV is dilated and the RV is impaired"); "LV and RV are
    dilated" stays whole."""
    parts = []
    for start, end in bounds:
        for m in _NEXT_VENTRICLE.finditer(s, start, end):
            head = s[max(start, m.start() - 120):m.start()]
            first = _SUBJECT.search(head)
            joint = m.group(1) == "and" and _SUBJECT.search(head.rstrip()[-3:])   # "LV and RV"
            if first and _PREDICATE.search(head) and s[m.end():m.end() + 2] != first.group(1) \
                    and not joint:
                parts.append((start, m.start()))
                start = m.start()
        parts.append((start, end))
    return parts


def cine_findings(s: str, clauses: Clauses, measured: set[str] | None = None
                  ) -> set[Finding]:
    """LV / RV size and function, per clause and ventricle; stated numbers (EF, indexed
    EDV, a thickness in mm) outrank words in the same sentence. The slots read from a
    number are added to ``measured`` when given (a hedge word does not make them
    uncertain)."""
    words: dict[str, str] = {}
    starts: list[int] = []
    subjects: list[tuple[str, ...]] = []
    first = _SUBJECT.search(s)          # "dilated, thin-walled LV": the first one named
    carried: tuple[str, ...] = _subjects(first.group(1)) if first else ("lv",)
    for start, end in _ventricle_parts(s, clauses.bounds):
        named = [m.group(1) for m in _SUBJECT.finditer(s, start, end)]
        if named:
            carried = ("lv", "rv") if _BOTH.search(s, start, end) else _subjects(named[-1])
        starts.append(start)
        subjects.append(carried)
        clause = s[start:end]
        if _continues_negated_list(s, start, end):
            clause = "no " + clause         # "no LV dilatation, hypertrophy or dysfunction"
        sizey = bool(first) or bool(_SIZE_WORD.search(clause))
        size = _size_value(clause, carried) if sizey and (
            named or not _SIZE_TOPICS.search(clause)) else None
        if size is None and _BARE_SIZE.match(clause) and _LIST_NORMAL.match(
                s, end, min(len(s), end + 120)):
            size = V.SIZE_NORMAL    # "LV size, wall thickness and function are normal"
        function = _function_value(clause) if _FUNCTION_WORD.search(clause) or (
            (named or (_GOES_ON.match(clause) and not _RELATIVE.search(s, max(0, start - 8),
                                                                        start)))
            and not _SIZE_WORD.search(clause)
            and _FUNCTION_PREDICATE.search(clause)) or (
            _BARE_PREDICATE.match(clause) and _SUBJECT.search(s, max(0, start - 40), start)
            and not _RELATIVE.search(s, max(0, start - 8), start)) else None
        if named and size is None and function is None and _WHOLE_NORMAL.search(clause) \
                and not _NOT_WHOLE.search(clause):
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
        then = _EF_THEN.match(s, m.end())
        now = _EF_NOW.search(s, m.end(), m.end() + 80)
        if then is None and re.search(r"\bfrom\s*$", s[m.start():m.start(2)]):
            then = _EF_FROM_TO.match(s, m.end(), min(len(s), m.end() + 80))
        if then:                        # "improved from 28% to 47%": the current value
            values = [float(then.group(1))]
        elif now:                       # "EF was 35% in 2019 and is now 55%"
            values = [float(now.group(1))]
        elif _EF_PRIOR.match(s, m.end()):       # "LVEF 40% previously": no current value
            continue
        elif m.group(3) and re.search(r"\bfrom\s*$", s[m.start():m.start(2)]):
            values = [float(m.group(3))]        # "from 30 to 55%"
        ef = sum(values) / len(values)
        if 0 < ef <= 100:
            for v in (m.group(1),) if m.group(1) else subject_at(m.start()):
                numbers[f"{v}_function"] = V.ef_value_band(ef) if v == "lv" \
                    else V.rv_function_of_ef(ef)
    for m in _EDVI.finditer(s):
        v = m.group(2) or m.group(1) or subject_at(m.start())[0]
        index = float(m.group(4))      # the later of "from 130 to 96 ml/m2"
        numbers[f"{v}_size"] = V.lv_size_of_index(index) if v == "lv" \
            else V.rv_size_of_index(index)
    for m in _EDV_ML.finditer(s):
        slot = f"{m.group(1)}_size"
        if slot not in numbers:
            volume = float(m.group(2))
            numbers[slot] = V.lv_size_of_volume(volume) if m.group(1) == "lv" \
                else V.rv_size_of_volume(volume)
    found = {(slot, value) for slot, value in (words | numbers).items()}
    if measured is not None:
        measured.update(numbers)
    return found | _thickness(s, clauses, measured)


def _turns(s: str, bounds: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Clauses, each split again where "and" / "with" turns to the other ventricle ("RV
    hypertrophy with normal LV wall thickness"); "LV and RV" stays whole."""
    parts = []
    for start, end in bounds:
        for m in _NEXT_VENTRICLE.finditer(s, start, end):
            first = _SUBJECT.search(s, max(start, m.start() - 120), m.start())
            if first and first.group(1) in ("lv", "rv") \
                    and s[m.end():m.end() + 2] != first.group(1) \
                    and not (m.group(1) == "and" and _SUBJECT.search(s[max(start, m.start() - 4):
                                                                       m.start()])):
                parts.append((start, m.start()))
                start = m.start()
        parts.append((start, end))
    return parts


def _thickness(s: str, clauses: Clauses, measured: set[str] | None = None) -> set[Finding]:
    found: set[Finding] = set()
    value = None
    pericardial = "pericardi" in s and not re.search(r"\b(?:lv|wall|septum|myocardi\w*)\b", s)
    thick_clauses = []          # clauses that state a thickening (and their site lists)
    listing = False
    for start, end in _turns(s, clauses.bounds):
        clause = s[start:end]
        if _continues_negated_list(s, start, end):
            clause = "no " + clause
        thick = _THICKENED.search(clause)
        if {m.group(1) for m in _SUBJECT.finditer(clause)} == {"rv"}:
            listing = False         # "though the RV free wall is hypertrophied": not the LV's
            continue
        if listing and _LIST_GOES_ON.match(clause):
            thick_clauses.append(clause)
            continue
        listing = False
        if thick and not pericardial:
            value = V.THICK_NORMAL if _negated_near(clause[:thick.start()]) \
                else V.THICK_THICKENED
            if value == V.THICK_THICKENED:
                thick_clauses.append(clause)
                listing = True
        elif any(float(m.group(1)) >= V.THICKENED_MM for m in _MM.finditer(clause)):
            thick_clauses.append(clause)
            listing = True
        elif _THICK_NORMAL.search(clause) and not pericardial and not _REST.search(clause):
            value = value or V.THICK_NORMAL
        elif (thin := _THINNED.search(clause)) and not _negated_near(clause[:thin.start()]):
            value = value or V.THICK_THINNED        # ("no thinning" states no thickness)
    numbers = [float(m.group(1)) for m in _MM.finditer(s)]
    if numbers and re.search(r"thick|hypertroph|measur|septum|\bwall\b|\bh?cm\b|\bmax(?:imal|"
                             r"imum)?\b", s) and \
            not re.search(r"effusion|pericardi", s):
        value = V.thickness_of_mm(max(numbers))
        if measured is not None:
            measured.add("wall_thickness")
    if value is None:
        return found
    found.add(("wall_thickness", value))
    if value != V.THICK_THICKENED:
        return found
    found |= {("hypertrophy_pattern", p) for pattern, p in _PATTERNS if pattern.search(s)}
    walls: set[str] = set()
    for clause in thick_clauses:    # the walls after "thickened", else those of the clause
        after = clause.split("thickened", 1)[1] if "thickened" in clause else ""
        walls |= _walls(after) or _walls(clause)
    if not walls:           # "Max LV wall thickness (anterior wall, basal) = 22 mm"
        walls_text = s.split("thickened", 1)[1] if "thickened" in s else s
        walls = _walls(walls_text)
    return found | {("thickened_wall", w) for w in walls}


def _walls(text: str) -> set[str]:
    return {f[1] for f in locations(text, "x", four_walls=True) if f[0] == "x_wall"}
