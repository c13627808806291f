"""build-vocab, encode, decode: the tokenizer pipeline from the shell."""

from __future__ import annotations

from rnncli.cli.app import TEXT, command
from rnncli.cli.common import err_console, note_stdin, open_output, warn
from rnncli.cli.declare import declared
from rnncli.text.options import BuildVocabArgs, DecodeArgs, EncodeArgs

def _build_vocab(args: BuildVocabArgs) -> None:
    """Build a vocabulary (word, char, or sentencepiece bpe/unigram) from a corpus."""
    from rnncli.text.build import VocabOptions, build_vocabulary

    for path in args.corpus:
        note_stdin(path)
    options = VocabOptions(args.level, args.split, args.lowercase, args.min_freq, args.max_size, args.vocab_size,
                           args.byte_fallback, args.encoding, args.errors)
    report = build_vocabulary(args.corpus, options)
    report.vocab.save(args.output)
    for message in report.warnings:
        warn(message)
    if not args.quiet:
        _print_summary(report, args.output)


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


def _encode(args: EncodeArgs) -> None:
    """Turn text into token ids, one output line per input line."""
    from rnncli.text.reader import LineReader
    from rnncli.text.streams import EncodeOptions, encode_stream

    options = EncodeOptions(args.format, args.bos, args.eos, args.max_len, args.pad_to)
    reader = LineReader(args.file, args.encoding, args.errors)
    tokenizer = _load(args.vocab)
    note_stdin(args.file)
    with open_output(args.output) as out:
        encode_stream(tokenizer, reader, out.write, options, out.flush, args.threads)


def _decode(args: DecodeArgs) -> None:
    """Turn token ids back into text, one output line per input line."""
    from rnncli.text.reader import LineReader
    from rnncli.text.streams import decode_stream

    reader = LineReader(args.file)
    tokenizer = _load(args.vocab)
    note_stdin(args.file)
    with open_output(args.output) as out:
        decode_stream(tokenizer, reader, out.write, out.flush)


build_vocab = command("build-vocab", TEXT)(declared(BuildVocabArgs, _build_vocab))
encode = command("encode", TEXT)(declared(EncodeArgs, _encode))
decode = command("decode", TEXT)(declared(DecodeArgs, _decode))
