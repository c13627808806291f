"""What each endpoint computes, as the commands compute it, split in two: the part that reads the
model, for a batch of texts gathered from many requests (``compute_*``: items in, one result per
item out), and the part that shapes one request's answer from its results (``answer_*``).

Each compute reads the run's engine when the batch starts, so a reload takes effect between
batches. Nothing here knows HTTP."""

from __future__ import annotations

from typing import Any, Callable, Iterator

import numpy as np

from rnncli.serve.runs import ServedRun

Compute = Callable[[list[Any]], list[Any]]


def compute_classify(run: ServedRun) -> Compute:
    def compute(texts: list[str]) -> list[Any]:
        from rnncli.tasks.classification.inference import probabilities

        return list(probabilities(run.engine, texts))

    return compute


def answer_classify(run: ServedRun, texts: list[str], probs: list[np.ndarray], k: int | None,
                    threshold: float | None) -> list[dict[str, Any]]:
    """Per text: its labels (the ``k`` likeliest at or above ``threshold``; a multi-label run's
    over its own thresholds) with their probabilities, and the likeliest label."""
    from rnncli.tasks.classification.inference import top_labels

    engine = run.engine
    cut: Any = threshold if threshold is not None or not engine.multi_label else engine.thresholds()
    chosen = top_labels(texts, np.asarray(probs), engine.labels, k, cut, engine.multi_label)
    return [{"label": labels[0][0] if labels else None, "labels": [label for label, _ in labels],
             "probs": [round(p, 6) for _, p in labels]} for labels in chosen]


def compute_score(run: ServedRun, per_token: bool, cache: str) -> Compute:
    def compute(texts: list[str]) -> list[Any]:
        from rnncli.infer.caches import pick
        from rnncli.infer.scoring import score_lines

        engine = run.engine
        return list(score_lines(engine, engine.vocab, texts, per_token, False, pick(engine, cache)))

    return compute


def compute_embed(run: ServedRun) -> Compute:
    def compute(texts: list[str]) -> list[Any]:
        engine = run.engine
        source = engine if hasattr(engine, "embed") else run.torch_run()
        return [[round(float(v), 6) for v in row] for row in source.embed(texts)]

    return compute


def compute_tag(run: ServedRun, top: int) -> Compute:
    def compute(sentences: list[list[str]]) -> list[Any]:
        from rnncli.infer.batching import INFERENCE_BATCH

        tagged = run.engine.tag(sentences, INFERENCE_BATCH, top)
        return [{"tokens": tokens, "tags": [tag for tag, _, _ in found],
                 "probs": [None if p is None else round(p, 6) for _, p, _ in found],
                 **({"top": [[[t, round(p, 6)] for t, p in alternatives] for _, _, alternatives in found]}
                    if top > 1 else {})}
                for tokens, found in zip(sentences, tagged)]

    return compute


def compute_translate(run: ServedRun, beam: int, length_penalty: float) -> Compute:
    def compute(texts: list[str]) -> list[Any]:
        found = run.engine.translate(texts, beam, length_penalty)
        return [{"text": t.text, "logprob": round(float(t.score), 6)} for t in found]

    return compute


def generated(run: ServedRun, prompt: str, options: Any, search: Any, num_samples: int) -> list[dict[str, Any]]:
    """Whole generations of ``prompt``: the samples, or the text beam search or best-of finds."""
    from rnncli.infer.sampling import sample_texts
    from rnncli.infer.search import ranked

    engine = run.engine
    if search:
        return [{"text": text, "tokens": tokens, "logprob": round(float(total), 6)}
                for text, tokens, total in ranked(engine, engine.vocab, prompt, options, search)[:1]]
    return [{"text": text, "tokens": tokens} for text, tokens in
            sample_texts(engine, engine.vocab, prompt, options, num_samples)]


def stream_pieces(run: ServedRun, prompt: str, options: Any) -> Iterator[str]:
    """One sample of ``prompt``'s continuation, piece by piece as it decodes (a piece may be empty
    where a token does not end a character yet)."""
    from rnncli.infer.sampling import generate
    from rnncli.text.vocab import StreamDecoder

    engine = run.engine
    decoder = StreamDecoder(engine.vocab)
    for tokens in generate(engine, engine.vocab.encode(prompt), options, 1):
        yield decoder.feed(int(tokens[0]))
    tail = decoder.flush()
    if tail:
        yield tail
