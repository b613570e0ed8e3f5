"""Scorers: framework-free scoring functions (``cardiolens.scorers``)."""

from cardiolens.scorers.choice import SetScores, micro_f1, set_scores
from cardiolens.scorers.diagnosis import DiagnosisMetrics, diagnosis_metrics, entropy_bits
from cardiolens.scorers.parsing import (
    LETTERS,
    ParsedChoice,
    format_letters,
    is_refusal,
    parse_choice,
)
from cardiolens.scorers.stats import mean_stderr
from cardiolens.scorers.text_metrics import bleu4, rouge_l, tokenize

__all__ = [
    "LETTERS", "DiagnosisMetrics", "ParsedChoice", "SetScores", "bleu4", "diagnosis_metrics",
    "entropy_bits", "format_letters", "is_refusal", "mean_stderr", "micro_f1", "parse_choice",
    "rouge_l", "set_scores", "tokenize",
]
