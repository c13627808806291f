"""Line-to-line transforms: text -> ids (encode) and ids -> text (decode).

One output line per input line. Output is produced a block at a time (what one read of the
input delivered), so a pipe sees each line as soon as its input line arrived, while a large file
is processed a megabyte at a time. A last input line without a newline gives a last output line
without one, so encode | decode reproduces a file byte for byte.
"""

from __future__ import annotations

import json
import os
from typing import Callable, Iterator, Sequence, TypeVar

from rnncli.errors import ConfigError, InputError
from rnncli.text.reader import LineReader
from rnncli.text.vocab import BOS, EOS, PAD, Vocab

ENCODE_FORMATS = ("ids", "pieces", "jsonl")
Write = Callable[[str], None]


class EncodeOptions:
    def __init__(self, fmt: str = "ids", bos: bool = False, eos: bool = False,
                 max_len: int | None = None, pad_to: int | None = None) -> None:
        if fmt not in ENCODE_FORMATS:
            raise ConfigError(f"--format must be one of {', '.join(ENCODE_FORMATS)}")
        if max_len is not None and max_len < 1:
            raise ConfigError("--max-len must be at least 1")
        if pad_to is not None and pad_to < 1:
            raise ConfigError("--pad-to must be at least 1")
        if max_len is not None and max_len < int(bos) + int(eos):
            raise ConfigError("--max-len is too small to hold the requested <bos>/<eos>")
        self.fmt, self.bos, self.eos, self.max_len, self.pad_to = fmt, bos, eos, max_len, pad_to

    @property
    def plain(self) -> bool:
        return not (self.bos or self.eos or self.max_len or self.pad_to)

    def shape(self, ids: list[int]) -> list[int]:
        if self.max_len is not None:
            room = self.max_len - int(self.bos) - int(self.eos)
            ids = ids[:room]
        if self.bos:
            ids = [BOS] + ids
        if self.eos:
            ids.append(EOS)
        if self.pad_to is not None and len(ids) < self.pad_to:
            ids = ids + [PAD] * (self.pad_to - len(ids))
        return ids


PARTS_PER_BLOCK = 16  # a block of a megabyte goes to the workers as parts of about 64 KB
PARTS_AHEAD = 8  # parts handed to the workers before the oldest is taken back
T = TypeVar("T")


def encoded_parts(vocab: Vocab, reader: LineReader, finish: Callable[[list[str], list[list[int]]], T],
                  workers: int | None = None) -> Iterator[tuple[list[str], T, bool]]:
    """(lines, ``finish(lines, their ids)``, whether the last line ended with a newline), in order.

    Vocabularies whose batch encoder releases the GIL (sentencepiece) encode on ``workers`` threads
    (default: one per core): the input is cut into small parts, and each worker encodes one part
    on a single thread, then finishes it (formats its ids, say) before it takes the next.
    sentencepiece's own batch encoder instead deals a batch out to its threads before it starts,
    so whichever thread shares its core with the caller holds the whole batch back. Parts are held
    back only while more input is ready, so a pipe still gets each line as soon as it arrived.
    """
    if not vocab.encodes_without_gil:
        for block in reader.blocks():
            yield block, finish(block, vocab.encode_batch(block)), reader.final_newline
        return
    from collections import deque
    from concurrent.futures import Future, ThreadPoolExecutor

    def work(part: list[str]) -> T:
        return finish(part, vocab.encode_batch(part, 1))

    pending: deque[tuple[list[str], Future[T], bool]] = deque()
    pool = ThreadPoolExecutor(workers or usable_cpus())
    try:
        for block in reader.blocks():
            step = max(1, -(-len(block) // PARTS_PER_BLOCK))
            for start in range(0, max(len(block), 1), step):
                part = block[start : start + step]
                newline = reader.final_newline if start + step >= len(block) else True
                pending.append((part, pool.submit(work, part), newline))
            ahead = PARTS_AHEAD if reader.more_ready() else 0
            while len(pending) > ahead:
                part, future, newline = pending.popleft()
                yield part, future.result(), newline
        while pending:
            part, future, newline = pending.popleft()
            yield part, future.result(), newline
    finally:  # a closed pipe or a bad line later in the input: parts not yet started are dropped
        pool.shutdown(wait=True, cancel_futures=True)


def usable_cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def encode_stream(vocab: Vocab, reader: LineReader, write: Write, options: EncodeOptions,
                  after_block: Callable[[], None] | None = None, threads: int | None = None) -> int:
    """Encode every line of ``reader`` (on ``threads`` threads where the vocabulary can); returns
    the number of lines."""
    names = [str(i) for i in range(len(vocab))]
    lookup = names.__getitem__

    def formatted(lines: list[str], id_lists: list[list[int]]) -> str:
        if not options.plain:
            id_lists = [options.shape(ids) for ids in id_lists]
        if options.fmt == "ids":
            return "\n".join([" ".join(map(lookup, ids)) for ids in id_lists])
        if options.fmt == "pieces":
            return "\n".join([" ".join(vocab.pieces(ids)) for ids in id_lists])
        return "\n".join([json.dumps({"ids": ids, "pieces": vocab.pieces(ids)}, ensure_ascii=False)
                          for ids in id_lists])

    count = 0
    for lines, text, newline in encoded_parts(vocab, reader, formatted, threads):
        write(text + "\n" if newline else text)
        count += len(lines)
        if after_block is not None:
            after_block()
    return count


def parse_ids(line: str, size: int, where: str) -> list[int]:
    """Ids from a line of space-separated integers or a JSON object with an ``ids`` list."""
    stripped = line.strip()
    if stripped.startswith("{"):
        try:
            obj = json.loads(stripped)
        except json.JSONDecodeError:
            raise InputError(f"{where}: invalid JSON") from None
        ids = obj.get("ids") if isinstance(obj, dict) else None
        if not isinstance(ids, list) or not all(type(i) is int for i in ids):
            raise InputError(f"{where}: JSON line needs an \"ids\" list of integers")
    else:
        try:
            ids = list(map(int, stripped.split()))
        except ValueError:
            raise InputError(f"{where}: expected space-separated token ids") from None
    if ids and (max(ids) >= size or min(ids) < 0):
        bad = next(i for i in ids if not 0 <= i < size)
        raise InputError(f"{where}: id {bad} is outside the vocabulary (0..{size - 1})")
    return ids


def decode_stream(vocab: Vocab, reader: LineReader, write: Write,
                  after_block: Callable[[], None] | None = None) -> int:
    size = len(vocab)
    count = 0
    for block in reader.blocks():
        first = reader.lines_read - len(block) + 1
        id_lists: Sequence[list[int]] = [
            parse_ids(line, size, f"{reader.name}:{first + k}") for k, line in enumerate(block)
        ]
        text = "\n".join(vocab.decode_batch(id_lists))
        write(text + "\n" if reader.final_newline else text)
        count += len(block)
        if after_block is not None:
            after_block()
    return count
