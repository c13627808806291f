"""Translating and evaluating with any translation engine (torch or ONNX): sources batched by
length, greedy or beam search over the engine's decoder step (rnncli.infer.search), BLEU and chrF
with sacrebleu.

An engine gives ``encode(tokens, lengths) -> (context, state)`` for padded source ids and
``step(tokens, state, context) -> (log-probabilities, state, attention)`` for one target token per
row; the context (a dict of arrays, rows first) and the state ((states, layers, rows, hidden)) are
selected row by row here, whatever library holds them.
"""

from __future__ import annotations

import sys

from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import numpy as np

from rnncli.errors import ConfigError
from rnncli.infer.batching import length_batches, pad
from rnncli.infer.search import Hypothesis, batch_beam_search
from rnncli.tasks.translation.options import TRANSLATE_BATCH
from rnncli.text.vocab import BOS, EOS, PAD

EXTRA_STEPS = 10  # target tokens allowed beyond max_length_ratio * source tokens


@dataclass(frozen=True)
class SearchOptions:
    """How sources are translated: ``beam`` 1 is greedy decoding."""

    beam: int = 1
    length_penalty: float = 1.0
    max_length_ratio: float = 2.0
    batch_size: int = TRANSLATE_BATCH
    attention: bool = False  # keep each output token's attention over the source

    def check(self) -> "SearchOptions":
        if self.beam < 1:
            raise ConfigError("--beam must be at least 1")
        if self.max_length_ratio <= 0:
            raise ConfigError("--max-length-ratio must be above 0")
        if self.batch_size < 1:
            raise ConfigError("--batch-size must be at least 1")
        return self


def select(context: dict[str, Any], state: Any, rows: np.ndarray) -> tuple[dict[str, Any], Any]:
    """The context and state of the given rows, in that order."""
    return {k: v[rows] for k, v in context.items()}, state[:, :, rows]


def _search(engine: Any, tokens: np.ndarray, lengths: np.ndarray, options: SearchOptions) -> list[Hypothesis]:
    """The best hypothesis of each padded source (tokens, lengths)."""
    context, state = engine.encode(tokens, lengths)
    rows = np.repeat(np.arange(len(tokens)), options.beam)
    context, state = select(context, state, rows)

    def step(previous: np.ndarray, both: tuple[dict[str, Any], Any]) -> tuple[np.ndarray, Any, np.ndarray]:
        logp, new_state, attention = engine.step(previous, both[1], both[0])
        return logp, (both[0], new_state), attention

    def pick(both: tuple[dict[str, Any], Any], chosen: np.ndarray) -> tuple[dict[str, Any], Any]:
        """Beams move within their source's block of rows, whose context is the same: the context
        is selected only when sources leave the search (fewer rows)."""
        context, state = both
        if len(chosen) == len(state[0, 0]):
            return context, state[:, :, chosen]
        return select(context, state, chosen)

    steps = (options.max_length_ratio * lengths).astype(np.int64) + EXTRA_STEPS
    found = batch_beam_search(step, pick, (context, state), len(tokens), options.beam, steps,
                              options.length_penalty, BOS, EOS, options.attention)
    best = [hypotheses[0] for hypotheses in found]
    for hypothesis, length in zip(best, lengths):  # the padding of the batch is no part of a source
        hypothesis.attention = None if hypothesis.attention is None else hypothesis.attention[:, :length]
    return best


def translate_ids(engine: Any, sources: Sequence[list[int]], beam: int = 1,
                  options: SearchOptions | None = None) -> list[tuple[list[int], float, np.ndarray | None]]:
    """The best translation of each source (ids, total log-probability, attention or None), in
    order; sources are searched in batches of similar length."""
    options = (options or SearchOptions(beam=beam)).check()
    results: list[Any] = [None] * len(sources)
    # rows by count only: the decoder's steps, not the source's padding, cost most of a search
    for chosen, tokens, lengths in length_batches(sources, options.batch_size, max_tokens=sys.maxsize):
        for i, hypothesis in zip(chosen, _search(engine, tokens, lengths, options)):
            results[i] = (hypothesis.ids, hypothesis.total, hypothesis.attention)
    return results


@dataclass
class Translation:
    source: str
    text: str
    score: float  # total log-probability
    ids: list[int]  # the target tokens, without <eos>
    source_ids: list[int]  # the source tokens the model read
    attention: np.ndarray | None = None  # (target tokens with <eos>, source tokens)


def translate(engine: Any, sources: Sequence[str], options: SearchOptions) -> list[Translation]:
    """Translations of ``sources`` (strings), in order; an empty source has an empty translation."""
    ids = engine.vocab.encode_batch(list(sources))
    some = [i for i, row in enumerate(ids) if row]
    found: list[Any] = [([], 0.0, None)] * len(ids)
    for i, result in zip(some, translate_ids(engine, [ids[i] for i in some], options=options)):
        found[i] = result
    texts = engine.target_vocab.decode_batch([f[0] for f in found])
    return [Translation(s, text, total, out, source_ids, attention)
            for s, text, source_ids, (out, total, attention) in zip(sources, texts, ids, found)]


