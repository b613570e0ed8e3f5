"""Clinical report score: finding-level agreement between a generated and a reference text.

Both texts go through the CMR finding extractor (:func:`.cmr_findings.read`). Asserted
findings (stated as present, or an explicit negative such as "no late enhancement") are
compared as sets: precision, recall and F1. Uncertain statements ("cannot exclude") are
neither credited nor penalised. Implied findings (a "normal CMR" implies no late
enhancement, normal LV size and function, ...) are credited when the other text states them
and never penalised when it does not.

A contradiction is an exclusive slot (:data:`.cmr_vocabulary.EXCLUSIVE_SLOTS`) both texts
fill, stated or implied, with no compatible value: LGE present against absent, layer, EF
band, LV size, diagnosis, a normal study against any stated abnormality; or a value one text
states and the other negates ("myocarditis" against "myocarditis is unlikely"). This is the
dangerous error, counted overall and per slot group (:data:`.CONTRADICTION_GROUPS`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from cardiolens.scorers.cmr_findings import Extraction, Finding, Reading, read
from cardiolens.scorers.cmr_vocabulary import (
    CONTRADICTION_GROUPS,
    EXCLUSIVE_SLOTS,
    SLOT_GROUP,
    compatible,
)

__all__ = ["CONTRADICTION_GROUPS", "EXCLUSIVE_SLOTS", "ClinicalScores", "asserted",
           "clinical_scores", "compare", "compare_readings"]


def asserted(extraction: Extraction) -> set[Finding]:
    """Findings stated as fact (explicit negatives included), without uncertain ones."""
    return {f for f, polarity in extraction.items()
            if polarity == "present" or (polarity == "absent" and f[1] in ("absent", "none"))}


@dataclass(frozen=True)
class ClinicalScores:
    precision: float
    recall: float
    f1: float
    contradictions: int
    shared_exclusive: int
    contradicted_groups: frozenset[str] = field(default_factory=frozenset)

    @property
    def contradiction_rate(self) -> float:
        return self.contradictions / self.shared_exclusive if self.shared_exclusive else 0.0


def _slots(findings: Iterable[Finding]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for slot, value in findings:
        if slot in EXCLUSIVE_SLOTS:
            out.setdefault(slot, set()).add(value)
    return out


def _contradicted(a: dict[str, set[str]], b: dict[str, set[str]], slot: str) -> bool:
    return not any(compatible(slot, x, y) for x in a[slot] for y in b[slot])


def compare(generated: set[Finding], reference: set[Finding],
            generated_implied: set[Finding] | None = None,
            reference_implied: set[Finding] | None = None,
            generated_negated: set[Finding] | None = None,
            reference_negated: set[Finding] | None = None) -> ClinicalScores:
    """Scores of a generated finding set against a reference finding set."""
    gen_all = generated | (generated_implied or set())
    ref_all = reference | (reference_implied or set())
    counted_gen = generated | ((generated_implied or set()) & ref_all)
    counted_ref = reference | ((reference_implied or set()) & gen_all)
    hits = len(counted_gen & counted_ref)
    if not counted_gen and not counted_ref:
        precision = recall = f1 = 1.0
    else:
        precision = hits / len(counted_gen) if counted_gen else 0.0
        recall = hits / len(counted_ref) if counted_ref else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    gen_slots, ref_slots = _slots(gen_all), _slots(ref_all)
    shared = sorted(s for s in EXCLUSIVE_SLOTS if s in gen_slots and s in ref_slots)
    contradicted = {s for s in shared if _contradicted(gen_slots, ref_slots, s)}
    denied = ((generated_negated or set()) & ref_all) | ((reference_negated or set()) & gen_all)
    denied_slots = {s for s, _ in denied} - contradicted
    contradicted |= denied_slots
    n_shared = len(shared) + len(denied_slots - set(shared))
    groups = frozenset(SLOT_GROUP.get(s, s) for s in contradicted)
    return ClinicalScores(precision, recall, f1, len(contradicted), n_shared, groups)


def compare_readings(generated: Reading, reference: Reading) -> ClinicalScores:
    """Scores of two extractor readings (asserted, implied and negated findings)."""
    return compare(asserted(generated.found), asserted(reference.found),
                   generated.implied, reference.implied, generated.negated, reference.negated)


def clinical_scores(generated: str, reference: str) -> ClinicalScores:
    """Finding-level precision, recall, F1 and contradictions of two report texts."""
    return compare_readings(read(generated), read(reference))
