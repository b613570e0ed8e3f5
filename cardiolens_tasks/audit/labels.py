"""Label shortcuts: how far the structured findings alone predict the diagnosis.

A *label set* is one study's answers to the image-understanding subtasks plus its etiology
and subtype. For each single finding the best lookup rule (each answer value -> its most
common diagnosis) is fitted and scored by k-fold cross-validation; a depth-limited greedy
decision tree does the same over all findings except the LGE pattern. A clinician's rule
set (:func:`clinician_rules`) shows the diagnosis stays answerable by clinical reasoning.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cardiolens.data.dataset import Dataset, Item
from cardiolens.data.findings import EF_BANDS, build_items
from cardiolens.data.taxonomy import Taxonomy, load_taxonomy
from cardiolens.data.vocabulary import (
    DISTRIBUTION,
    EFFUSION,
    ETIOLOGY,
    WALL_THICKNESS,
    WALLS6,
    YES_NO,
)

NOT_ASKED = "(not asked)"
PATTERN_FINDINGS = ("lge_pattern", "lge_territories")
"""The LGE pattern, and the territories item that is asked exactly when the pattern is
ischemic (so its presence is the pattern itself). Both are left out of the tree."""
ETIOLOGY_TASK, SUBTYPE_TASK = "diagnosis_etiology", "diagnosis_nicm_subtype"
Answer = str | list[str]


@dataclass(frozen=True)
class LabelSet:
    """One study's image-understanding answers and its diagnosis."""

    study_id: str
    answers: Mapping[str, Answer]
    etiology: str
    subtype: str | None


def label_sets_from_items(items: Iterable[Item], taxonomy: Taxonomy | None = None
                          ) -> list[LabelSet]:
    """Group a dataset's items by study; studies without an etiology item are skipped."""
    taxonomy = taxonomy or load_taxonomy()
    findings = {s.id for s in taxonomy.by_level("image_understanding")}
    per_study: dict[str, dict[str, Answer]] = {}
    for item in items:
        if item.answer is None:
            continue
        if item.subtask in findings or item.subtask in (ETIOLOGY_TASK, SUBTYPE_TASK):
            per_study.setdefault(item.study_id, {})[item.subtask] = item.answer
    out = []
    for sid in sorted(per_study):
        answers = per_study[sid]
        etiology = answers.pop(ETIOLOGY_TASK, None)
        subtype = answers.pop(SUBTYPE_TASK, None)
        if isinstance(etiology, str):
            out.append(LabelSet(sid, answers, etiology,
                                subtype if isinstance(subtype, str) else None))
    return out


def label_sets_from_dataset(dataset: Dataset) -> list[LabelSet]:
    return label_sets_from_items(dataset.items)


def phantom_items(studies: int, seed: int = 0,
                  prevalence: dict[str, float] | None = None) -> list[Item]:
    """The image-understanding and diagnosis items of a phantom cohort as ``cardiolens
    demo`` would write them, without drawing a pixel (the same parameters, findings and
    item rules; no report items)."""
    from cardiolens.phantom.cohort import plan_diagnoses, sample_params
    from cardiolens.phantom.labels import findings_from_params

    series = ("cine_sax", "cine_2ch", "cine_4ch", "lge_sax", "lge_4ch", "t2_sax", "perf_sax")
    items: list[Item] = []
    for index, diagnosis in enumerate(plan_diagnoses(studies, seed, prevalence)):
        p = sample_params(seed, index, diagnosis)
        items += build_items(p.study_id, findings_from_params(p), series)
    return items


def phantom_label_sets(studies: int, seed: int = 0,
                       prevalence: dict[str, float] | None = None) -> list[LabelSet]:
    """Label sets of a phantom cohort (:func:`phantom_items`), without drawing a pixel."""
    return label_sets_from_items(phantom_items(studies, seed, prevalence))


def finding_value(label_set: LabelSet, subtask: str) -> str:
    """One finding as a category: the option text, options joined by '|', or not asked."""
    answer = label_set.answers.get(subtask)
    if answer is None:
        return NOT_ASKED
    return answer if isinstance(answer, str) else "|".join(answer) or "(none)"


def _folds(n: int, k: int, seed: int) -> np.ndarray:
    return np.random.default_rng([seed, n]).permutation(n) % k


def lookup_accuracy(values: Sequence[str], targets: Sequence[str], folds: int = 5,
                    seed: int = 0) -> float:
    """Cross-validated accuracy of the best lookup rule value -> most common target.

    Values unseen in the training folds get the training majority.
    """
    fold = _folds(len(values), folds, seed)
    correct = 0
    for f in range(folds):
        train = [i for i in range(len(values)) if fold[i] != f]
        if not train:
            continue
        majority = Counter(targets[i] for i in train).most_common(1)[0][0]
        table: dict[str, Counter[str]] = {}
        for i in train:
            table.setdefault(values[i], Counter())[targets[i]] += 1
        for i in np.flatnonzero(fold == f).tolist():
            seen = table.get(values[i])
            guess = seen.most_common(1)[0][0] if seen else majority
            correct += guess == targets[i]
    return correct / len(values) if values else float("nan")


