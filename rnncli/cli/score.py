"""score: how likely a language model finds each line."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from rnncli.cli.app import command
from rnncli.cli.common import STDIO, info, note_stdin, open_output
from rnncli.cli.options import (DEVICE_OPT, ENCODING_OPT, ERRORS_OPT, RUN_OPT, THREADS_OPT, UNIGRAM_CACHE_OPT,
                                VERBOSE_OPT, WEIGHTS_OPT, Device, Errors, Weights)


@command("score")
def score(
    run: Annotated[str, RUN_OPT],
    file: Annotated[str, typer.Argument(help="Text, one item per line ('-' for stdin).")] = STDIO,
    per_token: Annotated[bool, typer.Option("--per-token", help="Add each token with its log-probability.")] = False,
    carry_state: Annotated[bool, typer.Option("--carry-state", help="Score the lines as one document, the state carried from line to line (the scores then sum to evaluate's).")] = False,
    weights: Annotated[Weights, WEIGHTS_OPT] = "best",
    device: Annotated[Device, DEVICE_OPT] = "cpu",
    threads: Annotated[Optional[int], THREADS_OPT] = None,
    encoding: Annotated[str, ENCODING_OPT] = "utf-8",
    errors: Annotated[Errors, ERRORS_OPT] = "strict",
    unigram_cache: Annotated[bool, UNIGRAM_CACHE_OPT] = True,
    verbose: Annotated[bool, VERBOSE_OPT] = False,
) -> None:
    """One JSON line per input line: text, tokens, logprob (nats), ppl, bpc; streams in constant memory."""
    from rnncli.scoring import score_lines
    from rnncli.serving import language_model
    from rnncli.text.reader import LineReader

    reader = LineReader(file, encoding, errors)
    with language_model(run, weights, device, threads, info if verbose else lambda message: None) as (model, vocab):
        note_stdin(file)
        with open_output(None) as out:
            for record in score_lines(model, vocab, reader, per_token, carry_state,
                                      model.unigram_cache if unigram_cache else None):
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
