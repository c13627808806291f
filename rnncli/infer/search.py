"""Searching for the most likely continuation instead of sampling one: beam search (the beams
advance as one batch) and best-of (N samples in one batch, rescored), over any language engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rnncli.errors import ConfigError
from rnncli.infer.engine import Stepping
from rnncli.infer.sampling import SamplingOptions, decoded, generate, sample_texts
from rnncli.text.vocab import BOS, EOS, PAD, Vocab


def log_softmax(scores: np.ndarray) -> np.ndarray:
    """Log-probabilities from logits or log-probabilities, row by row (float64)."""
    z = np.asarray(scores, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def beam_search(lm: Stepping, prompt_ids: list[int], beam: int, max_tokens: int, length_penalty: float = 1.0,
                stop_at_eos: bool = False) -> list[tuple[list[int], float]]:
    """The ``beam`` most likely continuations (ids, total log-probability), best first, ranked by
    total / length ** length_penalty: :func:`batch_beam_search` for one prompt, whose first step
    reads the prompt. ``<eos>`` ends a continuation (and is its last id) with ``stop_at_eos``,
    else it is a line end like any token."""
    if beam < 1:
        raise ConfigError("--beam must be at least 1")
    if max_tokens < 1:
        return []
    prompted = [lm.start([EOS, *prompt_ids], beam)]  # beam identical rows: the search starts from one

    def step(tokens: np.ndarray, state: Any) -> tuple[np.ndarray, Any, None]:
        scores, state = prompted.pop() if prompted else lm.step(tokens, state)
        return log_softmax(scores), state, None

    [found] = batch_beam_search(step, lm.select, None, 1, beam, np.array([max_tokens]), length_penalty, start=BOS,
                                eos=EOS if stop_at_eos else -1)
    return [(h.ids + [EOS] * h.ended, h.total) for h in found if h.ids or h.ended]


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


def generations(lm: Stepping, vocab: Vocab, prompt: str, options: SamplingOptions, search: Search,
                num_samples: int = 1) -> list[tuple[str, int, float | None]]:
    """Continuations of ``prompt`` as (text, tokens, total log-probability or None): the one beam
    search or best-of finds, or each of ``num_samples`` samples (their totals not computed)."""
    if search:
        return [(text, tokens, total) for text, tokens, total in ranked(lm, vocab, prompt, options, search)[:1]]
    return [(text, tokens, None) for text, tokens in sample_texts(lm, vocab, prompt, options, num_samples)]


@dataclass
class Hypothesis:
    """One search result: its ids (without the final <eos>), total log-probability, the score it
    was ranked by, and the attention of each of its steps when asked for (steps, source)."""

    ids: list[int]
    total: float
    score: float
    attention: np.ndarray | None = None
    ended: bool = False  # by the end token (else by the length limit)


def batch_beam_search(step: Any, select: Any, state: Any, batch: int, beam: int, max_steps: np.ndarray,
                      length_penalty: float = 1.0, start: int = BOS, eos: int = EOS,
                      with_attention: bool = False) -> list[list[Hypothesis]]:
    """Beam search for ``batch`` independent inputs at once, ``beam`` rows each (beam 1 is greedy
    decoding), all advancing as one batch: ``step(tokens, state) -> (log-probabilities (rows,
    vocabulary), state, attention (rows, source) or None)`` and ``select(state, rows)`` give the
    model; ``state`` holds ``batch * beam`` rows, input by input. An input stops when ``beam`` of
    its hypotheses have ended in ``eos`` (or its beams die) or after ``max_steps[i]`` tokens; its
    hypotheses are ranked by total / length ** length_penalty (the length counts the ``eos``),
    best first."""
    if beam < 1:
        raise ConfigError("--beam must be at least 1")
    beams = _Beams(batch, beam, start, with_attention)
    finished: list[list[Hypothesis]] = [[] for _ in range(batch)]
    while len(beams.active):
        logp, state, attention = step(beams.tokens, state)
        logp = np.asarray(logp, dtype=np.float32)  # float32 sums rank as well, at half the memory traffic
        logp[:, [PAD, start]] = -np.inf
        beams.attend(attention)
        scores, parents, chosen = _best(beams.totals, logp, beam)
        ending = (chosen == eos) & np.isfinite(scores)
        for row, col in zip(*np.nonzero(ending[:, :beam])):
            beams.finish(finished, row, row * beam + parents[row, col], scores[row, col], 1, length_penalty)
        rows = beams.advance(scores, parents, chosen, ~ending & np.isfinite(scores))
        last = beams.t >= max_steps[beams.active]
        for row, col in zip(*np.nonzero(last[:, None] & np.isfinite(beams.totals))):
            beams.finish(finished, row, row * beam + col, beams.totals[row, col], 0, length_penalty)
        done = last | ~np.isfinite(beams.totals).any(axis=1) | np.array([len(finished[i]) >= beam
                                                                          for i in beams.active])
        keep = beams.keep(~done)
        if len(beams.active):
            state = select(state, rows[keep])
    return [sorted(found, key=lambda h: h.score, reverse=True)[:beam] for found in finished]


def _best(totals: np.ndarray, logp: np.ndarray, beam: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``2 * beam`` best continuations of each input's beams, best first: their totals, the
    beam each continues and the token it adds."""
    n, vocab = totals.shape[0], logp.shape[1]
    candidates = (totals[:, :, None] + logp.reshape(n, beam, vocab)).reshape(n, beam * vocab)
    width = min(2 * beam, candidates.shape[1])
    top = np.argpartition(-candidates, width - 1, axis=1)[:, :width]
    top = np.take_along_axis(top, np.argsort(-np.take_along_axis(candidates, top, 1), axis=1, kind="stable"), 1)
    parents, chosen = np.divmod(top, vocab)
    return np.take_along_axis(candidates, top, 1), parents, chosen


