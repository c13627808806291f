"""Line-to-line transforms: text -> ids (encode) and ids -> text (decode).

One output line per input line. Output is produced a block at a time (what one read of the
input delivered), so a pipe sees each line as soon as its input line arrived, while a large file
is processed a megabyte at a time. A last input line without a newline gives a last output line
without one, so encode | decode reproduces a file byte for byte.
"""

from __future__ import annotations

import json
from typing import Callable, Iterator, Sequence

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


def _encoded(vocab: Vocab, reader: LineReader) -> Iterator[tuple[list[str], list[list[int]], bool]]:
    """(block, ids, whether the block's last line ended with a newline) for each block.

    sentencepiece releases the GIL, so its vocabularies encode the next block in a worker thread
    while the current one is formatted and written; a block is held back only while more input
    is ready, so a pipe still gets each line as soon as it arrived.
    """
    if not getattr(vocab, "encodes_without_gil", False):
        for block in reader.blocks():
            yield block, vocab.encode_batch(block), reader.final_newline
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        pending = None
        for block in reader.blocks():
            current = (block, pool.submit(vocab.encode_batch, block), reader.final_newline)
            if pending is not None:
                yield pending[0], pending[1].result(), pending[2]
            pending = current
            if not reader.more_ready():
                yield pending[0], pending[1].result(), pending[2]
                pending = None
        if pending is not None:
            yield pending[0], pending[1].result(), pending[2]


def encode_stream(vocab: Vocab, reader: LineReader, write: Write, options: EncodeOptions,
                  after_block: Callable[[], None] | None = None) -> int:
    """Encode every line of ``reader``; returns the number of lines."""
    names = [str(i) for i in range(len(vocab))]
    lookup = names.__getitem__
    count = 0
    for block, id_lists, newline in _encoded(vocab, reader):
        if not options.plain:
            id_lists = [options.shape(ids) for ids in id_lists]
        if options.fmt == "ids":
            out = [" ".join(map(lookup, ids)) for ids in id_lists]
        elif options.fmt == "pieces":
            out = [" ".join(vocab.pieces(ids)) for ids in id_lists]
        else:
            out = [json.dumps({"ids": ids, "pieces": vocab.pieces(ids)}, ensure_ascii=False)
                   for ids in id_lists]
        text = "\n".join(out)
        write(text + "\n" if newline else text)
        count += len(block)
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
