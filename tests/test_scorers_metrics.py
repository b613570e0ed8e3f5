"""Set scores, micro-F1, diagnosis metrics (confusion, collapse, unparsed) and mean/stderr."""

from __future__ import annotations

import json
import math

import pytest

from cardiolens.scorers.choice import SetScores, micro_f1, set_scores
from cardiolens.scorers.diagnosis import DiagnosisMetrics, diagnosis_metrics, entropy_bits
from cardiolens.scorers.stats import mean_stderr

CLASSES = ["Normal", "Ischemic", "Non-ischemic"]


# ----------------------------------------------------------------------------- set scores

@pytest.mark.parametrize("predicted, target, expected", [
    ({1}, {1}, SetScores(1.0, 1.0, 1.0, 1.0)),
    ({0}, {1}, SetScores(0.0, 0.0, 0.0, 0.0)),
    # TP 1 of 2 predicted, 1 of 2 expected
    ({1, 2}, {2, 3}, SetScores(0.5, 0.5, 0.5, 0.0)),
    # P = 2/2, R = 2/3, F1 = 2 * 1 * 2/3 / (1 + 2/3) = 0.8
    ({0, 1}, {0, 1, 2}, SetScores(1.0, 2 / 3, 0.8, 0.0)),
    # P = 1/3, R = 1/1, F1 = 2 * 1/3 / (4/3) = 0.5
    ({0, 1, 2}, {2}, SetScores(1 / 3, 1.0, 0.5, 0.0)),
    (set(), set(), SetScores(1.0, 1.0, 1.0, 1.0)),
    (set(), {1}, SetScores(0.0, 0.0, 0.0, 0.0)),
    ({1}, set(), SetScores(0.0, 0.0, 0.0, 0.0)),
    ([3, 3, 1], (1, 3), SetScores(1.0, 1.0, 1.0, 1.0)),        # repeats do not count twice
])
def test_set_scores(predicted: set[int], target: set[int], expected: SetScores) -> None:
    got = set_scores(predicted, target)
    assert (got.precision, got.recall, got.f1, got.exact) == pytest.approx(
        (expected.precision, expected.recall, expected.f1, expected.exact))


def test_micro_f1_by_hand() -> None:
    pairs = [({1, 2}, {2, 3}),        # TP 1, FP 1, FN 1
             ({0, 1}, {0, 1, 2}),     # TP 2, FP 0, FN 1
             (set(), {3}),            # TP 0, FP 0, FN 1
             ({0}, {0})]              # TP 1, FP 0, FN 0
    # TP 4, FP 1, FN 3 -> 2*4 / (8 + 1 + 3) = 8/12
    assert micro_f1(pairs) == pytest.approx(8 / 12)
    # micro-F1 differs from the mean item F1 (0.5, 0.8, 0, 1 -> 0.575)
    assert micro_f1(pairs) != pytest.approx(sum(set_scores(p, t).f1 for p, t in pairs) / 4)


def test_micro_f1_edges() -> None:
    assert micro_f1([]) == 1.0
    assert micro_f1([(set(), set())]) == 1.0
    assert micro_f1([(set(), {1})]) == 0.0
    assert micro_f1([({0, 1}, {0, 1})]) == 1.0
    assert micro_f1(iter([({0}, {1})])) == 0.0                 # any iterable


# ---------------------------------------------------------------------- diagnosis metrics

def test_diagnosis_metrics_by_hand() -> None:
    target = ["Normal", "Normal", "Normal", "Ischemic", "Ischemic", "Non-ischemic"]
    predicted = ["Normal", "Normal", "Ischemic", "Ischemic", None, "Normal"]
    m = diagnosis_metrics(predicted, target, CLASSES)
    #                 Normal  Ischemic  Non-isch  unparsed
    assert m.confusion == [[2, 1, 0, 0],        # true Normal
                           [0, 1, 0, 1],        # true Ischemic
                           [1, 0, 0, 0]]        # true Non-ischemic
    assert m.accuracy == pytest.approx(3 / 6)
    assert m.per_class_recall == pytest.approx({"Normal": 2 / 3, "Ischemic": 1 / 2,
                                                "Non-ischemic": 0.0})
    assert m.balanced_accuracy == pytest.approx((2 / 3 + 1 / 2 + 0) / 3)
    # F1 = 2 TP / (true + predicted): Normal 4/(3+3); Ischemic 2/(2+2); Non-ischemic 0/(1+0)
    assert m.macro_f1 == pytest.approx((4 / 6 + 2 / 4 + 0) / 3)
    assert m.unparsed_rate == pytest.approx(1 / 6)
    # parsed predictions: Normal 3, Ischemic 2 -> top share 3/5
    assert m.top_class_share == pytest.approx(3 / 5)
    assert m.predicted_entropy == pytest.approx(-(0.6 * math.log2(0.6) + 0.4 * math.log2(0.4)))
    # true: 3, 2, 1 of 6
    assert m.true_entropy == pytest.approx(
        -(0.5 * math.log2(0.5) + (1 / 3) * math.log2(1 / 3) + (1 / 6) * math.log2(1 / 6)))


