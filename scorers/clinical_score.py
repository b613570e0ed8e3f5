"""Clinical report score: finding-level agreement between a generated and a reference text.

Both texts go through the CMR finding extractor. Asserted findings (stated as present, or
an explicit negative such as "no late enhancement") are compared as sets: precision,
recall and F1. Uncertain statements ("cannot exclude") are neither credited nor penalised.
A contradiction is a slot both texts state with different values where only one can hold
(LGE present vs absent, LV size dilated vs normal, the diagnosis, ...): the dangerous
error, reported separately as the share of shared exclusive slots that disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from cardiolens.scorers.cmr_findings import Extraction, Finding, extract

EXCLUSIVE_SLOTS = frozenset({
    "lge", "edema", "perfusion_defect", "rwma", "lv_size", "wall_thickness", "lv_function",
    "rv", "effusion", "lge_pattern", "lge_transmurality", "defect_depth", "diagnosis",
    "hypertrophy_pattern", "lge_distribution", "edema_distribution", "rwma_severity",
})


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

    @property
    def contradiction_rate(self) -> float:
        return self.contradictions / self.shared_exclusive if self.shared_exclusive else 0.0


def compare(generated: set[Finding], reference: set[Finding]) -> ClinicalScores:
    """Scores of a generated finding set against a reference finding set."""
    hits = len(generated & reference)
    if not generated and not reference:
        precision = recall = f1 = 1.0
    else:
        precision = hits / len(generated) if generated else 0.0
        recall = hits / len(reference) if reference else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    gen_slots: dict[str, set[str]] = {}
    ref_slots: dict[str, set[str]] = {}
    for slot, value in generated:
        gen_slots.setdefault(slot, set()).add(value)
    for slot, value in reference:
        ref_slots.setdefault(slot, set()).add(value)
    shared = [s for s in EXCLUSIVE_SLOTS if s in gen_slots and s in ref_slots]
    contradictions = sum(1 for s in shared if not gen_slots[s] & ref_slots[s])
    return ClinicalScores(precision, recall, f1, contradictions, len(shared))


def clinical_scores(generated: str, reference: str) -> ClinicalScores:
    """Finding-level precision, recall, F1 and contradictions of two report texts."""
    return compare(asserted(extract(generated)), asserted(extract(reference)))
