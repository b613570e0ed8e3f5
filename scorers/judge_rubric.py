"""The CMR report-judge rubric: the prompt an LLM judge gets and how its verdict is read.

The judge compares one generated report section with the reference and counts omissions
(reference findings missing), contradictions (a finding stated the other way: the dangerous
error) and hallucinations (findings the reference does not support), then gives an overall
score from 0 to 10. It answers in one JSON object; anything else is unparsed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

RUBRIC = """You are a cardiac MRI reader grading a report section against the reference.

Section: {section}

Reference (ground truth):
{reference}

Generated:
{generated}

Count, comparing clinical findings only (ignore wording and style):
- omissions: findings in the reference that the generated text does not state;
- contradictions: findings the generated text states differently from the reference (for
  example scar present versus absent, a different wall, layer, EF band or diagnosis);
- hallucinations: findings in the generated text that the reference does not support.
Then give a score from 0 (clinically wrong or empty) to 10 (clinically equivalent).

Reply with one JSON object and nothing else:
{{"omissions": <int>, "contradictions": <int>, "hallucinations": <int>, "score": <0-10>}}"""


@dataclass(frozen=True)
class JudgeVerdict:
    omissions: int
    contradictions: int
    hallucinations: int
    score: float
    """Normalised to 0-1."""


def judge_prompt(section: str, reference: str, generated: str) -> str:
    return RUBRIC.format(section=section, reference=reference.strip(),
                         generated=generated.strip() or "(empty)")


def parse_verdict(text: str) -> JudgeVerdict | None:
    """The verdict in a judge reply (the last JSON object in it), or None."""
    for match in reversed(list(re.finditer(r"\{[^{}]*\}", text or ""))):
        try:
            raw = json.loads(match.group(0))
            counts = [int(raw[k]) for k in ("omissions", "contradictions", "hallucinations")]
            score = float(raw["score"])
        except (ValueError, KeyError, TypeError):
            continue
        if min(counts) < 0 or not 0 <= score <= 10:
            continue
        return JudgeVerdict(counts[0], counts[1], counts[2], score / 10.0)
    return None
