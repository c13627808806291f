"""Crash-safe file writing and bounded, validated reading.

Every file rnncli writes goes through :func:`atomic_write`: the bytes land in a temporary file
beside the target, are flushed and fsynced, then renamed over the target, and the directory is
fsynced. A reader therefore sees either the old file or the new one, never a mix, whatever
moment the process dies. Readers go through :func:`read_bounded` so that a hostile or mistaken
file cannot exhaust memory.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import sys
import tempfile
from pathlib import Path
from typing import IO, Any, Iterator

from rnncli.errors import FormatError, InputError

MiB = 1 << 20


def fsync_dir(directory: str | os.PathLike[str]) -> None:
    """Make a rename or a new file in ``directory`` durable (no-op where unsupported)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on success it replaces ``path`` atomically.

    On any exception the temporary file is removed and ``path`` is left untouched.
    """
    target = Path(path)
    if target.is_dir():
        raise InputError(f"{target}: is a directory")
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise InputError(f"{directory}: no such directory")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except PermissionError as exc:
        raise InputError(f"{target}: cannot write here ({exc.strerror})") from None
    try:
        kwargs = {} if "b" in mode else {"encoding": "utf-8", "newline": ""}
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(OSError):
            os.chmod(tmp, 0o644 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(directory)


@contextlib.contextmanager
def spooled_stdin(directory: str | os.PathLike[str], block: int = MiB) -> Iterator[Path]:
    """Standard input copied once, block by block (memory stays flat), into a temporary file in
    ``directory`` that is removed on leaving, however the block is left (Ctrl-C included)."""
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".stdin.", suffix=".txt", dir=directory)
    try:
        source = sys.stdin.buffer
        with os.fdopen(fd, "wb") as out:
            while chunk := source.read(block):
                out.write(chunk)
        yield Path(tmp)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    with atomic_write(path, "wb") as handle:
        handle.write(data)


def write_json(path: str | os.PathLike[str], obj: Any, indent: int | None = 1) -> None:
    text = json.dumps(obj, ensure_ascii=False, indent=indent, allow_nan=False)
    write_bytes(path, (text + "\n").encode("utf-8"))


def check_readable_file(path: str | os.PathLike[str]) -> Path:
    """Return ``path`` if it names a readable regular file, else raise a one-line error."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise InputError(f"{p}: no such file") from None
    except PermissionError:
        raise InputError(f"{p}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{p}: cannot read ({exc.strerror})") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{p}: is a directory, expected a file")
    return p


def read_bounded(path: str | os.PathLike[str], limit: int, what: str = "file") -> bytes:
    """Read a whole file, refusing one larger than ``limit`` bytes before reading it."""
    p = check_readable_file(path)
    size = p.stat().st_size
    if size > limit:
        raise FormatError(f"{p}: {what} is {size:,} bytes, larger than the {limit:,} allowed")
    try:
        with open(p, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise InputError(f"{p}: cannot read ({exc.strerror})") from None
    if len(data) > limit:
        raise FormatError(f"{p}: {what} is larger than the {limit:,} bytes allowed")
    return data


def read_json(path: str | os.PathLike[str], limit: int = 64 * MiB, what: str = "JSON file") -> Any:
    """Parse a bounded JSON file; any malformation is a one-line FormatError naming the file."""
    data = read_bounded(path, limit, what)
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise FormatError(f"{path}: not a {what} (not UTF-8 text)") from None
    except json.JSONDecodeError as exc:
        raise FormatError(f"{path}: not a {what} (invalid JSON at line {exc.lineno})") from None
    except RecursionError:
        raise FormatError(f"{path}: not a {what} (nested too deeply)") from None
