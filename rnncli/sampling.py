"""Sampling text from a language model one token at a time, whatever runs the model.

The loop only needs a model that starts from a prompt and steps by one token (:class:`Stepping`):
torch's (:mod:`rnncli.generation`) or an exported ONNX model's (:mod:`rnncli.onnxrun`). Sampling
(temperature, top-k, top-p) runs in numpy on the scores, with its own seeded generator, so the same
seed gives the same text on either. No torch here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Protocol

import numpy as np

from rnncli.errors import ConfigError
from rnncli.text.vocab import BOS, EOS, PAD, StreamDecoder, Vocab


@dataclass
class SamplingOptions:
    max_tokens: int = 300
    temperature: float = 0.8
    top_k: int | None = None
    top_p: float = 1.0
    seed: int | None = None
    stop_at_eos: bool = False

    def check(self) -> "SamplingOptions":
        if self.max_tokens < 0:
            raise ConfigError("--max-tokens must be 0 or more")
        if not (self.temperature >= 0 and np.isfinite(self.temperature)):
            raise ConfigError("--temperature must be 0 (greedy) or positive")
        if self.top_k is not None and self.top_k < 1:
            raise ConfigError("--top-k must be at least 1")
        if not (0 < self.top_p <= 1):
            raise ConfigError("--top-p must be in (0, 1]")
        return self


def sample_tokens(logits: np.ndarray, options: SamplingOptions, rng: np.random.Generator) -> np.ndarray:
    """One token per row of ``logits`` (batch, vocab)."""
    if options.temperature == 0:
        return logits.argmax(axis=1)
    z = logits / options.temperature
    vocab = z.shape[1]
    if options.top_k is not None and options.top_k < vocab:
        kth = np.partition(z, vocab - options.top_k, axis=1)[:, vocab - options.top_k][:, None]
        z = np.where(z < kth, -np.inf, z)
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    if options.top_p < 1.0:
        order = np.argsort(-p, axis=1)
        sorted_p = np.take_along_axis(p, order, axis=1)
        cumulative = np.cumsum(sorted_p, axis=1)
        total = cumulative[:, -1:]
        drop_sorted = (cumulative - sorted_p) >= options.top_p * total  # keeps at least the first
        drop = np.zeros_like(drop_sorted)
        np.put_along_axis(drop, order, drop_sorted, axis=1)
        p = np.where(drop, 0.0, p)
    cdf = np.cumsum(p, axis=1)
    u = rng.random(len(p)) * cdf[:, -1]
    return np.minimum((cdf < u[:, None]).sum(axis=1), vocab - 1)


class Stepping(Protocol):
    """A language model as generation sees it: scores over the vocabulary (logits or
    log-probabilities, shape (samples, vocab)) and a state it carries."""

    def start(self, prompt_ids: list[int], num_samples: int) -> tuple[np.ndarray, Any]: ...

    def step(self, tokens: np.ndarray, state: Any) -> tuple[np.ndarray, Any]: ...


def generate(lm: Stepping, prompt_ids: list[int], options: SamplingOptions,
             num_samples: int = 1) -> Iterator[np.ndarray]:
    """Yield, token by token, the next id of every sample (an array of ``num_samples`` ids).

    The context starts with ``<eos>``, as every training line follows one. Samples that produced
    ``<eos>`` with ``stop_at_eos`` keep yielding ``<pad>`` until all stop.
    """
    options.check()
    if num_samples < 1:
        raise ConfigError("--num-samples must be at least 1")
    rng = np.random.default_rng(options.seed)
    scores, state = lm.start([EOS, *prompt_ids], num_samples)
    done = np.zeros(num_samples, dtype=bool)
    for _ in range(options.max_tokens):
        scores = np.array(scores, dtype=np.float32)
        scores[:, [PAD, BOS]] = -np.inf
        tokens = sample_tokens(scores, options, rng)
        if options.stop_at_eos:
            tokens = np.where(done, PAD, tokens)
            done |= tokens == EOS
        yield tokens
        if options.stop_at_eos and done.all():
            return
        scores, state = lm.step(tokens, state)


def sample_texts(lm: Stepping, vocab: Vocab, prompt: str, options: SamplingOptions,
                 num_samples: int = 1) -> list[tuple[str, int]]:
    """Each sample's continuation of ``prompt`` (without it) and its number of tokens, sampled as one batch."""
    rows: list[list[int]] = [[] for _ in range(num_samples)]
    for tokens in generate(lm, vocab.encode(prompt), options, num_samples):
        for row, token in zip(rows, tokens.tolist()):
            if token != PAD:
                row.append(token)
    return [(decoded(vocab, row), len(row)) for row in rows]


def decoded(vocab: Vocab, ids: list[int]) -> str:
    """Generated ids as text, as it streams: each ``<eos>`` a line end."""
    decoder = StreamDecoder(vocab)
    return "".join(decoder.feed(t) for t in ids) + decoder.flush()


def log_softmax(scores: np.ndarray) -> np.ndarray:
    """Log-probabilities from logits or log-probabilities, row by row (float64)."""
    z = np.asarray(scores, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


class Beamable(Stepping, Protocol):
    def select(self, state: Any, rows: np.ndarray) -> Any:
        """The state of the given batch rows, in that order."""


def beam_search(lm: Beamable, prompt_ids: list[int], beam: int, max_tokens: int, length_penalty: float = 1.0,
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
    rows = [context + c for c in continuations]
    width = len(context) + longest
    inputs = np.full((width - 1, len(rows)), PAD, dtype=np.int64)
    for column, row in enumerate(rows):
        inputs[: len(row) - 1, column] = row[:-1]
    log_probs, _ = lm.log_probs(inputs)
    totals = []
    for column, continuation in enumerate(continuations):
        start = len(context) - 1
        picked = log_probs[start : start + len(continuation), column, :]
        totals.append(float(np.take_along_axis(picked, np.asarray(continuation)[:, None], axis=1).sum()))
    return totals
