"""Report text normalisation, sentences and clauses for the CMR finding extractor.

``normalise`` lower-cases and folds spelling variants into one form: British to American
(oedema, ischaemic, dilatation, hypokinesia), hyphenation ("infero-lateral",
"sub-endocardial", "non-ischaemic", "mid-wall"), and common phrases to short tokens
("left ventricular" -> "lv", "late gadolinium enhancement" -> "lge", "ejection fraction" ->
"ef"), abbreviations ("PDE" / "DE" -> "lge", "MI" / "STEMI" -> "infarction"), lengths in cm to
mm, "anteroapical" to "apical anterior" and the "apical cap" to the apex. Every rule is a
regular expression without nested repetition, so normalising is linear in the text length.
"""

from __future__ import annotations

import re
from bisect import bisect_right

_CHARS = str.maketrans({"²": "2", "–": "-", "—": "-", "‐": "-", "−": "-", "\u00a0": " ",
                        "’": "'", "≥": ">", "≤": "<"})

# Applied in order; each is (pattern, replacement).
_RULES: tuple[tuple[str, str], ...] = (
    (r"oedema", "edema"), (r"ischaem", "ischem"), (r"haem", "hem"), (r"aemia", "emia"),
    (r"dilatation", "dilation"), (r"(hypo|a|dys)kinesia\b", r"\1kinesis"),
    (r"favour", "favor"), (r"artefact", "artifact"), (r"isation", "ization"),
    (r"\baetiolog", "etiolog"),
    (r"\bcentre", "center"), (r"\s*\b(?:per ?cent|pct)\b", "%"),
    # hyphenation and spacing of compound words
    (r"\b(infero|antero)[- ](lateral|septal|septum|apical)", r"\1\2"),
    (r"\b(infer|anter)ior (septal|septum)\b", r"\1o\2"),      # "inferior septum"
    (r"\bash\b", "asymmetric septal hypertrophy"),
    # a fraction of the wall as a percentage ("one-third of the wall thickness")
    (r"\b(?:one|a)[- ]quarter of (?=(?:the )?(?:lv )?(?:wall|myocard))", "25% of "),
    (r"\b(?:one|a)[- ]third of (?=(?:the )?(?:lv )?(?:wall|myocard))", "33% of "),
    (r"\b(?:one[- ]|a )?half (?:of )?(?=(?:the )?(?:lv )?(?:wall|myocard))", "50% of "),
    (r"\btwo[- ]thirds of (?=(?:the )?(?:lv )?(?:wall|myocard))", "67% of "),
    (r"\bthree[- ]quarters of (?=(?:the )?(?:lv )?(?:wall|myocard))", "75% of "),
    (r"\b(?:the\s+)?myocardium\s+(?:itself\s+)?(?:is|was|appears)\s+(?:otherwise\s+)?spared\b",
     "no myocardial lge"),                      # "pericardial LGE; the myocardium is spared"
    (r"\banteroapical\b", "apical anterior"), (r"\binferoapical\b", "apical inferior"),
    (r"\bapical cap\b", "apex"),
    (r"\bsub[- ](endocardial|epicardial|endocardium|epicardium)", r"sub\1"),
    (r"\bmid[- ]?(?:wall|myocardial|myocardium)\b", "midwall"),
    (r"\bintra[- ]?myocardial\b", "midwall"), (r"\bfull[- ]thickness\b", "transmural"),
    (r"\bmid[- ](ventricular|cavity|cavitary)\b", "mid"),
    (r"\bnon[- ]?", "non"), (r"\bpost[- ]", "post"),
    (r"\bend[- ]diastol", "end diastol"), (r"\bend[- ]systol", "end systol"),
    (r"\bt2[- ]?weighted\b", "t2w"), (r"\bt2[- ]stir\b", "stir"),
    (r"\binterventricular septum\b", "septum"), (r"\bseptal wall\b", "septum"),
    # short tokens
    (r"\bleft ventric(?:le|ular)\b", "lv"), (r"\bright ventric(?:le|ular)\b", "rv"),
    (r"\bleft( (?:and|or|nor) (?:the )?)rv\b", r"lv\1rv"),     # "left and right ventricular"
    (r"\bsubendocardium\b", "subendocardial"), (r"\bsubepicardium\b", "subepicardial"),
    (r"\blv(ef|edvi?|esvi?)\b", r"lv \1"), (r"\brv(ef|edvi?|esvi?)\b", r"rv \1"),
    (r"\bejection fraction\b", "ef"),
    (r"\bend diastolic volume(?: index(?:ed)?| indexed)?\b", "edv"),
    (r"\bedv ?i\b", "edvi"),
    (r"\b(?:late|delayed) (?:gadolinium )?enhancement\b", "lge"),
    (r"\blate gadolinium\b", "lge"),
    # abbreviations: (post-contrast) delayed enhancement, myocardial infarction
    (r"\blge \((?:p?de|lge)\)", "lge"), (r"\bp?de\b(?![- ]novo)", "lge"),
    (r"\b(?:myocardial infarction|n?stemi|mi)\b", "infarction"),
    (r"\bcardiac (?:magnetic resonance(?: imaging)?|mri?)\b", "cmr"),
    (r"\bleft anterior descending(?: artery| coronary artery)?\b", "lad"),
    (r"\b(?:left )?circumflex(?: artery| coronary artery)?\b", "lcx"),
    (r"\bright coronary(?: artery)?\b", "rca"),
    (r"\bregional wall motion abnormalit(?:y|ies)\b", "rwma"),
    (r"\bwall motion abnormalit(?:y|ies)\b", "rwma"),
    (r"(?<=[a-z])-(?=[a-z])", " "),
    (r"[ \t]+", " "),
)
_COMPILED = tuple((re.compile(p), r) for p, r in _RULES)
_CM = re.compile(r"\b(\d{1,2}(?:\.\d+)?)\s*cm\b(?!\s*(?:/|2|3|\^))")


