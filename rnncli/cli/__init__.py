"""The command-line interface: a thin Typer layer over the library."""

from __future__ import annotations

import os
import sys

from rnncli.cli.app import app, register_commands, silence_stdout

register_commands()


def main() -> None:
    try:
        app(prog_name="rnncli")
    except BrokenPipeError:
        silence_stdout()
        sys.exit(0)
    except SystemExit as stop:
        _leave_process_group_process(stop.code)
        raise


def _leave_process_group_process(code: object) -> None:
    """A torchrun rank exits at once with its status, skipping interpreter teardown (see distributed)."""
    distributed = sys.modules.get("rnncli.distributed")
    if distributed is None or not distributed.joined_a_group():
        return
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code if isinstance(code, int) else (0 if code is None else 1))


__all__ = ["app", "main"]
