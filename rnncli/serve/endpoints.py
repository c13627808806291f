"""What a served endpoint is, declared by the task that answers it: each task folder's
``serving.py`` gives ``endpoints()``, its endpoints by name (``POST /v1/<name>``), through the
registry (:mod:`rnncli.tasks`); the server knows no task. Nothing here imports Starlette.

A :class:`Batched` endpoint answers a list of texts: its ``read`` takes the items and options from
a checked body, ``compute`` reads the model for a batch of items gathered from many requests (one
result per item), ``answer`` shapes one request's answer from its results. Requests are batched
together when their ``keyed`` options agree; ``compute`` reads no other option. A
:class:`Streamed` endpoint answers one prompt, whole or as pieces of text as they come.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterator

from rnncli.serve.requests import Limits, texts

if TYPE_CHECKING:
    from rnncli.serve.runs import ServedRun

Options = dict[str, Any]
Compute = Callable[[list[Any]], list[Any]]
Fields = Callable[[Limits], dict[str, Any]]  # body field -> its JSON schema, within the limits


def texts_field(limits: Limits) -> dict[str, Any]:
    return {"type": "array", "minItems": 1, "maxItems": limits.max_texts,
            "items": {"type": "string", "maxLength": limits.max_chars}}


def read_texts(body: dict[str, Any], limits: Limits) -> tuple[list[Any], Options]:
    return texts(body, limits), {}


def results(run: "ServedRun", items: list[Any], found: list[Any], options: Options) -> dict[str, Any]:
    return {"results": found}


def results_schema(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": {"model": {"type": "string"}, "results": {"type": "array", "items": item}}}


@dataclass(frozen=True)
class Batched:
    summary: str
    fields: Fields
    compute: Callable[["ServedRun", Options], Compute]
    read: Callable[[dict[str, Any], Limits], tuple[list[Any], Options]] = read_texts
    answer: Callable[["ServedRun", list[Any], list[Any], Options], dict[str, Any]] = results
    keyed: tuple[str, ...] = ()
    answer_schema: dict[str, Any] | None = None


@dataclass(frozen=True)
class Streamed:
    summary: str
    fields: Fields
    read: Callable[[dict[str, Any], Limits], Options]  # with "stream": whether to answer as pieces
    whole: Callable[["ServedRun", Options], list[dict[str, Any]]]
    pieces: Callable[["ServedRun", Options], Iterator[str]]
    answer_schema: dict[str, Any] | None = None


def _embed(run: "ServedRun", options: Options) -> Compute:
    def compute(items: list[str]) -> list[Any]:
        engine = run.engine
        source = engine if hasattr(engine, "embed") else run.torch_run()  # an export holds no vectors
        return [[round(float(v), 6) for v in row] for row in source.embed(items)]

    return compute


EMBED = Batched("One vector per text (what rnncli embed prints)", lambda limits: {"texts": texts_field(limits)},
                _embed, answer=lambda run, items, found, options: {"vectors": found},
                answer_schema={"type": "object", "properties": {"vectors": {"type": "array", "items": {
                    "type": "array", "items": {"type": "number"}}}}})
