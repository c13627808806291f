"""The continuous (neural) cache of a language model (Grave, Joulin and Usunier, 2017).

The network's state after reading a token, h_t, predicts the next one. The cache keeps the last
``window`` states with the token that followed each, and predicts a word by how much the present
state resembles the states that were followed by it:

    P_cache(w) = sum over i in the window with x_{i+1} = w of softmax_i(theta * h_t . h_i)
    P(w) = (1 - weight) P_net(w) + weight P_cache(w)

``theta`` flattens or sharpens the match. Unlike the unigram cache (:mod:`rnncli.unigram_cache`),
which counts every recent word alike, it favours the words that followed contexts like this one.
Its window, theta and weight are fitted on the validation text when training ends and kept only
when they beat both the network alone and the unigram cache there; ``evaluate`` and ``score``
then read with it. It needs the network's hidden states: torch engines and exports made since it
exists give them. No torch here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rnncli.errors import FormatError
from rnncli.fileio import read_json, write_json
from rnncli.run.files import NEURAL_CACHE as CACHE_FILE
from rnncli.unigram_cache import MIN_GAIN, WEIGHTS, fingerprint

WINDOWS = (100, 500, 1000, 2000)
THETAS = (0.03, 0.1, 0.3, 1.0)  # a coarse grid, refined around the best (see fit)
FIT_TOKENS = 30_000  # of the validation text: the fit's cost grows with it (below)
FIT_SECONDS_PER_TOKEN = 2e-4  # what a time budget keeps back for the fit (measured: 1.2e-4 on 2 cores)
BLOCK = 256  # positions scored together against their window


@dataclass(frozen=True)
class NeuralCache:
    window: int
    theta: float
    weight: float
    fitted_on: str | None = None  # the fingerprint of the validation ids it was fitted on
    chosen: bool = True  # whether it beat the network alone and the unigram cache on validation

    needs_features = True
    key = "neural_cache"  # its name in evaluate's report

    def fitted_on_text(self, ids: np.ndarray) -> bool:
        if not self.fitted_on:
            return False
        count = int(self.fitted_on.partition(":")[0])
        return len(ids) >= count and fingerprint(np.asarray(ids)[:count]) == self.fitted_on

    def mix(self, log_probs: np.ndarray, ids: np.ndarray, first: int = 1,
            features: np.ndarray | None = None) -> np.ndarray:
        """log P under the mixture of ``ids[first:]`` given the network's ``log_probs`` of each and
        ``features``, the states after ``ids[:-1]`` (row p read ids[p] and predicts ids[p+1])."""
        if features is None:
            raise ValueError("the neural cache reads the network's states")
        targets = np.asarray(ids, dtype=np.int64)[1:]
        probs, seen = cache_probabilities(np.asarray(features, dtype=np.float32), targets, self.window, (self.theta,))
        return mixed(np.asarray(log_probs, dtype=np.float64), probs[0][first - 1 :], seen[first - 1 :], self.weight)

    def record(self) -> dict[str, Any]:
        """What evaluate reports and an export keeps."""
        return {"window": self.window, "theta": self.theta, "weight": self.weight}

    def next_log_probs(self, log_probs: np.ndarray, history: np.ndarray, features: np.ndarray | None) -> np.ndarray:
        """The mixture's log P of every token of the vocabulary after ``history``, given the
        network's ``log_probs`` of each and ``features``, the state after each id of ``history``
        (the last one predicts the next token): what generation samples from."""
        if features is None:
            raise ValueError("the neural cache reads the network's states")
        log_probs = np.asarray(log_probs, dtype=np.float64)
        keys = np.asarray(features, dtype=np.float32)[:-1][-self.window :]
        if len(keys) == 0:
            return log_probs
        followers = np.asarray(history, dtype=np.int64)[1:][-self.window :]
        scores = self.theta * (keys @ np.asarray(features[-1], dtype=np.float32)).astype(np.float64)
        weights = np.exp(scores - scores.max())
        cache = np.zeros(len(log_probs))
        np.add.at(cache, followers, weights / weights.sum())
        return mixed(log_probs, cache, np.True_, self.weight)  # the window holds states: every token mixes


def mixed(log_probs: np.ndarray, cache: np.ndarray, seen: np.ndarray | np.bool_, weight: float) -> np.ndarray:
    """The mixture's log-probabilities; a position with an empty window reads the network alone."""
    with np.errstate(divide="ignore"):
        both = np.logaddexp(math.log1p(-weight) + log_probs, math.log(weight) + np.log(cache))
    return np.where(seen, both, log_probs)


