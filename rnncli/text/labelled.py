"""Labelled data for classifiers, in the formats people have, read by one module.

- ``tsv``: ``label<TAB>text`` (the text may hold further tabs)
- ``fasttext``: ``__label__X text`` (fastText's format; the first label counts, and lines with
  several are counted so that the commands can say so)
- ``csv``: with a header row; columns chosen by ``--text-column`` / ``--label-column``
  (names or 0-based indices; default ``text`` and ``label``)
- ``jsonl``: one object per line with ``text`` and ``label`` fields

The format is detected from the file (extension, then content); a line that does not fit it is a
one-line error naming ``file:line``. Blank lines are skipped; lines with an empty text are skipped
and counted, so the caller can warn.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from rnncli.errors import ConfigError, InputError
from rnncli.text.reader import STDIN, LineReader, probe

FORMATS = ("auto", "tsv", "fasttext", "csv", "jsonl")
FASTTEXT_PREFIX = "__label__"
MAX_LABEL = 200


@dataclass
class Example:
    label: str
    text: str
    extra: tuple[str, ...] = ()  # labels after the first on a fastText line (multi-label data)

    @property
    def labels(self) -> tuple[str, ...]:
        return (self.label, *self.extra)


@dataclass
class LabelledData:
    examples: list[Example]
    format: str
    source: str
    skipped_empty: int = 0
    labels_seen: list[str] = field(default_factory=list)

    @property
    def multi_labelled(self) -> int:
        """Examples whose line gave several labels (only the first is kept)."""
        return sum(1 for e in self.examples if e.extra)

    @property
    def labels(self) -> list[str]:
        return sorted({e.label for e in self.examples})


def _detect(path: str, first: str | None) -> str:
    suffix = Path(path).suffix.lower() if path != STDIN else ""
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    if first is None:
        return "tsv"
    stripped = first.lstrip()
    if stripped.startswith("{"):
        return "jsonl"
    if stripped.startswith(FASTTEXT_PREFIX):
        return "fasttext"
    return "tsv"


def looks_labelled(path: str, probe_lines: int = 200) -> bool:
    """Whether a file reads as labelled data (for inferring ``--task``): most lines fit a format."""
    lines = [line for line in probe(path, probe_lines) if line.strip()]
    if not lines:
        return False
    fmt = _detect(path, lines[0])
    if fmt in ("jsonl", "csv", "fasttext"):
        return True
    fits = sum(1 for line in lines if "\t" in line and 0 < len(line.split("\t", 1)[0].strip()) <= 40
               and " " not in line.split("\t", 1)[0].strip())
    return fits >= 0.9 * len(lines)


def _column(header: list[str], wanted: str, option: str, where: str) -> int:
    if wanted in header:
        return header.index(wanted)
    if wanted.isdigit() and int(wanted) < len(header):
        return int(wanted)
    raise InputError(f"{where}: no column {wanted!r} for {option} (columns: {', '.join(header[:10])})")


def iter_labelled(path: str, fmt: str = "auto", text_column: str = "text", label_column: str = "label",
                  encoding: str = "utf-8", errors: str = "strict",
                  label_sep: str | None = None) -> Iterator[tuple[int, Example | None]]:
    """(line number, example) pairs; ``None`` for a line whose text is empty. With ``label_sep``
    the label field of TSV and CSV lines holds several labels (JSON lines may give a list)."""
    if fmt not in FORMATS:
        raise ConfigError(f"--format must be one of {', '.join(FORMATS)}")
    reader = LineReader(path, encoding, errors)
    name = reader.name
    lines = iter(reader)
    number = 0
    first = None
    buffered: list[tuple[int, str]] = []
    for line in lines:
        number += 1
        if line.strip():
            first = line
            buffered.append((number, line))
            break
    fmt = _detect(path, first) if fmt == "auto" else fmt

    def rest() -> Iterator[tuple[int, str]]:
        yield from buffered
        n = number
        for text in lines:
            n += 1
            yield n, text

    if fmt == "csv":
        for n, example in _csv(rest(), name, text_column, label_column):
            yield n, _split(example, label_sep)
        return
    for n, line in rest():
        if not line.strip():
            continue
        where = f"{name}:{n}"
        if fmt in ("jsonl", "fasttext"):
            label, text, extra = (_jsonl if fmt == "jsonl" else _fasttext)(line, where)
            yield n, (Example(label, text, extra) if text.strip() else None)
            continue
        else:
            label, text = _tsv(line, where)
        yield n, (_split(Example(label, text), label_sep) if text.strip() else None)


def _split(example: Example | None, label_sep: str | None) -> Example | None:
    """A label field of several labels (``a,b``) as the first label and the others."""
    if example is None or not label_sep:
        return example
    unique = list(dict.fromkeys(x.strip() for x in example.label.split(label_sep) if x.strip()))
    return Example(unique[0], example.text, tuple(unique[1:])) if unique else example


def _tsv(line: str, where: str) -> tuple[str, str]:
    if "\t" not in line:
        raise InputError(f"{where}: expected label<TAB>text (no tab on this line)")
    label, text = line.split("\t", 1)
    label = label.strip()
    if not label:
        raise InputError(f"{where}: missing label before the tab")
    if len(label) > MAX_LABEL:
        raise InputError(f"{where}: label longer than {MAX_LABEL} characters; is this label<TAB>text?")
    return label, text


def _fasttext(line: str, where: str) -> tuple[str, str, tuple[str, ...]]:
    words = line.split()
    labels = [w[len(FASTTEXT_PREFIX):] for w in words if w.startswith(FASTTEXT_PREFIX)]
    if not labels or not labels[0]:
        raise InputError(f"{where}: expected __label__X text (no label on this line)")
    text = " ".join(w for w in words if not w.startswith(FASTTEXT_PREFIX))
    return labels[0], text, tuple(dict.fromkeys(x for x in labels[1:] if x and x != labels[0]))


def _jsonl(line: str, where: str) -> tuple[str, str, tuple[str, ...]]:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError:
        raise InputError(f"{where}: invalid JSON line") from None
    if not isinstance(obj, dict):
        raise InputError(f"{where}: expected a JSON object with text and label")
    if "label" not in obj or obj["label"] in (None, ""):
        raise InputError(f"{where}: missing \"label\" field")
    if "text" not in obj or not isinstance(obj["text"], str):
        raise InputError(f"{where}: missing \"text\" string field")
    label = obj["label"]
    if isinstance(label, list) and label and all(isinstance(x, (str, int)) and not isinstance(x, bool)
                                                 and str(x) for x in label):
        unique = list(dict.fromkeys(str(x) for x in label))
        return unique[0], obj["text"], tuple(unique[1:])
    if isinstance(label, bool) or not isinstance(label, (str, int)):
        raise InputError(f"{where}: \"label\" must be a string, an integer or a list of them")
    return str(label), obj["text"], ()


def _csv(rows: Iterator[tuple[int, str]], name: str, text_column: str,
         label_column: str) -> Iterator[tuple[int, Example | None]]:
    header: list[str] | None = None
    text_at = label_at = 0
    for n, line in rows:
        if not line.strip():
            continue
        try:
            fields = next(csv.reader(io.StringIO(line)))
        except csv.Error as exc:
            raise InputError(f"{name}:{n}: invalid CSV ({exc})") from None
        if header is None:
            header = [f.strip() for f in fields]
            text_at = _column(header, text_column, "--text-column", f"{name}:{n}")
            label_at = _column(header, label_column, "--label-column", f"{name}:{n}")
            continue
        if len(fields) <= max(text_at, label_at):
            raise InputError(f"{name}:{n}: {len(fields)} columns, expected {len(header)}")
        label = fields[label_at].strip()
        if not label:
            raise InputError(f"{name}:{n}: missing label")
        yield n, (Example(label, fields[text_at]) if fields[text_at].strip() else None)
    if header is None:
        raise InputError(f"{name}: empty CSV file (no header row)")


def read_labelled(path: str, fmt: str = "auto", text_column: str = "text", label_column: str = "label",
                  encoding: str = "utf-8", errors: str = "strict", label_sep: str | None = None) -> LabelledData:
    examples: list[Example] = []
    skipped = 0
    detected = fmt
    for _, example in iter_labelled(path, fmt, text_column, label_column, encoding, errors, label_sep):
        if example is None:
            skipped += 1
        else:
            examples.append(example)
    if fmt == "auto":
        detected = "auto"
    name = "<stdin>" if path == STDIN else path
    if not examples:
        raise InputError(f"{name}: no labelled examples")
    return LabelledData(examples, detected, name, skipped)
