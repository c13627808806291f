"""Classification figures, and which evaluation of a run is its best: the rule the checkpointer
keeps best.safetensors by, and what ``rnncli info`` reports. No torch here."""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np

Score = Callable[[dict[str, Any]], float]


def lm_score(record: dict[str, Any]) -> float:
    """Language models keep the lowest validation loss."""
    return -float(record["val_loss"])


def classifier_score(record: dict[str, Any]) -> float:
    """Classifiers keep the best macro-F1; among equals, the lower loss."""
    return float(record["macro_f1"]) - 1e-6 * float(record["val_loss"])


def best_of(records: list[dict[str, Any]], score: Score) -> dict[str, Any] | None:
    """The evaluation with the best score (the earliest among equals); None before any."""
    scored = []
    for record in records:
        try:
            value = score(record)
        except (KeyError, TypeError, ValueError):  # not an evaluation, or a metric stored as null
            continue
        if math.isfinite(value):
            scored.append((value, -int(record["step"]), record))
    return max(scored, key=lambda item: item[:2])[2] if scored else None


def classification_metrics(gold: Sequence[int], predicted: Sequence[int], labels: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro-F1 (over labels with support or predictions), per-label P/R/F1, confusion."""
    n = len(labels)
    confusion = np.zeros((n, n), dtype=np.int64)
    for g, p in zip(gold, predicted):
        confusion[g, p] += 1
    per_label: dict[str, dict[str, float]] = {}
    f1s = []
    for k, label in enumerate(labels):
        tp = int(confusion[k, k])
        support = int(confusion[k].sum())
        predicted_k = int(confusion[:, k].sum())
        precision = tp / predicted_k if predicted_k else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label[label] = {"precision": precision, "recall": recall, "f1": f1, "support": support}
        if support or predicted_k:
            f1s.append(f1)
    total = int(confusion.sum())
    return {"accuracy": float(np.trace(confusion)) / total if total else 0.0,
            "macro_f1": float(np.mean(f1s)) if f1s else 0.0,
            "per_label": per_label,
            "confusion": confusion.tolist(),
            "examples": total}


def _f1(tp: float, predicted: float, gold: float) -> tuple[float, float, float]:
    precision = tp / predicted if predicted else 0.0
    recall = tp / gold if gold else 0.0
    return precision, recall, (2 * precision * recall / (precision + recall) if precision + recall else 0.0)


def multilabel_metrics(gold: np.ndarray, predicted: np.ndarray, labels: Sequence[str]) -> dict[str, Any]:
    """Micro-, macro- (labels with support or predictions) and samples-F1 (an example with no gold
    and no predicted label counts 1), exact match, and per-label precision/recall/F1/support, for
    boolean arrays (examples, labels)."""
    gold, predicted = np.asarray(gold, bool), np.asarray(predicted, bool)
    tp, support, chosen = (gold & predicted).sum(0), gold.sum(0), predicted.sum(0)
    precision = np.divide(tp, chosen, out=np.zeros(len(tp)), where=chosen > 0)
    recall = np.divide(tp, support, out=np.zeros(len(tp)), where=support > 0)
    f1 = _label_f1(gold, predicted)
    per_label = {label: {"precision": float(precision[k]), "recall": float(recall[k]), "f1": float(f1[k]),
                         "support": int(support[k])} for k, label in enumerate(labels)}
    samples = [1.0 if not g.any() and not q.any() else _f1(float((g & q).sum()), float(q.sum()), float(g.sum()))[2]
               for g, q in zip(gold, predicted)]
    return {"micro_f1": _f1(float(tp.sum()), float(predicted.sum()), float(gold.sum()))[2],
            "macro_f1": _macro_f1(gold, predicted), "samples_f1": float(np.mean(samples)) if samples else 0.0,
            "exact_match": float(np.mean((gold == predicted).all(1))) if len(gold) else 0.0,
            "per_label": per_label, "examples": int(len(gold))}


def at_k(gold: np.ndarray, probs: np.ndarray, k: int) -> tuple[float, float]:
    """Precision and recall at k as fastText's ``test FILE k`` defines them: the k most likely labels
    of every example are its predictions; precision = correct / predictions, recall = correct /
    gold labels."""
    gold = np.asarray(gold, bool)
    k = min(k, probs.shape[1])
    top = np.argsort(-probs, axis=1, kind="stable")[:, :k]
    correct = float(np.take_along_axis(gold, top, axis=1).sum())
    return correct / max(1, top.size), correct / max(1, int(gold.sum()))


THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(1, 20))


PER_LABEL_MIN_SUPPORT = 5  # validation examples of a label below which it keeps the global threshold


def _label_f1(gold: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """F1 of every label (0 where it has neither gold nor predicted examples)."""
    tp = (gold & predicted).sum(0).astype(float)
    total = gold.sum(0) + predicted.sum(0)
    return np.divide(2 * tp, total, out=np.zeros_like(tp), where=total > 0)


def _macro_f1(gold: np.ndarray, predicted: np.ndarray) -> float:
    """Macro-F1 over the labels with gold or predicted examples."""
    counted = gold.any(0) | predicted.any(0)
    return float(_label_f1(gold, predicted)[counted].mean()) if counted.any() else 0.0


def choose_threshold(gold: np.ndarray, probs: np.ndarray) -> float:
    """The one decision threshold for every label (0.05 ... 0.95) with the best macro-F1 on the
    given (validation) examples; among equals, the one nearest 0.5."""
    gold = np.asarray(gold, bool)
    return max((_macro_f1(gold, probs >= t), -abs(t - 0.5), t) for t in THRESHOLDS)[2]


def per_label_thresholds(gold: np.ndarray, probs: np.ndarray, fallback: float) -> np.ndarray:
    """For each label with PER_LABEL_MIN_SUPPORT validation examples or more, the threshold with
    its best F1 (among equals, the one nearest ``fallback``); ``fallback`` for the others."""
    gold = np.asarray(gold, bool)
    grid = np.asarray(THRESHOLDS)
    f1 = np.stack([_label_f1(gold, probs >= t) for t in grid])  # (thresholds, labels)
    nearness = -np.abs(grid - fallback)[:, None] * 1e-9
    chosen = grid[np.argmax(f1 + nearness, axis=0)]
    return np.where(gold.sum(0) >= PER_LABEL_MIN_SUPPORT, chosen, fallback)


def choose_thresholds(gold: np.ndarray, probs: np.ndarray) -> tuple[float, np.ndarray | None]:
    """The global threshold, and per-label thresholds when they serve better, else None.

    Per-label thresholds fit the validation examples they are chosen on more closely than one
    threshold does, so the choice between them is cross-fitted: each rule is chosen on one half
    of the examples (alternate rows) and scored by macro-F1 on the other, both ways round; per
    label wins only when its held-out macro-F1 is higher.
    """
    gold = np.asarray(gold, bool)
    threshold = choose_threshold(gold, probs)
    halves = [np.arange(len(gold)) % 2 == k for k in (0, 1)]
    one = each = 0.0
    for fit, score in (halves, halves[::-1]):
        fitted = choose_threshold(gold[fit], probs[fit])
        one += _macro_f1(gold[score], probs[score] >= fitted)
        each += _macro_f1(gold[score], probs[score] >= per_label_thresholds(gold[fit], probs[fit], fitted))
    if each <= one:
        return threshold, None
    return threshold, per_label_thresholds(gold, probs, threshold)
