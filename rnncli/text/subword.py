"""Training lossless sentencepiece models (bpe, unigram) in memory from an iterator of lines.

Lossless means: identity normalisation, no whitespace folding, no dummy prefix, and byte
fallback, so that decoding reproduces any text byte for byte. A vocabulary size the corpus
cannot fill is lowered to the largest it can (a soft limit, reported back), never an abort.
"""

from __future__ import annotations

import io
import math
import os
import re
from typing import Iterable, Iterator

from rnncli.errors import ConfigError, InputError
from rnncli.text.vocab import BYTE_TOKENS, SPECIALS, SentencePieceVocab

MAX_PIECE_LINE = 4096  # characters; longer lines are cut for training only
TRAIN_SENTENCES = 2_000_000  # sentencepiece samples this many lines from a larger corpus
MIN_SUBWORD_VOCAB = len(SPECIALS) + len(BYTE_TOKENS) + 1


def auto_subword_size(corpus_bytes: int | None) -> int:
    """A vocabulary size that grows with the corpus: about 4 * sqrt(bytes), 500 to 32,000."""
    if not corpus_bytes:
        return 8000
    size = 4 * math.sqrt(corpus_bytes)
    return int(min(32000, max(500, round(size, -2))))


class _Feed:
    """Lines for the trainer; remembers an exception instead of raising it into C++."""

    def __init__(self, lines: Iterable[str]) -> None:
        self.lines = lines
        self.error: BaseException | None = None
        self.chars = 0

    def __iter__(self) -> Iterator[str]:
        try:
            for line in self.lines:
                if not line:
                    continue
                self.chars += len(line)
                for start in range(0, len(line), MAX_PIECE_LINE):
                    yield line[start : start + MAX_PIECE_LINE]
        except BaseException as exc:  # noqa: BLE001 - re-raised after training returns
            self.error = exc


_TOO_HIGH = re.compile(r"Vocabulary size too high \((\d+)\).*<= (\d+)")
_TOO_SMALL = re.compile(r"Vocabulary size is smaller than required_chars\. (\d+) vs (\d+)")


def _train_once(lines: Iterable[str], level: str, vocab_size: int) -> bytes:
    import sentencepiece as spm

    feed = _Feed(lines)
    buffer = io.BytesIO()
    try:
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(feed),
            model_writer=buffer,
            model_type=level,
            vocab_size=vocab_size,
            normalization_rule_name="identity",
            remove_extra_whitespaces=False,
            add_dummy_prefix=False,
            allow_whitespace_only_pieces=True,
            byte_fallback=True,
            character_coverage=0.9995,
            max_sentence_length=4 * MAX_PIECE_LINE,
            input_sentence_size=TRAIN_SENTENCES,
            shuffle_input_sentence=True,
            pad_id=0, unk_id=1, bos_id=2, eos_id=3,
            pad_piece=SPECIALS[0], unk_piece=SPECIALS[1],
            bos_piece=SPECIALS[2], eos_piece=SPECIALS[3],
            unk_surface=SPECIALS[1],
            num_threads=os.cpu_count() or 1,
            minloglevel=2,
        )
    except RuntimeError as exc:
        if feed.error is not None:
            raise feed.error from None
        if feed.chars == 0:
            raise InputError("empty corpus: no text to train a vocabulary on") from None
        raise _SentencePieceFailure(str(exc)) from None
    if feed.error is not None:
        raise feed.error
    if feed.chars == 0:
        raise InputError("empty corpus: no text to train a vocabulary on")
    return buffer.getvalue()


class _SentencePieceFailure(Exception):
    pass


def train_subword(lines: Iterable[str], level: str, vocab_size: int) -> tuple[SentencePieceVocab, str | None]:
    """Train a bpe/unigram vocabulary; returns it and a warning when the size was lowered.

    ``lines`` must be re-iterable (a list, or an object whose ``__iter__`` reads again) when the
    size may need lowering, because the trainer then runs a second time.
    """
    if level not in ("bpe", "unigram"):
        raise ConfigError(f"sentencepiece level must be bpe or unigram, not {level!r}")
    if vocab_size < MIN_SUBWORD_VOCAB:
        raise ConfigError(
            f"--vocab-size must be at least {MIN_SUBWORD_VOCAB} for {level} "
            f"({len(SPECIALS)} special tokens, {len(BYTE_TOKENS)} byte pieces and a character)"
        )
    warning = None
    try:
        model = _train_once(lines, level, vocab_size)
    except _SentencePieceFailure as exc:
        message = str(exc)
        high = _TOO_HIGH.search(message)
        small = _TOO_SMALL.search(message)
        if high:
            limit = int(high.group(2))
            if limit < MIN_SUBWORD_VOCAB:
                raise InputError(f"corpus is too small for a {level} vocabulary") from None
            warning = (f"the corpus supports at most {limit:,} {level} pieces; "
                       f"using {limit:,} instead of {vocab_size:,}")
            try:
                model = _train_once(lines, level, limit)
            except _SentencePieceFailure as again:
                raise InputError(f"sentencepiece could not train: {_short(str(again))}") from None
        elif small:
            need = int(small.group(2))
            raise ConfigError(
                f"--vocab-size {vocab_size:,} is too small for this corpus: it needs at least "
                f"{need + 1:,} pieces to hold its characters"
            ) from None
        else:
            raise InputError(f"sentencepiece could not train: {_short(message)}") from None
    return SentencePieceVocab(level, model, vocab_size), warning


def _short(message: str) -> str:
    message = message.strip().splitlines()[-1] if message.strip() else "unknown failure"
    return re.sub(r"^.*?\] ", "", message)
