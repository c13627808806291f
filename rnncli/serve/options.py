"""The options of ``rnncli serve``, declared once (:mod:`rnncli.opts`): what is served, where, and
the limits that keep the server alive under load and bad requests."""

from __future__ import annotations

from dataclasses import dataclass

from rnncli.opts import command_option, threads_option

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class ServeArgs:
    run: list[str] = command_option(None, flags=("--checkpoint-dir", "-c"), required=True, complete="run", help=(
        "Run directory written by rnncli train; repeat to serve several, each named by its directory's name."))
    host: str = command_option("127.0.0.1", help="Address to listen on (a non-local one is said on stderr).")
    port: int = command_option(8000, min=0, max=65535, help="Port to listen on (0: any free port, printed).")
    workers: int = command_option(1, min=1, max=64, help=(
        "Processes sharing the port, each holding every run (SIGHUP restarts them one by one)."))
    max_batch: int = command_option(64, min=0, max=4096, help=(
        "Texts gathered from concurrent requests into one engine call (0: no dynamic batching, each request "
        "alone)."))
    max_wait_ms: float = command_option(2.0, min=0, max=1000, help=(
        "How long the first text of a batch waits for others."))
    max_queue: int = command_option(4096, min=1, max=1_000_000, help=(
        "Texts waiting per run and endpoint (and generation streams per run) before requests are refused with 503."))
    timeout: float = command_option(30.0, min=0.01, max=3600, help=(
        "Seconds a request may wait and compute before it is answered 503."))
    max_body: int = command_option(1_048_576, min=1024, help="Largest request body in bytes (413 above).")
    max_texts: int = command_option(1024, min=1, help="Texts in one request (413 above).")
    max_chars: int = command_option(100_000, min=1, help="Characters in one text or prompt (413 above).")
    max_tokens: int = command_option(2048, min=1, help="Tokens one generation request may ask for (413 above).")
    threads: int | None = threads_option()