def cache_probabilities(features: np.ndarray, targets: np.ndarray, window: int,
                        thetas: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    """P_cache of each target under each theta, shape (thetas, n), and whether its window held any
    state. ``features[t]`` predicts ``targets[t]``; the window of t is the states t-window..t-1."""
    n = len(targets)
    probs = np.zeros((len(thetas), n), dtype=np.float64)
    for start in range(0, n, BLOCK):
        stop = min(n, start + BLOCK)
        low = max(0, start - window)
        scores = features[start:stop] @ features[low : stop - 1].T if stop - 1 > low else None
        if scores is None:
            continue
        rows = np.arange(start, stop)[:, None]
        cols = np.arange(low, stop - 1)[None, :]
        valid = (cols < rows) & (cols >= rows - window)
        same = valid & (targets[low : stop - 1][None, :] == targets[start:stop][:, None])
        top = np.where(valid, scores, -np.inf).max(axis=1, keepdims=True)
        shifted = np.where(valid, scores - np.where(np.isfinite(top), top, 0.0), -np.inf)
        for k, theta in enumerate(thetas):
            weights = np.exp(theta * shifted)
            total = weights.sum(axis=1)
            probs[k, start:stop] = np.divide((weights * same).sum(axis=1), total, out=np.zeros_like(total),
                                             where=total > 0)
    seen = np.arange(n) > 0
    return probs, seen


def fit(ids: np.ndarray, log_probs: np.ndarray, features: np.ndarray, unigram_loss: float | None) -> dict[str, Any]:
    """Window, theta and weight minimising the loss of the validation stream ``ids`` (the first
    FIT_TOKENS), given the network's ``log_probs`` of ids[1:] and its ``features`` after ids[:-1];
    ``chosen`` when it gains MIN_GAIN over both the network and ``unigram_loss`` (the unigram
    cache's loss on the same tokens)."""
    ids = np.asarray(ids)[: FIT_TOKENS + 1]
    n = len(ids) - 1
    log_probs = np.asarray(log_probs, dtype=np.float64)[:n]
    features = np.asarray(features, dtype=np.float32)[:n]
    network = -float(log_probs.mean()) if n else math.nan
    record: dict[str, Any] = {"window": 0, "theta": 0.0, "weight": 0.0, "valid_loss": None,
                              "valid_loss_network": network if math.isfinite(network) else None,
                              "valid_loss_unigram": unigram_loss, "valid_tokens": n, "chosen": False}
    if not math.isfinite(network) or n < 2:
        return record
    targets = np.asarray(ids[1:], dtype=np.int64)
    best = (network, 0, 0.0, 0.0)
    for window in (w for w in WINDOWS if w < n):
        here = (math.inf, THETAS[0], 0.0)
        thetas = THETAS
        for _ in range(2):  # the coarse grid, then the neighbours of its best theta
            probs, seen = cache_probabilities(features, targets, window, thetas)
            for k, theta in enumerate(thetas):
                for weight in WEIGHTS:
                    loss = -float(mixed(log_probs, probs[k], seen, weight).mean())
                    if loss < here[0]:
                        here = (loss, theta, weight)
            thetas = (round(here[1] / 1.8, 4), round(here[1] * 1.8, 4))
        if here[0] < best[0]:
            best = (here[0], window, here[1], here[2])
    loss, window, theta, weight = best
    if weight:
        record.update(window=window, theta=theta, weight=weight, valid_loss=loss, fitted_on=fingerprint(ids))
        rival = min(network, unigram_loss if unigram_loss is not None else network)
        record["chosen"] = rival - loss >= MIN_GAIN
    return record


def fit_and_keep(ids: np.ndarray, log_probs: np.ndarray, features: np.ndarray, unigram_loss: float | None,
                 run: Path, report: Any, keep: bool = True) -> None:
    """Fit the cache on validation (see :func:`fit`), keep its record in the run (``keep``: the
    process that writes) and say whether validation chose it."""
    record = fit(ids, log_probs, features, unigram_loss)
    if keep:
        save(record, run)
    if not record["weight"]:
        report("neural cache: none helps on validation")
        return
    rivals = f"the network alone {math.exp(record['valid_loss_network']):,.2f}"
    if unigram_loss is not None:
        rivals += f", the unigram cache {math.exp(unigram_loss):,.2f}"
    report(f"neural cache: window {record['window']:,}, theta {record['theta']:g}, weight {record['weight']:g}: "
           f"validation perplexity {math.exp(record['valid_loss']):,.2f} on its first {record['valid_tokens']:,} "
           f"tokens ({rivals}); {'evaluate and score read with it' if record['chosen'] else 'not chosen'}")


def save(record: dict[str, Any], run: Path) -> None:
    write_json(run / CACHE_FILE, record)


def read_record(run: Path) -> dict[str, Any] | None:
    path = run / CACHE_FILE
    return read_json(path, what="neural cache record") if path.is_file() else None


def from_record(record: dict[str, Any] | None) -> NeuralCache | None:
    """The cache of a fit's record (``chosen`` says whether validation chose it), or None when no
    fit gained there."""
    if not record or not record.get("weight"):
        return None
    try:
        window, theta, weight = int(record["window"]), float(record["theta"]), float(record["weight"])
    except (KeyError, TypeError, ValueError) as exc:
        raise FormatError(f"not a valid neural cache record ({exc})") from None
    if window < 1 or not 0 < weight < 1 or not math.isfinite(theta) or theta <= 0:
        raise FormatError(f"not a valid neural cache record (window {window}, theta {theta}, weight {weight})")
    fitted_on = record.get("fitted_on")
    return NeuralCache(window, theta, weight, fitted_on if isinstance(fitted_on, str) else None,
                       record.get("chosen") is True)


def read(run: Path) -> NeuralCache | None:
    try:
        return from_record(read_record(run))
    except FormatError as exc:
        raise FormatError(f"{run / CACHE_FILE}: {exc}") from None
