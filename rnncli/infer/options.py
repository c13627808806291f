"""The options of the commands that use a trained run, each declared once (:mod:`rnncli.opts`):
those every such command shares (the run, its weights, the device, threads, the engine report),
and the commands of the house (evaluate, embed, neighbours, info, export). A task's own commands
declare theirs in its folder (``rnncli/tasks/<task>/options.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rnncli.opts import command_option, encoding_option, errors_option, threads_option
from rnncli.text.reader import STDIN

# Texts per forward pass when classifying: batches are formed by length, so narrower batches waste
# less on padding, while below about 100 texts the per-call overhead grows (bench/serve.py).
INFERENCE_BATCH = 128
DEVICE_DEFAULT = "auto"  # every command: a current ONNX export on the CPU, else torch on the best device


def run_option() -> Any:
    return command_option("", flags=("--checkpoint-dir", "-c"), required=True, complete="run",
                          help="Run directory written by rnncli train.")


def weights_option() -> Any:
    return command_option("best", choices=("best", "last"), help=(
        "best (the best validation score: loss for language models, accuracy or F1 for the others) or last "
        "checkpoint."))


def device_option() -> Any:
    return command_option(DEVICE_DEFAULT, choices=("auto", "cpu", "cuda", "mps"), help="Where to run.")


def verbose_option() -> Any:
    return command_option(False, flags=("--verbose", "-v"),
                          help="Say on stderr which engine serves (onnxruntime or torch) and why.")


@dataclass(frozen=True)
class ServingArgs:
    """The options of every command that serves a trained run, in --help after the command's own
    (:func:`rnncli.opts.options`): which weights, where, with how many threads, how input is
    decoded, and the engine report."""

    weights: str = weights_option()
    device: str = device_option()
    threads: int | None = threads_option()
    encoding: str = encoding_option()
    errors: str = errors_option()
    verbose: bool = verbose_option()


CACHES = ("auto", "none", "unigram", "neural")  # rnncli.infer.caches
GENERATION_CACHES = ("none", "unigram", "neural", "auto")  # generate's choices: none first, its default


def cache_option() -> Any:
    return command_option("auto", choices=CACHES, help=(
        "Language models: read with the cache fitted on validation when training ended: auto (the one that "
        "validation chose, if any helped), none (the network alone), unigram or neural."))


def lines_option(what: str) -> Any:
    return command_option(STDIN, argument=True, help=f"{what}, one per line ('-' for stdin).")


@dataclass(frozen=True)
class EvaluateArgs(ServingArgs):
    run: str = run_option()
    data: str = command_option(None, argument=True, required=True, help=(
        "Held-out text (language model), labelled data (classifier), tagged sentences (tagger) or sentence "
        "pairs (translation); '-' for stdin."))
    as_json: bool = command_option(False, flags=("--json",), help="One JSON object on stdout.")
    text_column: str = command_option("text", help="Classifier, CSV data: the text column.")
    label_column: str = command_option("label", help="Classifier, CSV data: the label column.")
    top: int | None = command_option(None, flags=("--top", "-k"), min=1,
                                     help="Classifiers: also precision and recall at k (fastText's test).")
    tag_column: str | None = command_option(None, help=(
        "Taggers: the tag column, upos, xpos or feats of CoNLL-U, or the 0-based column of CoNLL columns "
        "[default: upos; the last column]."))
    cache: str = cache_option()
    beam: int | None = command_option(None, min=1, max=1000, help=(
        "Translation: decode with beam search of N beams [default: greedy]."))


@dataclass(frozen=True)
class EmbedArgs:
    run: str = run_option()
    file: str = lines_option("Texts")
    words: bool = command_option(False, flags=("--words",), help="Print the embedding table as a .vec file instead.")
    format: str = command_option("text", flags=("--format", "-f"), choices=("text", "jsonl"),
                                 help="text (the numbers, space-separated) or jsonl ({text, vector}).")
    weights: str = weights_option()
    threads: int | None = threads_option()
    encoding: str = encoding_option()
    errors: str = errors_option()


@dataclass(frozen=True)
class NeighboursArgs:
    run: str = run_option()
    words: list[str] | None = command_option(None, argument=True, help=(
        "Tokens to look up [default: one per line from stdin]."))
    k: int = command_option(10, flags=("-k",), min=1, max=10_000, help="Neighbours per token.")
    weights: str = weights_option()


@dataclass(frozen=True)
class InfoArgs:
    run: str = run_option()
    as_json: bool = command_option(False, flags=("--json",), help="One JSON object on stdout.")


@dataclass(frozen=True)
class ExportArgs:
    run: str = run_option()
    output: str | None = command_option(None, flags=("--output", "-o"), help=(
        "Directory to write [default: RUN/onnx, which classify and generate then use]."))
    quantize: str | None = command_option(None, choices=("int8",),
                                          help="Also write a dynamically quantised int8 model, and serve it.")
    check: str | None = command_option(None, help=(
        "Text (language model) or labelled data (classifier) to measure what int8 costs: bpc or accuracy before "
        "and after."))
    threads: int | None = threads_option()
