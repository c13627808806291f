"""The options of the commands that show how sequence models behave (gradients, plot) and make
their data (sample-data, demo), each declared once (:mod:`rnncli.opts`)."""

from __future__ import annotations

from dataclasses import dataclass

from rnncli.opts import command_option


@dataclass(frozen=True)
class GradientsArgs:
    model: str = command_option("rnn,lstm,gru", flags=("--model", "-m"),
                                help="Fresh models to compare, comma-separated: rnn,lstm,gru.")
    run: str | None = command_option(None, flags=("--checkpoint-dir", "-c"), complete="run",
                                     help="Use a trained run's weights instead of fresh models.")
    text: str | None = command_option(None, help=(
        "Sequence to backpropagate through (with -c: encoded by the run's vocabulary)."))
    file: str | None = command_option(None, help="Read the sequence from this file (its first tokens).")
    length: int = command_option(100, min=2, max=5000, help="Steps T (random tokens when no text is given).")
    samples: int = command_option(8, min=1, max=1000, help="Random sequences averaged (geometric mean of norms).")
    hidden: int = command_option(256, min=1, max=8192, help="Fresh models: hidden units.")
    embed: int = command_option(64, min=1, max=8192, help="Fresh models: embedding size.")
    layers: int = command_option(1, min=1, max=16, help="Fresh models: layers.")
    forget_bias: float = command_option(0.0, help="Fresh LSTMs: initial forget-gate bias (rnncli's default 0; try 1).")
    seed: int = command_option(0, help="Seed for weights and random tokens.")
    as_json: bool = command_option(False, flags=("--json",), help="One JSON object on stdout: a list of norms per model.")
    plot: str | None = command_option(None, flags=("--plot",), help="Write a PNG: gradient norm (log) against distance.")


@dataclass(frozen=True)
class PlotArgs:
    runs: list[str] = command_option(None, argument=True, required=True, help="Run directories to overlay.")
    output: str = command_option("", flags=("--output", "-o"), required=True, help="PNG file to write.")


@dataclass(frozen=True)
class SampleDataArgs:
    kind: str = command_option(None, argument=True, required=True,
                               choices=("english", "topics", "word-order", "long-range", "multi-label", "entities"),
                               help=("english (text), topics, word-order or long-range (label<TAB>text), multi-label "
                                     "(__label__a __label__b text), entities (token TAG lines, BIO tags; --lines "
                                     "counts sentences)."))
    output: str | None = command_option(None, flags=("--output", "-o"),
                                        help="File to write (atomically); stdout if absent.")
    lines: int = command_option(2000, min=1, max=1_000_000_000, help="Number of lines (written as they are made).")
    seed: int = command_option(0, help="Random seed: the same seed gives the same file.")
    distance: int = command_option(50, min=1, max=100_000, help="long-range: distractor words between the key and the end.")
    length: int = command_option(12, min=6, max=100_000, help="word-order: words per line.")


@dataclass(frozen=True)
class DemoArgs:
    workdir: str = command_option("runs/demo", flags=("--dir",), help="Where the demo writes its runs (replaced).")
    seconds: float = command_option(45, min=5, max=3600, help="Training time for the language model.")
