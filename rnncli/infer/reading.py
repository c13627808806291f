"""Reading a text with a language model, written once for every engine.

A text is read as parallel columns (:func:`rnncli.corpus.eval_grid`), each from the start state,
in windows with the state carried, so that a long text costs constant memory and many tokens are
read per call. Training's validation, ``evaluate``, the unigram cache's fit and the ONNX export's
check all read through :func:`read_columns`, so their figures agree.
"""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from rnncli.corpus import eval_column_count, eval_grid, stream_order

WINDOW = 256  # time steps per call of a recurrent engine (engine.window)


def read_columns(engine: Any, ids: np.ndarray, columns: int | None = None,
                 part: tuple[int, int] = (0, 1), features: bool = False) -> Iterator[tuple[np.ndarray, ...]]:
    """(log P of the targets, mask of the real ones), both (time, columns), window by window; with
    ``features`` also the states that predicted them (time, columns, d), for the neural cache.

    ``columns`` defaults to the engine's own (``engine.columns``), else to as many as the text's
    length warrants; ``part`` (rank, world) reads every world-th column from the rank-th, the share
    of one process of a distributed run.
    """
    ids = np.asarray(ids)
    inputs, targets, mask = eval_grid(ids, columns or engine.columns or eval_column_count(len(ids)))
    window = engine.window
    rank, world = part
    if world > 1:
        inputs, targets, mask = (a[:, rank::world] for a in (inputs, targets, mask))
    state = None
    read = engine.target_log_probs_features if features else engine.target_log_probs
    for start in range(0, inputs.shape[0], window):
        picked, *rest = read(inputs[start : start + window], targets[start : start + window], state)
        state = rest[-1]
        yield picked, mask[start : start + window], *rest[:-1]


def stream_log_probs(engine: Any, ids: np.ndarray, columns: int | None = None) -> np.ndarray:
    """log P of every token of ``ids`` but the first, in the text's order."""
    return stream_order(np.concatenate([picked for picked, _ in read_columns(engine, ids, columns)]), len(ids))


def stream_log_probs_features(engine: Any, ids: np.ndarray, columns: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """log P of every token of ``ids`` but the first, and the state that predicted each (n - 1, d),
    in the text's order."""
    windows = list(read_columns(engine, ids, columns, features=True))
    picked = stream_order(np.concatenate([w[0] for w in windows]), len(ids))
    return picked, stream_order(np.concatenate([w[2] for w in windows]), len(ids))


def total_nll(engine: Any, ids: np.ndarray, columns: int | None = None,
              part: tuple[int, int] = (0, 1)) -> tuple[float, int]:
    """The negative log-likelihood of the text's tokens after the first, and their number (of the
    columns of ``part``)."""
    total, count = 0.0, 0
    for picked, mask in read_columns(engine, ids, columns, part):  # type: ignore[misc]
        total -= float(np.asarray(picked, dtype=np.float64)[mask].sum())
        count += int(mask.sum())
    return total, count
