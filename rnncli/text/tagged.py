"""Tagged sentences for sequence tagging (a label per token), in the formats people have.

- ``conllu``: Universal Dependencies' CoNLL-U: ten tab-separated columns, ``#`` comments, a blank
  line after each sentence. The tag is the ``upos`` column by default (``xpos`` or ``feats`` by
  ``tag_column``). ``_`` is a missing tag in ``upos`` (every word has one), and a tag of its own
  in ``xpos`` and ``feats``, where treebanks write it for words without one (no features). Multi-word token lines (ID ``1-2``) and empty nodes (ID ``8.1``) are kept for
  writing the sentence back but are not tagged: the syntactic words are.
- ``conll``: columns of CoNLL-2000/2003 and their kin: the token first, the tag last (or the
  0-based ``tag_column``), tab or space separated, a blank line between sentences, ``-DOCSTART-``
  lines skipped.
- ``jsonl``: one object per line, ``{"tokens": [...], "tags": [...]}``.

The format is detected from the file (extension, then content); a line that does not fit it is a
one-line error naming ``file:line``. Untagged input (what ``rnncli tag`` reads) gives sentences
whose ``tags`` is None.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from rnncli.errors import ConfigError, InputError
from rnncli.text.reader import STDIN, LineReader, json_object, probe

FORMATS = ("auto", "conllu", "conll", "jsonl")
CONLLU_COLUMNS = {"upos": 3, "xpos": 4, "feats": 5}
CONLLU_WIDTH = 10
DOCSTART = "-DOCSTART-"
MAX_FIELD = 100


@dataclass
class Sentence:
    """One sentence: its tokens, their tags (None where the input has none), the line it starts on,
    and for CoNLL-U its lines as read (``raw``) with the index in them of each tagged token."""

    tokens: list[str]
    tags: list[str] | None
    line: int
    raw: list[str] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)


def detect(path: str, first: str | None) -> str:
    """The format of a file from its extension, else from its first data line (not blank, not a
    comment, not -DOCSTART-): a line opening with "#" is a CoNLL-U comment or a CoNLL "#" token."""
    suffix = Path(path).suffix.lower() if path != STDIN else ""
    if suffix == ".conllu":
        return "conllu"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if first is None:
        return "conll"
    stripped = first.strip()
    if json_object(stripped) is not None:
        return "jsonl"
    fields = first.rstrip("\n").split("\t")
    if len(fields) == CONLLU_WIDTH and _conllu_id(fields[0]) is not None:
        return "conllu"
    return "conll"


def looks_tagged(path: str, probe_lines: int = 200) -> bool:
    """Whether a file reads as tagged sentences (for inferring ``--task``): a .conllu file, JSON
    lines with tokens and tags, or sentences separated by blank lines whose lines have a constant
    number (2 to 10) of short columns without spaces inside them, the last from a small set of
    tags -- which neither prose nor ``label<TAB>text`` gives."""
    if path == STDIN or not Path(path).is_file():
        return False
    if Path(path).suffix.lower() == ".conllu":
        return True
    lines: list[str] = []
    breaks = 0
    for line in probe(path, probe_lines):
        if line.strip() and not line.startswith(DOCSTART):
            lines.append(line)
        elif lines:
            breaks += 1
    if not lines:
        return False
    first = json_object(lines[0])
    if first is not None:
        return "tokens" in first and "tags" in first
    if detect(path, next((x for x in lines if not x.startswith("#")), None)) == "conllu":
        return True
    rows = [_columns(line) for line in lines]
    width, count = Counter(len(r) for r in rows).most_common(1)[0]
    short = all(0 < len(f) <= MAX_FIELD and " " not in f for r in rows for f in r)
    tags = len({r[-1] for r in rows})
    return breaks > 0 and 2 <= width <= 10 and count >= 0.9 * len(rows) and short and tags <= max(10, len(rows) // 2)


def _columns(line: str) -> list[str]:
    """A CoNLL line's columns: split on tabs where it has them, else on runs of spaces."""
    return [f.strip() for f in line.split("\t")] if "\t" in line else line.split()


def _conllu_id(value: str) -> str | None:
    """``word``, ``range`` (a multi-word token) or ``empty`` (an empty node); None if not an ID."""
    if value.isdigit():
        return "word"
    head, sep, tail = value.partition("-")
    if sep and head.isdigit() and tail.isdigit():
        return "range"
    head, sep, tail = value.partition(".")
    if sep and head.isdigit() and tail.isdigit():
        return "empty"
    return None


def iter_tagged(path: str, fmt: str = "auto", tag_column: str | None = None, encoding: str = "utf-8",
                errors: str = "strict", require_tags: bool = True) -> Iterator[Sentence]:
    """The sentences of a file in order. ``require_tags``: a token without a tag is an error (the
    training and evaluation data); otherwise untagged sentences come with ``tags`` None."""
    if fmt not in FORMATS:
        raise ConfigError(f"--format must be one of {', '.join(FORMATS)}")
    reader = LineReader(path, encoding, errors)
    numbered = enumerate(reader, 1)
    buffered: list[tuple[int, str]] = []
    for number, line in numbered:  # up to the first data line: "#" opens CoNLL-U's comments and CoNLL's "#" tokens
        buffered.append((number, line))
        if line.strip() and not line.startswith((DOCSTART, "#")):
            break
    first = buffered[-1][1] if buffered and buffered[-1][1].strip() and not buffered[-1][1].startswith("#") else None
    fmt = detect(path, first) if fmt == "auto" else fmt

    def lines() -> Iterator[tuple[int, str]]:
        yield from buffered
        yield from numbered

    if fmt == "jsonl":
        yield from _jsonl(lines(), reader.name, require_tags)
    elif fmt == "conllu":
        yield from _conllu(lines(), reader.name, conllu_column(tag_column), require_tags)
    else:
        yield from _conll(lines(), reader.name, tag_column, require_tags)


