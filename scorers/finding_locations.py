"""Where and how a CMR finding is described: levels, walls, AHA segments (lists and ranges),
layers, distribution, coronary territories and transmurality bands, read from normalised
text (:mod:`cardiolens.scorers.report_text`) into ``(slot, value)`` findings."""

from __future__ import annotations

import re
from collections.abc import Mapping

from cardiolens.scorers import cmr_vocabulary as V

Finding = tuple[str, str]


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
                   r"(?!\s+(?:rv\s+)?(?:insertion|papillary|descending|hinge|junction|"
                   r"(?:rv\s*/?\s*lv|lv\s*/?\s*rv)\s+junction))")
BASAL, MID, APICAL, APEX = V.LEVEL_NAMES
_LEVEL = re.compile(r"\b(basal|base|mid|apical|apically|apex)\b")
_LEVELS = {"basal": BASAL, "base": BASAL, "mid": MID, "apical": APICAL, "apically": APICAL,
           "apex": APEX}
_ALL = re.compile(r"\ball (?:(\w+) )?(?:segments|walls)\b(?![^.;]{0,60}?\b(?:except|apart from|"
                  r"other than|save for|with the exception)\b)|\bcircumferential(?:ly)?\b")
"""Every wall, not when followed by an exception ("all segments contract normally except
the apical inferior segment": only the exception is a site)."""
_BASE_TO_APEX = re.compile(r"\b(?:basal|base)\s+(?:\w+\s+){0,2}?(?:to|through|into|towards)\s+"
                          r"(?:the\s+)?(?:apical|apex)\b")
"""A lesion that runs from base to apex passes the mid level."""
_SEG_LIST = re.compile(r"\bsegments?\s*:?\s*(\d{1,2}(?:\s*(?:-|to)\s*\d{1,2})?"
                       r"(?:\s*(?:,|and|&|\+|or)\s*\d{1,2}(?:\s*(?:-|to)\s*\d{1,2})?)*)")
_SEG_ITEM = re.compile(r"(\d{1,2})(?:\s*(?:-|to)\s*(\d{1,2}))?")


def segment_sites(segment: int) -> list[tuple[str, str]]:
    """(level, 6-wall) sites of an AHA segment; the apex has no wall."""
    if 1 <= segment <= 12:
        return [(BASAL if segment <= 6 else MID, V.WALL6_NAMES[(segment - 1) % 6])]
    apical = {13: ("anterior",), 14: WALL6["septal"], 15: ("inferior",),
              16: WALL6["lateral"]}
    if segment in apical:
        return [(APICAL, wall) for wall in apical[segment]]
    return [(APEX, "")] if segment == 17 else []


LAYER_WORDS = {"subendocardial": V.LAYER_SUBENDO, "subendocardium": V.LAYER_SUBENDO,
               "midwall": V.LAYER_MIDWALL, "subepicardial": V.LAYER_SUBEPI,
               "subepicardium": V.LAYER_SUBEPI, "epicardial": V.LAYER_SUBEPI,
               "transmural": V.LAYER_TRANSMURAL,
               "endocardial": V.LAYER_SUBENDO}     # "the endocardial third"
_LAYER = re.compile(r"\b(" + "|".join(LAYER_WORDS) + r")\b")
DISTRIBUTION_WORDS = {"focal": V.DIST_FOCAL, "patchy": V.DIST_PATCHY,
                      "multifocal": V.DIST_PATCHY, "scattered": V.DIST_PATCHY,
                      "multiple": V.DIST_PATCHY, "foci": V.DIST_PATCHY,
                      "several": V.DIST_PATCHY, "diffuse": V.DIST_DIFFUSE,
                      "diffusely": V.DIST_DIFFUSE, "global": V.DIST_DIFFUSE,
                      "widespread": V.DIST_DIFFUSE}
_DISTRIBUTION = re.compile(r"\b(" + "|".join(DISTRIBUTION_WORDS) + r")\b")
_TERRITORY = re.compile(r"\b(lad|anterior descending|lcx|cx|rca)\b")
_TERRITORIES = dict(zip(("lad", "lcx", "rca"), V.TERRITORY_NAMES, strict=True)) | {
    "anterior descending": V.TERRITORY_NAMES[0], "cx": V.TERRITORY_NAMES[1]}


