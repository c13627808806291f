"""The HTTP application: JSON endpoints over the served runs, on Starlette.

Every answer is JSON (``{"error": "..."}`` for 4xx and 5xx) except ``/metrics`` (Prometheus text),
``/`` (the page) and a streamed generation (server-sent events). A request is read within the
limits of :class:`~rnncli.serve.requests.Limits`, waits for at most ``timeout`` seconds, and is
refused with 503 and ``Retry-After`` when its run's queue is full.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Awaitable, Callable, Iterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import Route

from rnncli.errors import RnncliError
from rnncli.serve.batching import Batcher, Busy
from rnncli.serve.endpoints import Compute, Streamed
from rnncli.serve.metrics import Metrics
from rnncli.serve.options import ServeArgs
from rnncli.serve.requests import HttpError, Limits, read_json, unknown_fields
from rnncli.serve.runs import ServedRun

log = logging.getLogger("rnncli.serve")
RETRY_AFTER = "1"


def json_response(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(value, ensure_ascii=False).encode("utf-8"), status, headers,
                    media_type="application/json")


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return json_response({"error": message}, status, headers)


class Service:
    """The runs, their batchers and the limits: what every endpoint reads."""

    def __init__(self, runs: dict[str, ServedRun], args: ServeArgs) -> None:
        self.runs, self.args = runs, args
        self.limits = Limits(args.max_body, args.max_texts, args.max_chars, args.max_tokens)
        self.metrics = Metrics()
        self.compute_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="rnncli-batch")
        self.stream_pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="rnncli-stream")
        self.batchers: dict[tuple[Any, ...], Batcher] = {}
        self._fields: dict[int, tuple[str, ...]] = {}
        self.generating: dict[str, int] = {name: 0 for name in runs}  # generations running, per run

    def run_of(self, body: dict[str, Any], endpoint: str) -> tuple[ServedRun, Any]:
        """The run a body names (or the one served) and its declaration of ``endpoint``."""
        name = body.get("model")
        if name is None:
            if len(self.runs) > 1:
                raise HttpError(400, f"model: required when several runs are served ({', '.join(self.runs)})")
            run = next(iter(self.runs.values()))
        else:
            run = self.runs[self.named(name)]
        if endpoint not in run.endpoints:
            raise HttpError(400, f"model {run.name!r} is a {run.task} run: it answers {', '.join(run.endpoints)}, "
                                 f"not {endpoint}")
        return run, run.endpoints[endpoint]

    def field_names(self, declared: Any) -> tuple[str, ...]:
        """The body fields an endpoint reads (its schema is built once, not per request)."""
        names = self._fields.get(id(declared))
        if names is None:
            names = self._fields[id(declared)] = tuple(declared.fields(self.limits))
        return names

    def named(self, name: Any) -> str:
        if not isinstance(name, str):
            raise HttpError(400, "model: must be a string")
        if name not in self.runs:
            raise HttpError(404, f"model: no run named {name[:100]!r} is served ({', '.join(self.runs)})")
        return name

    async def batched(self, run: ServedRun, endpoint: str, key: tuple[Any, ...], items: list[Any],
                      compute: Callable[[], Compute]) -> list[Any]:
        """``items`` computed with those of concurrent requests of the same run, endpoint and key."""
        batcher = self.batchers.get((run.name, endpoint, key))
        if batcher is None:
            args = self.args
            batcher = Batcher(compute(), args.max_batch, args.max_wait_ms / 1000, args.max_queue, self.compute_pool,
                              self.metrics.batch_observer(run.name, endpoint))
            self.batchers[(run.name, endpoint, key)] = batcher
        return await asyncio.wait_for(batcher.submit(items), self.args.timeout)

    async def reload(self, names: list[str] | None = None) -> list[dict[str, Any]]:
        loop = asyncio.get_running_loop()
        done = []
        for name in names or list(self.runs):
            run = self.runs[name]
            changed = await loop.run_in_executor(None, run.reload)
            done.append({"name": name, "engine": run.engine.variant, "changed": changed})
            log.warning("reloaded %s (%s%s)", name, run.engine.variant, "" if changed else ", unchanged on disk")
        return done

    def close(self) -> None:
        self.compute_pool.shutdown(wait=False, cancel_futures=True)
        self.stream_pool.shutdown(wait=False, cancel_futures=True)
        for run in self.runs.values():
            run.close()


Handler = Callable[[Service, Request], Awaitable[Response]]


def endpoint(name: str, handler: Handler, service: Service) -> Callable[[Request], Awaitable[Response]]:
    """The route of ``handler``: its faults answered as JSON with their status, each answer counted."""

    async def route(request: Request) -> Response:
        began = time.perf_counter()
        try:
            response = await handler(service, request)
        except HttpError as exc:
            response = error_response(exc.status, exc.message, exc.headers)
        except Busy as exc:
            response = error_response(503, f"busy: {exc}; try again", {"Retry-After": RETRY_AFTER})
        except asyncio.TimeoutError:
            response = error_response(503, f"not answered within {service.args.timeout:g} s",
                                      {"Retry-After": RETRY_AFTER})
        except RnncliError as exc:
            response = error_response(400, str(exc))
        except Exception:  # a fault of the server, not the request: logged, answered 500, the server goes on
            log.exception("%s failed", name)
            response = error_response(500, "internal error (logged by the server)")
        service.metrics.answered(name, response.status_code, time.perf_counter() - began)
        return response

    return route


async def answer(service: Service, request: Request, name: str) -> Response:
    """``POST /v1/<name>``: the body checked, then answered as the named run's task declares."""
    body = await read_json(request, service.limits)
    run, declared = service.run_of(body, name)
    unknown_fields(body, service.field_names(declared))
    if isinstance(declared, Streamed):
        return await generation(service, run, declared, declared.read(body, service.limits))
    items, options = declared.read(body, service.limits)
    found = await service.batched(run, name, tuple(options[k] for k in declared.keyed), items,
                                  lambda: declared.compute(run, options))
    return json_response({"model": run.name, **declared.answer(run, items, found, options)})


