"""The n-gram language model the course measures recurrent networks against: interpolated
Kneser-Ney, trained by counting, on any rnncli vocabulary (word, char, bpe, unigram).

An n-gram of k ids is one int64 key (the ids as digits in base V), so each order's table is two
sorted arrays, keys and counts, and every lookup is a vectorised binary search: no Python loop
over tokens, no pickle (the tables are saved as safetensors). The highest order keeps raw counts;
the lower orders keep continuation counts (in how many distinct contexts an n-gram follows a
token), as Kneser-Ney prescribes; each order has one absolute discount D = n1 / (n1 + 2 n2), from
the number of n-grams seen once and twice:

    P_k(w | h) = max(c_k(h w) - D_k, 0) / c_k(h .) + D_k * N_k(h .) / c_k(h .) * P_{k-1}(w | h')

where h' is h without its first token, N_k(h .) the number of distinct tokens seen after h, and
P_0 the uniform distribution over the vocabulary; an unseen context passes P_{k-1} through. The
context before the first token of a text is ``<eos>``, as every training line follows one.
No torch here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rnncli.errors import ConfigError
from rnncli.models.config import ModelConfig
from rnncli.text.vocab import EOS

INT64_MAX = (1 << 63) - 1


@dataclass
class OrderTable:
    """The n-grams of one order: their keys and counts, and per context its total and its types."""

    keys: np.ndarray
    counts: np.ndarray
    context_keys: np.ndarray
    context_totals: np.ndarray
    context_types: np.ndarray
    discount: float


def check_order(order: int, vocab_size: int) -> None:
    if order < 1:
        raise ConfigError("--order must be at least 1")
    if vocab_size ** order > INT64_MAX:
        raise ConfigError(f"--order {order} is too high for a vocabulary of {vocab_size:,} tokens "
                          f"(at most {int(math.log(INT64_MAX) / math.log(vocab_size))})")


def _keys(ids: np.ndarray, k: int, base: int) -> np.ndarray:
    """The key of every k-gram of ``ids`` (length len(ids) - k + 1)."""
    n = len(ids) - k + 1
    keys = np.zeros(max(0, n), dtype=np.int64)
    for j in range(k):
        keys = keys * base + ids[j : j + n]
    return keys


def _level(keys: np.ndarray, counts: np.ndarray, base: int, k: int) -> OrderTable:
    ones, twos = int((counts == 1).sum()), int((counts == 2).sum())
    discount = ones / (ones + 2 * twos) if ones + 2 * twos else 0.5
    discount = min(max(discount, 0.05), 0.95)
    contexts = keys // base if k > 1 else np.zeros(len(keys), dtype=np.int64)
    context_keys, first = np.unique(contexts, return_index=True)
    totals = np.add.reduceat(counts, first) if len(counts) else np.zeros(0, dtype=np.int64)
    types = np.diff(np.append(first, len(keys)))
    return OrderTable(keys, counts, context_keys, totals.astype(np.int64), types.astype(np.int64), discount)


class KneserNey:
    """An interpolated Kneser-Ney model of ``order`` over ``vocab_size`` ids."""

    def __init__(self, order: int, vocab_size: int, levels: list[OrderTable]) -> None:
        self.order, self.vocab_size, self.levels = order, vocab_size, levels

    @classmethod
    def fit(cls, ids: np.ndarray, order: int, vocab_size: int) -> "KneserNey":
        """Count a stream of ids (lines ending in ``<eos>``)."""
        check_order(order, vocab_size)
        stream = np.concatenate([np.full(order - 1, EOS, dtype=np.int64), np.asarray(ids, dtype=np.int64)])
        keys, counts = np.unique(_keys(stream, order, vocab_size), return_counts=True)
        levels = [_level(keys, counts.astype(np.int64), vocab_size, order)]
        for k in range(order - 1, 0, -1):  # continuation counts: distinct left extensions
            suffixes = keys % (vocab_size ** k)
            keys, counts = np.unique(suffixes, return_counts=True)
            levels.append(_level(keys, counts.astype(np.int64), vocab_size, k))
        return cls(order, vocab_size, levels[::-1])  # levels[k - 1] holds order k

    def target_log_probs(self, contexts: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """log P(target | context) for each row: ``contexts`` (n, order - 1) ids, oldest first."""
        targets = np.asarray(targets, dtype=np.int64)
        p = np.full(len(targets), 1.0 / self.vocab_size)
        context_key = np.zeros(len(targets), dtype=np.int64)
        for k in range(1, self.order + 1):
            if k > 1:  # the context grows by one older token
                older = contexts[:, self.order - k].astype(np.int64)
                context_key = older * self.vocab_size ** (k - 2) + context_key
            p = self._interpolate(self.levels[k - 1], context_key, context_key * self.vocab_size + targets, p)
        return np.log(p)

    def _interpolate(self, level: OrderTable, context_key: np.ndarray, key: np.ndarray, lower: np.ndarray) -> np.ndarray:
        where = np.searchsorted(level.context_keys, context_key)
        where = np.minimum(where, max(0, len(level.context_keys) - 1))
        seen = (level.context_keys[where] == context_key) if len(level.context_keys) else np.zeros(len(key), bool)
        at = np.minimum(np.searchsorted(level.keys, key), max(0, len(level.keys) - 1))
        count = np.where(level.keys[at] == key, level.counts[at], 0) if len(level.keys) else np.zeros(len(key))
        total = np.where(seen, level.context_totals[where], 1)
        types = np.where(seen, level.context_types[where], 0)
        mixed = np.maximum(count - level.discount, 0) / total + level.discount * types / total * lower
        return np.where(seen, mixed, lower)

    def distribution(self, context: np.ndarray) -> np.ndarray:
        """log P(w | context) for every w of the vocabulary, for each row of ``contexts`` (n, order - 1)."""
        n = context.shape[0]
        targets = np.tile(np.arange(self.vocab_size, dtype=np.int64), n)
        rows = np.repeat(context, self.vocab_size, axis=0)
        return self.target_log_probs(rows, targets).reshape(n, self.vocab_size)

    def contexts(self, history: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """The context of each of ``ids`` (n,) after ``history`` (the previous order - 1 ids)."""
        width = self.order - 1
        stream = np.concatenate([history[-width:] if width else history[:0], ids]).astype(np.int64)
        if width == 0:
            return np.zeros((len(ids), 0), dtype=np.int64)
        return np.lib.stride_tricks.sliding_window_view(stream, width)[: len(ids)]

    def parameters(self) -> int:
        """Stored n-grams and contexts."""
        return sum(len(level.keys) + len(level.context_keys) for level in self.levels)

    def tensors(self) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for k, level in enumerate(self.levels, 1):
            for name in ("keys", "counts", "context_keys", "context_totals", "context_types"):
                out[f"order{k}.{name}"] = np.ascontiguousarray(getattr(level, name))
            out[f"order{k}.discount"] = np.array([level.discount])
        return out

    @classmethod
    def from_tensors(cls, tensors: dict[str, Any], order: int, vocab_size: int) -> "KneserNey":
        check_order(order, vocab_size)
        levels = [OrderTable(*(np.asarray(tensors[f"order{k}.{name}"], dtype=np.int64)
                          for name in ("keys", "counts", "context_keys", "context_totals", "context_types")),
                        float(tensors[f"order{k}.discount"][0])) for k in range(1, order + 1)]
        return cls(order, vocab_size, levels)




def save(model: KneserNey, path: Any) -> None:
    """The tables as safetensors (no pickle), written atomically."""
    from safetensors.numpy import save as pack

    from rnncli.fileio import write_bytes

    write_bytes(path, pack(model.tensors(), metadata={"format": "rnncli-ngram", "version": "1",
                                                      "order": str(model.order), "vocab_size": str(model.vocab_size)}))


def load(path: Any, order: int, vocab_size: int) -> KneserNey:
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    from rnncli.errors import FormatError

    try:
        return KneserNey.from_tensors(load_file(str(path)), order, vocab_size)
    except (SafetensorError, KeyError, ValueError, OSError) as exc:
        raise FormatError(f"{path}: not a valid n-gram table ({str(exc).splitlines()[0][:200]})") from None


def stream_log_probs(model: KneserNey, ids: np.ndarray) -> np.ndarray:
    """log P of every token of a stream but the first, each after what precedes it (the stream
    start after <eos>), read as every engine is read (rnncli.infer.reading), in one column."""
    from rnncli.infer.reading import stream_log_probs as read

    return read(NGramLM(model, None), np.asarray(ids, dtype=np.int64))


class NGramLM:
    """An n-gram model as an inference engine (:class:`rnncli.infer.engine.LanguageEngine`): steps
    for generation, and log P of given targets without computing whole distributions."""

    task, variant = "lm", "ngram"
    columns = 1  # a context of order - 1 tokens: one column, read in long windows, loses nothing
    window = 1 << 16

    def __init__(self, model: KneserNey, vocab: Any, unigram_cache: Any = None) -> None:
        self.model, self.vocab, self.unigram_cache = model, vocab, unigram_cache

    def _history(self, rows: np.ndarray) -> np.ndarray:
        width = self.model.order - 1
        pad = np.full((rows.shape[0], width), EOS, dtype=np.int64)
        return np.concatenate([pad, rows], axis=1)[:, rows.shape[1]:] if width else rows[:, :0]

    def start(self, prompt_ids: list[int], num_samples: int) -> tuple[np.ndarray, np.ndarray]:
        state = self._history(np.tile(np.asarray(prompt_ids, dtype=np.int64), (num_samples, 1)))
        return self.model.distribution(state), state

    def step(self, tokens: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        state = self._history(np.concatenate([state, np.asarray(tokens, dtype=np.int64)[:, None]], axis=1))
        return self.model.distribution(state), state

    def select(self, state: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return state[rows]

    def target_log_probs(self, inputs: np.ndarray, targets: np.ndarray, state: Any = None) -> tuple[np.ndarray, Any]:
        """log P of ``targets`` (time, batch) after ``inputs`` (time, batch) and the history ``state``
        (batch, order - 1), without computing whole distributions."""
        inputs, targets = np.asarray(inputs, dtype=np.int64), np.asarray(targets, dtype=np.int64)
        steps, batch = inputs.shape
        history = state if state is not None else self._history(np.zeros((batch, 0), dtype=np.int64))
        width = self.model.order - 1
        full = np.concatenate([history, inputs.T], axis=1)  # (batch, width + time)
        contexts = np.lib.stride_tricks.sliding_window_view(full, width, axis=1)[:, 1 : steps + 1] if width else \
            np.zeros((batch, steps, 0), dtype=np.int64)
        picked = self.model.target_log_probs(contexts.reshape(batch * steps, width), targets.T.reshape(-1))
        return picked.reshape(batch, steps).T, full[:, steps:] if width else history


def open_counted(path: Path, config: ModelConfig) -> NGramLM:
    """An n-gram run's engine, read without torch, each file checked against config.json."""
    from rnncli.errors import FormatError
    from rnncli.run.files import CONFIG, NGRAM, VOCAB
    from rnncli.text.vocab import load_vocab
    from rnncli.unigram_cache import read as read_cache

    vocab = load_vocab(path / VOCAB)
    if len(vocab) != config.vocab_size:
        raise FormatError(f"{path / VOCAB} has {len(vocab):,} tokens; {CONFIG} says {config.vocab_size:,}")
    if not (path / NGRAM).is_file():
        raise FormatError(f"run directory {path} is missing {NGRAM}")
    return NGramLM(load(path / NGRAM, config.order, config.vocab_size), vocab, read_cache(path))
