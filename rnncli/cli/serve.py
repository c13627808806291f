"""serve: answer over HTTP with trained runs (the serve extra)."""

from __future__ import annotations

from rnncli.cli.app import command
from rnncli.cli.common import info
from rnncli.cli.declare import declared
from rnncli.serve.options import ServeArgs


def _serve(args: ServeArgs) -> None:
    """Serve runs over HTTP: JSON endpoints (/v1/classify, generate, score, embed, tag, translate),
    dynamic batching, /metrics, /openapi.json and a page at / to try them. Stops on SIGTERM after
    the requests in flight; SIGHUP reopens the runs."""
    from rnncli.serve.server import serve

    serve(args, info)


serve = command("serve")(declared(ServeArgs, _serve))