async def generation(service: Service, run: ServedRun, declared: Streamed, options: dict[str, Any]) -> Response:
    if service.generating[run.name] >= service.args.max_queue:
        raise Busy(f"{service.generating[run.name]:,} generations are running on {run.name}")
    if options["stream"]:
        return streamed(service, run, declared.pieces(run, options))
    loop = asyncio.get_running_loop()
    service.generating[run.name] += 1
    try:
        found = await asyncio.wait_for(loop.run_in_executor(service.stream_pool, declared.whole, run, options),
                                       service.args.timeout)
    finally:
        service.generating[run.name] -= 1
    return json_response({"model": run.name, "results": found})


def streamed(service: Service, run: ServedRun, pieces: Iterator[str]) -> Response:
    """Server-sent events: ``data: {"text": piece}`` as each token decodes, then ``event: done``
    with the number of tokens. A client that leaves frees its slot at the next token."""
    done = object()

    async def events() -> Any:
        loop = asyncio.get_running_loop()
        service.generating[run.name] += 1
        service.metrics.streams.inc()
        count = 0
        try:
            while True:
                piece = await loop.run_in_executor(service.stream_pool, next, pieces, done)
                if piece is done:
                    break
                count += 1
                if piece:
                    yield f"data: {json.dumps({'text': piece}, ensure_ascii=False)}\n\n"
            yield f"event: done\ndata: {json.dumps({'tokens': count})}\n\n"
        except RnncliError as exc:
            yield f"event: error\ndata: {json.dumps({'error': str(exc)})}\n\n"
        finally:
            service.generating[run.name] -= 1
            service.metrics.streams.dec()
            service.metrics.tokens.labels(run.name).inc(count)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


async def models(service: Service, request: Request) -> Response:
    return json_response({"models": [run.describe() for run in service.runs.values()]})


async def health(service: Service, request: Request) -> Response:
    return json_response({"status": "ok", "models": list(service.runs)})


async def metrics(service: Service, request: Request) -> Response:
    from prometheus_client import CONTENT_TYPE_LATEST

    return Response(service.metrics.text(), media_type=CONTENT_TYPE_LATEST)


async def reload(service: Service, request: Request) -> Response:
    body = await read_json(request, service.limits) if _has_body(request) else {}
    unknown_fields(body, ())
    names = [service.named(body["model"])] if "model" in body else None
    try:
        return json_response({"reloaded": await service.reload(names)})
    except RnncliError as exc:
        raise HttpError(409, f"reload failed, the runs serve as before: {exc}") from None


def _has_body(request: Request) -> bool:
    return request.headers.get("content-length", "0") != "0" or "transfer-encoding" in request.headers


async def page(service: Service, request: Request) -> Response:
    from rnncli.serve.page import PAGE

    return HTMLResponse(PAGE)


async def openapi(service: Service, request: Request) -> Response:
    from rnncli.serve.openapi import description

    return json_response(description(service.limits, declared_endpoints()))


HOUSE: tuple[tuple[str, str, str, Handler], ...] = (
    ("/", "GET", "page", page),
    ("/health", "GET", "health", health),
    ("/metrics", "GET", "metrics", metrics),
    ("/openapi.json", "GET", "openapi", openapi),
    ("/v1/models", "GET", "models", models),
    ("/v1/reload", "POST", "reload", reload),
)


def declared_endpoints() -> dict[str, Any]:
    """Every endpoint some task declares, by name (a name two tasks share, such as embed, once)."""
    from rnncli.tasks import tasks

    return {name: declared for spec in tasks().values() for name, declared in spec.part("serving")().items()}


def _answering(name: str) -> Handler:
    async def handler(service: Service, request: Request) -> Response:
        return await answer(service, request, name)

    return handler


def create_app(runs: dict[str, ServedRun], args: ServeArgs) -> Starlette:
    """The application serving ``runs`` (opened by :func:`rnncli.serve.runs.open_runs`)."""
    service = Service(runs, args)

    async def http_error(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 500)
        return error_response(status, str(getattr(exc, "detail", "error")), getattr(exc, "headers", None))

    table = [*HOUSE, *((f"/v1/{name}", "POST", name, _answering(name)) for name in declared_endpoints())]
    routes = [Route(path, endpoint(name, handler, service), methods=[method]) for path, method, name, handler in table]
    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error})
    app.state.service = service
    return app
