"""The options of the tagger's command (tag), each declared once (:mod:`rnncli.opts`)."""

from __future__ import annotations

from dataclasses import dataclass

from rnncli.infer.options import INFERENCE_BATCH, ServingArgs, lines_option, run_option
from rnncli.opts import command_option


@dataclass(frozen=True)
class TagArgs(ServingArgs):
    run: str = run_option()
    file: str = lines_option("Sentences of whitespace-separated tokens (or CoNLL-U sentences, with --format conllu)")
    format: str | None = command_option(None, flags=("--format", "-f"), choices=("text", "conllu", "jsonl"), help=(
        "text (token/TAG ...), jsonl (tokens, tags, each tag's probability), or conllu: read CoNLL-U "
        "sentences and write them back with the tag column filled [default: conllu for a .conllu file, else "
        "text]."))
    top: int = command_option(1, flags=("--top", "-k"), min=1, help="jsonl: the k likeliest tags of each token.")
    tokenize: bool = command_option(False, flags=("--tokenize",), help=(
        "Split punctuation off the words of plain lines (else whitespace separates the tokens)."))
    tag_column: str | None = command_option(None, help=(
        "CoNLL-U input: the column to fill, upos, xpos or feats [default: upos]."))
    batch_size: int = command_option(INFERENCE_BATCH, min=1, max=1_000_000, help="Sentences per forward pass.")
