"""Batching by length, written once: texts of similar length share a batch, so little of each batch
is padding, and the results come back in the order given."""

from __future__ import annotations

from typing import Any, Iterator, Sequence

import numpy as np

from rnncli.infer.options import INFERENCE_BATCH


def pad(sequences: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """(batch, time) ids padded with 0, and the true lengths (at least 1: an empty text is one pad)."""
    lengths = np.array([max(1, len(s)) for s in sequences], dtype=np.int64)
    tokens = np.zeros((len(sequences), int(lengths.max(initial=1))), dtype=np.int64)
    for row, sequence in enumerate(sequences):
        tokens[row, : len(sequence)] = sequence
    return tokens, lengths


def length_batches(sequences: Sequence[Sequence[int]],
                   batch_size: int = INFERENCE_BATCH) -> Iterator[tuple[list[int], np.ndarray, np.ndarray]]:
    """(indices into ``sequences``, padded tokens, lengths) of batches of similar length."""
    order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
    for start in range(0, len(order), batch_size):
        chosen = order[start : start + batch_size]
        yield (chosen, *pad([sequences[i] for i in chosen]))


def batched_rows(compute: Any, sequences: Sequence[Sequence[int]], batch_size: int = INFERENCE_BATCH) -> np.ndarray:
    """``compute(tokens, lengths)`` of every sequence, one row each, in the order given."""
    out: np.ndarray | None = None
    for chosen, tokens, lengths in length_batches(sequences, batch_size):
        rows = np.asarray(compute(tokens, lengths))
        if out is None:
            out = np.zeros((len(sequences), *rows.shape[1:]), dtype=np.float32)
        out[chosen] = rows
    return out if out is not None else np.zeros((0, 0), dtype=np.float32)


def predict(engine: Any, sequences: Sequence[Sequence[int]], batch_size: int = INFERENCE_BATCH) -> np.ndarray:
    """A classifier engine's label probabilities (n, labels) of token sequences, in the order given."""
    if not sequences:
        return np.zeros((0, len(engine.labels)), dtype=np.float32)
    return batched_rows(engine.probs, sequences, batch_size)
