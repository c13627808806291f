"""build-vocab, encode, decode: the tokenizer pipeline from the shell."""

from __future__ import annotations

from typing import Annotated, Literal, Optional

import typer

from rnncli.cli.app import TEXT, command
from rnncli.cli.complete import vocab_files
from rnncli.cli.common import STDIO, err_console, note_stdin, open_output, warn
from rnncli.cli.options import ENCODING_OPT, ERRORS_OPT, Errors, THREADS_OPT

Level = Literal["word", "char", "bpe", "unigram"]
Split = Literal["punct", "whitespace"]

VOCAB_OPT = typer.Option("--vocab", "-v", help="Vocabulary file written by build-vocab.", autocompletion=vocab_files)
OUTPUT_OPT = typer.Option("--output", "-o", help="Write to this file (atomically) instead of stdout.")


@command("build-vocab", TEXT)
def build_vocab(
    corpus: Annotated[list[str], typer.Argument(help="Text files ('-' for stdin).")],
    output: Annotated[str, typer.Option("--output", "-o", help="Vocabulary file to write.")],
    level: Annotated[Level, typer.Option(help="Token level.")] = "word",
    split: Annotated[Split, typer.Option(help="Word level: split punctuation off words, or keep whitespace tokens.")] = "punct",
    lowercase: Annotated[bool, typer.Option("--lowercase", help="Word level: lowercase the text.")] = False,
    min_freq: Annotated[int, typer.Option(min=1, help="Word/char level: drop tokens seen fewer times.")] = 1,
    max_size: Annotated[Optional[int], typer.Option(min=1, help="Word/char level: keep only the most frequent tokens.")] = None,
    vocab_size: Annotated[Optional[int], typer.Option(min=1, help="bpe/unigram: number of pieces [default: about 4*sqrt(corpus bytes), 500..32000].")] = None,
    byte_fallback: Annotated[bool, typer.Option(help="Char level: spell unknown characters as UTF-8 bytes, so any text round-trips.")] = True,
    encoding: Annotated[str, ENCODING_OPT] = "utf-8",
    errors: Annotated[Errors, ERRORS_OPT] = "strict",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary on stderr.")] = False,
) -> None:
    """Build a vocabulary (word, char, or sentencepiece bpe/unigram) from a corpus."""
    from rnncli.text.build import VocabOptions, build_vocabulary

    for path in corpus:
        note_stdin(path)
    options = VocabOptions(level, split, lowercase, min_freq, max_size, vocab_size,
                           byte_fallback, encoding, errors)
    report = build_vocabulary(corpus, options)
    report.vocab.save(output)
    for message in report.warnings:
        warn(message)
    if not quiet:
        _print_summary(report, output)


def _print_summary(report, output: str) -> None:  # type: ignore[no-untyped-def]
    from rich.table import Table
    from rich.text import Text

    vocab = report.vocab
    console = err_console()
    sample = f" (first {report.sampled_lines:,} lines)" if report.sampled_lines else ""
    console.print(f"{vocab.describe()} written to {output}")
    console.print(
        f"corpus{sample}: {report.corpus_tokens:,} tokens, {report.coverage:.2%} of them "
        "in the vocabulary (not <unk>, not spelled as bytes)"
    )
    table = Table(show_header=True, box=None, pad_edge=False)
    table.add_column("most frequent", justify="left")
    table.add_column("count", justify="right")
    table.add_column("share", justify="right")
    total = report.corpus_tokens or 1
    for token, count in report.top:
        shown = token if token.isprintable() and token.strip() == token else repr(token)
        table.add_row(Text(shown), f"{count:,}", f"{count / total:.2%}")
    console.print(table)


def _load(vocab_path: str):  # type: ignore[no-untyped-def]
    from rnncli.text.vocab import load_vocab

    return load_vocab(vocab_path)


@command("encode", TEXT)
def encode(
    vocab: Annotated[str, VOCAB_OPT],
    file: Annotated[str, typer.Argument(help="Text to encode ('-' for stdin).")] = STDIO,
    fmt: Annotated[Literal["ids", "pieces", "jsonl"], typer.Option("--format", "-f", help="Output: ids, pieces, or JSON lines with both.")] = "ids",
    bos: Annotated[bool, typer.Option("--bos", help="Start each line with <bos>.")] = False,
    eos: Annotated[bool, typer.Option("--eos", help="End each line with <eos>.")] = False,
    max_len: Annotated[Optional[int], typer.Option(min=1, help="Truncate each line to N ids (specials included).")] = None,
    pad_to: Annotated[Optional[int], typer.Option(min=1, help="Pad each line with <pad> (0) to N ids.")] = None,
    output: Annotated[Optional[str], OUTPUT_OPT] = None,
    encoding: Annotated[str, ENCODING_OPT] = "utf-8",
    errors: Annotated[Errors, ERRORS_OPT] = "strict",
    threads: Annotated[Optional[int], THREADS_OPT] = None,
) -> None:
    """Turn text into token ids, one output line per input line."""
    from rnncli.text.reader import LineReader
    from rnncli.text.streams import EncodeOptions, encode_stream

    options = EncodeOptions(fmt, bos, eos, max_len, pad_to)
    reader = LineReader(file, encoding, errors)
    tokenizer = _load(vocab)
    note_stdin(file)
    with open_output(output) as out:
        encode_stream(tokenizer, reader, out.write, options, out.flush, threads)


@command("decode", TEXT)
def decode(
    vocab: Annotated[str, VOCAB_OPT],
    file: Annotated[str, typer.Argument(help="Ids to decode, space-separated or JSON lines ('-' for stdin).")] = STDIO,
    output: Annotated[Optional[str], OUTPUT_OPT] = None,
) -> None:
    """Turn token ids back into text, one output line per input line."""
    from rnncli.text.reader import LineReader
    from rnncli.text.streams import decode_stream

    reader = LineReader(file)
    tokenizer = _load(vocab)
    note_stdin(file)
    with open_output(output) as out:
        decode_stream(tokenizer, reader, out.write, out.flush)
