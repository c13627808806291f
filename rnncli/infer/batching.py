"""Batching by length, written once: texts of similar length share a batch, so little of each batch
is padding, and the results come back in the order given."""

from __future__ import annotations

from typing import Any, Iterator, Sequence

import numpy as np

from rnncli.infer.options import INFERENCE_BATCH

# Padded tokens per engine call. A few texts of mixed lengths (a server's batch) padded to the
# longest waste most of the call; above this, splitting them by length costs less than the padding,
# and sorted blocks of many texts (classify on a file) lose little. Chosen on sms_spam's training
# texts (never its test split), ONNX LSTM classifier: a batch of 32 random texts 1.6x faster than
# one padded call, 8,192 texts 1.1x.
PADDED_TOKENS = 1024


def pad(sequences: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """(batch, time) ids padded with 0, and the true lengths (at least 1: an empty text is one pad)."""
    lengths = np.array([max(1, len(s)) for s in sequences], dtype=np.int64)
    tokens = np.zeros((len(sequences), int(lengths.max(initial=1))), dtype=np.int64)
    for row, sequence in enumerate(sequences):
        tokens[row, : len(sequence)] = sequence
    return tokens, lengths


def length_batches(sequences: Sequence[Sequence[int]], batch_size: int = INFERENCE_BATCH,
                   max_tokens: int = PADDED_TOKENS) -> Iterator[tuple[list[int], np.ndarray, np.ndarray]]:
    """(indices into ``sequences``, padded tokens, lengths) of batches of similar length: at most
    ``batch_size`` rows and, past the first row, ``max_tokens`` padded tokens."""
    order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
    chosen: list[int] = []
    for i in order:
        if chosen and (len(chosen) == batch_size or (len(chosen) + 1) * max(1, len(sequences[i])) > max_tokens):
            yield (chosen, *pad([sequences[k] for k in chosen]))
            chosen = []
        chosen.append(i)
    if chosen:
        yield (chosen, *pad([sequences[k] for k in chosen]))


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