def test_collapse_to_one_class() -> None:
    target = ["Normal", "Ischemic", "Non-ischemic", "Non-ischemic"]
    m = diagnosis_metrics(["Non-ischemic"] * 4, target, CLASSES)
    assert m.top_class_share == 1.0 and m.predicted_entropy == 0.0
    assert math.copysign(1.0, m.predicted_entropy) == 1.0          # not -0.0
    assert m.true_entropy == pytest.approx(1.5)                    # 1/4, 1/4, 1/2
    assert m.accuracy == pytest.approx(0.5)
    assert m.balanced_accuracy == pytest.approx(1 / 3)             # recalls 0, 0, 1
    # Non-ischemic: 2*2 / (2 + 4) = 2/3; the other two classes 0
    assert m.macro_f1 == pytest.approx((2 / 3) / 3)
    assert [row[2] for row in m.confusion] == [1, 1, 2]


def test_unparsed_and_unknown_predictions() -> None:
    target = ["Normal", "Ischemic", "Normal"]
    m = diagnosis_metrics([None, "Cardiac amyloidosis", "Normal"], target, CLASSES)
    assert m.confusion == [[1, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]]
    assert m.unparsed_rate == pytest.approx(2 / 3)
    assert m.accuracy == pytest.approx(1 / 3)
    assert m.top_class_share == 1.0 and m.predicted_entropy == 0.0
    # Non-ischemic is neither a target nor a prediction: left out of every average
    assert set(m.per_class_recall) == {"Normal", "Ischemic"}
    assert m.macro_f1 == pytest.approx((2 / 3 + 0.0) / 2)         # Normal 2*1/(2+1)


def test_all_unparsed() -> None:
    m = diagnosis_metrics([None, None], ["Normal", "Ischemic"], CLASSES)
    assert m.accuracy == 0.0 and m.macro_f1 == 0.0 and m.balanced_accuracy == 0.0
    assert m.top_class_share == 0.0 and m.predicted_entropy == 0.0
    assert m.unparsed_rate == 1.0 and m.true_entropy == pytest.approx(1.0)


def test_diagnosis_to_dict_is_json_ready() -> None:
    m = diagnosis_metrics(["Normal"], ["Normal"], CLASSES)
    assert isinstance(m, DiagnosisMetrics)
    d = m.to_dict()
    assert set(d) == {"accuracy", "macro_f1", "balanced_accuracy", "per_class_recall",
                      "confusion", "top_class_share", "predicted_entropy", "true_entropy",
                      "unparsed_rate"}
    assert d["confusion"] == [[1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    assert json.loads(json.dumps(d)) == d
    d["confusion"][0][0] = 99
    assert m.confusion[0][0] == 1                                  # a copy


def test_diagnosis_input_errors() -> None:
    with pytest.raises(ValueError, match="length"):
        diagnosis_metrics(["Normal"], ["Normal", "Normal"], CLASSES)
    with pytest.raises(ValueError, match="not among"):
        diagnosis_metrics(["Normal"], ["Myocarditis"], CLASSES)
    with pytest.raises(ValueError, match="duplicates"):
        diagnosis_metrics(["Normal"], ["Normal"], ["Normal", "Normal"])


def test_entropy_bits() -> None:
    assert entropy_bits([]) == 0.0 and entropy_bits([0, 0]) == 0.0
    assert entropy_bits([5]) == 0.0
    assert entropy_bits([1, 1]) == pytest.approx(1.0)
    assert entropy_bits([1, 1, 1, 1]) == pytest.approx(2.0)
    assert entropy_bits([3, 0, 1]) == pytest.approx(-(0.75 * math.log2(0.75) + 0.25 * -2))


# ------------------------------------------------------------------------ mean and stderr

def test_mean_stderr() -> None:
    # mean 2; sample variance ((1)^2 + 0 + 1^2) / 2 = 1; stderr 1/sqrt(3)
    assert mean_stderr([1.0, 2.0, 3.0]) == pytest.approx((2.0, 1 / math.sqrt(3)))
    # mean 0.5; variance (4 * 0.25) / 3 = 1/3; stderr sqrt(1/3 / 4)
    assert mean_stderr([0.0, 1.0, 0.0, 1.0]) == pytest.approx((0.5, math.sqrt(1 / 12)))
    assert mean_stderr([5.0]) == (5.0, 0.0)
    assert mean_stderr([2.0, 2.0]) == (2.0, 0.0)
    assert all(math.isnan(v) for v in mean_stderr([]))
