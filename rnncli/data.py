"""Token streams -> batches.

Language models read one contiguous stream of ids (each line's tokens, then ``<eos>``), cut into
``batch`` parallel columns; window ``k`` holds steps ``k*bptt .. (k+1)*bptt`` of every column, so
the hidden state at the end of one window is the right state to start the next (truncated BPTT,
as in pytorch/examples' word_language_model).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

import numpy as np
import torch
from torch import Tensor

from rnncli.errors import InputError
from rnncli.text.reader import LineReader, check_inputs
from rnncli.text.streams import encoded_parts
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
    chunks: list[np.ndarray] = []
    chars = lines = 0
    for ids, block_chars, block_lines in encoded_blocks(paths, vocab, encoding, errors):
        chunks.append(ids)
        chars += block_chars
        lines += block_lines
        if progress is not None:
            progress(chars)
    ids = np.concatenate(chunks) if chunks else np.zeros(0, dtype=id_dtype(len(vocab)))
    return TokenText(ids, chars, lines)


def encoded_blocks(paths: Iterable[str], vocab: Vocab, encoding: str = "utf-8",
                   errors: str = "strict") -> Iterator[tuple[np.ndarray, int, int]]:
    """For each block of the corpus: its ids (every line followed by ``<eos>``), its characters
    (a newline counted per line) and its number of lines."""
    dtype = id_dtype(len(vocab))

    def flattened(lines: list[str], id_lists: list[list[int]]) -> np.ndarray:
        flat: list[int] = []
        for ids in id_lists:
            flat.extend(ids)
            flat.append(EOS)
        return np.asarray(flat, dtype=dtype)

    for path in check_inputs(paths):
        for lines, ids, _ in encoded_parts(vocab, LineReader(path, encoding, errors), flattened):
            yield ids, sum(map(len, lines)) + len(lines), len(lines)


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
    look = max(0, cut - 1_000_000)  # find the line end before the cut without scanning it all
    ends = np.flatnonzero(np.asarray(text.ids[look:cut]) == EOS)
    if len(ends) and look + ends[-1] > n // 2:
        cut = look + int(ends[-1]) + 1
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

    def window(self, k: int) -> tuple[Tensor, Tensor]:
        """(inputs, targets), each of shape (time, batch)."""
        start = k * self.bptt
        stop = min(start + self.bptt, self.steps)
        block = torch.from_numpy(self.grid[:, start : stop + 1].astype(np.int64)).t()
        return block[:-1], block[1:]


def eval_columns(ids: np.ndarray, columns: int) -> tuple[Tensor, Tensor, Tensor]:
    """Inputs, targets and a mask (time, batch) so that every token but the first is predicted once.

    Column b covers tokens ``[b*L, (b+1)*L]``: its last target is the next column's first input,
    so the targets tile the stream exactly; the ragged end is masked. Each column starts from an
    empty state, so short texts get few columns.
    """
    n = len(ids)
    if n < 2:
        raise InputError("evaluation text is too short (fewer than 2 tokens)")
    columns = max(1, min(columns, n // 512))  # long columns: few tokens start without context
    length = math.ceil((n - 1) / columns)
    padded = np.zeros(columns * length + 1, dtype=np.int64)
    padded[:n] = ids
    starts = np.arange(columns) * length
    index = starts[:, None] + np.arange(length + 1)[None, :]
    grid = torch.from_numpy(padded[index]).t()  # (length + 1, columns)
    valid = torch.from_numpy((index[:, 1:] < n).T.copy())
    return grid[:-1], grid[1:], valid


class ClassBatches:
    """Length-bucketed batches of (padded tokens, lengths, labels), reshuffled each epoch.

    The order of an epoch is a function of (seed, epoch) only, so a resumed run sees exactly the
    batches the uninterrupted run would have seen.
    """

    def __init__(self, sequences: list[list[int]], labels: list[int], batch_size: int,
                 shuffle: bool = True, seed: int = 0) -> None:
        self.sequences, self.labels = sequences, labels
        self.batch_size, self.shuffle, self.seed = batch_size, shuffle, seed
        self._epoch: int | None = None
        self._batches: list[list[int]] = []

    def __len__(self) -> int:
        return math.ceil(len(self.sequences) / self.batch_size)

    def order(self, epoch: int) -> list[list[int]]:
        if self._epoch == epoch:
            return self._batches
        n = len(self.sequences)
        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            index = torch.randperm(n, generator=generator).tolist()
        else:
            index = list(range(n))
        chunk = self.batch_size * 50
        batches = []
        for start in range(0, n, chunk):
            part = sorted(index[start : start + chunk], key=lambda i: len(self.sequences[i]))
            batches.extend(part[k : k + self.batch_size] for k in range(0, len(part), self.batch_size))
        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch + 7)
            batches = [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]
        self._epoch, self._batches = epoch, batches
        return batches

    def batch(self, epoch: int, k: int, rank: int = 0, world: int = 1) -> tuple[Tensor, Tensor, Tensor]:
        """Batch ``k`` of an epoch: (tokens, lengths, labels); ``rank`` of ``world`` takes its share."""
        chosen = self.order(epoch)[k]
        share = chosen[rank::world] or chosen[:1]
        return pad_batch([self.sequences[i] for i in share]) + (
            torch.tensor([self.labels[i] for i in share], dtype=torch.long),)


def pad_batch(sequences: list[list[int]]) -> tuple[Tensor, Tensor]:
    """(batch, time) ids padded with 0, and the true lengths (at least 1: an empty text is one pad)."""
    lengths = [max(1, len(s)) for s in sequences]
    out = np.zeros((len(sequences), max(lengths)), dtype=np.int64)
    for row, seq in enumerate(sequences):
        out[row, : len(seq)] = seq
    return torch.from_numpy(out), torch.tensor(lengths, dtype=torch.long)
