"""Sentence pairs for translation (a sequence mapped to another), in the formats people have.

- ``tsv``: ``source<TAB>target``, one pair per line: what ``paste train.de train.en`` writes
  from two parallel files. A line with no tab or with an empty side is a one-line error naming
  ``file:line``; a line with more than one tab (a tab inside a sentence: Multi30k's training
  data has one) cannot be split for certain, and is left out and counted, the first one named.
- ``jsonl``: one object per line with string ``source`` and ``target`` fields.

The format is detected from the file (extension, then the first line). Blank lines are skipped.
Pairs whose either side has more than ``max_length`` whitespace words are skipped and counted,
so the caller can say how many. :func:`looks_paired` tells a file of pairs from a classifier's
``label<TAB>text``, whose left column repeats a few short labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from rnncli.errors import ConfigError, InputError
from rnncli.text.reader import STDIN, LineReader, json_object, probe

FORMATS = ("auto", "tsv", "jsonl")


@dataclass(frozen=True)
class Pair:
    source: str
    target: str
    line: int


@dataclass
class PairedData:
    pairs: list[Pair]
    format: str
    source: str
    skipped_long: int = 0
    skipped_tabs: int = 0  # lines of more than one tab
    first_skipped: str = ""  # file:line of the first of them


def detect(path: str, first: str | None) -> str:
    """The format of a file from its extension, else from its first non-blank line."""
    suffix = Path(path).suffix.lower() if path != STDIN else ""
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in (".tsv", ".tab"):
        return "tsv"
    return "jsonl" if first is not None and json_object(first) is not None else "tsv"


class ExtraTabs(ValueError):
    """A line of more than one tab: which tab separates the sides is unknown."""


def _tsv(line: str, where: str) -> tuple[str, str]:
    fields = line.rstrip("\r\n").split("\t")
    if len(fields) > 2:
        raise ExtraTabs(where)
    if len(fields) != 2:
        raise InputError(f"{where}: expected source<TAB>target, found {len(fields) - 1} tab(s)")
    source, target = (f.strip() for f in fields)
    if not source or not target:
        raise InputError(f"{where}: the {'source' if not source else 'target'} side is empty")
    return source, target


def _jsonl(line: str, where: str) -> tuple[str, str]:
    obj = json_object(line)
    if obj is None:
        raise InputError(f"{where}: invalid JSON line")
    source, target = obj.get("source"), obj.get("target")
    if not isinstance(source, str) or not isinstance(target, str):
        raise InputError(f"{where}: expected an object with string \"source\" and \"target\" fields")
    if not source.strip() or not target.strip():
        raise InputError(f"{where}: the {'source' if not source.strip() else 'target'} side is empty")
    return source.strip(), target.strip()


class PairReader:
    """The pairs of one file, in order, read as they come (a line that does not fit the format is
    an InputError; lines of more than one tab are counted in ``skipped_tabs``); ``format`` is known
    once the first pair is read."""

    def __init__(self, path: str, fmt: str = "auto", encoding: str = "utf-8", errors: str = "strict") -> None:
        if fmt not in FORMATS:
            raise ConfigError(f"unknown pairs format {fmt!r} (expected one of {', '.join(FORMATS)})")
        self.reader = LineReader(path, encoding, errors)
        self.path, self.format = path, fmt
        self.skipped_tabs, self.first_skipped = 0, ""

    def __iter__(self) -> Iterator[Pair]:
        for number, line in enumerate(self.reader, 1):
            if not line.strip():
                continue
            if self.format == "auto":
                self.format = detect(self.path, line)
            parse = _jsonl if self.format == "jsonl" else _tsv
            try:
                yield Pair(*parse(line, f"{self.reader.name}:{number}"), number)
            except ExtraTabs as where:
                self.skipped_tabs += 1
                self.first_skipped = self.first_skipped or str(where)


def read_pairs(path: str, fmt: str = "auto", encoding: str = "utf-8", errors: str = "strict",
               max_length: int | None = None) -> PairedData:
    """Every pair of a file, those with a side longer than ``max_length`` words left out and
    counted; an empty file is an InputError."""
    if max_length is not None and max_length < 1:
        raise ConfigError(f"--max-length must be at least 1, not {max_length}")
    reader = PairReader(path, fmt, encoding, errors)
    pairs, skipped = [], 0
    for pair in reader:
        if max_length is not None and max(len(pair.source.split()), len(pair.target.split())) > max_length:
            skipped += 1
            continue
        pairs.append(pair)
    if not pairs and reader.skipped_tabs:
        raise InputError(f"{reader.first_skipped}: expected source<TAB>target, found more than one tab (as on "
                         f"every line of the file)")
    if not pairs and not skipped:
        raise InputError(f"{reader.reader.name}: no sentence pairs (an empty file)")
    if not pairs:
        raise InputError(f"{reader.reader.name}: every pair is longer than --max-length {max_length} words")
    return PairedData(pairs, reader.format, reader.reader.name, skipped, reader.skipped_tabs, reader.first_skipped)


def looks_paired(path: str, probe_lines: int = 200) -> bool:
    """Whether a file reads as sentence pairs (for inferring the task): JSON lines with source and
    target, or lines of exactly one tab (all but a few) whose left sides are sentences -- several words, rarely
    repeated -- where a classifier's ``label<TAB>text`` repeats a few short labels."""
    lines = [line for line in probe(path, probe_lines) if line.strip()]
    if not lines:
        return False
    first = json_object(lines[0])
    if first is not None:
        return "source" in first and "target" in first
    fields = [f for f in (line.rstrip("\r\n").split("\t") for line in lines) if len(f) == 2 and all(map(str.strip, f))]
    if len(fields) < 0.95 * len(lines):  # a rare line of an extra tab is left out when read, not a verdict
        return False
    left = [f[0].strip() for f in fields]
    worded = sum(1 for x in left if len(x.split()) >= 2)
    return worded >= 0.8 * len(left) and len(set(left)) >= 0.8 * len(left)
