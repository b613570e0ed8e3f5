"""Pixel shortcuts: can global, anatomy-free statistics of a prompt's images predict a
presence answer?

For every presence subtask, each item's prompt is built exactly as a model receives it
(selection, budget, series window, PNG), every image is reduced to a few global
statistics (mean, spread, quantiles, saturated and black shares, saturated share of the
central ninth, histogram entropy), the statistics are taken as their mean and maximum over
the prompt's images, and a numpy logistic regression is cross-validated against the
subtask's majority rate. The AUC of the mean brightness alone is reported beside it.
A benchmark without pixel shortcuts keeps the classifier near the majority rate.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from cardiolens.data.dataset import read_dataset
from cardiolens.data.vocabulary import YES_NO
from cardiolens.prompting.prompt_builder import PromptBuilder, PromptSettings
from cardiolens.prompting.rendering import RenderCache
from cardiolens.prompting.selection import Protocol

FEATURES = ("mean", "std", "q05", "q25", "q50", "q75", "q95", "saturated", "black",
            "centre_saturated", "entropy")


def image_statistics(png: bytes) -> np.ndarray:
    """The global statistics of one 8-bit image, in :data:`FEATURES` order."""
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("L"), np.float64)
    h, w = pixels.shape
    centre = pixels[h // 3: h - h // 3, w // 3: w - w // 3]
    counts = np.bincount(pixels.astype(np.int64).ravel(), minlength=256) / pixels.size
    nonzero = counts[counts > 0]
    q = np.percentile(pixels, [5, 25, 50, 75, 95])
    return np.array([pixels.mean(), pixels.std(), *q, np.mean(pixels >= 255),
                     np.mean(pixels <= 0), np.mean(centre >= 255),
                     float(-(nonzero * np.log2(nonzero)).sum())])


def auc(score: np.ndarray, y: np.ndarray) -> float:
    """Area under the ROC curve of ``score`` for ``y == 1`` (ties count half)."""
    pos, neg = score[y == 1], score[y == 0]
    if not len(pos) or not len(neg):
        return 0.5
    greater = (pos[:, None] > neg[None]).sum() + 0.5 * (pos[:, None] == neg[None]).sum()
    return float(greater / (len(pos) * len(neg)))


def _fit(x: np.ndarray, y: np.ndarray, l2: float = 1e-2, steps: int = 500) -> np.ndarray:
    """Logistic regression weights (bias last) by gradient descent on standardised x."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(xb @ w, -30, 30)))
        grad = xb.T @ (p - y) / len(y) + l2 * np.r_[w[:-1], 0.0]
        w -= 0.5 * grad
    return w


def cross_validated_accuracy(x: np.ndarray, y: np.ndarray, folds: int, seed: int) -> float:
    """Stratified k-fold accuracy of :func:`_fit` (features standardised on each train fold)."""
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(y), np.int64)
    for label in (0, 1):
        idx = rng.permutation(np.flatnonzero(y == label))
        fold_of[idx] = np.arange(len(idx)) % folds
    correct = 0
    for f in range(folds):
        train, test = fold_of != f, fold_of == f
        if not test.any() or len(np.unique(y[train])) < 2:
            correct += int(np.sum(y[test] == (np.mean(y[train]) >= 0.5)))
            continue
        mu, sd = x[train].mean(0), x[train].std(0) + 1e-9
        w = _fit((x[train] - mu) / sd, y[train])
        z = np.hstack([(x[test] - mu) / sd, np.ones((int(test.sum()), 1))]) @ w
        correct += int(np.sum((z > 0) == (y[test] == 1)))
    return correct / len(y)


def pixel_shortcuts(dataset_root: str | Path, *, selection: Protocol = "clinical",
                    budget: int = 16, folds: int = 5, seed: int = 0,
                    cache: RenderCache | None = None,
                    subtasks: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Per presence subtask: items, majority rate and the cross-validated accuracy of a
    logistic regression on global image statistics of the actual prompts.

    Args:
        dataset_root: a dataset in the CardioLens format.
        selection, budget: the prompt protocol whose images are measured.
        folds: cross-validation folds (stratified, seeded).
        seed: seeds the prompt protocol and the folds.
        cache: an optional render cache (PNG bytes are the same with or without it).
        subtasks: only these presence subtasks (default: every ``*_presence`` subtask).
    """
    data = read_dataset(dataset_root)
    builder = PromptBuilder(data.root, data.studies, PromptSettings(selection=selection,
                                                                    budget=budget, seed=seed),
                            cache or RenderCache(None))
    rows: dict[str, tuple[list[np.ndarray], list[int]]] = {}
    for item in data.items:
        if not item.subtask.endswith("_presence") or item.answer not in YES_NO:
            continue
        if subtasks is not None and item.subtask not in subtasks:
            continue
        prompt = builder.build(item)
        if not prompt.images:
            continue
        per_image = np.array([image_statistics(image.png) for image in prompt.images])
        stats = np.concatenate([per_image.mean(axis=0), per_image.max(axis=0)])
        features, labels = rows.setdefault(item.subtask, ([], []))
        features.append(stats)
        labels.append(int(item.answer == YES_NO.yes))
    out = []
    for subtask in sorted(rows):
        features, labels = rows[subtask]
        x, y = np.array(features), np.array(labels)
        majority = max(float(y.mean()), 1.0 - float(y.mean()))
        accuracy = cross_validated_accuracy(x, y, folds, seed)
        out.append({"subtask": subtask, "n": len(y), "majority_rate": round(majority, 4),
                    "cv_accuracy": round(accuracy, 4),
                    "excess": round(accuracy - majority, 4),
                    "mean_brightness_auc": round(auc(x[:, 0], y), 4)})
    return out
