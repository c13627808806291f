"""Recurrent models: the lecture's cells as reference, the fused torch path, and the task heads."""

from typing import Any


def embedding_table(model: Any) -> Any:
    """The input embedding's weight of any of the models (the bag of words': its first rows are the
    vocabulary's)."""
    holder = getattr(model, "embedding", None) or getattr(model, "bag")
    return holder.weight
