"""Tokenizer, sentence BLEU-4 (BLEU+1 smoothing) and ROUGE-L against hand computations."""

from __future__ import annotations

import math

import pytest

from cardiolens.scorers.text_metrics import bleu4, rouge_l, tokenize


@pytest.mark.parametrize("text, tokens", [
    ("EF 45%, mid-wall LGE (2.5 cm).", ["ef", "45%", "mid-wall", "lge", "2.5", "cm"]),
    ("LV/RV ratio: 1.2.", ["lv", "rv", "ratio", "1.2"]),
    ("T2-weighted images; no LGE.", ["t2-weighted", "images", "no", "lge"]),
    ("EF>=50% (normal)", ["ef", "50%", "normal"]),
    ("The LV is dilated. RV normal.", ["the", "lv", "is", "dilated", "rv", "normal"]),
    ("  -- ... !!", []), ("", []),
    ("Ödem im Septum", ["ödem", "im", "septum"]),
    ("end-diastolic volume 210 ml", ["end-diastolic", "volume", "210", "ml"]),
])
def test_tokenize(text: str, tokens: list[str]) -> None:
    assert tokenize(text) == tokens


# ----------------------------------------------------------------------------------- BLEU

def test_bleu4_shorter_hypothesis_by_hand() -> None:
    hyp, ref = "The LV is dilated.", "The LV is mildly dilated."
    # c = 4, r = 5.
    # p1 = 4/4 (the, lv, is, dilated all in the reference)
    # p2: {the lv, lv is, is dilated} vs {the lv, lv is, is mildly, mildly dilated}: 2 of 3
    #     smoothed (2 + 1) / (3 + 1) = 3/4
    # p3: {the lv is, lv is dilated}: 1 of 2 -> (1 + 1) / (2 + 1) = 2/3
    # p4: {the lv is dilated}: 0 of 1 -> (0 + 1) / (1 + 1) = 1/2
    # BP = exp(1 - 5/4)
    expected = math.exp(1 - 5 / 4) * (1 * 3 / 4 * 2 / 3 * 1 / 2) ** 0.25
    assert bleu4(hyp, ref) == pytest.approx(expected)
    assert bleu4(hyp, ref) == pytest.approx(0.55069, abs=1e-5)


def test_bleu4_longer_hypothesis_no_brevity_penalty_by_hand() -> None:
    hyp = "no late gadolinium enhancement is seen"                # c = 6
    ref = "no late gadolinium enhancement"                        # r = 4 -> BP = 1
    # p1 = 4/6
    # p2: 5 bigrams, 3 match -> (3 + 1) / (5 + 1) = 4/6
    # p3: 4 trigrams, 2 match -> (2 + 1) / (4 + 1) = 3/5
    # p4: 3 four-grams, 1 matches -> (1 + 1) / (3 + 1) = 1/2
    expected = (4 / 6 * 4 / 6 * 3 / 5 * 1 / 2) ** 0.25
    assert bleu4(hyp, ref) == pytest.approx(expected)


def test_bleu4_clips_repeated_words_by_hand() -> None:
    # c = 4 > r = 2 -> BP = 1; "the" counts once: p1 = 1/4
    # p2: 3 x "the the", none in the reference -> (0 + 1) / (3 + 1) = 1/4
    # p3: (0 + 1) / (2 + 1) = 1/3; p4: (0 + 1) / (1 + 1) = 1/2
    expected = (1 / 4 * 1 / 4 * 1 / 3 * 1 / 2) ** 0.25
    assert bleu4("the the the the", "the lv") == pytest.approx(expected)


def test_bleu4_word_order_matters_by_hand() -> None:
    # same words, reversed: p1 = 4/4; no shared bigram or longer:
    # p2 = 1/4, p3 = 1/3, p4 = 1/2; c = r -> BP = exp(0) = 1
    expected = (1 * 1 / 4 * 1 / 3 * 1 / 2) ** 0.25
    assert bleu4("dilated is lv the", "the lv is dilated") == pytest.approx(expected)


def test_bleu4_edges() -> None:
    text = "there is no late gadolinium enhancement"
    assert bleu4(text, text) == pytest.approx(1.0)
    assert bleu4("No LGE, normal LV.", "no lge normal lv") == pytest.approx(1.0)
    assert bleu4("", "no late enhancement") == 0.0
    assert bleu4(" ... ", "no late enhancement") == 0.0
    assert bleu4("no late enhancement", "") == 0.0
    assert bleu4("cats and dogs", "no late enhancement") == 0.0     # p1 = 0, not smoothed
    assert 0.0 < bleu4("septal lge", "mid-wall septal lge in the basal segments") < 1.0


# -------------------------------------------------------------------------------- ROUGE-L

@pytest.mark.parametrize("hyp, ref, expected", [
    # LCS 4 (the lv is dilated): P = 4/4, R = 4/5, F = 2 * 1 * 0.8 / 1.8 = 8/9
    ("The LV is dilated.", "The LV is mildly dilated.", 8 / 9),
    # swapped pair: LCS 2 (septal wall, or septal enhancement): P = R = 2/4, F = 0.5
    ("septal mid enhancement wall", "septal wall enhancement present", 0.5),
    # LCS 3 (septal wall enhancement): P = 3/4, R = 3/4, F = 0.75
    ("septal mid wall enhancement", "septal wall enhancement present", 0.75),
    # non-contiguous LCS 3 (mild septal lge): P = 3/3, R = 3/5, F = 1.2 / 1.6 = 0.75
    ("mild septal lge", "mild patchy septal mid-wall lge", 0.75),
    # reversed: LCS 1 -> P = R = 1/4
    ("dilated is lv the", "the lv is dilated", 0.25),
    # repeated tokens: LCS("a a b", "a b a") = 2 -> P = R = 2/3
    ("a a b", "a b a", 2 / 3),
    ("same text", "Same text!", 1.0),
    ("x", "y", 0.0), ("", "y", 0.0), ("x", "", 0.0),
])
def test_rouge_l_by_hand(hyp: str, ref: str, expected: float) -> None:
    assert rouge_l(hyp, ref) == pytest.approx(expected)
