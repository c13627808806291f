"""The language model's endpoints for ``rnncli serve`` (:mod:`rnncli.serve.endpoints`): generate
(whole, or streamed as it is sampled), score, and embed (the top layer's state after a text)."""

from __future__ import annotations

from typing import Any, Iterator

from rnncli.infer.options import CACHES, GENERATION_CACHES
from rnncli.serve.endpoints import EMBED, Batched, Options, Streamed, read_texts, results_schema, texts_field
from rnncli.serve.requests import HttpError, Limits, boolean, choice, integer, number, string

MAX_SAMPLES, MAX_BEAM = 64, 64


def _read_generate(body: dict[str, Any], limits: Limits) -> Options:
    from rnncli.errors import RnncliError
    from rnncli.infer.sampling import SamplingOptions
    from rnncli.infer.search import Search

    sampling = SamplingOptions(integer(body, "max_tokens", min(300, limits.max_tokens), 0, limits.max_tokens, 413),
                               number(body, "temperature", 0.8, 0.0, 100.0), integer(body, "top_k", None, 1),
                               number(body, "top_p", 1.0, 0.0, 1.0, open_low=True), integer(body, "seed", None, 0,
                                                                                            2**63 - 1),
                               boolean(body, "stop_at_eos", False))
    samples = integer(body, "num_samples", 1, 1, MAX_SAMPLES)
    search = Search(integer(body, "beam", None, 1, MAX_BEAM), integer(body, "best_of", None, 1, MAX_SAMPLES),
                    number(body, "length_penalty", 1.0, 0.0, 10.0))
    try:
        search.check(samples)
    except RnncliError as exc:
        raise HttpError(400, str(exc).replace("--", "").replace("-", "_")) from None
    stream = boolean(body, "stream", False)
    if stream and (search or samples > 1):
        raise HttpError(400, "stream: streams one sample (no beam, best_of or num_samples)")
    return {"prompt": string(body, "prompt", "", limits), "sampling": sampling, "search": search,
            "samples": samples, "stream": stream, "cache": choice(body, "cache", "none", GENERATION_CACHES)}


def _whole(run: Any, options: Options) -> list[dict[str, Any]]:
    from rnncli.infer.caches import sampling_model
    from rnncli.infer.search import generations

    engine = run.engine
    found = generations(sampling_model(engine, options["cache"]), engine.vocab, options["prompt"], options["sampling"],
                        options["search"], options["samples"])
    return [{"text": text, "tokens": tokens, **({} if total is None else {"logprob": round(float(total), 6)})}
            for text, tokens, total in found]


def _pieces(run: Any, options: Options) -> Iterator[str]:
    from rnncli.infer.caches import sampling_model
    from rnncli.infer.sampling import sample_pieces

    engine = run.engine
    return sample_pieces(sampling_model(engine, options["cache"]), engine.vocab, options["prompt"], options["sampling"])


def _generate_fields(limits: Limits) -> dict[str, Any]:
    count = {"type": "integer", "minimum": 1}
    return {"prompt": {"type": "string", "maxLength": limits.max_chars},
            "max_tokens": {"type": "integer", "minimum": 0, "maximum": limits.max_tokens},
            "temperature": {"type": "number", "minimum": 0}, "top_k": count,
            "top_p": {"type": "number", "exclusiveMinimum": 0, "maximum": 1}, "seed": {"type": "integer"},
            "num_samples": {**count, "maximum": MAX_SAMPLES}, "stop_at_eos": {"type": "boolean"},
            "beam": {**count, "maximum": MAX_BEAM}, "best_of": {**count, "maximum": MAX_SAMPLES},
            "length_penalty": {"type": "number"}, "stream": {"type": "boolean"},
            "cache": {"enum": list(GENERATION_CACHES)}}


GENERATE = Streamed(
    "Continue a prompt (what rnncli generate prints); with stream: server-sent events, data: {\"text\"} per "
    "token, then event: done with {\"tokens\"}", _generate_fields, _read_generate, _whole, _pieces,
    results_schema({"type": "object", "properties": {"text": {"type": "string"}, "tokens": {"type": "integer"},
                                                     "logprob": {"type": "number"}}}))


def _read_score(body: dict[str, Any], limits: Limits) -> tuple[list[Any], Options]:
    items, _ = read_texts(body, limits)
    return items, {"per_token": boolean(body, "per_token", False),
                   "cache": choice(body, "cache", "auto", CACHES)}


def _score(run: Any, options: Options) -> Any:
    def compute(items: list[str]) -> list[Any]:
        from rnncli.infer.caches import pick
        from rnncli.infer.scoring import score_lines

        engine = run.engine
        return list(score_lines(engine, engine.vocab, items, options["per_token"], False,
                                pick(engine, options["cache"])))

    return compute


SCORE = Batched(
    "Score texts: log-probability, perplexity, bits per character (what rnncli score prints)",
    lambda limits: {"texts": texts_field(limits), "per_token": {"type": "boolean"}, "cache": {"enum": list(CACHES)}},
    _score, _read_score, keyed=("per_token", "cache"),
    answer_schema=results_schema({"type": "object", "properties": {
        "text": {"type": "string"}, "tokens": {"type": "integer"}, "logprob": {"type": "number"},
        "ppl": {"type": ["number", "null"]}, "bpc": {"type": "number"}}}))


def endpoints() -> dict[str, Any]:
    return {"generate": GENERATE, "score": SCORE, "embed": EMBED}
