"""The classifier's endpoints for ``rnncli serve`` (:mod:`rnncli.serve.endpoints`): classify, and
embed (the pooled encoder state)."""

from __future__ import annotations

from typing import Any

import numpy as np

from rnncli.serve.endpoints import EMBED, Batched, Options, read_texts, results_schema, texts_field
from rnncli.serve.requests import Limits, integer, number

MAX_TOP = 100


def _read(body: dict[str, Any], limits: Limits) -> tuple[list[Any], Options]:
    items, _ = read_texts(body, limits)
    return items, {"k": integer(body, "k", None, 1, MAX_TOP), "threshold": number(body, "threshold", None, 0.0, 1.0)}


def _compute(run: Any, options: Options) -> Any:
    def compute(items: list[str]) -> list[Any]:
        from rnncli.tasks.classification.inference import probabilities

        return list(probabilities(run.engine, items))

    return compute


def _answer(run: Any, items: list[str], probs: list[Any], options: Options) -> dict[str, Any]:
    from rnncli.tasks.classification.inference import chosen_labels, labels_record

    chosen = chosen_labels(run.engine, items, np.asarray(probs), options["k"], options["threshold"])
    return {"results": [labels_record(labels) for labels in chosen]}


CLASSIFY = Batched(
    "Label texts (what rnncli classify --format jsonl prints)",
    lambda limits: {"texts": texts_field(limits), "k": {"type": "integer", "minimum": 1, "maximum": MAX_TOP},
                    "threshold": {"type": "number", "minimum": 0, "maximum": 1}},
    _compute, _read, _answer,
    answer_schema=results_schema({"type": "object", "properties": {
        "label": {"type": ["string", "null"]}, "labels": {"type": "array", "items": {"type": "string"}},
        "probs": {"type": "array", "items": {"type": "number"}}}}))


def endpoints() -> dict[str, Any]:
    return {"classify": CLASSIFY, "embed": EMBED}
