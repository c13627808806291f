"""embed and neighbours: the vectors a trained run holds, for search and clustering."""

from __future__ import annotations

import json

from rnncli.cli.app import command
from rnncli.cli.common import STDIO, note_stdin, open_output, warn
from rnncli.cli.declare import declared
from rnncli.infer.options import EmbedArgs, NeighboursArgs


def _embed(args: EmbedArgs) -> None:
    """One vector per input line (a classifier's pooled encoder state), or the word vectors (--words)."""
    from rnncli.api import load
    from rnncli.text.reader import LineReader, coalesced_blocks
    from rnncli.text.vectors import write_vectors

    trained = load(args.run, args.weights, "cpu", args.threads)
    with open_output(None) as out:
        if args.words:
            write_vectors(*trained.word_vectors(), out)
            return
        reader = LineReader(args.file, args.encoding, args.errors)
        note_stdin(args.file)
        for texts in coalesced_blocks(reader, 1024):
            for text, vector in zip(texts, trained.embed(texts)):
                numbers = [round(float(v), 6) for v in vector]
                out.write(json.dumps({"text": text, "vector": numbers}, ensure_ascii=False) + "\n"
                          if args.format == "jsonl" else " ".join(f"{v:.6g}" for v in numbers) + "\n")
            out.flush()


def _neighbours(args: NeighboursArgs) -> None:
    """The nearest tokens by cosine of their embeddings: token<TAB>neighbour<TAB>cosine lines."""
    from rnncli.api import load
    from rnncli.errors import InputError
    from rnncli.text.reader import LineReader

    trained = load(args.run, args.weights, "cpu")
    queries = args.words if args.words else [line.strip() for line in LineReader(STDIO) if line.strip()]
    with open_output(None) as out:
        for word in queries:
            try:
                found = trained.neighbours(word, args.k)
            except InputError as exc:
                warn(str(exc))
                continue
            out.write("".join(f"{word}\t{token}\t{cosine:.4f}\n" for token, cosine in found))
            out.flush()


embed = command("embed")(declared(EmbedArgs, _embed))
neighbours = command("neighbours")(declared(NeighboursArgs, _neighbours))
