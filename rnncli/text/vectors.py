"""Word vectors in the text format of fastText and word2vec (``.vec``): a header ``N D``, then one
word and D numbers per line. Read as a stream (a file of millions of words never sits in memory
whole), validated line by line: a bad line is named as ``file:line``. No torch here.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Iterator, Mapping

import numpy as np

from rnncli.errors import InputError
from rnncli.fileio import check_readable_file


@dataclass
class Found:
    """The rows of a vocabulary found in a vector file."""

    dim: int
    rows: np.ndarray  # (found, dim) float32
    ids: np.ndarray  # (found,) the vocabulary ids of those rows
    read: int  # vectors in the file


def vector_dim(path: str | os.PathLike[str]) -> int:
    """The dimension a .vec file declares in its header."""
    for _, dim, _ in _header(path):
        return dim
    raise InputError(f"{path}: empty vector file")


def _header(path: str | os.PathLike[str]) -> Iterator[tuple[int, int, object]]:
    check_readable_file(path)
    with open(path, encoding="utf-8", errors="strict") as handle:
        try:
            first = handle.readline()
        except UnicodeDecodeError:
            raise InputError(f"{path}:1: not UTF-8 text") from None
        parts = first.split()
        if len(parts) != 2 or not all(p.isdigit() for p in parts) or int(parts[1]) < 1:
            raise InputError(f"{path}:1: expected the header 'COUNT DIMENSION' of a .vec file")
        yield int(parts[0]), int(parts[1]), handle


def read_vectors(path: str | os.PathLike[str], index: Mapping[str, int]) -> Found:
    """The vectors of the words in ``index`` (word -> id); other words are skipped as they stream by."""
    rows, ids, read = [], [], 0
    for _, dim, handle in _header(path):
        number = 1
        while True:
            number += 1
            try:
                line = handle.readline()  # type: ignore[attr-defined]
            except UnicodeDecodeError:
                raise InputError(f"{path}:{number}: not UTF-8 text") from None
            if not line:
                break
            if not line.strip():
                continue
            parts = line.rstrip("\n").rstrip(" ").split(" ")
            if len(parts) != dim + 1:
                raise InputError(f"{path}:{number}: expected a word and {dim} numbers, found {len(parts) - 1} fields")
            read += 1
            at = index.get(parts[0])
            if at is None:
                continue
            try:
                values = np.array([float(x) for x in parts[1:]], dtype=np.float32)
            except ValueError:
                raise InputError(f"{path}:{number}: not a number among the values of {parts[0]!r}") from None
            if not all(math.isfinite(v) for v in values):
                raise InputError(f"{path}:{number}: a value of {parts[0]!r} is not finite")
            rows.append(values)
            ids.append(at)
        return Found(dim, np.stack(rows) if rows else np.zeros((0, dim), np.float32), np.array(ids, dtype=np.int64),
                     read)
    raise InputError(f"{path}: empty vector file")


def write_vectors(tokens: list[str], table: np.ndarray, out: object) -> None:
    """The embedding table as a .vec file (header, then one token and its numbers per line)."""
    out.write(f"{len(tokens)} {table.shape[1]}\n")  # type: ignore[attr-defined]
    for token, row in zip(tokens, table):
        out.write(token + " " + " ".join(f"{v:.6g}" for v in row) + "\n")  # type: ignore[attr-defined]
