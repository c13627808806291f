"""The options of the translation model's command (translate), each declared once
(:mod:`rnncli.opts`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rnncli.infer.options import ServingArgs, lines_option, run_option
from rnncli.opts import command_option

TRANSLATE_BATCH = 64  # sentences searched at once (beam * this rows); no numpy here, for the CLI's start-up


def length_penalty_option() -> Any:
    return command_option(1.0, min=0.0, max=10.0, help=(
        "Beam search: rank by total log-probability / length ** this (0: the most likely, whatever its length)."))


@dataclass(frozen=True)
class TranslateArgs(ServingArgs):
    run: str = run_option()
    file: str = lines_option("Source sentences")
    beam: int = command_option(1, min=1, max=1000, help="Beam search with N beams; 1 is greedy decoding.")
    length_penalty: float = length_penalty_option()
    max_length_ratio: float = command_option(2.0, min=0.01, max=1000.0, help=(
        "At most this many target tokens per source token (plus 10)."))
    format: str = command_option("text", flags=("--format", "-f"), choices=("text", "jsonl"), help=(
        "text (one translation per line) or jsonl (source, translation, log-probability, tokens)."))
    attention: bool = command_option(False, flags=("--attention",), help=(
        "jsonl: add the alignment, each target token's attention over the source tokens."))
    plot: str | None = command_option(None, help=(
        "Write the alignment heatmap of the first source line's translation to this PNG file."))
    batch_size: int = command_option(TRANSLATE_BATCH, min=1, max=100_000, help="Sentences searched at once.")
