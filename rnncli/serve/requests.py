"""Reading a request: its body within the limits, and each field checked, so that anything
malformed is answered 4xx naming what is wrong, never a traceback or a 500."""

from __future__ import annotations

import asyncio
import json
import math
from dataclasses import dataclass
from typing import Any

READ_TIMEOUT = 10.0  # seconds a client may take to send its body (a slow client is answered 408)


class HttpError(Exception):
    """A request answered with ``status`` and ``{"error": message}``."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


@dataclass(frozen=True)
class Limits:
    """What one request may hold (rnncli.serve.options.ServeArgs declares them and their defaults)."""

    max_body: int
    max_texts: int
    max_chars: int
    max_tokens: int
    read_timeout: float = READ_TIMEOUT


async def read_json(request: Any, limits: Limits) -> dict[str, Any]:
    """The request's JSON object; 413 past ``max_body``, 408 for a body that does not come, 400 for
    anything that is not a UTF-8 JSON object."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise HttpError(400, "Content-Length is not a number")
        if int(declared) > limits.max_body:
            raise HttpError(413, f"the body is {int(declared):,} bytes; at most {limits.max_body:,} are read",
                            {"Connection": "close"})
    try:
        body = await asyncio.wait_for(_body(request, limits.max_body), limits.read_timeout)
    except asyncio.TimeoutError:
        raise HttpError(408, f"the body did not arrive within {limits.read_timeout:g} s", {"Connection": "close"}) \
            from None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HttpError(400, f"the body is not UTF-8 (byte {exc.start})") from None
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise HttpError(400, f"malformed JSON: {getattr(exc, 'msg', 'nested too deeply')}") from None
    if not isinstance(value, dict):
        raise HttpError(400, "the body must be a JSON object")
    return value


async def _body(request: Any, limit: int) -> bytes:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HttpError(413, f"the body is over {limit:,} bytes", {"Connection": "close"})
        chunks.append(chunk)
    return b"".join(chunks)


def texts(body: dict[str, Any], limits: Limits, field: str = "texts") -> list[str]:
    """A non-empty list of strings, within the limits."""
    value = body.get(field)
    if value is None:
        raise HttpError(400, f"{field}: required (a list of strings)")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise HttpError(400, f"{field}: must be a list of strings")
    if not value:
        raise HttpError(400, f"{field}: must hold at least one text")
    if len(value) > limits.max_texts:
        raise HttpError(413, f"{field}: {len(value):,} texts; at most {limits.max_texts:,} per request")
    for i, v in enumerate(value):
        _check_length(f"{field}[{i}]", v, limits)
    return value


def string(body: dict[str, Any], field: str, default: str, limits: Limits) -> str:
    value = body.get(field, default)
    if not isinstance(value, str):
        raise HttpError(400, f"{field}: must be a string")
    _check_length(field, value, limits)
    return value


def _check_length(field: str, value: str, limits: Limits) -> None:
    if len(value) > limits.max_chars:
        raise HttpError(413, f"{field}: {len(value):,} characters; at most {limits.max_chars:,}")
    if "\x00" in value:
        raise HttpError(400, f"{field}: holds a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise HttpError(400, f"{field}: holds an unpaired surrogate (\\ud800-\\udfff)") from None


def integer(body: dict[str, Any], field: str, default: int | None, low: int, high: int | None = None,
            too_many: int = 400) -> int | None:
    """An integer in [low, high] (``too_many``: the status above ``high``, 413 for sizes)."""
    value = body.get(field, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise HttpError(400, f"{field}: must be an integer")
    if value < low:
        raise HttpError(400, f"{field}: must be at least {low}")
    if high is not None and value > high:
        raise HttpError(too_many, f"{field}: at most {high}")
    return value


def number(body: dict[str, Any], field: str, default: float | None, low: float, high: float,
           open_low: bool = False) -> float | None:
    value = body.get(field, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise HttpError(400, f"{field}: must be a number")
    if value < low or (open_low and value == low) or value > high:
        raise HttpError(400, f"{field}: must be in {'(' if open_low else '['}{low:g}, {high:g}]")
    return float(value)


def boolean(body: dict[str, Any], field: str, default: bool) -> bool:
    value = body.get(field, default)
    if not isinstance(value, bool):
        raise HttpError(400, f"{field}: must be true or false")
    return value


def choice(body: dict[str, Any], field: str, default: str, choices: tuple[str, ...]) -> str:
    value = body.get(field, default)
    if value not in choices:
        raise HttpError(400, f"{field}: must be one of {', '.join(choices)}")
    return str(value)


def unknown_fields(body: dict[str, Any], known: tuple[str, ...]) -> None:
    """A field the endpoint does not read is refused: a typo must not pass silently."""
    extra = sorted(set(body) - set(known) - {"model"})
    if extra:
        raise HttpError(400, f"{extra[0]}: unknown field (this endpoint reads {', '.join(known)})")
