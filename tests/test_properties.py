"""Property-based tests (hypothesis) of the answer parser and the CMR finding extractor.

Bounded and deterministic: every test runs a fixed number of derandomized examples, so a
failure reproduces on every machine and the file runs in seconds.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cardiolens.data.anatomy import LEVELS, WALLS4, WALLS6, Site
from cardiolens.data.findings import (
    DISTRIBUTIONS,
    EF_BANDS,
    LAYERS,
    CineFindings,
    EdemaFindings,
    Findings,
    LgeFindings,
    PerfusionFindings,
)
from cardiolens.data.taxonomy import load_taxonomy
from cardiolens.phantom.reports import write_reports
from cardiolens.scorers.clinical_score import asserted, clinical_scores
from cardiolens.scorers.cmr_findings import extract, facts_from_structured
from cardiolens.scorers.item_scoring import choice_record, report_scores
from cardiolens.scorers.parsing import LETTERS, format_letters, parse_choice

PROPS = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                 suppress_health_check=[HealthCheck.too_slow])
FEW = settings(PROPS, max_examples=60)
EF_OPTIONS = EF_BANDS

TAXONOMY = load_taxonomy()
OPTION_SETS: list[tuple[str, tuple[str, ...]]] = sorted(
    {(s.answer_type, s.options) for s in TAXONOMY.subtasks.values() if s.options})

# ------------------------------------------------------------------------ strategies: text

# Arbitrary unicode (control characters, surrogates excluded by hypothesis, combining marks,
# right-to-left text), plus words the parser and extractor look for, so examples reach deep.
KEYWORDS = ["Answer:", "answer is", "Final answer:", "**Answer:**", "not", "no", "without",
            "A", "B", "C", "a", "I", "and", "or", "/", ",", "(", ")", ".", "\n", "but",
            "I cannot", "I'm sorry", "as an AI", "Normal", "dilated", "LGE", "scar",
            "late enhancement", "edema", "no evidence of", "possible", "segments 1-17",
            "basal", "apex", "inferior", "septal", "EF 35%", "ejection fraction", "LV", "RV",
            "right ventricle", "pericardial effusion", "hypokinesis", "perfusion defect",
            "transmural extent", "more than 75%", "pattern", "ischemic", "non-ischemic",
            "all segments", "\x00", "\u200b", "\u00a0", "\ufeff", "é", "λ", "中文", "🫀"]
any_text = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(st.sampled_from(KEYWORDS), st.text(max_size=8)), max_size=40)
    .map(" ".join),
    st.lists(st.sampled_from(KEYWORDS), max_size=40).map("".join),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
)
option_sets = st.one_of(
    st.sampled_from(OPTION_SETS).map(lambda t: list(t[1])),
    st.lists(st.text(max_size=20), min_size=0, max_size=30),     # odd options, even > 26
)


def _check_choice(parsed: Any, n_options: int, multi: bool) -> None:
    assert isinstance(parsed.indices, tuple)
    assert list(parsed.indices) == sorted(set(parsed.indices))
    assert all(0 <= i < min(n_options, len(LETTERS)) for i in parsed.indices)
    assert parsed.parsed == bool(parsed.indices)
    assert not (parsed.parsed and parsed.refused)
    if not multi:
        assert len(parsed.indices) <= 1


# ------------------------------------------------------------------------- answer parser


@PROPS
@given(text=any_text, options=option_sets, multi=st.booleans())
def test_parser_never_raises_and_picks_only_offered_options(text: str, options: list[str],
                                                            multi: bool) -> None:
    parsed = parse_choice(text, options, multi)
    _check_choice(parsed, len(options), multi)
    assert parse_choice(text, options, multi) == parsed            # deterministic


@pytest.mark.parametrize("chunk", ["normal", "Normal (EF >= 50%)", "A,", "a b", "I'm sorry.",
                                   "i cannot", "not dilated", "Answer: B", "LGE basal scar.",
                                   "no LGE apart from", "LV and RV and", "EF 30% now 40%"])
def test_huge_replies_are_read_in_linear_time(chunk: str) -> None:
    """A runaway reply (a model repeating itself to its token limit) scores in seconds."""
    text = (chunk + " ") * (200_000 // (len(chunk) + 1))
    started = time.perf_counter()
    for options, multi in ((list(EF_OPTIONS), False), (list(WALLS6), True)):
        _check_choice(parse_choice(text, options, multi), len(options), multi)
    extract(text)
    assert time.perf_counter() - started < 10.0     # quadratic code took minutes here


def _letter_formats(letters: list[str]) -> list[str]:
    comma = ", ".join(letters)
    out = [comma, f"Answer: {comma}", f"Final answer: {comma}", f"**Answer:** {comma}",
           f"answer: {comma.lower()}", f"Answer:\n\n{comma}", f"The answer is {comma}.",
           f"Reasoning first.\nAnswer: {comma}"]
    if len(letters) > 1:
        out += [", ".join(letters[:-1]) + " and " + letters[-1], "/".join(letters),
                " ".join(f"({c})" for c in letters), "/".join(letters).lower()]
    else:
        out += [f"({letters[0]})", f"{letters[0]}.", f"**{letters[0]}**", letters[0].lower(),
                f"[{letters[0]}]", f"option {letters[0].lower()}"]
    return out


@st.composite
def option_choices(draw: st.DrawFn) -> tuple[tuple[str, ...], bool, tuple[int, ...]]:
    """An option set, whether it is multi-label, and a valid sorted choice of indices."""
    answer_type, options = draw(st.sampled_from(OPTION_SETS))
    multi = answer_type == "multi"
    n = len(options)
    if multi:
        chosen = tuple(sorted(draw(st.sets(st.integers(0, n - 1), min_size=1, max_size=n))))
    else:
        chosen = (draw(st.integers(0, n - 1)),)
    return tuple(options), multi, chosen


@st.composite
def letter_answers(draw: st.DrawFn) -> tuple[list[str], bool, tuple[int, ...], str]:
    options, multi, chosen = draw(option_choices())
    letters = [LETTERS[i] for i in chosen]
    if multi and draw(st.booleans()):
        letters = draw(st.permutations(letters))             # order in the reply is free
    reply = draw(st.sampled_from(_letter_formats(letters)))
    pad = draw(st.sampled_from(["", " ", "\n", "  \n\t", "\u00a0"]))
    return list(options), multi, chosen, pad + reply + pad


@PROPS
@given(case=letter_answers())
def test_a_reply_that_is_a_letter_set_parses_to_that_set(
        case: tuple[list[str], bool, tuple[int, ...], str]) -> None:
    options, multi, chosen, reply = case
    parsed = parse_choice(reply, options, multi)
    assert (parsed.indices, parsed.parsed, parsed.refused) == (chosen, True, False), reply


@st.composite
def text_answers(draw: st.DrawFn) -> tuple[list[str], bool, tuple[int, ...], str]:
    options, multi, chosen = draw(option_choices())
    names = [options[i] for i in draw(st.permutations(chosen))]
    case = draw(st.sampled_from(["as is", "lower", "upper"]))
    style = draw(st.sampled_from(["plain", "answer", "lettered"]))
    if style == "lettered":
        body = ", ".join(f"{LETTERS[options.index(t)]}) {t}" for t in names)
    else:
        body = ", ".join(t.lower() if case == "lower" else t.upper() if case == "upper" else t
                         for t in names)
    return list(options), multi, chosen, f"Answer: {body}" if style == "answer" else body


@PROPS
@given(case=text_answers())
def test_a_reply_naming_option_texts_parses_to_those_options(
        case: tuple[list[str], bool, tuple[int, ...], str]) -> None:
    options, multi, chosen, reply = case
    parsed = parse_choice(reply, options, multi)
    assert (parsed.indices, parsed.parsed) == (chosen, True), reply


@PROPS
@given(case=letter_answers(), before=st.sampled_from(["", " ", "\n\n", "   \t"]),
       after=st.sampled_from(["", " ", "\n", "\r\n", " \n "]))
def test_letter_case_and_surrounding_whitespace_do_not_matter_in_answer_lines(
        case: tuple[list[str], bool, tuple[int, ...], str], before: str, after: str) -> None:
    options, multi, chosen, _ = case
    letters = format_letters(chosen)
    expected = parse_choice(f"Answer: {letters}", options, multi)
    assert expected.indices == chosen
    for variant in (f"answer: {letters.lower()}", f"ANSWER:   {letters}",
                    f"{before}Answer: {letters}{after}"):
        assert parse_choice(variant, options, multi) == expected, variant


@PROPS
@given(text=any_text, options=st.sampled_from(OPTION_SETS),
       truth_pick=st.lists(st.integers(0, 10), max_size=4))
def test_choice_record_scores_stay_in_range(text: str, options: tuple[str, tuple[str, ...]],
                                            truth_pick: list[int]) -> None:
    answer_type, opts = options
    truth = sorted({opts[i % len(opts)] for i in truth_pick}) or [opts[0]]
    if answer_type == "single":
        truth = truth[:1]
    record = choice_record(text, opts, answer_type, truth)
    for key in ("precision", "recall", "f1"):
        assert 0.0 <= record[key] <= 1.0
    assert record["exact"] in (True, False, 0, 1, 0.0, 1.0)
    assert set(record["predicted"]) <= set(opts)
    assert record["letters"] == format_letters(opts.index(p) for p in record["predicted"])
    if not record["parsed"]:
        assert record["predicted"] == [] and record["f1"] == 0.0 and not record["exact"]
    if record["exact"]:
        assert sorted(record["predicted"]) == sorted(truth) and record["f1"] == 1.0
    assert choice_record(text, opts, answer_type, truth) == record


# ------------------------------------------------------------------- finding extractor

ALL_SITES: list[Site] = [(lv, w) for lv in LEVELS[:3] for w in WALLS6] + [("Apex", "")]


def _sites(min_size: int = 1) -> st.SearchStrategy[tuple[Site, ...]]:
    return st.sets(st.sampled_from(ALL_SITES), min_size=min_size, max_size=8).map(
        lambda chosen: tuple(s for s in ALL_SITES if s in chosen))


def _subset(values: tuple[str, ...]) -> st.SearchStrategy[tuple[str, ...]]:
    return st.sets(st.sampled_from(values), min_size=1).map(
        lambda chosen: tuple(v for v in values if v in chosen))


@st.composite
def cine_findings(draw: st.DrawFn) -> CineFindings:
    thickness = draw(st.sampled_from(("Normal", "Thinned", "Thickened")))
    thick = thickness == "Thickened"
    rwma = draw(st.one_of(st.just(()), _sites()))
    return CineFindings(
        lv_size=draw(st.sampled_from(("Normal", "Dilated", "Small"))),
        wall_thickness=thickness,
        hypertrophy_pattern=draw(st.sampled_from(("Concentric", "Asymmetric septal", "Apical",
                                                  "Other focal"))) if thick else None,
        thickened_walls=draw(_subset(WALLS4)) if thick else (),
        # one decimal, as stored in the dataset's findings records
        ef_percent=draw(st.integers(50, 800)) / 10,
        rwma_sites=rwma,
        rwma_severity=draw(st.sampled_from(("Hypokinetic", "Akinetic", "Dyskinetic")))
        if rwma else None,
        rv_status=draw(st.sampled_from(("Normal", "Dilated", "Reduced function",
                                        "Dilated with reduced function"))),
        effusion=draw(st.sampled_from(("None", "Small", "Moderate or large"))),
    )


@st.composite
def findings(draw: st.DrawFn) -> Findings:
    lge = draw(st.none() | st.builds(
        LgeFindings, sites=_sites(), papillary=st.booleans(),
        distribution=st.sampled_from(DISTRIBUTIONS), layers=_subset(LAYERS),
        transmural_extent=st.integers(1, 100).map(lambda p: p / 100),
        rv_insertion=st.booleans(), ischemic=st.booleans()))
    edema = draw(st.none() | st.builds(EdemaFindings, sites=_sites(),
                                       distribution=st.sampled_from(DISTRIBUTIONS),
                                       layers=_subset(LAYERS)))
    perfusion = draw(st.none() | st.builds(
        PerfusionFindings, sites=_sites(), depth=st.sampled_from(("Subendocardial",
                                                                  "Transmural"))))
    etiology = draw(st.sampled_from(("Normal", "Ischemic cardiomyopathy",
                                     "Non-ischemic cardiomyopathy")))
    subtype = draw(st.sampled_from(("Hypertrophic cardiomyopathy", "Dilated cardiomyopathy",
                                    "Myocarditis", "Cardiac amyloidosis", "Cardiac sarcoidosis",
                                    "Other non-ischemic"))) \
        if etiology == "Non-ischemic cardiomyopathy" else None
    return Findings(draw(cine_findings()), lge, edema, perfusion, etiology, subtype)


SECTIONS = {"report_cine": "cine", "report_lge": "lge", "report_t2": "t2",
            "report_perfusion": "perfusion", "report_impression": "impression"}


def _reports(f: Findings, seed: int) -> dict[str, str]:
    return write_reports(f, np.random.default_rng(seed))


def _split_sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=\.)\s+", text.strip()) if s]


@PROPS
@given(text=any_text)
def test_extractor_never_raises_and_polarities_are_known(text: str) -> None:
    got = extract(text)
    assert all(isinstance(k, tuple) and len(k) == 2 for k in got)
    assert set(got.values()) <= {"present", "absent", "uncertain"}
    assert extract(text) == got


@PROPS
@given(f=findings(), seed=st.integers(0, 2**32 - 1))
def test_extractor_recovers_the_findings_a_reference_report_was_written_from(
        f: Findings, seed: int) -> None:
    for subtask, text in _reports(f, seed).items():
        section = SECTIONS[subtask]
        assert asserted(extract(text)) == facts_from_structured(section, f.section(section)), \
            text


@PROPS
@given(f=findings(), seed=st.integers(0, 2**32 - 1), data=st.data())
def test_sentence_order_does_not_change_the_findings(f: Findings, seed: int,
                                                     data: st.DataObject) -> None:
    report = " ".join(_reports(f, seed).values())
    sentences = _split_sentences(report)
    shuffled = data.draw(st.permutations(sentences))
    assert extract(" ".join(shuffled)) == extract(report)


@PROPS
@given(text=any_text)
def test_a_report_scored_against_itself_is_perfect(text: str) -> None:
    scores = clinical_scores(text, text)
    assert (scores.f1, scores.contradictions, scores.contradiction_rate) == (1.0, 0, 0.0)


@FEW
@given(f=findings(), seed=st.integers(0, 2**32 - 1))
def test_a_reference_report_scored_against_itself_is_perfect(f: Findings, seed: int) -> None:
    for text in _reports(f, seed).values():
        scores = report_scores(text, text)
        assert scores["clinical_f1"] == 1.0 and scores["contradiction_rate"] == 0.0
        assert scores["rouge_l"] == 1.0


@PROPS
@given(a=any_text, b=any_text)
def test_clinical_scores_stay_in_range_for_any_pair(a: str, b: str) -> None:
    s = clinical_scores(a, b)
    assert all(0.0 <= v <= 1.0 for v in (s.precision, s.recall, s.f1, s.contradiction_rate))
    assert 0 <= s.contradictions <= s.shared_exclusive


# --------------------------------------------------------- negation of positive statements

def _where(sites: tuple[Site, ...]) -> str:
    levels = sorted({lv.lower() for lv, w in sites if w}) or ["apical"]
    walls = sorted({w.lower() for _, w in sites if w}) or ["inferior"]
    return f"the {' and '.join(levels)} {' and '.join(walls)} wall"


# (slot, noun phrases naming a positive finding of that slot)
POSITIVE: dict[str, tuple[str, ...]] = {
    "lge": ("late gadolinium enhancement", "late enhancement", "LGE", "myocardial scar",
            "subendocardial LGE", "patchy mid-wall fibrosis", "delayed enhancement"),
    "edema": ("myocardial edema", "edema", "myocardial oedema", "subepicardial edema"),
    "perfusion_defect": ("perfusion defect", "subendocardial perfusion defect",
                         "hypoperfusion"),
    "rwma": ("regional wall motion abnormality", "hypokinesis", "akinesis"),
}
NEGATED: tuple[Callable[[str, str], str], ...] = (
    lambda noun, where: f"No {noun}.",
    lambda noun, where: f"There is no {noun} in {where}.",
    lambda noun, where: f"No evidence of {noun} in {where}.",
    lambda noun, where: f"Without {noun}.",
    lambda noun, where: f"Negative for {noun}.",
    lambda noun, where: f"The study is free of {noun}.",
    lambda noun, where: f"{noun[0].upper() + noun[1:]} is not seen in {where}.",
    lambda noun, where: f"{noun[0].upper() + noun[1:]} is absent.",
    lambda noun, where: f"{noun[0].upper() + noun[1:]} is not identified.",
)


@PROPS
@given(slot=st.sampled_from(sorted(POSITIVE)), data=st.data(), sites=_sites(),
       negate=st.sampled_from(NEGATED))
def test_a_negated_statement_never_yields_the_positive_finding(
        slot: str, data: st.DataObject, sites: tuple[Site, ...],
        negate: Callable[[str, str], str]) -> None:
    noun = data.draw(st.sampled_from(POSITIVE[slot]))
    where = _where(sites)
    positive = f"There is {noun} in {where}."
    assert extract(positive).get((slot, "present")) == "present", positive
    negative = negate(noun, where)
    got = extract(negative)
    assert (slot, "present") not in got, negative
    assert got.get((slot, "absent")) == "absent", negative
    prefix = {"perfusion_defect": "defect_"}.get(slot, f"{slot}_")
    assert not any(k[0].startswith(prefix) for k in got), (negative, got)   # no locations
    # and a negated sentence next to unrelated positive ones stays negated
    mixed = extract(f"The left ventricle is dilated. {negative} A small pericardial effusion.")
    assert (slot, "present") not in mixed and mixed.get(("lv_size", "dilated")) == "present"


@PROPS
@given(where=_sites().map(_where), form=st.sampled_from((
    "Abnormal perfusion in {where}.", "There is abnormal first-pass perfusion of {where}.",
    "Perfusion is abnormal in {where}.")))
def test_abnormal_perfusion_is_never_read_as_no_defect(where: str, form: str) -> None:
    assert ("perfusion_defect", "absent") not in extract(form.format(where=where))
