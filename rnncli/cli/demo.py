"""demo: the main job end to end on the bundled sample data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rnncli.cli.app import app
from rnncli.cli.common import info

SAMPLE_DIR = Path("sample_data")


def _corpus(workdir: Path) -> tuple[Path, Path]:
    """The bundled sample corpus, or the same text regenerated where the repo is not at hand."""
    train, valid = SAMPLE_DIR / "english.txt", SAMPLE_DIR / "english-valid.txt"
    if train.is_file() and valid.is_file():
        return train, valid
    from rnncli.fileio import write_bytes
    from rnncli.synthetic import english

    train, valid = workdir / "english.txt", workdir / "english-valid.txt"
    write_bytes(train, ("\n".join(english(3000, 0)) + "\n").encode())
    write_bytes(valid, ("\n".join(english(300, 1)) + "\n").encode())
    return train, valid


@app.command()
def demo(
    workdir: Annotated[Path, typer.Option("--dir", help="Where the demo writes its vocabulary and run.")] = Path("runs/demo"),
) -> None:
    """Build a vocabulary on the sample corpus and show text -> ids -> text."""
    from rnncli.text.build import VocabOptions, build_vocabulary
    from rnncli.text.reader import iter_corpus

    workdir.mkdir(parents=True, exist_ok=True)
    train, valid = _corpus(workdir)
    info(f"1. build a bpe vocabulary from {train}")
    report = build_vocabulary([str(train)], VocabOptions(level="bpe", vocab_size=1000))
    vocab_path = workdir / "vocab.json"
    report.vocab.save(vocab_path)
    info(f"   {report.vocab.describe()} -> {vocab_path}")
    lines = list(iter_corpus([str(valid)]))
    ids = report.vocab.encode_batch(lines)
    exact = report.vocab.decode_batch(ids) == lines
    first = next(line for line in lines if line)
    info(f"2. encode {valid}: {sum(map(len, ids)):,} tokens for {sum(map(len, lines)):,} characters")
    info(f"   {first[:60]!r} -> {report.vocab.encode(first)[:12]} ...")
    info(f"   decode(encode(text)) == text: {exact}")
