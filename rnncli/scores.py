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
