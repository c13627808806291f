"""The OpenAPI 3.1 description served at ``/openapi.json``: the house's endpoints, and each task's
from its declaration (:mod:`rnncli.serve.endpoints`)."""

from __future__ import annotations

from typing import Any

from rnncli.serve.requests import Limits
from rnncli.version import __version__

MODEL = {"type": "string", "description": "The run's name (its directory's); optional when one run is served."}
ERROR = {"description": "The request cannot be answered as asked",
         "content": {"application/json": {"schema": {"type": "object", "properties": {"error": {"type": "string"}},
                                                     "required": ["error"]}}}}
FAULTS = {"400": ERROR, "404": {**ERROR, "description": "No such run is served"},
          "408": {**ERROR, "description": "The body did not arrive in time"},
          "413": {**ERROR, "description": "The body, a text or a count is over its limit"},
          "503": {**ERROR, "description": "Busy or timed out: retry after Retry-After seconds"}}


def _post(summary: str, fields: dict[str, Any], answer: dict[str, Any] | None, body_required: bool = True) -> dict[str, Any]:
    required = ["texts"] if "texts" in fields else []
    return {"post": {"summary": summary, "requestBody": {"required": body_required, "content": {"application/json": {
        "schema": {"type": "object", "properties": {"model": MODEL, **fields}, "required": required,
                   "additionalProperties": False}}}},
        "responses": {"200": {"description": "The answer",
                              "content": {"application/json": {"schema": answer or {"type": "object"}}}},
                      **FAULTS}}}


def _get(summary: str, media: str = "application/json") -> dict[str, Any]:
    return {"get": {"summary": summary, "responses": {"200": {"description": summary, "content": {media: {}}}}}}


def description(limits: Limits, endpoints: dict[str, Any]) -> dict[str, Any]:
    """The description of a server with these limits answering these declared endpoints."""
    paths = {f"/v1/{name}": _post(e.summary, e.fields(limits), e.answer_schema) for name, e in endpoints.items()}
    paths.update({
        "/v1/reload": _post("Open the runs again where their export changed on disk", {}, None, body_required=False),
        "/v1/models": _get("The served runs: name, task, endpoints and what rnncli info says"),
        "/health": _get("Alive"),
        "/metrics": _get("Prometheus metrics", "text/plain"),
        "/": _get("A page to try the runs", "text/html"),
    })
    return {"openapi": "3.1.0", "info": {"title": "rnncli serve", "version": __version__}, "paths": paths}
