"""Simple features of a text, one value per character, and the units whose activations follow one.

Karpathy, Johnson and Fei-Fei (2015) found cells of character LSTMs that switch on inside quotes,
count the position in a line, or track bracket depth. Here such a cell is found, not claimed: every
unit of every layer is ranked by the correlation of its activation with the feature over the text.
No torch: the activations arrive as arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnncli.errors import InputError

FEATURES = ("quotes", "line-position", "brackets")
OPENING, CLOSING = "([{", ")]}"
QUOTES = {'"': '"', "\u201c": "\u201d"}  # an opening mark and the mark that closes it


def inside_quotes(text: str) -> np.ndarray:
    """1 for every character from an opening double quote to its closing one (both included),
    else 0; straight quotes alternate, curly ones open and close by their shape. A quotation
    still open at the end of a paragraph (an empty line) is closed there."""
    values = np.zeros(len(text), dtype=np.float32)
    closing: str | None = None
    for k, char in enumerate(text):
        if closing is None and char in QUOTES:
            closing = QUOTES[char]
            values[k] = 1
        elif closing is not None:
            values[k] = 1
            if char == closing or text.startswith("\n\n", k):
                closing = None
    return values


def line_position(text: str) -> np.ndarray:
    """How many characters precede each one on its line (0 at a line's start; a newline counts
    as its line's last character)."""
    values = np.zeros(len(text), dtype=np.float32)
    column = 0
    for k, char in enumerate(text):
        values[k] = column
        column = 0 if char == "\n" else column + 1
    return values


def bracket_depth(text: str) -> np.ndarray:
    """How many brackets ((, [ or {) are open at each character, its own included."""
    values = np.zeros(len(text), dtype=np.float32)
    depth = 0
    for k, char in enumerate(text):
        if char in OPENING:
            depth += 1
        values[k] = depth
        if char in CLOSING:
            depth = max(0, depth - 1)
    return values


def feature_of(name: str, text: str) -> tuple[str, np.ndarray]:
    """A feature by name (``quotes``, ``line-position``, ``brackets``), or read from a file of one
    0 or 1 per character of the text (whitespace between the digits ignored); its label and values."""
    makers = {"quotes": inside_quotes, "line-position": line_position, "brackets": bracket_depth}
    if name in makers:
        return name, makers[name](text)
    path = Path(name)
    if not path.is_file():
        raise InputError(f"--find takes {', '.join(FEATURES)} or a file of 0/1 per character; {name!r} is neither")
    digits = [c for c in path.read_text(encoding="utf-8", errors="replace") if not c.isspace()]
    if any(c not in "01" for c in digits):
        raise InputError(f"{name}: a feature file holds only the digits 0 and 1, one per character of the text")
    if len(digits) != len(text):
        raise InputError(f"{name}: {len(digits):,} values for a text of {len(text):,} characters")
    return path.name, np.array([c == "1" for c in digits], dtype=np.float32)


@dataclass(frozen=True)
class Unit:
    """One recurrent unit: ``kind`` h (hidden state) or c (LSTM cell), ``layer`` from 1."""

    kind: str
    layer: int
    index: int

    @property
    def name(self) -> str:
        return f"{self.kind}{self.layer}:{self.index}"


def correlations(activations: np.ndarray, feature: np.ndarray) -> np.ndarray:
    """Pearson's r of each column of ``activations`` (steps, units) with ``feature`` (steps); 0 for
    a constant column or feature."""
    a = activations.astype(np.float64) - activations.mean(0, dtype=np.float64)
    f = feature.astype(np.float64) - feature.mean(dtype=np.float64)
    scale = np.sqrt((a * a).sum(0) * (f * f).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (a * f[:, None]).sum(0) / scale
    return np.nan_to_num(r, nan=0.0)


def best_units(units: dict[str, np.ndarray], feature: np.ndarray, count: int = 5) -> list[tuple[Unit, float]]:
    """The ``count`` units whose activation follows ``feature`` best (by |r|), with their r, over
    arrays named like ``h1`` or ``c2`` (kind and layer), each (steps, units)."""
    found = []
    for key, values in units.items():
        r = correlations(values, feature)
        found.extend((Unit(key[0], int(key[1:]), int(k)), float(r[k])) for k in np.argsort(-np.abs(r))[:count])
    return sorted(found, key=lambda pair: -abs(pair[1]))[:count]
