"""Helpers shared by the command modules: output streams, the stderr console, messages."""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from functools import lru_cache
from typing import IO, Any, Iterator

from rnncli.fileio import atomic_write

STDIO = "-"


@lru_cache(maxsize=1)
def _console_class() -> Any:
    from rich.console import Console

    return Console


def err_console() -> Any:
    """A rich console on stderr (no colour or animation when stderr is not a terminal)."""
    return _console_class()(stderr=True, highlight=False, markup=False, emoji=False)


def scores_table(rows: dict[str, dict[str, Any]], name: str) -> Any:
    """A rich table of precision, recall, F1 and support by label (or tag), for evaluate's reports."""
    from rich.table import Table

    table = Table(box=None)
    for column in (name, "precision", "recall", "F1", "support"):
        table.add_column(column, justify="left" if column == name else "right")
    for label, row in rows.items():
        table.add_row(label, f"{row['precision']:.4f}", f"{row['recall']:.4f}", f"{row['f1']:.4f}",
                      f"{row['support']:,}")
    return table


def info(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr, flush=True)


def note_stdin(path: str) -> None:
    """Tell an interactive user that the command waits for input."""
    if path == STDIO and sys.stdin is not None and sys.stdin.isatty():
        info("reading from stdin (end with Ctrl-D)")


class Output:
    """Text sink for data: stdout, or a file written atomically (never left half-written)."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle

    def write(self, text: str) -> None:
        self._handle.write(text.encode("utf-8", "surrogateescape"))

    def flush(self) -> None:
        self._handle.flush()


@contextlib.contextmanager
def open_output(path: str | None) -> Iterator[Output]:
    if path is None or path == STDIO:
        handle = sys.stdout.buffer
        yield Output(handle)
        handle.flush()
        return
    with atomic_write(path, "wb") as handle:
        yield Output(handle)


def stdout_is_file() -> bool:
    try:
        return stat.S_ISREG(os.fstat(sys.stdout.fileno()).st_mode)
    except (OSError, ValueError, AttributeError):
        return False