# ---------------------------------------------------------------------- decision tree


def binary_features(label_sets: Sequence[LabelSet], subtasks: Sequence[str],
                    taxonomy: Taxonomy | None = None) -> tuple[np.ndarray, list[str]]:
    """(n, F) booleans: 'asked', and one column per option (answer equals / contains it)."""
    taxonomy = taxonomy or load_taxonomy()
    columns: list[np.ndarray] = []
    names: list[str] = []
    for sid in subtasks:
        answers = [ls.answers.get(sid) for ls in label_sets]
        columns.append(np.array([a is not None for a in answers]))
        names.append(f"{sid} asked")
        for option in taxonomy.get(sid).options:
            columns.append(np.array([a is not None and (a == option if isinstance(a, str)
                                                         else option in a)
                                     for a in answers]))
            names.append(f"{sid} = {option}")
    return np.stack(columns, axis=1), names


@dataclass(frozen=True)
class Node:
    """A tree node: a leaf (``feature`` is None) or a split on one boolean column."""

    label: int
    feature: int | None = None
    yes: Node | None = None
    no: Node | None = None


def _gini(counts: np.ndarray) -> np.ndarray:
    total = counts.sum(axis=-1, keepdims=True)
    share = counts / np.maximum(total, 1)
    return 1.0 - (share**2).sum(axis=-1)


def fit_tree(x: np.ndarray, y: np.ndarray, n_classes: int, depth: int = 3,
             min_leaf: int = 5) -> Node:
    """Greedy Gini tree on boolean features, at most ``depth`` splits deep."""
    counts = np.bincount(y, minlength=n_classes)
    node = Node(int(np.argmax(counts)))
    if depth == 0 or counts.max() == len(y):
        return node
    onehot = np.eye(n_classes)[y]                       # (n, C)
    yes = x.T.astype(float) @ onehot                    # (F, C) class counts where True
    no = counts[None] - yes
    n_yes, n_no = yes.sum(1), no.sum(1)
    impurity = (n_yes * _gini(yes) + n_no * _gini(no)) / len(y)
    impurity[(n_yes < min_leaf) | (n_no < min_leaf)] = np.inf
    best = int(np.argmin(impurity))
    if not np.isfinite(impurity[best]) or impurity[best] >= _gini(counts[None])[0] - 1e-12:
        return node
    mask = x[:, best]
    return Node(node.label, best, fit_tree(x[mask], y[mask], n_classes, depth - 1, min_leaf),
                fit_tree(x[~mask], y[~mask], n_classes, depth - 1, min_leaf))


def predict_tree(node: Node, x: np.ndarray) -> np.ndarray:
    out = np.full(len(x), node.label)
    if node.feature is None or node.yes is None or node.no is None:
        return out
    mask = x[:, node.feature]
    out[mask] = predict_tree(node.yes, x[mask])
    out[~mask] = predict_tree(node.no, x[~mask])
    return out


def describe_tree(node: Node, names: Sequence[str], classes: Sequence[str],
                  indent: str = "") -> list[str]:
    """The tree as indented 'if feature' lines."""
    if node.feature is None or node.yes is None or node.no is None:
        return [f"{indent}-> {classes[node.label]}"]
    return [f"{indent}if {names[node.feature]}:",
            *describe_tree(node.yes, names, classes, indent + "  "),
            f"{indent}else:", *describe_tree(node.no, names, classes, indent + "  ")]


def tree_accuracy(x: np.ndarray, targets: Sequence[str], depth: int = 3, folds: int = 5,
                  seed: int = 0) -> float:
    """Cross-validated accuracy of :func:`fit_tree`."""
    classes = sorted(set(targets))
    y = np.array([classes.index(t) for t in targets])
    fold = _folds(len(y), folds, seed)
    correct = 0
    for f in range(folds):
        train, test = fold != f, fold == f
        if not train.any():
            continue
        tree = fit_tree(x[train], y[train], len(classes), depth)
        correct += int(np.sum(predict_tree(tree, x[test]) == y[test]))
    return correct / len(y) if len(y) else float("nan")


# ---------------------------------------------------------------------- clinician rules

ISCHEMIC, NONISCHEMIC, NORMAL = ETIOLOGY.ischemic, ETIOLOGY.nonischemic, ETIOLOGY.normal
SEPTAL = {WALLS6.anteroseptal, WALLS6.inferoseptal}


def _listed(answers: Mapping[str, Answer], key: str) -> list[str]:
    value = answers.get(key)
    return [] if value is None else [value] if isinstance(value, str) else list(value)


def benign_insertion_lge(answers: Mapping[str, Answer]) -> bool:
    """LGE confined to the RV insertion points of the septum (a normal variant)."""
    return (answers.get("lge_presence") == YES_NO.yes
            and answers.get("lge_rv_insertion") == YES_NO.yes
            and set(_listed(answers, "lge_walls")) <= SEPTAL
            and answers.get("lge_distribution") == DISTRIBUTION.focal)


