"""The language model's commands: generate (text from a trained model) and score (how likely it finds each line)."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any, Literal, Optional

import typer

from rnncli.cli.app import command
from rnncli.cli.common import STDIO, info, note_stdin, open_output
from rnncli.cli.options import (DEVICE_DEFAULT, DEVICE_OPT, ENCODING_OPT, ERRORS_OPT, RUN_OPT, THREADS_OPT, UNIGRAM_CACHE_OPT,
                                VERBOSE_OPT, WEIGHTS_OPT, Device, Errors, Weights)


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
    device: Annotated[Device, DEVICE_OPT] = DEVICE_DEFAULT,
    threads: Annotated[Optional[int], THREADS_OPT] = None,
    beam: Annotated[Optional[int], typer.Option(min=1, max=1000, help="Beam search with N beams instead of sampling: deterministic; prints the best (--format jsonl: every beam).")] = None,
    length_penalty: Annotated[float, typer.Option(min=0.0, max=10.0, help="Beam search: rank by total log-probability / length ** this.")] = 1.0,
    best_of: Annotated[Optional[int], typer.Option(min=1, max=10_000, help="Sample N (one batch) and print the most likely (--format jsonl: all N, best first).")] = None,
    verbose: Annotated[bool, VERBOSE_OPT] = False,
) -> None:
    """Generate text from a trained language model, streaming it to stdout."""
    from rnncli.infer.sampling import SamplingOptions
    from rnncli.infer.search import Search
    from rnncli.serving import serving

    options = SamplingOptions(max_tokens, temperature, top_k, top_p, seed, stop_at_eos).check()
    search = Search(beam, best_of, length_penalty).check(num_samples)
    prompts = [prompt] if prompt is not None else _stdin_prompts()
    with serving(run, "lm", weights, device, threads, info if verbose else lambda message: None) as engine:
        if search:
            _write_ranked(engine, prompts, options, search, echo, fmt)
        else:
            _write_samples(engine, engine.vocab, prompts, options, num_samples, echo, fmt)


def _write_ranked(engine: Any, prompts: list[str], options: Any, search: Any, echo: bool, fmt: str) -> None:
    """The most likely text per prompt, by beam search or as the best of N samples."""
    from rnncli.infer.search import ranked

    with open_output(None) as out:
        for text in prompts:
            found = ranked(engine, engine.vocab, text, options, search)
            if fmt == "jsonl":
                for rank, (body, tokens, total) in enumerate(found):
                    out.write(json.dumps({"prompt": text, "rank": rank, "text": body, "tokens": tokens,
                                          "logprob": total}, ensure_ascii=False) + "\n")
            elif found:
                shown = (text if echo else "") + found[0][0]
                out.write(shown if shown.endswith("\n") else shown + "\n")
            out.flush()


def _write_samples(model: Any, vocab: Any, prompts: list[str], options: Any, num_samples: int, echo: bool,
                   fmt: str) -> None:
    """Samples for each prompt on stdout: text streamed as it comes (one sample), or whole samples."""
    from rnncli.infer.sampling import generate as sample, sample_texts
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


@command("score")
def score(
    run: Annotated[str, RUN_OPT],
    file: Annotated[str, typer.Argument(help="Text, one item per line ('-' for stdin).")] = STDIO,
    per_token: Annotated[bool, typer.Option("--per-token", help="Add each token with its log-probability.")] = False,
    carry_state: Annotated[bool, typer.Option("--carry-state", help="Score the lines as one document, the state carried from line to line (the scores then sum to evaluate's).")] = False,
    weights: Annotated[Weights, WEIGHTS_OPT] = "best",
    device: Annotated[Device, DEVICE_OPT] = DEVICE_DEFAULT,
    threads: Annotated[Optional[int], THREADS_OPT] = None,
    encoding: Annotated[str, ENCODING_OPT] = "utf-8",
    errors: Annotated[Errors, ERRORS_OPT] = "strict",
    unigram_cache: Annotated[bool, UNIGRAM_CACHE_OPT] = True,
    verbose: Annotated[bool, VERBOSE_OPT] = False,
) -> None:
    """One JSON line per input line: text, tokens, logprob (nats), ppl, bpc; streams in constant memory."""
    from rnncli.infer.scoring import score_lines
    from rnncli.serving import serving
    from rnncli.text.reader import LineReader

    reader = LineReader(file, encoding, errors)
    with serving(run, "lm", weights, device, threads, info if verbose else lambda message: None) as engine:
        note_stdin(file)
        with open_output(None) as out:
            for record in score_lines(engine, engine.vocab, reader, per_token, carry_state,
                                      engine.unigram_cache if unigram_cache else None):
                out.write(json.dumps(record, ensure_ascii=False) + "\n")


def _stdin_prompts() -> list[str]:
    if sys.stdin is None or sys.stdin.isatty():
        return [""]
    from rnncli.text.reader import LineReader

    return list(LineReader(STDIO))
