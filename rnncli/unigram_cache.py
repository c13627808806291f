"""The unigram cache of a language model: P(w) = (1 - weight) P_net(w) + weight * (share of the
last ``window`` tokens that are w) (Kuhn and De Mori, 1990). A text keeps using the words it has
just used, more than any training corpus can tell a network, most of all when the held-out text
drifts from the training text; the cache is a proper language model still (it reads only tokens
already seen, and its probabilities sum to one).

Its window and weight are fitted on the validation text once training ends (:func:`fit`), and
kept only when they lower the validation loss; ``evaluate`` and ``score`` then read with it
(``--cache none`` reads the network alone); ``generate`` samples from the network alone unless
``--cache`` asks (a cache makes samples repeat themselves). No torch here: every engine uses it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rnncli.errors import FormatError
from rnncli.fileio import read_json, write_json
from rnncli.run.files import UNIGRAM_CACHE as CACHE_FILE

WINDOWS = (50, 100, 200, 500, 1000, 2000, 5000)
WEIGHTS = (0.005, 0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2, 0.3)
MIN_GAIN = 0.001  # nats per token on validation: a smaller gain keeps the network alone
FIT_TOKENS = 1_000_000  # the fit reads at most this much of the validation text


@dataclass(frozen=True)
class UnigramCache:
    window: int
    weight: float
    fitted_on: str | None = None  # the fingerprint of the validation ids it was fitted on

    needs_features = False  # unlike the neural cache (rnncli.neural_cache), it reads tokens only
    key = "unigram_cache"  # its name in evaluate's report

    def record(self) -> dict[str, Any]:
        """What evaluate reports and an export keeps."""
        return {"window": self.window, "weight": self.weight}

    def fitted_on_text(self, ids: np.ndarray) -> bool:
        """Whether ``ids`` begin with the text this cache was fitted on (its figure there is not a
        held-out one)."""
        if not self.fitted_on:
            return False
        count = int(self.fitted_on.partition(":")[0])
        return len(ids) >= count and fingerprint(np.asarray(ids)[:count]) == self.fitted_on

    def mix(self, log_probs: np.ndarray, ids: np.ndarray, first: int = 1, features: Any = None) -> np.ndarray:
        """log P under the cache mixture of ``ids[first:]``, given the network's ``log_probs`` of
        each of them (``ids[:first]`` is history only); ``features`` are not read."""
        return _mixed(np.asarray(log_probs, dtype=np.float64), repeat_shares(ids, self.window, first), self.weight)

    def next_log_probs(self, log_probs: np.ndarray, history: np.ndarray, features: Any = None) -> np.ndarray:
        """The mixture's log P of every token of the vocabulary after ``history`` (at least one
        id), given the network's ``log_probs`` of each: what generation samples from."""
        recent = np.asarray(history, dtype=np.int64)[-self.window :]
        shares = np.bincount(recent, minlength=len(log_probs))[: len(log_probs)] / len(recent)
        return _mixed(np.asarray(log_probs, dtype=np.float64), shares, self.weight)


def _mixed(log_probs: np.ndarray, shares: np.ndarray, weight: float) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.logaddexp(math.log1p(-weight) + log_probs, math.log(weight) + np.log(shares))


def repeat_shares(ids: np.ndarray, window: int, first: int = 1) -> np.ndarray:
    """For each position p >= ``first`` (at least 1): the share of the min(p, window) tokens
    before p that equal ``ids[p]``."""
    if first < 1:
        raise ValueError("the first position read by a cache needs a token before it")
    ids = np.asarray(ids, dtype=np.int64)
    n = len(ids)
    keys = ids * n + np.arange(n, dtype=np.int64)  # by token, then by position
    ordered = np.sort(keys)
    positions = np.arange(first, n, dtype=np.int64)
    since = ids[first:] * n + np.maximum(0, positions - window)
    counts = np.searchsorted(ordered, keys[first:]) - np.searchsorted(ordered, since)
    return counts / np.minimum(positions, window)


def fingerprint(ids: np.ndarray) -> str:
    """``count:sha256`` of a stream of ids, whatever their integer type."""
    import hashlib

    data = np.ascontiguousarray(np.asarray(ids, dtype="<i8")).tobytes()
    return f"{len(ids)}:{hashlib.sha256(data).hexdigest()[:32]}"


def fit(ids: np.ndarray, log_probs: np.ndarray) -> dict[str, Any]:
    """The window and weight that minimise the loss of the validation stream ``ids`` whose tokens
    after the first the network gave ``log_probs``; ``weight`` 0 when no cache gains MIN_GAIN."""
    ids = np.asarray(ids)[: FIT_TOKENS + 1]
    log_probs = np.asarray(log_probs, dtype=np.float64)[: len(ids) - 1]
    network = -float(log_probs.mean()) if len(log_probs) else math.nan
    if not math.isfinite(network):  # weights gone bad, or nothing to read: nothing to fit
        return {"window": 0, "weight": 0.0, "valid_loss": None, "valid_loss_network": None,
                "valid_tokens": len(log_probs)}
    best = (network, 0, 0.0)
    for window in WINDOWS:
        if window > len(ids):
            break
        shares = repeat_shares(ids, window)
        for weight in WEIGHTS:
            loss = -float(_mixed(log_probs, shares, weight).mean())
            if loss < best[0]:
                best = (loss, window, weight)
    loss, window, weight = best if network - best[0] >= MIN_GAIN else (network, 0, 0.0)
    return {"window": window, "weight": weight, "valid_loss": loss, "valid_loss_network": network,
            "valid_tokens": len(log_probs), "fitted_on": fingerprint(ids)}


def fit_and_keep(ids: np.ndarray, log_probs: np.ndarray, run: Path, report: Any,
                 keep: bool = True) -> UnigramCache | None:
    """Fit the cache on validation ids the network gave ``log_probs`` (after the first), keep its
    record in the run (``keep``: the process that writes), say what it does there, and return it."""
    record = fit(ids, log_probs)
    if keep:
        save(record, run)
    if record["weight"]:
        report(f"unigram cache: window {record['window']:,}, weight {record['weight']:g} (validation perplexity "
               f"{math.exp(record['valid_loss_network']):,.2f} -> {math.exp(record['valid_loss']):,.2f})")
    else:
        report("unigram cache: none helps on validation; the network reads alone")
    return from_record(record)


def save(record: dict[str, Any], run: Path) -> None:
    write_json(run / CACHE_FILE, record)


def read_record(run: Path) -> dict[str, Any] | None:
    """What the fit on validation recorded (weight 0: no cache), or None if the run has no fit."""
    path = run / CACHE_FILE
    return read_json(path, what="unigram cache record") if path.is_file() else None


def read(run: Path) -> UnigramCache | None:
    """The run's cache, or None (none fitted, or none better than the network alone)."""
    record = read_record(run)
    try:
        return from_record(record)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise FormatError(f"{run / CACHE_FILE}: not a valid cache record ({exc})") from None


def from_record(record: dict[str, Any] | None) -> UnigramCache | None:
    if not record or not record.get("weight"):
        return None
    window, weight = int(record["window"]), float(record["weight"])
    if window < 1 or not 0 < weight < 1:
        raise ValueError(f"window {window}, weight {weight}")
    fitted_on = record.get("fitted_on")
    return UnigramCache(window, weight, fitted_on if isinstance(fitted_on, str) else None)


def as_record(cache: UnigramCache | None) -> dict[str, Any] | None:
    """The cache's window and weight (what evaluate reports), or None."""
    return cache.record() if cache is not None else None
