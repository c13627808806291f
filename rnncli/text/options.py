"""The options of the text commands (build-vocab, encode, decode), each declared once
(:mod:`rnncli.opts`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rnncli.opts import command_option, encoding_option, errors_option, threads_option
from rnncli.text.reader import STDIN


def vocab_file_option() -> Any:
    return command_option("", flags=("--vocab", "-v"), required=True, complete="vocab",
                          help="Vocabulary file written by build-vocab.")


def output_file_option() -> Any:
    return command_option(None, flags=("--output", "-o"), help="Write to this file (atomically) instead of stdout.")


@dataclass(frozen=True)
class BuildVocabArgs:
    corpus: list[str] = command_option(None, argument=True, required=True, help="Text files ('-' for stdin).")
    output: str = command_option("", flags=("--output", "-o"), required=True, help="Vocabulary file to write.")
    level: str = command_option("word", choices=("word", "char", "bpe", "unigram"), help="Token level.")
    split: str = command_option("punct", choices=("punct", "whitespace"),
                                help="Word level: split punctuation off words, or keep whitespace tokens.")
    lowercase: bool = command_option(False, flags=("--lowercase",), help="Word level: lowercase the text.")
    min_freq: int = command_option(1, min=1, help="Word/char level: drop tokens seen fewer times.")
    max_size: int | None = command_option(None, min=1, help="Word/char level: keep only the most frequent tokens.")
    vocab_size: int | None = command_option(None, min=1, help=(
        "bpe/unigram: number of pieces [default: about 4*sqrt(corpus bytes), 500..32000]."))
    byte_fallback: bool = command_option(True, flags=("--byte-fallback/--no-byte-fallback",), help=(
        "Char level: spell unknown characters as UTF-8 bytes, so any text round-trips."))
    encoding: str = encoding_option()
    errors: str = errors_option()
    quiet: bool = command_option(False, flags=("--quiet", "-q"), help="No summary on stderr.")


@dataclass(frozen=True)
class EncodeArgs:
    vocab: str = vocab_file_option()
    file: str = command_option(STDIN, argument=True, help="Text to encode ('-' for stdin).")
    format: str = command_option("ids", flags=("--format", "-f"), choices=("ids", "pieces", "jsonl"),
                                 help="Output: ids, pieces, or JSON lines with both.")
    bos: bool = command_option(False, flags=("--bos",), help="Start each line with <bos>.")
    eos: bool = command_option(False, flags=("--eos",), help="End each line with <eos>.")
    max_len: int | None = command_option(None, min=1, help="Truncate each line to N ids (specials included).")
    pad_to: int | None = command_option(None, min=1, help="Pad each line with <pad> (0) to N ids.")
    output: str | None = output_file_option()
    encoding: str = encoding_option()
    errors: str = errors_option()
    threads: int | None = threads_option()


@dataclass(frozen=True)
class DecodeArgs:
    vocab: str = vocab_file_option()
    file: str = command_option(STDIN, argument=True,
                               help="Ids to decode, space-separated or JSON lines ('-' for stdin).")
    output: str | None = output_file_option()
