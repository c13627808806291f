"""Searching for the most likely continuation instead of sampling one: beam search (the beams
advance as one batch) and best-of (N samples in one batch, rescored), over any language engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rnncli.errors import ConfigError
from rnncli.infer.engine import Stepping
from rnncli.infer.sampling import SamplingOptions, decoded, generate
from rnncli.text.vocab import BOS, EOS, PAD, Vocab


def log_softmax(scores: np.ndarray) -> np.ndarray:
    """Log-probabilities from logits or log-probabilities, row by row (float64)."""
    z = np.asarray(scores, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def beam_search(lm: Stepping, prompt_ids: list[int], beam: int, max_tokens: int, length_penalty: float = 1.0,
                stop_at_eos: bool = False) -> list[tuple[list[int], float]]:
    """The ``beam`` most likely continuations (ids, total log-probability), best first, ranked by
    total / length ** length_penalty. Deterministic; the beams advance as one batch."""
    if beam < 1:
        raise ConfigError("--beam must be at least 1")
    scores, state = lm.start([EOS, *prompt_ids], 1)
    sequences: list[list[int]] = [[]]
    totals = np.zeros(1)
    finished: list[tuple[list[int], float]] = []
    for _ in range(max_tokens):
        logp = log_softmax(scores)
        logp[:, [PAD, BOS]] = -np.inf
        candidates = (totals[:, None] + logp).ravel()
        best = np.argsort(-candidates, kind="stable")[: 2 * beam]
        rows, tokens = np.divmod(best, logp.shape[1])
        keep_rows, keep_tokens, keep_totals = [], [], []
        for row, token, total in zip(rows, tokens, candidates[best]):
            if not np.isfinite(total):
                continue
            if stop_at_eos and token == EOS:
                finished.append((sequences[row] + [int(token)], float(total)))
            elif len(keep_rows) < beam:
                keep_rows.append(int(row))
                keep_tokens.append(int(token))
                keep_totals.append(float(total))
        if len(finished) >= beam or not keep_rows:
            break
        sequences = [sequences[r] + [t] for r, t in zip(keep_rows, keep_tokens)]
        totals = np.asarray(keep_totals)
        scores, state = lm.step(np.asarray(keep_tokens, dtype=np.int64), lm.select(state, np.asarray(keep_rows)))
    finished.extend((s, float(t)) for s, t in zip(sequences, totals) if s)

    def rank(item: tuple[list[int], float]) -> float:
        return item[1] / max(1, len(item[0])) ** length_penalty

    return sorted(finished, key=rank, reverse=True)[:beam]


def sequence_logprob(lm: Any, prompt_ids: list[int], continuations: list[list[int]]) -> list[float]:
    """The total log-probability of each continuation after the prompt (one batch)."""
    context = [EOS, *prompt_ids]
    longest = max((len(c) for c in continuations), default=0)
    if longest == 0:
        return [0.0 for _ in continuations]
    width = len(context) + longest
    inputs = np.full((width - 1, len(continuations)), PAD, dtype=np.int64)
    targets = np.full((width - 1, len(continuations)), PAD, dtype=np.int64)
    for column, continuation in enumerate(continuations):
        row = context + continuation
        inputs[: len(row) - 1, column] = row[:-1]
        targets[: len(row) - 1, column] = row[1:]
    picked, _ = lm.target_log_probs(inputs, targets)
    start = len(context) - 1
    return [float(picked[start : start + len(c), column].astype(np.float64).sum())
            for column, c in enumerate(continuations)]


def best_of(lm: Stepping, prompt_ids: list[int], options: SamplingOptions,
            samples: int) -> list[tuple[list[int], float]]:
    """``samples`` continuations sampled as one batch, with their total log-probability, most likely first."""
    rows: list[list[int]] = [[] for _ in range(samples)]
    for tokens in generate(lm, prompt_ids, options, samples):
        for row, token in zip(rows, tokens.tolist()):
            if token != PAD:
                row.append(token)
    totals = sequence_logprob(lm, prompt_ids, rows)
    return sorted(zip(rows, totals), key=lambda item: item[1], reverse=True)


@dataclass(frozen=True)
class Search:
    """How ``generate`` picks one text per prompt: ``beam`` beams, or the best of ``best_of`` samples."""

    beam: int | None = None
    best_of: int | None = None
    length_penalty: float = 1.0

    def check(self, num_samples: int = 1) -> "Search":
        if (self.beam or self.best_of) and num_samples > 1:
            raise ConfigError("--beam and --best-of print one text per prompt: drop --num-samples (use --format jsonl)")
        if self.beam and self.best_of:
            raise ConfigError("--beam searches and --best-of samples: give one of them")
        return self

    def __bool__(self) -> bool:
        return bool(self.beam or self.best_of)


def ranked(lm: Stepping, vocab: Vocab, prompt: str, options: SamplingOptions,
           search: Search) -> list[tuple[str, int, float]]:
    """Continuations of ``prompt`` as (text, tokens, total log-probability), best first: every beam,
    or every sample of best-of."""
    ids = vocab.encode(prompt)
    if search.beam:
        found = beam_search(lm, ids, search.beam, options.max_tokens, search.length_penalty, options.stop_at_eos)
    else:
        found = best_of(lm, ids, options, search.best_of or 1)
    return [(decoded(vocab, sequence), len(sequence), total) for sequence, total in found]
