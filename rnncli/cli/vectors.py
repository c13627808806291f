"""embed and neighbours: the vectors a trained run holds, for search and clustering."""

from __future__ import annotations

import json
from typing import Annotated, Literal, Optional

import typer

from rnncli.cli.app import command
from rnncli.cli.common import STDIO, note_stdin, open_output, warn
from rnncli.cli.options import ENCODING_OPT, ERRORS_OPT, RUN_OPT, THREADS_OPT, WEIGHTS_OPT, Errors, Weights


@command("embed")
def embed(
    run: Annotated[str, RUN_OPT],
    file: Annotated[str, typer.Argument(help="Texts, one per line ('-' for stdin).")] = STDIO,
    words: Annotated[bool, typer.Option("--words", help="Print the embedding table as a .vec file instead.")] = False,
    fmt: Annotated[Literal["text", "jsonl"], typer.Option("--format", "-f", help="text (the numbers, space-separated) or jsonl ({text, vector}).")] = "text",
    weights: Annotated[Weights, WEIGHTS_OPT] = "best",
    threads: Annotated[Optional[int], THREADS_OPT] = None,
    encoding: Annotated[str, ENCODING_OPT] = "utf-8",
    errors: Annotated[Errors, ERRORS_OPT] = "strict",
) -> None:
    """One vector per input line (a classifier's pooled encoder state), or the word vectors (--words)."""
    from rnncli.api import load
    from rnncli.text.reader import LineReader, coalesced_blocks
    from rnncli.text.vectors import write_vectors

    trained = load(run, weights, "cpu", threads)
    with open_output(None) as out:
        if words:
            write_vectors(*trained.word_vectors(), out)
            return
        reader = LineReader(file, encoding, errors)
        note_stdin(file)
        for texts in coalesced_blocks(reader, 1024):
            for text, vector in zip(texts, trained.embed(texts)):
                numbers = [round(float(v), 6) for v in vector]
                out.write(json.dumps({"text": text, "vector": numbers}, ensure_ascii=False) + "\n" if fmt == "jsonl"
                          else " ".join(f"{v:.6g}" for v in numbers) + "\n")
            out.flush()


@command("neighbours")
def neighbours(
    run: Annotated[str, RUN_OPT],
    words: Annotated[Optional[list[str]], typer.Argument(help="Tokens to look up [default: one per line from stdin].")] = None,
    k: Annotated[int, typer.Option("-k", min=1, max=10_000, help="Neighbours per token.")] = 10,
    weights: Annotated[Weights, WEIGHTS_OPT] = "best",
) -> None:
    """The nearest tokens by cosine of their embeddings: token<TAB>neighbour<TAB>cosine lines."""
    from rnncli.api import load
    from rnncli.errors import InputError
    from rnncli.text.reader import LineReader

    trained = load(run, weights, "cpu")
    queries = words if words else [line.strip() for line in LineReader(STDIO) if line.strip()]
    with open_output(None) as out:
        for word in queries:
            try:
                found = trained.neighbours(word, k)
            except InputError as exc:
                warn(str(exc))
                continue
            out.write("".join(f"{word}\t{token}\t{cosine:.4f}\n" for token, cosine in found))
            out.flush()
