"""Options that several commands share, declared once so that they read the same everywhere."""

from __future__ import annotations

from typing import Literal

import typer

from rnncli.cli.complete import run_dirs

Errors = Literal["strict", "replace"]
Device = Literal["auto", "cpu", "cuda", "mps"]
Weights = Literal["best", "last"]

ENCODING_OPT = typer.Option("--encoding", help="Text encoding of the input.")
ERRORS_OPT = typer.Option("--errors", help="On undecodable bytes: stop (strict) or use U+FFFD.")
THREADS_OPT = typer.Option("--threads", min=1, max=4096, help="CPU threads.")
DEVICE_DEFAULT = "auto"  # every inference command: a current ONNX export on the CPU, else torch on the best device
DEVICE_OPT = typer.Option("--device", help="Where to run.")
RUN_OPT = typer.Option("--checkpoint-dir", "-c", help="Run directory written by rnncli train.",
                       autocompletion=run_dirs)
WEIGHTS_OPT = typer.Option("--weights", help="best (lowest validation loss) or last checkpoint.")
UNIGRAM_CACHE_OPT = typer.Option("--unigram-cache/--no-unigram-cache", help="Language models: read with the unigram cache fitted on validation when training ended (if it helped there); --no-unigram-cache reads the network alone.")
VERBOSE_OPT = typer.Option("--verbose", "-v", help="Say on stderr which engine serves (onnxruntime or torch) and why.")
