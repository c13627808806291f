"""What a tagger engine is used for: tagging sentences (``tag``) and the figures users judge it by
on held-out data (``evaluate``), whichever engine computes the scores. No torch.

An engine gives each token's score per tag (``scores``) and, for a CRF tagger, the CRF's start,
transition and end scores (``crf``); decoding is written here once: the likeliest tag of each
token, or the CRF's best sequence (Viterbi), with each chosen tag's probability (the softmax, or
the CRF's marginal by forward-backward).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator, Sequence

import numpy as np

from rnncli.infer.batching import INFERENCE_BATCH, length_batches
from rnncli.infer.evaluation import EvaluateOptions
from rnncli.tasks.tagging.features import Encoded, batch_inputs, token_features

if TYPE_CHECKING:
    from rnncli.infer.engine import TaggerEngine

Tagged = list[tuple[str, float | None, list[tuple[str, float]]]]  # per token: tag, its probability, the top k


def _log_softmax(x: np.ndarray) -> np.ndarray:
    shifted = x - x.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


def _logsumexp(x: np.ndarray, axis: int) -> np.ndarray:
    top = x.max(axis=axis, keepdims=True)
    return (top + np.log(np.exp(x - top).sum(axis=axis, keepdims=True))).squeeze(axis)


def crf_viterbi(scores: np.ndarray, start: np.ndarray, transitions: np.ndarray, end: np.ndarray) -> list[int]:
    """The best tag sequence of one sentence's (time, tags) scores under a linear-chain CRF."""
    best = start + scores[0]
    back = []
    for row in scores[1:]:
        candidates = best[:, None] + transitions
        back.append(candidates.argmax(0))
        best = candidates.max(0) + row
    path = [int((best + end).argmax())]
    for pointers in reversed(back):
        path.append(int(pointers[path[-1]]))
    return path[::-1]


def crf_marginals(scores: np.ndarray, start: np.ndarray, transitions: np.ndarray, end: np.ndarray) -> np.ndarray:
    """P(tag at each position | sentence) under the CRF, by forward-backward: (time, tags)."""
    alpha = [start + scores[0]]
    for row in scores[1:]:
        alpha.append(_logsumexp(alpha[-1][:, None] + transitions, 0) + row)
    beta = [end]
    for row in scores[:0:-1]:
        beta.append(_logsumexp(transitions + (row + beta[-1])[None, :], 1))
    beta = beta[::-1]
    log_z = _logsumexp(alpha[-1] + end, 0)
    return np.exp(np.stack(alpha) + np.stack(beta) - log_z)


CRF = tuple[np.ndarray, np.ndarray, np.ndarray]


def scored_batches(engine: "TaggerEngine", encoded: Encoded,
                   batch_size: int = INFERENCE_BATCH) -> Iterator[tuple[list[int], np.ndarray, np.ndarray]]:
    """Encoded sentences in length batches: each batch's sentence indices, the engine's (batch,
    time, tags) scores and the lengths."""
    for chosen, ids, lengths in length_batches(encoded.words, batch_size):
        scores = engine.scores(batch_inputs(encoded, chosen, ids, lengths))
        yield chosen, np.asarray(scores, dtype=np.float64), lengths


def best_path(scores: np.ndarray, crf: CRF | None) -> list[int]:
    """One sentence's tag ids from its (time, tags) scores: each token's likeliest, or the CRF's
    best sequence."""
    return scores.argmax(1).tolist() if crf is None else crf_viterbi(scores, *crf)


def tag_probabilities(scores: np.ndarray, crf: CRF | None) -> np.ndarray:
    """P(tag | sentence) of each token: the softmax, or the CRF's marginals."""
    return np.exp(_log_softmax(scores)) if crf is None else crf_marginals(scores, *crf)


def tagged_record(tokens: Sequence[str], tagged: Tagged) -> dict[str, Any]:
    """One sentence's tags as a JSON record (``tag --format jsonl``, the server's answer): with
    each token's top tags when more than one was asked for."""
    row: dict[str, Any] = {"tokens": list(tokens), "tags": [t for t, _, _ in tagged],
                           "probs": [None if p is None else round(p, 6) for _, p, _ in tagged]}
    if any(top for _, _, top in tagged) and len(tagged[0][2]) > 1:
        row["top"] = [[[t, round(p, 6)] for t, p in top] for _, _, top in tagged]
    return row


def decode(engine: "TaggerEngine", tokens: Sequence[Sequence[str]], batch_size: int = INFERENCE_BATCH,
           top: int = 1) -> list[Tagged]:
    """The tags of each sentence (a list of tokens) from an engine that scores tokens (torch,
    ONNX: their ``tag``), in the order given, each with its probability and the ``top`` most
    likely tags of that token: the softmax's likeliest tags or the CRF's Viterbi path, with the
    softmax's probabilities or the CRF's marginals. (A counted HMM's ``tag`` decodes its own way.)"""
    crf = engine.crf()
    out: list[Tagged] = [[] for _ in tokens]
    for chosen, scores, _ in scored_batches(engine, token_features(engine.vocab).encode(tokens), batch_size):
        for row, i in enumerate(chosen):
            sentence = scores[row, :len(tokens[i])]
            if len(sentence) == 0:
                continue
            probs = tag_probabilities(sentence, crf)
            out[i] = [(engine.labels[j], float(probs[k, j]),
                       [(engine.labels[a], float(probs[k, a])) for a in np.argsort(-probs[k], kind="stable")[:top]])
                      for k, j in enumerate(best_path(sentence, crf))]
    return out


def evaluate(engine: "TaggerEngine", path: str, options: EvaluateOptions) -> dict[str, Any]:
    """Token accuracy, accuracy on words the run's vocabulary lacks, per-tag figures, the most
    confused pairs and, for BIO/BIOES tags, entity scores; tags the run never saw are counted and
    named (their tokens count as errors)."""
    from rnncli.tasks.tagging.scores import tagging_metrics
    from rnncli.text.tagged import read_tagged

    sentences = read_tagged(path, tag_column=options.tag_column, encoding=options.encoding, errors=options.errors)
    tokens = [s.tokens for s in sentences]
    predicted = [[tag for tag, _, _ in tagged] for tagged in engine.tag(tokens, INFERENCE_BATCH)]
    report = tagging_metrics(tokens, [s.tags or [] for s in sentences], predicted, token_features(engine.vocab).known,
                             engine.labels)
    if "unknown_tags" in report:
        unknown = report["unknown_tags"]
        options.warn(f"tag(s) only in {path}, never seen in training: {', '.join(list(unknown)[:5])} "
                     f"({sum(unknown.values()):,} tokens, counted as errors)")
    return {**report, "source": path}