class _Beams:
    """The search's rows: for each input still searched (``active``), ``beam`` rows of tokens so
    far, their totals, the next tokens to feed and, when kept, each step's attention."""

    def __init__(self, batch: int, beam: int, start: int, with_attention: bool) -> None:
        self.beam, self.t = beam, 0
        self.active = np.arange(batch)
        self.totals = np.full((batch, beam), -np.inf, dtype=np.float32)
        self.totals[:, 0] = 0.0
        self.tokens = np.full(batch * beam, start, dtype=np.int64)
        self.sequences = np.zeros((batch * beam, 0), dtype=np.int64)
        self.history: np.ndarray | None = np.zeros((batch * beam, 0, 0)) if with_attention else None

    def attend(self, attention: np.ndarray | None) -> None:
        if self.history is not None and attention is not None:
            past = self.history.reshape(len(self.history), self.t, attention.shape[1])
            self.history = np.concatenate([past, attention[:, None]], axis=1)

    def finish(self, finished: list[list[Hypothesis]], row: int, source_row: int, total: float, eos: int,
               length_penalty: float) -> None:
        """A hypothesis of the input in ``row``: the tokens of ``source_row`` (and an ``eos`` after them)."""
        length = self.t + eos
        attention = None if self.history is None else self.history[source_row]
        finished[self.active[row]].append(Hypothesis(self.sequences[source_row].tolist(), float(total),
                                                     float(total) / length ** length_penalty, attention, bool(eos)))

    def advance(self, scores: np.ndarray, parents: np.ndarray, chosen: np.ndarray, going: np.ndarray) -> np.ndarray:
        """Keep each input's best ``beam`` continuations that go on; returns the rows they continue."""
        n, beam = len(self.active), self.beam
        order = np.argsort(~going, axis=1, kind="stable")[:, :beam]
        kept = np.take_along_axis(going, order, 1)
        rows = (np.arange(n)[:, None] * beam + np.take_along_axis(parents, order, 1)).ravel()
        self.totals = np.where(kept, np.take_along_axis(scores, order, 1), np.float32(-np.inf))
        self.tokens = np.take_along_axis(chosen, order, 1).ravel()
        self.sequences = np.concatenate([self.sequences[rows], self.tokens[:, None]], axis=1)
        self.history = None if self.history is None else self.history[rows]
        self.t += 1
        return rows

    def keep(self, going: np.ndarray) -> np.ndarray:
        """Drop the inputs whose search is done; returns the rows kept."""
        stay = np.nonzero(going)[0]
        keep = (stay[:, None] * self.beam + np.arange(self.beam)).ravel()
        self.active, self.totals = self.active[stay], self.totals[stay]
        self.tokens, self.sequences = self.tokens[keep], self.sequences[keep]
        self.history = None if self.history is None else self.history[keep]
        return keep
