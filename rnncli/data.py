"""Token streams -> batches.

Language models read one contiguous stream of ids (each line's tokens, then ``<eos>``), cut into
``batch`` parallel columns; window ``k`` holds steps ``k*bptt .. (k+1)*bptt`` of every column, so
the hidden state at the end of one window is the right state to start the next (truncated BPTT,
as in pytorch/examples' word_language_model).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from rnncli.errors import InputError


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

        self.offset = 0

    def __len__(self) -> int:
        return math.ceil(self.steps / self.bptt)

    def shift(self, offset: int) -> None:
        """Move every window boundary ``offset`` steps earlier (the first window is that much
        shorter, the last that much longer), so that from epoch to epoch each token is read at
        another place in its window: AWD-LSTM's variable-length windows, keeping a fixed count of
        windows per epoch for the schedule and for resuming."""
        self.offset = offset % self.bptt if len(self) > 1 else 0

    def window(self, k: int) -> tuple[Tensor, Tensor]:
        """(inputs, targets), each of shape (time, batch)."""
        start = max(0, k * self.bptt - self.offset)
        stop = self.steps if k == len(self) - 1 else (k + 1) * self.bptt - self.offset
        block = torch.from_numpy(self.grid[:, start : stop + 1].astype(np.int64)).t()
        return block[:-1], block[1:]


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
