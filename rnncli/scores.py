"""Which evaluation of a run is its best: the rule the checkpointer keeps best.safetensors by, and
what ``rnncli info`` reports."""

from __future__ import annotations

import math
from typing import Any, Callable

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
