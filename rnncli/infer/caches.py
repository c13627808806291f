"""Which cache a language model reads with, and reading a text through it. No torch.

A run fits both caches on its validation text when training ends; ``auto`` reads with the one
that text chose (the neural cache when it beat the unigram one there, else the unigram cache when
it beat the network alone, else none); ``none``, ``unigram`` and ``neural`` ask for one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnncli.errors import InputError
from rnncli.infer.reading import stream_log_probs, stream_log_probs_features

CACHES = ("auto", "none", "unigram", "neural")
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
