"""Reading text corpora: files or stdin, streamed in bounded memory.

Lines come out without their terminator; CRLF reads as LF. Input is read with ``read1`` so a
slow pipe yields lines as soon as they arrive, while a file is decoded a megabyte at a time.
Invalid bytes are reported as ``file:line`` unless ``errors="replace"``.
"""

from __future__ import annotations

import codecs
import io
import os
import sys
from typing import BinaryIO, Iterable, Iterator

from rnncli.errors import ConfigError, InputError
from rnncli.fileio import check_readable_file

STDIN = "-"
BLOCK = 1 << 20


def check_encoding(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise ConfigError(f"unknown text encoding {encoding!r}") from None


def _ascii_compatible(encoding: str) -> bool:
    return b"\n" == "\n".encode(encoding) and not encoding.startswith(("utf-16", "utf-32"))


class LineReader:
    """Iterate over the lines of one input (a path, or ``-`` for stdin).

    ``final_newline`` tells, once the reader is exhausted, whether the last line ended with a
    newline, so that a line-to-line transform can reproduce its input byte for byte.
    """

    def __init__(self, path: str, encoding: str = "utf-8", errors: str = "strict") -> None:
        self.path = path
        self.name = "<stdin>" if path == STDIN else path
        self.encoding = check_encoding(encoding)
        if errors not in ("strict", "replace"):
            raise ConfigError(f"--errors must be strict or replace, not {errors!r}")
        self.errors = errors
        self.final_newline = True
        self.lines_read = 0
        self._handle: BinaryIO | None = None
        if path != STDIN:
            check_readable_file(path)

    def more_ready(self) -> bool:
        """Whether more input can be read without waiting (always, for files and in-memory input)."""
        handle = self._handle
        if handle is None:
            return False
        try:
            import select

            ready, _, _ = select.select([handle], [], [], 0)
            return bool(ready)
        except (OSError, ValueError, AttributeError, TypeError):
            return True

    def _open(self) -> BinaryIO:
        if self.path == STDIN:
            return sys.stdin.buffer
        try:
            return open(self.path, "rb")
        except OSError as exc:
            raise InputError(f"{self.path}: cannot read ({exc.strerror})") from None

    def __iter__(self) -> Iterator[str]:
        for block in self.blocks():
            yield from block

    def blocks(self) -> Iterator[list[str]]:
        """Yield lists of lines, as many as one read delivered (at most about a megabyte)."""
        handle = self._open()
        self._handle = handle
        try:
            if _ascii_compatible(self.encoding):
                yield from self._binary_blocks(handle)
            else:
                yield from self._text_blocks(handle)
        except OSError as exc:
            raise InputError(f"{self.name}: read failed ({exc.strerror})") from None
        finally:
            self._handle = None
            if handle is not sys.stdin.buffer:
                handle.close()

    def _decode(self, block: bytes) -> str:
        try:
            return block.decode(self.encoding, self.errors)
        except UnicodeDecodeError as exc:
            line = self.lines_read + block.count(b"\n", 0, exc.start) + 1
            bad = block[exc.start : exc.start + 1].hex()
            raise InputError(
                f"{self.name}:{line}: invalid {self.encoding} (byte 0x{bad}); "
                "use --errors replace to accept it"
            ) from None

    def _binary_blocks(self, handle: BinaryIO) -> Iterator[list[str]]:
        read = getattr(handle, "read1", handle.read)
        pending: list[bytes] = []
        while True:
            chunk = read(BLOCK)
            if not chunk:
                break
            cut = chunk.rfind(b"\n")
            if cut < 0:
                pending.append(chunk)
                continue
            block = b"".join(pending) + chunk[: cut + 1] if pending else chunk[: cut + 1]
            pending = [chunk[cut + 1 :]] if cut + 1 < len(chunk) else []
            if b"\r" in block:
                block = block.replace(b"\r\n", b"\n")
            lines = self._decode(block).split("\n")
            lines.pop()
            self.lines_read += len(lines)
            yield lines
        tail = b"".join(pending)
        if tail:
            if tail.endswith(b"\r"):
                tail = tail[:-1]
            line = self._decode(tail)
            self.lines_read += 1
            self.final_newline = False
            yield [line]

    def _text_blocks(self, handle: BinaryIO) -> Iterator[list[str]]:
        text = io.TextIOWrapper(handle, encoding=self.encoding, errors=self.errors, newline="\n")
        try:
            lines: list[str] = []
            for raw in text:
                if raw.endswith("\n"):
                    raw = raw[:-2] if raw.endswith("\r\n") else raw[:-1]
                else:
                    self.final_newline = False
                lines.append(raw)
                if len(lines) >= 4096:
                    self.lines_read += len(lines)
                    yield lines
                    lines = []
            if lines:
                self.lines_read += len(lines)
                yield lines
        except UnicodeDecodeError:
            raise InputError(
                f"{self.name}:{self.lines_read + 1}: invalid {self.encoding}; "
                "use --errors replace to accept it"
            ) from None
        finally:
            text.detach()


def coalesced_blocks(reader: LineReader, limit: int = 8192) -> Iterator[list[str]]:
    """Blocks of up to ``limit`` lines: as many as are available without waiting, so a fast
    producer gets large batches and an interactive one gets each line at once."""
    pending: list[str] = []
    for block in reader.blocks():
        pending.extend(block)
        while len(pending) >= limit:
            yield pending[:limit]
            pending = pending[limit:]
        if pending and not reader.more_ready():
            yield pending
            pending = []
    if pending:
        yield pending


def json_object(line: str) -> dict | None:  # type: ignore[type-arg]
    """The line as a JSON object, or None: formats are told apart by it, and a CoNLL token or a
    TSV field may well start with ``{``."""
    if not line.lstrip().startswith("{"):
        return None
    import json

    try:
        value = json.loads(line)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def probe(path: str, lines: int = 200) -> list[str]:
    """The first lines of a file, as many as hold ``lines`` non-blank ones (blank lines kept), to
    tell its format by (for inferring ``--task``); none for stdin or a file that cannot be read."""
    if path == STDIN or not os.path.isfile(path):
        return []
    found: list[str] = []
    filled = 0
    try:
        for line in LineReader(path, errors="replace"):
            found.append(line)
            filled += bool(line.strip())
            if filled >= lines:
                break
    except InputError:
        return []
    return found


def check_inputs(paths: Iterable[str]) -> list[str]:
    """Validate a list of input paths up front (``-`` at most once) so errors come early."""
    paths = list(paths) or [STDIN]
    if paths.count(STDIN) > 1:
        raise ConfigError("stdin ('-') can be given only once")
    for path in paths:
        if path != STDIN:
            check_readable_file(path)
    return paths


def iter_corpus(paths: Iterable[str], encoding: str = "utf-8", errors: str = "strict") -> Iterator[str]:
    """All lines of several inputs, in order."""
    for path in check_inputs(paths):
        yield from LineReader(path, encoding, errors)
