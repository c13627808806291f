"""Which cache a language model reads with, and reading a text through it. No torch.

A run fits both caches on its validation text when training ends; ``auto`` reads with the one
that text chose (the neural cache when it beat the unigram one there, else the unigram cache when
it beat the network alone, else none); ``none``, ``unigram`` and ``neural`` ask for one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnncli.errors import InputError
from rnncli.infer.options import CACHES
from rnncli.infer.reading import stream_log_probs, stream_log_probs_features
from rnncli.infer.search import log_softmax

SEGMENT = 200_000  # tokens read at a time with the neural cache: its states cost memory per token


def pick(engine: Any, choice: str) -> Any:
    """The cache ``choice`` names for this engine's run, or None to read with the network alone."""
    if choice not in CACHES:
        raise InputError(f"unknown cache {choice!r}: {', '.join(CACHES)}")
    neural = getattr(engine, "neural_cache", None)
    unigram = getattr(engine, "unigram_cache", None)
    if choice == "neural" and neural is None:
        raise InputError("this run has no neural cache (trained before it existed, an n-gram model, an export "
                         "without the states it reads, or no fit gained on validation): use --cache unigram or none")
    if choice == "auto":
        return neural if neural is not None and neural.chosen else unigram
    return {"none": None, "unigram": unigram, "neural": neural}[choice]


def read_with(engine: Any, ids: np.ndarray, cache: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """The network's log P of every token of ``ids`` but the first and, with a cache, the
    mixture's. The neural cache reads the text in segments of SEGMENT tokens, each started
    ``window`` tokens early so that its window is full at the first token it scores."""
    if cache is None or not cache.needs_features:
        network = stream_log_probs(engine, ids)
        return network, cache.mix(network, np.asarray(ids)) if cache is not None else None
    ids = np.asarray(ids)
    networks, mixtures = [], []
    for first in range(1, len(ids), SEGMENT):
        low = max(0, first - 1 - cache.window)
        log_probs, features = stream_log_probs_features(engine, ids[low : first + SEGMENT])
        network = log_probs[first - low - 1 :]
        networks.append(network)
        mixtures.append(cache.mix(network, ids[low : first + SEGMENT], first=first - low, features=features))
    return np.concatenate(networks), np.concatenate(mixtures)


class CachedStepping:
    """A language model as generation sees it (:class:`rnncli.infer.engine.Stepping`), its scores
    replaced by the cache mixture's log-probabilities over the prompt and what was generated: the
    unigram cache counts the last ``window`` tokens, the neural cache matches the present state
    against the last ``window`` states (the engine's ``start_features``/``step_features`` give
    them). Only the last ``window + 1`` positions are kept, so a long generation costs constant
    memory per step."""

    def __init__(self, lm: Any, cache: Any) -> None:
        if cache.needs_features and not hasattr(lm, "step_features"):
            raise InputError("this model gives no hidden states to the neural cache: use --cache unigram")
        self.lm, self.cache = lm, cache
        self.history = np.zeros((0, 0), dtype=np.int64)  # (samples, positions)
        self.features: np.ndarray | None = None  # (samples, positions, d): the state after each id

    def start(self, prompt_ids: list[int], num_samples: int) -> tuple[np.ndarray, Any]:
        if self.cache.needs_features:
            scores, state, features = self.lm.start_features(prompt_ids, num_samples)
            self.features = np.swapaxes(np.asarray(features, dtype=np.float32), 0, 1)
        else:
            scores, state = self.lm.start(prompt_ids, num_samples)
        self.history = np.repeat(np.asarray(prompt_ids, dtype=np.int64)[None, :], num_samples, axis=0)
        return self._mixed(scores), state

    def step(self, tokens: np.ndarray, state: Any) -> tuple[np.ndarray, Any]:
        keep = self.cache.window + 1
        self.history = np.concatenate([self.history, np.asarray(tokens, dtype=np.int64)[:, None]], axis=1)[:, -keep:]
        if self.features is not None:
            scores, state, features = self.lm.step_features(tokens, state)
            self.features = np.concatenate([self.features, np.asarray(features, dtype=np.float32)[:, None]],
                                           axis=1)[:, -keep:]
        else:
            scores, state = self.lm.step(tokens, state)
        return self._mixed(scores), state

    def select(self, state: Any, rows: np.ndarray) -> Any:
        self.history = self.history[rows]
        if self.features is not None:
            self.features = self.features[rows]
        return self.lm.select(state, rows)

    def _mixed(self, scores: np.ndarray) -> np.ndarray:
        log_probs = log_softmax(scores)
        return np.stack([self.cache.next_log_probs(row, history, None if self.features is None else self.features[k])
                         for k, (row, history) in enumerate(zip(log_probs, self.history))])


def sampling_model(engine: Any, choice: str) -> Any:
    """What generation steps through: the engine itself, or with ``choice``'s cache mixed in."""
    cache = pick(engine, choice)
    return engine if cache is None else CachedStepping(engine, cache)
