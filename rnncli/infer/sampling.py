"""Sampling text from a language model one token at a time, whatever runs the model.

The loop only needs a model that starts from a prompt and steps by one token
(:class:`rnncli.infer.engine.Stepping`): any language engine, torch's, an ONNX export's or an
n-gram model's. Sampling
(temperature, top-k, top-p) runs in numpy on the scores, with its own seeded generator, so the same
seed gives the same text on either. No torch here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from rnncli.errors import ConfigError
from rnncli.infer.engine import Stepping
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


def sample_pieces(lm: Stepping, vocab: Vocab, prompt: str, options: SamplingOptions) -> Iterator[str]:
    """One sample's continuation of ``prompt``, as text, piece by piece as its tokens decode (a
    piece is empty where a token does not end a character yet): what a stream writes."""
    decoder = StreamDecoder(vocab)
    for tokens in generate(lm, vocab.encode(prompt), options, 1):
        yield decoder.feed(int(tokens[0]))
    tail = decoder.flush()
    if tail:
        yield tail


def decoded(vocab: Vocab, ids: list[int]) -> str:
    """Generated ids as text, as it streams: each ``<eos>`` a line end."""
    decoder = StreamDecoder(vocab)
    return "".join(decoder.feed(t) for t in ids) + decoder.flush()
