"""What a language model engine is used for on held-out text: loss, perplexity and bits per
character (``evaluate``), read with the cache its validation chose unless told otherwise. Generation and
scoring are in rnncli.infer (sampling, search, scoring). No torch."""

from __future__ import annotations

from typing import Any

from rnncli.errors import InputError
from rnncli.infer.caches import pick, read_with
from rnncli.infer.engine import LanguageEngine
from rnncli.infer.evaluation import EvaluateOptions


def evaluate(engine: LanguageEngine, path: str, options: EvaluateOptions) -> dict[str, Any]:
    """Loss in nats per token, perplexity, bits per character, tokens and characters of a text
    (see :func:`rnncli.corpus.stream_figures`), read with the cache ``options.cache`` picks."""
    from rnncli.corpus import encode_corpus, stream_figures

    text = encode_corpus([path], engine.vocab, options.encoding, options.errors)
    if len(text) < 2:
        raise InputError(f"{path}: too little text to evaluate (fewer than 2 tokens)")
    cache = pick(engine, options.cache)
    network, mixed = read_with(engine, text.ids, cache)
    figures = stream_figures(text, network, cache, mixed)
    if cache is not None and cache.fitted_on_text(text.ids):
        figures[cache.key]["fitted_here"] = True
        options.warn(f"{path} is the text the {cache.key.replace('_', ' ')} was fitted on (the run's validation): "
                     "read with the cache it is no held-out figure; the network's own is beside it")
    return figures
