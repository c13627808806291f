"""Running the application: uvicorn on a socket bound here (so that a port in use is one
``error:`` line), one process or ``workers`` sharing the socket.

SIGTERM and SIGINT stop accepting, let the requests in flight finish, and exit 0 (uvicorn itself
would re-raise the signal and die by it); SIGHUP reopens every run (a replaced export is picked
up) while requests go on. With several workers, uvicorn's supervisor passes SIGTERM on to them
(each drains) and on SIGHUP replaces them one by one, each new one serving before an old one goes.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import signal
import socket
import threading
from typing import Any, Callable, Iterator

from rnncli.errors import ConfigError, InputError
from rnncli.serve.options import LOCAL_HOSTS, ServeArgs

Say = Callable[[str], None]
SETTINGS_ENV = "RNNCLI_SERVE_SETTINGS"  # the workers' arguments, as JSON
ACCEPTED_GRACE = 0.25  # seconds between closing the listener and closing idle connections
EXTRA = "rnncli serve needs the serve extra: pip install 'rnncli[serve]'"


def require_extra() -> None:
    import importlib.util

    missing = [name for name in ("starlette", "uvicorn", "prometheus_client") if importlib.util.find_spec(name) is None]
    if missing:
        raise ConfigError(f"{EXTRA} ({', '.join(missing)} missing)")


def _server_class() -> Any:
    import uvicorn

    class Server(uvicorn.Server):  # type: ignore[misc]
        """uvicorn's server, with the signal handling described above."""

        on_hup: Callable[[], Any] | None = None

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
            if hasattr(signal, "SIGHUP"):
                previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, self._hup)
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            self._loop = asyncio.get_running_loop()
            await super().startup(sockets)

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            """Stop listening, give connections just accepted a moment to deliver their request (they
            are then answered like any in flight), then uvicorn's drain: idle connections close, the
            others after their answer."""
            for server in self.servers:
                server.close()
            for sock in sockets or ():  # the listener is ours too: closed, new connections are refused
                sock.close()
            await asyncio.sleep(ACCEPTED_GRACE)
            await super().shutdown(sockets)

        def _hup(self, sig: int, frame: Any) -> None:
            hook = self.on_hup
            if hook is not None:
                self._loop.call_soon_threadsafe(lambda: self._loop.create_task(hook()))

        def _log_started_message(self, listeners: Any) -> None:
            pass

    return Server


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host``:``port`` (port 0: any free one)."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except (OSError, UnicodeError) as exc:
        raise InputError(f"cannot listen on {host}:{port}: {getattr(exc, 'strerror', None) or exc}") from None
    sock.set_inheritable(True)
    return sock


def _config(app: Any, args: ServeArgs, **more: Any) -> Any:
    import uvicorn

    return uvicorn.Config(app, host=args.host, port=args.port, log_level="warning", access_log=False,
                          lifespan="off", timeout_keep_alive=5, backlog=2048, **more)


def serve(args: ServeArgs, say: Say = lambda message: None) -> None:
    """Serve ``args.run`` until SIGTERM or SIGINT; ``say`` hears what is served and where."""
    require_extra()
    from rnncli.serve.runs import open_runs, run_names

    if not args.run:
        raise ConfigError("give at least one run: -c RUN")
    run_names(args.run)
    sock = bind(args.host, args.port)
    host, port = sock.getsockname()[:2]
    if args.host not in LOCAL_HOSTS:
        say(f"listening on {args.host}, reachable from other machines: put it behind a reverse proxy that "
            "terminates TLS (docs/serving.md)")
    if args.workers == 1:
        from rnncli.serve.app import create_app

        runs = open_runs(args.run, args.threads, say)
        app = create_app(runs, args)
        _announce(say, runs, host, port)
        server = _server_class()(_config(app, args))
        server.on_hup = app.state.service.reload
        try:
            server.run(sockets=[sock])
        finally:
            app.state.service.close()
        return
    import inspect

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    os.environ[SETTINGS_ENV] = json.dumps(dataclasses.asdict(args))
    config = _config("rnncli.serve.server:app_from_environment", args, factory=True, workers=args.workers)
    say(f"{args.workers} workers, each opening {len(args.run)} run(s)")
    say(f"listening on http://{_url_host(host)}:{port}")
    older = "target" in inspect.signature(Multiprocess).parameters  # uvicorn before 0.30 takes the server's run
    supervisor = Multiprocess(config, target=uvicorn.Server(config).run, sockets=[sock]) if older \
        else Multiprocess(config, sockets=[sock])
    supervisor.run()


def app_from_environment() -> Any:
    """A worker's application, from the arguments its supervisor left in the environment."""
    from rnncli.serve.app import create_app
    from rnncli.serve.runs import open_runs

    args = ServeArgs(**json.loads(os.environ[SETTINGS_ENV]))
    return create_app(open_runs(args.run, args.threads), args)


def _announce(say: Say, runs: dict[str, Any], host: str, port: int) -> None:
    for run in runs.values():
        say(f"serving {run.name}: {run.task} ({run.engine.variant}), /v1/{', /v1/'.join(run.endpoints)}")
    say(f"listening on http://{_url_host(host)}:{port} (the page at /, the API at /openapi.json)")


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
