"""The tagger's endpoint for ``rnncli serve`` (:mod:`rnncli.serve.endpoints`): tag, the tokens of
each text separated by whitespace."""

from __future__ import annotations

from typing import Any

from rnncli.serve.endpoints import Batched, Options, read_texts, results_schema, texts_field
from rnncli.serve.requests import Limits, integer

MAX_TOP = 100


def _read(body: dict[str, Any], limits: Limits) -> tuple[list[Any], Options]:
    items, _ = read_texts(body, limits)
    return [text.split() for text in items], {"top": integer(body, "top", 1, 1, MAX_TOP)}


def _compute(run: Any, options: Options) -> Any:
    def compute(sentences: list[list[str]]) -> list[Any]:
        from rnncli.infer.batching import INFERENCE_BATCH
        from rnncli.tasks.tagging.inference import tagged_record

        found = run.engine.tag(sentences, INFERENCE_BATCH, options["top"])
        return [tagged_record(tokens, tagged) for tokens, tagged in zip(sentences, found)]

    return compute


TAG = Batched(
    "Tag each whitespace-separated token (what rnncli tag --format jsonl prints)",
    lambda limits: {"texts": texts_field(limits), "top": {"type": "integer", "minimum": 1, "maximum": MAX_TOP}},
    _compute, _read, keyed=("top",),
    answer_schema=results_schema({"type": "object", "properties": {
        "tokens": {"type": "array", "items": {"type": "string"}}, "tags": {"type": "array", "items": {"type": "string"}},
        "probs": {"type": "array", "items": {"type": ["number", "null"]}}}}))


def endpoints() -> dict[str, Any]:
    return {"tag": TAG}
