"""The OpenAPI 3.1 description served at ``/openapi.json``: every endpoint, its body and answer."""

from __future__ import annotations

from typing import Any

from rnncli.serve.requests import Limits
from rnncli.version import __version__


def _texts(limits: Limits) -> dict[str, Any]:
    return {"type": "array", "minItems": 1, "maxItems": limits.max_texts,
            "items": {"type": "string", "maxLength": limits.max_chars}}


MODEL = {"type": "string", "description": "The run's name (its directory's); optional when one run is served."}
ERROR = {"description": "The request cannot be answered as asked",
         "content": {"application/json": {"schema": {"type": "object", "properties": {"error": {"type": "string"}},
                                                     "required": ["error"]}}}}
FAULTS = {"400": ERROR, "404": {**ERROR, "description": "No such run is served"},
          "408": {**ERROR, "description": "The body did not arrive in time"},
          "413": {**ERROR, "description": "The body, a text or a count is over its limit"},
          "503": {**ERROR, "description": "Busy or timed out: retry after Retry-After seconds"}}


def _post(summary: str, properties: dict[str, Any], required: list[str], answer: dict[str, Any]) -> dict[str, Any]:
    return {"post": {"summary": summary, "requestBody": {"required": True, "content": {"application/json": {
        "schema": {"type": "object", "properties": {"model": MODEL, **properties}, "required": required,
                   "additionalProperties": False}}}},
        "responses": {"200": {"description": "The answer", "content": {"application/json": {"schema": answer}}},
                      **FAULTS}}}


def _results(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": {"model": {"type": "string"}, "results": {"type": "array", "items": item}}}


def _get(summary: str, media: str = "application/json") -> dict[str, Any]:
    return {"get": {"summary": summary, "responses": {"200": {"description": summary, "content": {media: {}}}}}}


def description(limits: Limits) -> dict[str, Any]:
    texts = _texts(limits)
    number = {"type": "number"}
    integer = {"type": "integer", "minimum": 1}
    return {"openapi": "3.1.0", "info": {"title": "rnncli serve", "version": __version__},
            "paths": {
                "/v1/classify": _post("Label texts with a classifier", {
                    "texts": texts, "k": {**integer, "description": "how many labels per text"},
                    "threshold": {**number, "minimum": 0, "maximum": 1}}, ["texts"],
                    _results({"type": "object", "properties": {"label": {"type": ["string", "null"]},
                              "labels": {"type": "array", "items": {"type": "string"}},
                              "probs": {"type": "array", "items": number}}})),
                "/v1/generate": _post("Generate a continuation with a language model (stream: server-sent events)", {
                    "prompt": {"type": "string", "maxLength": limits.max_chars},
                    "max_tokens": {"type": "integer", "minimum": 0, "maximum": limits.max_tokens},
                    "temperature": {**number, "minimum": 0}, "top_k": integer,
                    "top_p": {**number, "exclusiveMinimum": 0, "maximum": 1}, "seed": {"type": "integer"},
                    "num_samples": integer, "stop_at_eos": {"type": "boolean"}, "beam": integer,
                    "best_of": integer, "length_penalty": number, "stream": {"type": "boolean"}}, [],
                    _results({"type": "object", "properties": {"text": {"type": "string"},
                                                               "tokens": {"type": "integer"}}})),
                "/v1/score": _post("Score texts with a language model (log-probability, perplexity, bits per character)",
                                   {"texts": texts, "per_token": {"type": "boolean"},
                                    "cache": {"enum": ["auto", "none", "unigram", "neural"]}}, ["texts"],
                                   _results({"type": "object", "properties": {
                                       "text": {"type": "string"}, "tokens": {"type": "integer"}, "logprob": number,
                                       "ppl": number, "bpc": number}})),
                "/v1/embed": _post("One vector per text", {"texts": texts}, ["texts"],
                                   {"type": "object", "properties": {"vectors": {"type": "array", "items": {
                                       "type": "array", "items": number}}}}),
                "/v1/tag": _post("Tag each whitespace-separated token", {"texts": texts, "top": integer}, ["texts"],
                                 _results({"type": "object", "properties": {
                                     "tokens": {"type": "array", "items": {"type": "string"}},
                                     "tags": {"type": "array", "items": {"type": "string"}},
                                     "probs": {"type": "array", "items": number}}})),
                "/v1/translate": _post("Translate texts", {"texts": texts, "beam": integer, "length_penalty": number},
                                       ["texts"], _results({"type": "object", "properties": {
                                           "text": {"type": "string"}, "logprob": number}})),
                "/v1/reload": _post("Open the runs again (a replaced export is picked up)", {}, [],
                                    {"type": "object"}),
                "/v1/models": _get("The served runs: name, task, endpoints and what rnncli info says"),
                "/health": _get("Alive"),
                "/metrics": _get("Prometheus metrics", "text/plain"),
                "/": _get("A page to try the runs", "text/html"),
            }}
