"""The options of the language model's commands (generate, score), each declared once
(:mod:`rnncli.opts`)."""

from __future__ import annotations

from dataclasses import dataclass

from rnncli.infer.options import (GENERATION_CACHES, ServingArgs, device_option, run_option, cache_option,
                                  verbose_option, weights_option)
from rnncli.opts import command_option, threads_option


@dataclass(frozen=True)
class GenerateArgs:
    run: str = run_option()
    prompt: str | None = command_option(None, flags=("--prompt", "-p"), help=(
        "Text to continue; without it, prompts are read from stdin, one per line."))
    max_tokens: int = command_option(300, min=0, max=10_000_000, help="Tokens to generate per sample.")
    temperature: float = command_option(0.8, help="Sampling temperature; 0 is greedy.")
    top_k: int | None = command_option(None, help="Sample among the k most likely tokens.")
    top_p: float = command_option(1.0, help="Nucleus sampling: the smallest set with this probability mass, in (0, 1].")
    seed: int | None = command_option(None, help="Seed: the same seed gives the same text.")
    num_samples: int = command_option(1, flags=("--num-samples", "-n"), min=1, max=100_000,
                                      help="Samples per prompt, generated as one batch.")
    stop_at_eos: bool = command_option(False, flags=("--stop-at-eos",), help="End a sample at the end of its line.")
    echo: bool = command_option(True, flags=("--echo/--no-echo",), help="Print the prompt before its continuation.")
    format: str = command_option("text", flags=("--format", "-f"), choices=("text", "jsonl"),
                                 help="text (streams) or one JSON object per sample.")
    weights: str = weights_option()
    device: str = device_option()
    threads: int | None = threads_option()
    beam: int | None = command_option(None, min=1, max=1000, help=(
        "Beam search with N beams instead of sampling: deterministic; prints the best (--format jsonl: every beam)."))
    length_penalty: float = command_option(1.0, min=0.0, max=10.0,
                                           help="Beam search: rank by total log-probability / length ** this.")
    best_of: int | None = command_option(None, min=1, max=10_000, help=(
        "Sample N (one batch) and print the most likely (--format jsonl: all N, best first)."))
    cache: str = command_option("none", choices=GENERATION_CACHES, help=(
        "Sample from the network mixed with a cache fitted on validation: none (the network alone; a cache "
        "makes samples repeat what they said), unigram, neural, or auto (the one validation chose)."))
    verbose: bool = verbose_option()


@dataclass(frozen=True)
class ScoreArgs(ServingArgs):
    run: str = run_option()
    file: str = command_option("-", argument=True, help="Text, one item per line ('-' for stdin).")
    per_token: bool = command_option(False, flags=("--per-token",), help="Add each token with its log-probability.")
    carry_state: bool = command_option(False, flags=("--carry-state",), help=(
        "Score the lines as one document, the state carried from line to line (the scores then sum to "
        "evaluate's)."))
    cache: str = cache_option()
