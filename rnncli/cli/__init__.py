"""The command-line interface: a thin Typer layer over the library."""

from __future__ import annotations

import sys

from rnncli.cli.app import app, silence_stdout
from rnncli.cli import classify as _classify, data as _data, demo as _demo, lecture as _lecture, lm as _lm, train as _train, vocab as _vocab  # noqa: F401,E501


def main() -> None:
    try:
        app()
    except BrokenPipeError:
        silence_stdout()
        sys.exit(0)


__all__ = ["app", "main"]