def locations(text: str, prefix: str, four_walls: bool) -> set[Finding]:
    """Levels and walls named in ``text``: words, "all segments", AHA segment lists."""
    out: set[Finding] = set()
    every = _ALL.search(text)
    if every:
        level = _LEVELS.get(every.group(1) or "")     # "all basal segments": that level only
        named = _LEVEL.search(text)     # "of the basal and mid LV, involving all walls": those
        levels = (level,) if level else () if named else (BASAL, MID, APICAL)
        out |= {(f"{prefix}_level", lv) for lv in levels}
        out |= {(f"{prefix}_wall", WALL4[w] if four_walls else w) for w in V.WALL6_NAMES}
    out |= {(f"{prefix}_level", _LEVELS[m.group(1)]) for m in _LEVEL.finditer(text)}
    if _BASE_TO_APEX.search(text):      # "from the basal to the apical septum": the mid too
        out.add((f"{prefix}_level", MID))
    for m in _WALL.finditer(text):
        out |= {(f"{prefix}_wall", WALL4[w] if four_walls else w) for w in WALL6[m.group(1)]}
    for m in _SEG_LIST.finditer(text):
        for item in _SEG_ITEM.finditer(m.group(1)):
            lo = int(item.group(1))
            hi = min(int(item.group(2) or lo), 17)
            for segment in range(lo, hi + 1):
                for level, wall in segment_sites(segment):
                    out.add((f"{prefix}_level", level))
                    if wall:
                        out.add((f"{prefix}_wall", WALL4[wall] if four_walls else wall))
    return out


def layers(text: str, prefix: str) -> set[Finding]:
    out = set()
    for m in _LAYER.finditer(text):
        if m.group(1) == "transmural" and (text[m.end():m.end() + 4] in ("ity", "ity ")
                                           or text[m.end():m.end() + 7] == " extent"
                                           or "%" in text[max(0, m.start() - 3):m.start()]):
            continue            # "transmurality", "transmural extent", "<25% transmural"
        out.add((f"{prefix}_layer", LAYER_WORDS[m.group(1)]))
    return out


def distributions(text: str, slot: str) -> set[Finding]:
    """Distribution words ("patchy", "diffuse", ...) as ``slot`` findings."""
    return vocab_findings(text, slot, _DISTRIBUTION, DISTRIBUTION_WORDS)


def territories(text: str, slot: str) -> set[Finding]:
    """Coronary territories named ("LAD", "circumflex", ...) as ``slot`` findings."""
    return vocab_findings(text, slot, _TERRITORY, _TERRITORIES)


def vocab_findings(text: str, slot: str, pattern: re.Pattern[str], words: Mapping[str, str]
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


# One percentage of the wall ("transmurality about 20%", "40% of wall thickness")
_TRANSMURAL_PERCENT = re.compile(
    r"\b(?:transmurality|transmural extent|extent)\b[^0-9%;]{0,25}?(\d{1,3})\s*%|"
    r"\b(\d{1,3})\s*%\s*(?:of\s+(?:the\s+)?(?:lv\s+)?(?:wall|myocardial)\s+thickness|"
    r"of\s+(?:the\s+)?(?:lv\s+)?(?:wall|myocardium)\b|"
    r"transmural(?:ity)?\b|wall thickness)")


def transmurality(sentence: str) -> str | None:
    if not re.search(r"transmural|\bextent\b|\bthickness\b|%\s*of\s+(?:the\s+)?(?:lv\s+)?"
                     r"(?:wall|myocardium)\b", sentence):
        return None
    band = next((band for pattern, band in _TRANSMURALITY if pattern.search(sentence)), None)
    if band is not None:
        return band
    m = _TRANSMURAL_PERCENT.search(sentence)
    if m is None:
        return None
    at = m.start(1) if m.group(1) else m.start(2)
    if re.search(r"(?:<|>|less than|more than|greater than|under|over|up to|below|above)\s*=?\s*$",
                 sentence[max(0, at - 15):at]):
        return None             # "less than 50% of the wall": not a band
    percent = int(m.group(1) or m.group(2))
    return None if percent > 100 else V.TRANS_25 if percent <= 25 else V.TRANS_50 \
        if percent <= 50 else V.TRANS_75 if percent <= 75 else V.TRANS_100