def read_tagged(path: str, fmt: str = "auto", tag_column: str | None = None, encoding: str = "utf-8",
                errors: str = "strict") -> list[Sentence]:
    """Every sentence of a tagged file; a file without any is an error."""
    sentences = list(iter_tagged(path, fmt, tag_column, encoding, errors))
    if not sentences:
        raise InputError(f"{'<stdin>' if path == STDIN else path}: no tagged sentences")
    return sentences


def conllu_column(tag_column: str | None) -> int:
    """The 0-based column of a CoNLL-U tag column's name (upos by default)."""
    name = (tag_column or "upos").lower()
    if name not in CONLLU_COLUMNS:
        raise ConfigError(f"--tag-column of CoNLL-U data must be one of {', '.join(CONLLU_COLUMNS)}, not {name!r}")
    return CONLLU_COLUMNS[name]


def _conllu(lines: Iterator[tuple[int, str]], name: str, column: int, require_tags: bool) -> Iterator[Sentence]:
    raw: list[str] = []
    rows: list[int] = []
    tokens: list[str] = []
    tags: list[str] = []
    start = 0
    for number, line in lines:
        if not line.strip():
            if tokens:
                yield Sentence(tokens, tags, start, raw, rows)
            raw, rows, tokens, tags, start = [], [], [], [], 0
            continue
        start = start or number
        raw.append(line)
        if line.startswith("#"):
            continue
        fields = line.split("\t")
        where = f"{name}:{number}"
        if len(fields) != CONLLU_WIDTH:
            raise InputError(f"{where}: {len(fields)} tab-separated columns; CoNLL-U has {CONLLU_WIDTH}")
        kind = _conllu_id(fields[0])
        if kind is None:
            raise InputError(f"{where}: {fields[0]!r} is not a CoNLL-U token ID")
        if kind != "word":
            continue
        tag = fields[column].strip()
        if not fields[1]:
            raise InputError(f"{where}: empty word form")
        if (not tag or (tag == "_" and column == CONLLU_COLUMNS["upos"])) and require_tags:
            raise InputError(f"{where}: no tag in the {_column_name(column)} column")
        rows.append(len(raw) - 1)
        tokens.append(fields[1])
        tags.append(tag)
    if tokens:
        yield Sentence(tokens, tags, start, raw, rows)


def _column_name(column: int) -> str:
    return next(k for k, v in CONLLU_COLUMNS.items() if v == column)


def _conll(lines: Iterator[tuple[int, str]], name: str, tag_column: str | None,
           require_tags: bool) -> Iterator[Sentence]:
    if tag_column is not None and not tag_column.lstrip("-").isdigit():
        raise ConfigError(f"--tag-column of column data is a 0-based column number, not {tag_column!r}")
    at = -1 if tag_column is None else int(tag_column)
    tokens: list[str] = []
    tags: list[str] = []
    start = 0
    for number, line in lines:
        if not line.strip() or line.startswith(DOCSTART):
            if tokens:
                yield Sentence(tokens, tags if require_tags or all(tags) else None, start)
            tokens, tags, start = [], [], 0
            continue
        start = start or number
        fields = _columns(line)
        where = f"{name}:{number}"
        if len(fields) < 2:
            if require_tags:
                raise InputError(f"{where}: a token without a tag (expected token and tag columns)")
            tokens.append(fields[0])
            tags.append("")
            continue
        if not -len(fields) <= at < len(fields) or at == 0:
            raise InputError(f"{where}: no tag column {at} on a line of {len(fields)} columns")
        tokens.append(fields[0])
        tags.append(fields[at])
    if tokens:
        yield Sentence(tokens, tags if require_tags or all(tags) else None, start)


def _jsonl(lines: Iterator[tuple[int, str]], name: str, require_tags: bool) -> Iterator[Sentence]:
    for number, line in lines:
        if not line.strip():
            continue
        where = f"{name}:{number}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            raise InputError(f"{where}: invalid JSON line") from None
        if not isinstance(obj, dict) or not _strings(obj.get("tokens")):
            raise InputError(f"{where}: expected an object with a non-empty \"tokens\" list of strings")
        tags = obj.get("tags")
        if tags is None and not require_tags:
            yield Sentence(list(obj["tokens"]), None, number)
            continue
        if not _strings(tags) or len(tags) != len(obj["tokens"]):
            raise InputError(f"{where}: \"tags\" must be a list of strings, one per token "
                             f"({len(obj['tokens'])} tokens)")
        yield Sentence(list(obj["tokens"]), list(tags), number)


def _strings(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(x, str) and x for x in value)
