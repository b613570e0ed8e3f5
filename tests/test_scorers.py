"""Framework-free scorers: answer parsing, set scores, diagnosis metrics, BLEU-4, ROUGE-L."""

from __future__ import annotations

import math

import pytest

from cardiolens.scorers.choice import micro_f1, set_scores
from cardiolens.scorers.diagnosis import diagnosis_metrics
from cardiolens.scorers.parsing import parse_choice
from cardiolens.scorers.stats import mean_stderr
from cardiolens.scorers.text_metrics import bleu4, rouge_l, tokenize

SIZE = ["Normal", "Dilated", "Small"]
WALLS = ["Anterior", "Septal", "Inferior", "Lateral"]
EF = ["Normal (EF >= 50%)", "Mildly reduced (40-49%)", "Moderately reduced (30-39%)"]


@pytest.mark.parametrize("reply, expected", [
    ("B", (1,)), ("(B)", (1,)), ("B.", (1,)), ("B)", (1,)), ("**B**", (1,)), ("b", (1,)),
    ("Answer: B", (1,)), ("answer: c", (2,)), ("The answer is C.", (2,)),
    ("Final answer: A", (0,)), ("B) Dilated", (1,)), ("Dilated", (1,)), ("dilated", (1,)),
    ("The left ventricle looks dilated.", (1,)), ("A", (0,)), ("A.", (0,)),
    ("A dilated ventricle with thin walls.\nAnswer: B", (1,)),
    ("Looking at slice 4, the cavity is large. Normal walls.\nAnswer: B", (1,)),
    ("Answer: A\nOn reflection...\nAnswer: C", (2,)),
    ("Answer: a dilated LV", (1,)),
])
def test_single_choice_forms(reply: str, expected: tuple[int, ...]) -> None:
    parsed = parse_choice(reply, SIZE, multi=False)
    assert parsed.parsed and parsed.indices == expected


@pytest.mark.parametrize("reply, expected", [
    ("B, C and D", (1, 2, 3)), ("Final answer: B, C and D", (1, 2, 3)), ("B, D", (1, 3)),
    ("B and D", (1, 3)), ("A/C", (0, 2)), ("answer: a, c", (0, 2)),
    ("Anterior and inferior walls", (0, 2)), ("Septal", (1,)),
    ("Reasoning: the septum is thin.\nAnswer: B, D", (1, 3)),
])
def test_multi_label_forms(reply: str, expected: tuple[int, ...]) -> None:
    assert parse_choice(reply, WALLS, multi=True).indices == expected


@pytest.mark.parametrize("reply, refused", [
    ("", False), ("zzz qqq", False), ("E", False), ("Answer: F", False),
    ("I cannot provide a medical diagnosis.", True), ("I'm unable to interpret images.", True),
    ("The findings cannot be determined from these images.", True),
    ("a thin-walled heart", False), ("B or C", False),
])
def test_unparsed_and_refusals(reply: str, refused: bool) -> None:
    parsed = parse_choice(reply, SIZE, multi=False)
    assert not parsed.parsed and parsed.indices == () and parsed.refused is refused


def test_longest_option_text_wins() -> None:
    assert parse_choice("Normal (EF >= 50%)", EF, False).indices == (0,)
    assert parse_choice("mildly reduced (40-49%)", EF, False).indices == (1,)
    assert parse_choice("normal", [*EF, "Normal"], False).indices == (3,)


def test_garbage_never_raises() -> None:
    for reply in ["\x00\x01", "((((", "Answer:", "Answer: " * 50, "ÄÖÜ ß", "1, 2, 3"]:
        assert isinstance(parse_choice(reply, SIZE, multi=True).parsed, bool)


def test_set_scores_and_micro_f1() -> None:
    s = set_scores({1, 2}, {2, 3})
    assert (s.precision, s.recall, s.f1, s.exact) == (0.5, 0.5, 0.5, 0.0)
    assert set_scores(set(), {1}).f1 == 0.0 and set_scores(set(), set()).exact == 1.0
    # TP 1+2=3, FP 1+0=1, FN 1+1=2 -> 2*3/(6+1+2)
    assert micro_f1([({1, 2}, {2, 3}), ({0, 1}, {0, 1, 2})]) == pytest.approx(6 / 9)


def test_diagnosis_metrics_by_hand() -> None:
    classes = ["N", "I", "X"]
    target = ["N", "N", "I", "I", "X", "X"]
    predicted = ["N", "I", "I", None, "X", "N"]
    m = diagnosis_metrics(predicted, target, classes)
    assert m.confusion == [[1, 1, 0, 0], [0, 1, 0, 1], [1, 0, 1, 0]]
    assert m.accuracy == pytest.approx(3 / 6)
    assert m.per_class_recall == {"N": 0.5, "I": 0.5, "X": 0.5}
    assert m.balanced_accuracy == pytest.approx(0.5)
    # F1: N tp1 true2 pred2 -> .5; I tp1 true2 pred2 -> .5; X tp1 true2 pred1 -> 2/3
    assert m.macro_f1 == pytest.approx((0.5 + 0.5 + 2 / 3) / 3)
    assert m.unparsed_rate == pytest.approx(1 / 6)
    assert m.top_class_share == pytest.approx(2 / 5)
    assert m.true_entropy == pytest.approx(math.log2(3))


def test_collapse_to_one_class() -> None:
    m = diagnosis_metrics(["N"] * 4, ["N", "I", "X", "X"], ["N", "I", "X"])
    assert m.top_class_share == 1.0 and m.predicted_entropy == 0.0
    assert m.true_entropy == pytest.approx(1.5)
    assert m.balanced_accuracy == pytest.approx(1 / 3)


def test_tokenize_keeps_clinical_tokens() -> None:
    assert tokenize("EF 45%, mid-wall LGE (2.5 cm).") == ["ef", "45%", "mid-wall", "lge",
                                                           "2.5", "cm"]


def test_bleu4_by_hand() -> None:
    assert bleu4("no late enhancement", "") == 0.0 and bleu4("", "x") == 0.0
    text = "there is no late gadolinium enhancement"
    assert bleu4(text, text) == pytest.approx(1.0)
    # hyp "no late enhancement" (3) vs ref "no late gadolinium enhancement" (4):
    # p1 = 3/3; p2 = (1+1)/(2+1); p3 = (0+1)/(1+1); p4 = (0+1)/(0+1); BP = exp(1 - 4/3)
    expected = math.exp(1 - 4 / 3) * (1.0 * (2 / 3) * 0.5 * 1.0) ** 0.25
    assert bleu4("no late enhancement", "no late gadolinium enhancement") == \
        pytest.approx(expected)
    assert bleu4("cats", "no late enhancement") == 0.0


def test_rouge_l_by_hand() -> None:
    # LCS("a b c d", "a c d e") = 3 -> P = 3/4, R = 3/4, F = 0.75
    assert rouge_l("a b c d", "a c d e") == pytest.approx(0.75)
    assert rouge_l("x", "y") == 0.0 and rouge_l("same text", "same text") == 1.0


def test_mean_stderr() -> None:
    assert mean_stderr([1.0, 2.0, 3.0]) == pytest.approx((2.0, 1 / math.sqrt(3)))
    assert mean_stderr([5.0]) == (5.0, 0.0)
    assert all(math.isnan(v) for v in mean_stderr([]))
