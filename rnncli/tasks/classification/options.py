"""The options of the classifier's command (classify), each declared once (:mod:`rnncli.opts`)."""

from __future__ import annotations

from dataclasses import dataclass

from rnncli.infer.options import INFERENCE_BATCH, ServingArgs, lines_option, run_option
from rnncli.opts import command_option


@dataclass(frozen=True)
class ClassifyArgs(ServingArgs):
    run: str = run_option()
    file: str = lines_option("Texts")
    top: int | None = command_option(None, flags=("--top", "-k"), min=1, help=(
        "Print the N most likely labels with probabilities [default: 1; multi-label: every label above the "
        "threshold]."))
    format: str = command_option("tsv", flags=("--format", "-f"), choices=("tsv", "jsonl"),
                                 help="tsv (label, or label<TAB>prob pairs with -k) or jsonl.")
    threshold: float | None = command_option(None, min=0.0, max=1.0, help=(
        "Only print labels with at least this probability (an empty line when none does)."))
    batch_size: int = command_option(INFERENCE_BATCH, min=1, max=1_000_000, help="Texts per forward pass.")
