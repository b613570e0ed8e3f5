"""Lexical report metrics, offline: BLEU-4 and ROUGE-L on a simple clinical tokenizer."""

from __future__ import annotations

import math
import re
from collections import Counter

TOKEN = re.compile(r"[^\W_]+(?:[.\-][^\W_]+)*%?")


def tokenize(text: str) -> list[str]:
    """Lower-case word and number tokens; punctuation dropped.

    ``50%``, ``2.5``, ``mid-wall`` and ``t2-weighted`` stay whole; a full stop or hyphen
    counts only between letters or digits, so ``LV.`` gives ``lv``.
    """
    return TOKEN.findall(text.lower())


def _ngrams(tokens: list[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def bleu4(hypothesis: str, reference: str) -> float:
    """Sentence BLEU-4 of one hypothesis against one reference, in [0, 1].

    Uniform weights (1/4) over modified n-gram precisions p_n (clipped matches / hypothesis
    n-grams) for n = 1..4, times the brevity penalty exp(1 - r/c) when c <= r. Smoothing is
    Lin and Och's (2004) BLEU+1: for n = 2..4 both counts get +1, i.e. p_n = (m_n + 1) /
    (h_n + 1) (Chen and Cherry's 2014 "method 2"; not their "method 1", which adds an
    epsilon to zero counts only). Unigram precision is not smoothed, so a hypothesis sharing
    no word with the reference scores 0. Empty hypothesis or reference: 0.0.
    """
    hyp, ref = tokenize(hypothesis), tokenize(reference)
    if not hyp or not ref:
        return 0.0
    log_sum = 0.0
    for n in range(1, 5):
        hyp_grams, ref_grams = _ngrams(hyp, n), _ngrams(ref, n)
        matches = sum(min(c, ref_grams[g]) for g, c in hyp_grams.items())
        total = max(len(hyp) - n + 1, 0)
        if n > 1:
            matches, total = matches + 1, total + 1
        if matches == 0:
            return 0.0
        log_sum += math.log(matches / total) / 4
    brevity = 1.0 if len(hyp) > len(ref) else math.exp(1 - len(ref) / len(hyp))
    return brevity * math.exp(log_sum)


def _lcs(a: list[str], b: list[str]) -> int:
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def rouge_l(hypothesis: str, reference: str) -> float:
    """ROUGE-L F-measure (beta = 1) from the longest common token subsequence."""
    hyp, ref = tokenize(hypothesis), tokenize(reference)
    if not hyp or not ref:
        return 0.0
    lcs = _lcs(hyp, ref)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(hyp), lcs / len(ref)
    return 2 * precision * recall / (precision + recall)
