"""The classifier's command: classify (label each input line with a trained classifier)."""

from __future__ import annotations

import json
from typing import Annotated, Literal, Optional

import typer

from rnncli.cli.app import command
from rnncli.cli.common import STDIO, info, note_stdin, open_output
from rnncli.cli.options import (DEVICE_DEFAULT, DEVICE_OPT, ENCODING_OPT, ERRORS_OPT, RUN_OPT, THREADS_OPT, VERBOSE_OPT, WEIGHTS_OPT,
                                Device, Errors, Weights)


@command("classify")
def classify(
    run: Annotated[str, RUN_OPT],
    file: Annotated[str, typer.Argument(help="Texts, one per line ('-' for stdin).")] = STDIO,
    top: Annotated[Optional[int], typer.Option("--top", "-k", min=1, help="Print the N most likely labels with probabilities [default: 1; multi-label: every label above the threshold].")] = None,
    fmt: Annotated[Literal["tsv", "jsonl"], typer.Option("--format", "-f", help="tsv (label, or label<TAB>prob pairs with -k) or jsonl.")] = "tsv",
    threshold: Annotated[Optional[float], typer.Option(min=0.0, max=1.0, help="Only print labels with at least this probability (an empty line when none does).")] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=1_000_000, help="Texts per forward pass.")] = 128,
    weights: Annotated[Weights, WEIGHTS_OPT] = "best",
    device: Annotated[Device, DEVICE_OPT] = DEVICE_DEFAULT,
    threads: Annotated[Optional[int], THREADS_OPT] = None,
    encoding: Annotated[str, ENCODING_OPT] = "utf-8",
    errors: Annotated[Errors, ERRORS_OPT] = "strict",
    verbose: Annotated[bool, VERBOSE_OPT] = False,
) -> None:
    """Label each input line with a trained classifier; streams in constant memory."""
    from rnncli.serving import serving
    from rnncli.tasks.classification.inference import classify as labelled
    from rnncli.text.reader import LineReader, coalesced_blocks

    reader = LineReader(file, encoding, errors)
    with serving(run, "classify", weights, device, threads, info if verbose else _quiet) as engine:
        note_stdin(file)
        with open_output(None) as out:
            for texts in coalesced_blocks(reader, 8192):
                chosen = labelled(engine, texts, top, threshold, batch_size)
                out.write("\n".join(_format(labels, fmt, (top or 1) > 1) for labels in chosen) + "\n")
                out.flush()


def _quiet(message: str) -> None:
    pass


def _format(chosen: list[tuple[str, float]], fmt: str, with_probs: bool) -> str:
    if fmt == "jsonl":
        return json.dumps({"label": chosen[0][0] if chosen else None,
                           "labels": [c[0] for c in chosen], "probs": [round(c[1], 6) for c in chosen]},
                          ensure_ascii=False)
    if not chosen:
        return ""
    if not with_probs:
        return "\t".join(label for label, _ in chosen)
    return "\t".join(f"{label}\t{prob:.4f}" for label, prob in chosen)
