"""generate: text from a trained language model."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any, Literal, Optional

import typer

from rnncli.cli.app import command
from rnncli.cli.common import STDIO, info, open_output
from rnncli.cli.options import RUN_OPT, THREADS_OPT, VERBOSE_OPT, WEIGHTS_OPT, Device, Weights


@command("generate")
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
    weights: Annotated[Weights, WEIGHTS_OPT] = "best",
    device: Annotated[Device, typer.Option(help="Where to run.")] = "cpu",
    threads: Annotated[Optional[int], THREADS_OPT] = None,
    verbose: Annotated[bool, VERBOSE_OPT] = False,
) -> None:
    """Generate text from a trained language model, streaming it to stdout."""
    from rnncli.sampling import SamplingOptions
    from rnncli.serving import language_model

    options = SamplingOptions(max_tokens, temperature, top_k, top_p, seed, stop_at_eos).check()
    prompts = [prompt] if prompt is not None else _stdin_prompts()
    with language_model(run, weights, device, threads, info if verbose else lambda message: None) as (model, vocab):
        _write_samples(model, vocab, prompts, options, num_samples, echo, fmt)


def _write_samples(model: Any, vocab: Any, prompts: list[str], options: Any, num_samples: int, echo: bool,
                   fmt: str) -> None:
    """Samples for each prompt on stdout: text streamed as it comes (one sample), or whole samples."""
    from rnncli.sampling import generate as sample, sample_texts
    from rnncli.text.vocab import StreamDecoder

    with open_output(None) as out:
        first = True
        for text in prompts:
            ids = vocab.encode(text)
            if fmt == "jsonl":
                for k, (body, count) in enumerate(sample_texts(model, vocab, text, options, num_samples)):
                    out.write(json.dumps({"prompt": text, "sample": k, "text": body, "tokens": count},
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
                for tokens in sample(model, ids, options, 1):
                    piece = decoder.feed(int(tokens[0]))
                    if piece:
                        out.write(piece)
                        out.flush()
                        last = piece[-1]
                tail = decoder.flush()
                out.write(tail + ("" if (tail or last).endswith("\n") else "\n"))
                out.flush()
                continue
            for body, _ in sample_texts(model, vocab, text, options, num_samples):
                if not first:
                    out.write("\n")
                first = False
                body = (text if echo else "") + body
                out.write(body if body.endswith("\n") else body + "\n")
            out.flush()


def _stdin_prompts() -> list[str]:
    if sys.stdin is None or sys.stdin.isatty():
        return [""]
    from rnncli.text.reader import LineReader

    return list(LineReader(STDIO))
