"""The translation model's endpoint for ``rnncli serve`` (:mod:`rnncli.serve.endpoints`): translate,
greedy or by beam search."""

from __future__ import annotations

from typing import Any

from rnncli.serve.endpoints import Batched, Options, read_texts, results_schema, texts_field
from rnncli.serve.requests import Limits, integer, number

MAX_BEAM = 64


def _read(body: dict[str, Any], limits: Limits) -> tuple[list[Any], Options]:
    items, _ = read_texts(body, limits)
    return items, {"beam": integer(body, "beam", 1, 1, MAX_BEAM),
                   "length_penalty": number(body, "length_penalty", 1.0, 0.0, 10.0)}


def _compute(run: Any, options: Options) -> Any:
    def compute(items: list[str]) -> list[Any]:
        from rnncli.tasks.translation.inference import translation_record

        engine = run.engine
        return [translation_record(engine, t) for t in engine.translate(items, options["beam"],
                                                                        options["length_penalty"])]

    return compute


TRANSLATE = Batched(
    "Translate texts (what rnncli translate --format jsonl prints)",
    lambda limits: {"texts": texts_field(limits), "beam": {"type": "integer", "minimum": 1, "maximum": MAX_BEAM},
                    "length_penalty": {"type": "number", "minimum": 0, "maximum": 10}},
    _compute, _read, keyed=("beam", "length_penalty"),
    answer_schema=results_schema({"type": "object", "properties": {
        "source": {"type": "string"}, "translation": {"type": "string"}, "logprob": {"type": "number"},
        "tokens": {"type": "integer"}}}))


def endpoints() -> dict[str, Any]:
    return {"translate": TRANSLATE}
