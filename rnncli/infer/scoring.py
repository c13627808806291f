"""Scoring text line by line with a language model: log-probability, perplexity, bits per
character, and the surprisal of each token. Works with any language engine (torch's, an ONNX
export's, an n-gram model's: :class:`rnncli.infer.engine.LanguageEngine`), and streams: lines are read, scored and written in blocks, in constant memory.

Each line is scored as training reads it: after ``<eos>``, every token of the line and the
``<eos>`` that ends it are predicted. With ``carry`` the lines are one stream instead, the state
carried from line to line; the first token of the stream has no context and is not scored, so
the scores of a file sum to what ``rnncli evaluate`` reports for it (read as one column).

With a cache (:mod:`rnncli.unigram_cache`, :mod:`rnncli.neural_cache`) each token is scored by the
mixture, the cache reading the tokens (and for the neural cache the states) before it: those of its
line (and the ``<eos>`` before it), or with ``carry`` those of the stream so far, as ``evaluate``
reads them.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Iterator

import numpy as np

from rnncli.corpus import LN2
from rnncli.infer.engine import LanguageEngine
from rnncli.text.vocab import EOS, PAD, Vocab

BLOCK = 64  # independent lines scored together, as the columns of one batch


def score_lines(lm: LanguageEngine, vocab: Vocab, lines: Iterable[str], per_token: bool = False,
                carry: bool = False, cache: Any = None) -> Iterator[dict[str, Any]]:
    """One record per line: text, tokens (predicted), logprob (nats), ppl, bpc; with ``per_token``
    also each predicted token and its log-probability."""
    if carry:
        yield from _carried(lm, vocab, lines, per_token, cache)
        return
    block: list[str] = []
    for line in lines:
        block.append(line)
        if len(block) == BLOCK:
            yield from _independent(lm, vocab, block, per_token, cache)
            block = []
    if block:
        yield from _independent(lm, vocab, block, per_token, cache)


def _independent(lm: LanguageEngine, vocab: Vocab, lines: list[str], per_token: bool,
                 cache: Any) -> Iterator[dict[str, Any]]:
    ids = [[*encoded, EOS] for encoded in vocab.encode_batch(lines)]
    steps = max(len(x) for x in ids)
    inputs = np.full((steps, len(ids)), PAD, dtype=np.int64)
    targets = np.full((steps, len(ids)), PAD, dtype=np.int64)
    for column, sequence in enumerate(ids):
        inputs[: len(sequence), column] = [EOS, *sequence[:-1]]
        targets[: len(sequence), column] = sequence
    picked, features, _ = _read(lm, inputs, targets, None, cache)
    for column, (line, sequence) in enumerate(zip(lines, ids)):
        scores = picked[: len(sequence), column]
        if cache is not None:
            states = features[: len(sequence), column] if features is not None else None
            scores = cache.mix(scores, np.asarray([EOS, *sequence]), features=states)
        yield _record(vocab, line, sequence, scores, len(line) + 1, per_token)


def _read(lm: LanguageEngine, inputs: np.ndarray, targets: np.ndarray, state: Any,
          cache: Any) -> tuple[np.ndarray, np.ndarray | None, Any]:
    """log P of the targets, the states that predicted them when the cache reads states, the state."""
    if cache is not None and cache.needs_features:
        return lm.target_log_probs_features(inputs, targets, state)  # type: ignore[attr-defined, no-any-return]
    picked, state = lm.target_log_probs(inputs, targets, state)
    return picked, None, state


def _carried(lm: LanguageEngine, vocab: Vocab, lines: Iterable[str], per_token: bool,
             cache: Any) -> Iterator[dict[str, Any]]:
    state, previous = None, None
    history = np.zeros(0, dtype=np.int64)  # the cache's window of the stream so far
    states = np.zeros((0, 0), dtype=np.float32)  # the neural cache's: the states after history[:-1]
    for line in lines:
        sequence = [*vocab.encode(line), EOS]
        if previous is None:  # the stream's first token: no context, not scored
            previous, sequence, scored_chars = sequence[0], sequence[1:], len(line) + 1
        else:
            scored_chars = len(line) + 1
        inputs = np.asarray([previous, *sequence[:-1]], dtype=np.int64)[:, None]
        if len(sequence):
            picked, features, state = _read(lm, inputs, np.asarray(sequence, dtype=np.int64)[:, None], state, cache)
            picked = picked[:, 0]
            if cache is not None:
                history = history if len(history) else np.asarray([previous], dtype=np.int64)
                stream = np.concatenate([history, np.asarray(sequence, dtype=np.int64)])
                if features is not None:
                    states = np.concatenate([states.reshape(-1, features.shape[2]), features[:, 0]])
                picked = cache.mix(picked, stream, len(history), features=states if features is not None else None)
                history, states = stream[-(cache.window + 1) :], states[-cache.window :]
            previous = sequence[-1]
        else:
            picked = np.zeros(0, dtype=np.float32)
        yield _record(vocab, line, sequence, picked, scored_chars, per_token)


def _record(vocab: Vocab, line: str, sequence: list[int], picked: np.ndarray, chars: int,
            per_token: bool) -> dict[str, Any]:
    logprob = float(picked.astype(np.float64).sum())
    tokens = len(sequence)
    record: dict[str, Any] = {"text": line, "tokens": tokens, "logprob": logprob,
                              "ppl": math.exp(min(-logprob / tokens, 700.0)) if tokens else None,
                              "bpc": -logprob / LN2 / chars}
    if per_token:
        record["per_token"] = [{"token": piece, "logprob": float(p)}
                               for piece, p in zip(vocab.pieces(sequence), picked)]
    return record
