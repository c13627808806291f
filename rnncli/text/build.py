"""Building a vocabulary from corpus files, with the figures a user checks it by."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterator

from rnncli.errors import ConfigError, InputError
from rnncli.text.reader import STDIN, check_inputs, iter_corpus
from rnncli.text.subword import auto_subword_size, train_subword
from rnncli.text.vocab import (
    BYTE_TOKENS, LEVELS, SPECIALS, UNK, Vocab, build_char_vocab, build_word_vocab,
)
from rnncli.text.words import SPLITS

SAMPLE_LINES = 20_000  # subword statistics are taken on the first lines of the corpus


@dataclass
class VocabOptions:
    level: str = "word"
    split: str = "punct"
    lowercase: bool = False
    min_freq: int = 1
    max_size: int | None = None
    vocab_size: int | None = None
    byte_fallback: bool = True
    encoding: str = "utf-8"
    errors: str = "strict"

    def check(self) -> None:
        if self.level not in LEVELS:
            raise ConfigError(f"--level must be one of {', '.join(LEVELS)}")
        if self.split not in SPLITS:
            raise ConfigError(f"--split must be one of {', '.join(SPLITS)}")
        if self.min_freq < 1:
            raise ConfigError("--min-freq must be at least 1")
        if self.max_size is not None and self.max_size < 1:
            raise ConfigError("--max-size must be at least 1")
        if self.vocab_size is not None and self.vocab_size < 1:
            raise ConfigError("--vocab-size must be at least 1")


@dataclass
class VocabReport:
    vocab: Vocab
    corpus_tokens: int
    covered_tokens: int
    top: list[tuple[str, int]]
    sampled_lines: int | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def coverage(self) -> float:
        return self.covered_tokens / self.corpus_tokens if self.corpus_tokens else 0.0


class _Corpus:
    """Re-iterable lines of files (stdin is read once and kept)."""

    def __init__(self, paths: list[str], encoding: str, errors: str) -> None:
        self.paths, self.encoding, self.errors = paths, encoding, errors
        self._kept: list[str] | None = None
        if STDIN in paths:
            self._kept = list(iter_corpus(paths, encoding, errors))

    def __iter__(self) -> Iterator[str]:
        if self._kept is not None:
            return iter(self._kept)
        return iter_corpus(self.paths, self.encoding, self.errors)

    def size_bytes(self) -> int | None:
        if self._kept is not None:
            return sum(len(line.encode("utf-8")) + 1 for line in self._kept)
        return sum(os.path.getsize(p) for p in self.paths)


def build_vocabulary(paths: list[str], options: VocabOptions) -> VocabReport:
    options.check()
    paths = check_inputs(paths)
    return build_from_lines(_Corpus(paths, options.encoding, options.errors), options)


class _Lines:
    """In-memory lines with the interface the builder needs."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    def __iter__(self) -> Iterator[str]:
        return iter(self.lines)

    def size_bytes(self) -> int:
        return sum(len(line.encode("utf-8")) + 1 for line in self.lines)


def build_from_texts(texts: list[str], options: VocabOptions) -> VocabReport:
    """A vocabulary from texts already in memory (the texts of labelled examples)."""
    options.check()
    return build_from_lines(_Lines(texts), options)


def build_from_lines(corpus: "_Corpus | _Lines", options: VocabOptions) -> VocabReport:
    if options.level in ("word", "char"):
        if options.level == "word":
            vocab, counter = build_word_vocab(
                corpus, options.split, options.lowercase, options.min_freq, options.max_size)
        else:
            vocab, counter = build_char_vocab(
                corpus, options.min_freq, options.max_size, options.byte_fallback)
        total = sum(counter.values())
        if total == 0:
            raise InputError("empty corpus: no tokens to build a vocabulary from")
        counts = getattr(vocab, "counts")
        covered = sum(counts[len(SPECIALS):])
        top = [(t, c) for t, c in zip(vocab.tokens, counts) if c and t not in SPECIALS][:10]
        return VocabReport(vocab, total, covered, top)
    size = options.vocab_size or auto_subword_size(corpus.size_bytes())
    vocab, warning = train_subword(corpus, options.level, size)
    if options.vocab_size is None:
        warning = None  # the automatic size is only a target: lowering it is no news
    sample: list[str] = []
    for line in corpus:
        sample.append(line)
        if len(sample) >= SAMPLE_LINES:
            break
    counter: Counter[int] = Counter()
    for ids in vocab.encode_batch(sample):
        counter.update(ids)
    fallback = {i for i, t in enumerate(vocab.tokens) if t in _BYTE_SET}
    total = sum(counter.values())
    covered = sum(c for i, c in counter.items() if i != UNK and i not in fallback)
    top = [(vocab.tokens[i], c) for i, c in counter.most_common(10)]
    sampled = len(sample) if len(sample) >= SAMPLE_LINES else None
    return VocabReport(vocab, total, covered, top, sampled, [warning] if warning else [])


_BYTE_SET = frozenset(BYTE_TOKENS)
