"""Token streams -> batches.

Language models read one contiguous stream of ids (each line's tokens, then ``<eos>``), cut into
``batch`` parallel columns; window ``k`` holds steps ``k*bptt .. (k+1)*bptt`` of every column, so
the hidden state at the end of one window is the right state to start the next (truncated BPTT,
as in pytorch/examples' word_language_model).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np
import torch
from torch import Tensor

from rnncli.errors import InputError
from rnncli.text.reader import iter_corpus_blocks
from rnncli.text.vocab import EOS, Vocab


@dataclass
class TokenText:
    """The ids of a corpus, with the character count that bits-per-character divides by."""

    ids: np.ndarray
    chars: int
    lines: int

    def __len__(self) -> int:
        return len(self.ids)


def id_dtype(vocab_size: int) -> np.dtype:
    return np.dtype(np.uint16) if vocab_size <= 65536 else np.dtype(np.int32)


def encode_corpus(paths: Iterable[str], vocab: Vocab, encoding: str = "utf-8", errors: str = "strict",
                  progress: Callable[[int], None] | None = None) -> TokenText:
    """Encode every line of the corpus, each followed by ``<eos>``, into one array of ids."""
    dtype = id_dtype(len(vocab))
    chunks: list[np.ndarray] = []
    chars = lines = 0
    for block in iter_corpus_blocks(paths, encoding, errors):
        flat: list[int] = []
        for ids in vocab.encode_batch(block):
            flat.extend(ids)
            flat.append(EOS)
        chunks.append(np.asarray(flat, dtype=dtype))
        chars += sum(map(len, block)) + len(block)
        lines += len(block)
        if progress is not None:
            progress(chars)
    ids = np.concatenate(chunks) if chunks else np.zeros(0, dtype=dtype)
    return TokenText(ids, chars, lines)


def count_chars(ids: np.ndarray, vocab: Vocab) -> int:
    """Characters of the text behind a stream of ids, each ``<eos>`` standing for a newline."""
    ends = np.flatnonzero(ids == EOS)
    starts = np.concatenate([[0], ends + 1])
    stops = np.concatenate([ends, [len(ids)]])
    lines = [ids[a:b].tolist() for a, b in zip(starts, stops)]
    return sum(map(len, vocab.decode_batch(lines))) + len(ends)


def split_tail(text: TokenText, share: float, vocab: Vocab) -> tuple[TokenText, TokenText]:
    """Hold out the last ``share`` of the stream (cut at a line end) for validation."""
    n = len(text.ids)
    cut = int(n * (1 - share))
    ends = np.flatnonzero(text.ids[:cut] == EOS)
    if len(ends) and ends[-1] > n // 2:
        cut = int(ends[-1]) + 1
    head, tail = text.ids[:cut], text.ids[cut:]
    tail_chars = count_chars(tail, vocab)
    tail_lines = int(np.count_nonzero(tail == EOS))
    return (TokenText(head, text.chars - tail_chars, text.lines - tail_lines),
            TokenText(tail, tail_chars, tail_lines))


class LMWindows:
    """Training windows over ``columns`` contiguous slices of a token stream."""

    def __init__(self, ids: np.ndarray, batch_size: int, bptt: int, columns: slice | None = None) -> None:
        per_column = len(ids) // batch_size
        if per_column < 2:
            raise InputError(
                f"corpus too small: {len(ids):,} tokens cannot fill {batch_size} batch columns; "
                "lower --batch-size or give more text")
        self.grid = ids[: per_column * batch_size].reshape(batch_size, per_column)
        if columns is not None:
            self.grid = self.grid[columns]
        self.batch_size = self.grid.shape[0]
        self.bptt = bptt
        self.steps = per_column - 1  # predictions per column

    def __len__(self) -> int:
        return math.ceil(self.steps / self.bptt)

    @property
    def tokens_per_epoch(self) -> int:
        return self.steps * self.batch_size

    def window(self, k: int) -> tuple[Tensor, Tensor]:
        """(inputs, targets), each of shape (time, batch)."""
        start = k * self.bptt
        stop = min(start + self.bptt, self.steps)
        block = torch.from_numpy(self.grid[:, start : stop + 1].astype(np.int64)).t()
        return block[:-1], block[1:]


def eval_columns(ids: np.ndarray, columns: int) -> tuple[Tensor, Tensor, Tensor]:
    """Inputs, targets and a mask (time, batch) so that every token but the first is predicted once.

    Column b covers tokens ``[b*L, (b+1)*L]``: its last target is the next column's first input,
    so the targets tile the stream exactly; the ragged end is masked.
    """
    n = len(ids)
    if n < 2:
        raise InputError("evaluation text is too short (fewer than 2 tokens)")
    columns = max(1, min(columns, (n - 1) // 2 or 1))
    length = math.ceil((n - 1) / columns)
    padded = np.zeros(columns * length + 1, dtype=np.int64)
    padded[:n] = ids
    starts = np.arange(columns) * length
    index = starts[:, None] + np.arange(length + 1)[None, :]
    grid = torch.from_numpy(padded[index]).t()  # (length + 1, columns)
    valid = torch.from_numpy((index[:, 1:] < n).T.copy())
    return grid[:-1], grid[1:], valid