def translation_record(engine: Any, t: Translation, alignments: bool = False) -> dict[str, Any]:
    """One translation as a JSON record (``translate --format jsonl``, the server's answer), with
    its tokens and attention when ``alignments`` and the search kept them."""
    row: dict[str, Any] = {"source": t.source, "translation": t.text, "logprob": round(t.score, 4),
                           "tokens": len(t.ids)}
    if alignments and t.attention is not None:
        row["source_tokens"] = engine.vocab.pieces(t.source_ids)
        row["target_tokens"] = engine.target_vocab.pieces(t.ids) + ["<eos>"]
        row["attention"] = [[round(float(w), 4) for w in step] for step in t.attention]
    return row


class Translating:
    """What a translation engine (torch or ONNX) gives beyond ``encode`` and ``step``: whole
    translations, by the search written here once."""

    def translate(self, sources: Sequence[str], beam: int = 1, length_penalty: float = 1.0,
                  max_length_ratio: float = 2.0, batch_size: int = TRANSLATE_BATCH,
                  attention: bool = False) -> list[Translation]:
        """Translations of ``sources``, in order: greedy, or beam search of ``beam`` beams ranked by
        total log-probability / length ** ``length_penalty``."""
        return translate(self, sources, SearchOptions(beam, length_penalty, max_length_ratio, batch_size, attention))


def translations(engine: Any, lines: Iterator[list[str]], options: SearchOptions) -> Iterator[list[Translation]]:
    """Each block of source lines translated, in order (stream in constant memory)."""
    for block in lines:
        yield translate(engine, block, options)


def reference_loss(engine: Any, sources: Sequence[list[int]], targets: Sequence[list[int]],
                   batch_size: int = 128) -> tuple[float, int]:
    """The summed negative log-likelihood of each target (with its <eos>) given its source, read
    step by step through the engine, and the number of tokens it covers."""
    total, count = 0.0, 0
    for start in range(0, len(sources), batch_size):
        part_sources, part_targets = sources[start : start + batch_size], targets[start : start + batch_size]
        tokens, lengths = pad(part_sources)
        context, state = engine.encode(tokens, lengths)
        previous, _ = pad([[BOS, *t] for t in part_targets])
        expected, _ = pad([[*t, EOS] for t in part_targets])
        expected[np.arange(expected.shape[1])[None, :] >= np.array([len(t) + 1 for t in part_targets])[:, None]] = PAD
        for t in range(previous.shape[1]):
            logp, state, _ = engine.step(previous[:, t], state, context)
            real = expected[:, t] != PAD
            total -= float(logp[real, expected[real, t]].astype(np.float64).sum())
            count += int(real.sum())
    return total, count


def bleu(hypotheses: list[str], references: list[str]) -> dict[str, Any]:
    """sacrebleu's corpus BLEU and chrF in its defaults (cased, 13a tokenisation of detokenised
    text), with their signatures."""
    import sacrebleu

    bleu_metric, chrf_metric = sacrebleu.metrics.BLEU(), sacrebleu.metrics.CHRF()
    b = bleu_metric.corpus_score(hypotheses, [references])
    c = chrf_metric.corpus_score(hypotheses, [references])
    return {"bleu": b.score, "chrf": c.score, "sacrebleu_signature": str(bleu_metric.get_signature()),
            "chrf_signature": str(chrf_metric.get_signature()), "length_ratio": b.sys_len / max(1, b.ref_len)}


def evaluate(engine: Any, path: str, options: Any) -> dict[str, Any]:
    """Held-out figures of pairs: BLEU and chrF of the translations (greedy, or ``options.beam``),
    the references' loss and perplexity, the length ratio."""
    import math

    from rnncli.text.pairs import read_pairs

    pairs = read_pairs(path, encoding=options.encoding, errors=options.errors).pairs
    sources = engine.vocab.encode_batch([p.source for p in pairs])
    targets = engine.target_vocab.encode_batch([p.target for p in pairs])
    search = SearchOptions(beam=options.beam or 1)
    found = translate_ids(engine, sources, options=search)
    hypotheses = engine.target_vocab.decode_batch([f[0] for f in found])
    loss, count = reference_loss(engine, sources, targets)
    report = bleu(hypotheses, [p.target for p in pairs])
    report.update({"loss": loss / max(1, count), "ppl": math.exp(min(50.0, loss / max(1, count))),
                   "pairs": len(pairs), "target_tokens": count, "beam": search.beam})
    return report
