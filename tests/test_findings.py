"""Structured findings to items: applicability, option texts and cross-sequence rules."""

from __future__ import annotations

from dataclasses import replace

from cardiolens.data.findings import (
    ANSWERS,
    CONDITIONS,
    CineFindings,
    EdemaFindings,
    Findings,
    LgeFindings,
    PerfusionFindings,
    build_items,
)
from cardiolens.data.taxonomy import load_taxonomy

ALL_SERIES = ("cine_sax", "cine_4ch", "lge_sax", "t2_sax", "perf_sax")
CINE = CineFindings("Normal", "Normal", None, (), 60.0, (), None, "Normal", "None")
SCAR = LgeFindings((("Basal", "Inferior"), ("Mid", "Inferior")), False, "Focal",
                   ("Subendocardial",), 0.4, False, True)
EDEMA = EdemaFindings((("Mid", "Inferior"),), "Focal", ("Transmural",))
NORMAL = Findings(CINE, None, None, None, "Normal", None)


def _answers(f: Findings, series: tuple[str, ...] = ALL_SERIES) -> dict[str, object]:
    return {i.subtask: i.answer for i in build_items("X", f, series)}


def test_every_taxonomy_rule_has_an_implementation() -> None:
    tax = load_taxonomy()
    assert {s.when for s in tax.subtasks.values()} <= set(CONDITIONS)
    choice = {s.id for s in tax.subtasks.values() if s.answer_type != "report"}
    assert choice == set(ANSWERS)


def test_normal_study_asks_only_unconditional_items() -> None:
    answers = _answers(NORMAL)
    assert answers["lge_presence"] == "No"
    assert answers["cross_lge_t2"] == "Neither"
    assert answers["cross_perf_lge"] == "No perfusion defect"
    assert "lge_walls" not in answers and "diagnosis_nicm_subtype" not in answers


def test_cross_lge_t2_same_and_different_regions() -> None:
    same = replace(NORMAL, lge=SCAR, edema=EDEMA)
    assert _answers(same)["cross_lge_t2"] == "LGE and edema in the same region"
    apart = replace(same, edema=replace(EDEMA, sites=(("Apical", "Anterior"),)))
    assert _answers(apart)["cross_lge_t2"] == "LGE and edema in different regions"
    assert _answers(replace(NORMAL, edema=EDEMA))["cross_lge_t2"] == "Edema without LGE"


def test_cross_perf_lge_matched_larger_and_without() -> None:
    base = replace(NORMAL, lge=SCAR)
    matched = replace(base, perfusion=PerfusionFindings(SCAR.sites, "Subendocardial"))
    assert _answers(matched)["cross_perf_lge"] == "Defect matched by LGE"
    larger = replace(base, perfusion=PerfusionFindings(
        (*SCAR.sites, ("Mid", "Inferolateral")), "Subendocardial"))
    assert _answers(larger)["cross_perf_lge"] == "Defect larger than LGE"
    without = replace(NORMAL, perfusion=PerfusionFindings((("Mid", "Anterior"),), "Transmural"))
    assert _answers(without)["cross_perf_lge"] == "Defect without LGE"


def test_items_need_their_sequences_and_answers_are_option_texts() -> None:
    tax = load_taxonomy()
    f = replace(NORMAL, lge=SCAR, edema=EDEMA, etiology="Ischemic cardiomyopathy")
    cine_only = _answers(f, ("cine_sax",))
    assert not any(key.startswith(("lge_", "t2_", "perf_", "cross_")) for key in cine_only)
    for item in build_items("X", f, ALL_SERIES):
        sub = tax.get(item.subtask)
        values = item.answer if isinstance(item.answer, list) else [item.answer]
        assert set(values) <= set(sub.options), item.subtask
    assert _answers(f)["lge_territories"] == ["RCA"]
    assert _answers(f)["lge_walls"] == ["Inferior"]


def test_a_partial_source_gets_items_only_for_what_it_measured() -> None:
    """Importers list the subtasks their labels answer; build_items asks nothing else, and
    the applicability rules still hold within that list."""
    thick = replace(CINE, wall_thickness="Thickened", thickened_walls=("Septal",))
    measured = frozenset({"cine_wall_thickness", "cine_thickened_walls", "lge_presence",
                          "lge_levels", "diagnosis_etiology"})
    f = Findings(thick, SCAR, None, None, "Ischemic cardiomyopathy", None, measured=measured)
    answers = _answers(f)
    assert answers == {"cine_wall_thickness": "Thickened", "cine_thickened_walls": ["Septal"],
                       "lge_presence": "Yes", "lge_levels": ["Basal segment", "Mid segment"],
                       "diagnosis_etiology": "Ischemic cardiomyopathy"}
    # without the LGE series the LGE items go, even though they were measured
    assert set(_answers(f, ("cine_sax",))) == {"cine_wall_thickness", "cine_thickened_walls",
                                              "diagnosis_etiology"}