def _cm_to_mm(match: re.Match[str]) -> str:
    """"1.8 cm" -> "18 mm" (lengths only: not cm2, cm/s)."""
    return f"{float(match.group(1)) * 10:g} mm"

_SENTENCE = re.compile(r"(?<=[.;!?])(?<!\bapprox\.)(?<!\bca\.)(?<!\bvs\.)(?<!\bincl\.)"
                       r"(?<!\bmax\.)(?<!\be\.g\.)(?<!\bi\.e\.)\s+|\n+")
"""Sentence ends; not after an abbreviation ("approx. 18%", "vs. artefact")."""
# A field of a structured line ("LGE: present; layer: subendocardial; segments 5, 6") stays
# in the sentence of its heading.
_HEADED = re.compile(r"(?:lge|scar|edema|t2|stir|perfusion|wall motion|rwma)\b[^:;]{0,30}:")
_FIELD = re.compile(r"(?:pattern|layer|location|segments?|transmurality|transmural extent|"
                    r"extent|distribution|territory|walls?|levels?|depth|severity)\b")
_UNITS = {w: i for i, w in enumerate(("one", "two", "three", "four", "five", "six", "seven",
                                      "eight", "nine"), 1)}
_TENS = {w: 10 * i for i, w in enumerate(("twenty", "thirty", "forty", "fifty", "sixty",
                                          "seventy", "eighty", "ninety"), 2)}
_TEENS = {w: i for i, w in enumerate(("ten", "eleven", "twelve", "thirteen", "fourteen",
                                      "fifteen", "sixteen", "seventeen", "eighteen",
                                      "nineteen"), 10)}
_NUMBER_WORDS = re.compile(r"\b(?:(" + "|".join(_TENS) + r")(?:[- ](" + "|".join(_UNITS)
                           + r"))?|(" + "|".join(_TEENS) + r"))\b")


def _number(match: re.Match[str]) -> str:
    """"forty-four" -> "44" (tens with their units, and ten to nineteen)."""
    if match.group(3):
        return str(_TEENS[match.group(3)])
    return str(_TENS[match.group(1)] + _UNITS.get(match.group(2) or "", 0))

_CLAUSE = re.compile(r"[,;()]|\b(?:but|however|although|though|whereas|while|except|"
                     r"apart from|other than|save for|which)\b")


def normalise(text: str) -> str:
    """Lower-case text with spelling, hyphenation and common phrases folded (see module)."""
    out = _NUMBER_WORDS.sub(_number, text.translate(_CHARS).lower())
    out = _CM.sub(_cm_to_mm, out)
    for pattern, replacement in _COMPILED:
        out = pattern.sub(replacement, out)
    return out


def sentences(text: str) -> list[str]:
    """Normalised sentences (split at . ; ! ? and line breaks)."""
    out: list[list[str]] = []       # a sentence and the fields joined to it
    for s in _SENTENCE.split(normalise(text)):
        s = s.strip(" .")
        if out and _FIELD.match(s) and _HEADED.match(out[-1][0]) and out[-1][-1].endswith(";"):
            out[-1].append(s)
        elif s:
            out.append([s])
    return [" ".join(parts) for parts in out]


class Clauses:
    """The clauses of a sentence (split at , ; ( ) and at conjunctions such as "but",
    "although", "whereas", and exceptions: "except", "apart from", "other than"), looked up
    by character position."""

    def __init__(self, sentence: str) -> None:
        self.bounds: list[tuple[int, int]] = []
        start = 0
        for match in _CLAUSE.finditer(sentence):
            self.bounds.append((start, match.start()))
            start = match.end()
        self.bounds.append((start, len(sentence)))
        self._starts = [b[0] for b in self.bounds]

    def at(self, position: int) -> tuple[int, int]:
        """Start and end of the clause holding a position."""
        return self.bounds[max(bisect_right(self._starts, position) - 1, 0)]