def clinician_rules(answers: Mapping[str, Answer]) -> str:
    """The etiology a cardiac imager would call from the structured findings.

    In order (docs/phantom.md gives the sources):

    1. LGE in a coronary pattern (subendocardial-based, in a territory) -> ischemic.
    2. No non-ischemic LGE and no hypertrophy, but a perfusion defect together with a
       regional wall motion abnormality -> ischemic (hibernating, LGE-negative ischemia).
    3. Non-ischemic LGE (other than isolated RV insertion-point LGE), myocardial edema,
       LV hypertrophy, reduced LV ejection fraction, reduced RV function or a moderate or
       large effusion -> non-ischemic cardiomyopathy.
    4. Otherwise normal: this includes an athlete's dilated LV with normal function and
       wall thickness, a small effusion and insertion-point LGE.
    """
    if str(answers.get("lge_pattern", "")).startswith("Ischemic"):
        return ISCHEMIC
    lge = answers.get("lge_presence") == YES_NO.yes
    nonischemic_lge = lge and not benign_insertion_lge(answers)
    thick = answers.get("cine_wall_thickness") == WALL_THICKNESS.thickened
    defect = answers.get("perf_defect_presence") == YES_NO.yes
    rwma = answers.get("cine_rwma_presence") == YES_NO.yes
    if defect and rwma and not thick and not nonischemic_lge:
        return ISCHEMIC
    reduced_ef = answers.get("cine_lv_function", EF_BANDS[0]) != EF_BANDS[0]
    rv_reduced = "reduced" in str(answers.get("cine_rv_status", "")).lower()
    if (nonischemic_lge or answers.get("t2_edema_presence") == YES_NO.yes or thick
            or reduced_ef or rv_reduced
            or answers.get("cine_pericardial_effusion") == EFFUSION.moderate_or_large):
        return NONISCHEMIC
    return NORMAL


# ---------------------------------------------------------------------- the audit


def label_audit(label_sets: Sequence[LabelSet], depth: int = 3, folds: int = 5,
                seed: int = 0, taxonomy: Taxonomy | None = None) -> dict[str, Any]:
    """Etiology and subtype accuracy of each single finding, of the tree and of the rules.

    Returns a JSON-ready dict: ``studies``, ``majority`` (etiology and subtype),
    ``single`` ({finding: {"etiology", "subtype"}}), ``best_single`` (excluding the
    pattern findings), ``tree`` (accuracies and the etiology tree's text) and
    ``clinician_rules`` (etiology accuracy).
    """
    taxonomy = taxonomy or load_taxonomy()
    subtasks = [s.id for s in taxonomy.by_level("image_understanding")]
    etiology = [ls.etiology for ls in label_sets]
    nicm = [ls for ls in label_sets if ls.subtype is not None]
    subtypes = [str(ls.subtype) for ls in nicm]

    def majority(targets: list[str]) -> float:
        return Counter(targets).most_common(1)[0][1] / len(targets) if targets else float("nan")

    single: dict[str, dict[str, float]] = {}
    for sid in subtasks:
        single[sid] = {
            "etiology": lookup_accuracy([finding_value(ls, sid) for ls in label_sets],
                                        etiology, folds, seed),
            "subtype": lookup_accuracy([finding_value(ls, sid) for ls in nicm], subtypes,
                                       folds, seed)}
    allowed = [sid for sid in subtasks if sid not in PATTERN_FINDINGS]
    best = max(allowed, key=lambda sid: single[sid]["etiology"])
    best_sub = max(allowed, key=lambda sid: np.nan_to_num(single[sid]["subtype"]))
    x, names = binary_features(label_sets, allowed, taxonomy)
    classes = sorted(set(etiology))
    tree = fit_tree(x, np.array([classes.index(t) for t in etiology]), len(classes), depth)
    x_nicm = x[[i for i, ls in enumerate(label_sets) if ls.subtype is not None]]
    rules = [clinician_rules(ls.answers) == ls.etiology for ls in label_sets]
    return {
        "studies": len(label_sets),
        "majority": {"etiology": majority(etiology), "subtype": majority(subtypes)},
        "single": single,
        "best_single": {"etiology": {"finding": best, "accuracy": single[best]["etiology"]},
                        "subtype": {"finding": best_sub,
                                    "accuracy": single[best_sub]["subtype"]}},
        "tree": {"depth": depth, "excluded": list(PATTERN_FINDINGS),
                 "etiology": tree_accuracy(x, etiology, depth, folds, seed),
                 "subtype": (tree_accuracy(x_nicm, subtypes, depth, folds, seed)
                             if subtypes else float("nan")),
                 "etiology_tree": describe_tree(tree, names, classes)},
        "clinician_rules": {"etiology": float(np.mean(rules)) if rules else float("nan")},
    }
