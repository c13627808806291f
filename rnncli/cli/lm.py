"""generate and evaluate: using a trained run."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Literal, Optional

import typer

from rnncli.cli.app import app
from rnncli.cli.common import STDIO, err_console, open_output
from rnncli.cli.options import Device, ENCODING_OPT, Errors, ERRORS_OPT, THREADS_OPT

RUN_OPT = typer.Option("--checkpoint-dir", "-c", help="Run directory written by rnncli train.")
WHICH_OPT = typer.Option("--weights", help="best (lowest validation loss) or last checkpoint.")


@app.command()
def generate(
    run: Annotated[str, RUN_OPT],
    prompt: Annotated[Optional[str], typer.Option("--prompt", "-p", help="Text to continue; without it, prompts are read from stdin, one per line.")] = None,
    max_tokens: Annotated[int, typer.Option(min=0, max=10_000_000, help="Tokens to generate per sample.")] = 300,
    temperature: Annotated[float, typer.Option(help="Sampling temperature; 0 is greedy.")] = 0.8,
    top_k: Annotated[Optional[int], typer.Option(help="Sample among the k most likely tokens.")] = None,
    top_p: Annotated[float, typer.Option(help="Nucleus sampling: the smallest set with this probability mass, in (0, 1].")] = 1.0,
    seed: Annotated[Optional[int], typer.Option(help="Seed: the same seed gives the same text.")] = None,
    num_samples: Annotated[int, typer.Option("--num-samples", "-n", min=1, max=100_000, help="Samples per prompt, generated as one batch.")] = 1,
    stop_at_eos: Annotated[bool, typer.Option("--stop-at-eos", help="End a sample at the end of its line.")] = False,
    echo: Annotated[bool, typer.Option("--echo/--no-echo", help="Print the prompt before its continuation.")] = True,
    fmt: Annotated[Literal["text", "jsonl"], typer.Option("--format", "-f", help="text (streams) or one JSON object per sample.")] = "text",
    weights: Annotated[Literal["best", "last"], WHICH_OPT] = "best",
    device: Annotated[Device, typer.Option(help="Where to run.")] = "cpu",
    threads: Annotated[Optional[int], THREADS_OPT] = None,
) -> None:
    """Generate text from a trained language model, streaming it to stdout."""
    from rnncli.checkpoint import load_run
    from rnncli.device import resolve_device, set_threads
    from rnncli.generation import SamplingOptions, generate as sample
    from rnncli.text.vocab import PAD, StreamDecoder

    options = SamplingOptions(max_tokens, temperature, top_k, top_p, seed, stop_at_eos).check()
    set_threads(threads)
    target = resolve_device(device)
    loaded = load_run(run, weights, task="lm")
    model = loaded.model.to(target)
    vocab = loaded.vocab
    prompts = [prompt] if prompt is not None else _stdin_prompts()
    with open_output(None) as out:
        first = True
        for text in prompts:
            ids = vocab.encode(text)
            if fmt == "jsonl":
                rows = [list() for _ in range(num_samples)]
                for tokens in sample(model, ids, options, num_samples, target):
                    for row, token in zip(rows, tokens.tolist()):
                        if token != PAD:
                            row.append(token)
                for k, row in enumerate(rows):
                    decoder = StreamDecoder(vocab)
                    body = "".join(decoder.feed(t) for t in row) + decoder.flush()
                    out.write(json.dumps({"prompt": text, "sample": k, "text": body, "tokens": len(row)},
                                         ensure_ascii=False) + "\n")
                out.flush()
                continue
            if num_samples == 1:
                if not first:
                    out.write("\n")
                first = False
                decoder = StreamDecoder(vocab)
                last = "\n"
                if echo and text:
                    out.write(text)
                    last = text[-1]
                for tokens in sample(model, ids, options, 1, target):
                    piece = decoder.feed(int(tokens[0]))
                    if piece:
                        out.write(piece)
                        out.flush()
                        last = piece[-1]
                tail = decoder.flush()
                out.write(tail + ("" if (tail or last).endswith("\n") else "\n"))
                out.flush()
                continue
            rows = [list() for _ in range(num_samples)]
            for tokens in sample(model, ids, options, num_samples, target):
                for row, token in zip(rows, tokens.tolist()):
                    if token != PAD:
                        row.append(token)
            for row in rows:
                if not first:
                    out.write("\n")
                first = False
                decoder = StreamDecoder(vocab)
                body = (text if echo else "") + "".join(decoder.feed(t) for t in row) + decoder.flush()
                out.write(body if body.endswith("\n") else body + "\n")
            out.flush()


def _stdin_prompts() -> list[str]:
    if sys.stdin is None or sys.stdin.isatty():
        return [""]
    from rnncli.text.reader import LineReader

    return list(LineReader(STDIO))


@app.command()
def evaluate(
    run: Annotated[str, RUN_OPT],
    data: Annotated[str, typer.Argument(help="Held-out text (language model) or labelled data (classifier); '-' for stdin.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
    weights: Annotated[Literal["best", "last"], WHICH_OPT] = "best",
    device: Annotated[Device, typer.Option(help="Where to run.")] = "auto",
    threads: Annotated[Optional[int], THREADS_OPT] = None,
    encoding: Annotated[str, ENCODING_OPT] = "utf-8",
    errors: Annotated[Errors, ERRORS_OPT] = "strict",
    text_column: Annotated[str, typer.Option(help="Classifier, CSV data: the text column.")] = "text",
    label_column: Annotated[str, typer.Option(help="Classifier, CSV data: the label column.")] = "label",
) -> None:
    """Evaluate a trained run: loss, perplexity and bits per character (or classification metrics)."""
    from rnncli.checkpoint import load_run
    from rnncli.data import encode_corpus
    from rnncli.device import resolve_device, resolve_precision, set_threads
    from rnncli.errors import InputError
    from rnncli.tasks.language import evaluate_lm

    set_threads(threads)
    target = resolve_device(device)
    loaded = load_run(run, weights)
    if loaded.config.task == "classify":
        from rnncli.cli.classify import evaluate_classifier

        evaluate_classifier(loaded, data, as_json, target, encoding, errors, text_column, label_column)
        return
    text = encode_corpus([data], loaded.vocab, encoding, errors)
    if len(text) < 2:
        raise InputError(f"{data}: too little text to evaluate (fewer than 2 tokens)")
    precision = loaded.config.training.get("precision", "fp32")
    precision = resolve_precision(precision if precision in ("fp32", "bf16") else "auto", target)
    result = evaluate_lm(loaded.model.to(target), text, target, precision)
    report = {"loss": result["loss"], "ppl": result["ppl"], "bpc": result["bpc"],
              "tokens": result["tokens"], "chars": result["chars"]}
    if as_json:
        with open_output(None) as out:
            out.write(json.dumps(report) + "\n")
        return
    from rich.table import Table

    table = Table(title=f"{run} on {data}", title_justify="left", box=None)
    for key in ("metric", "value"):
        table.add_column(key)
    table.add_row("loss (nats/token)", f"{report['loss']:.4f}")
    table.add_row("perplexity", f"{report['ppl']:.2f}")
    table.add_row("bits per character", f"{report['bpc']:.4f}")
    table.add_row("tokens", f"{report['tokens']:,}")
    table.add_row("characters", f"{report['chars']:,}")
    err_console().print(table)
