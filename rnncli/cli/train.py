"""train: language models and classifiers."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from typing import Annotated, Literal, Optional

import typer

from rnncli.cli.app import app
from rnncli.cli.common import info
from rnncli.cli.options import Device, ENCODING_OPT, Errors, ERRORS_OPT, THREADS_OPT

Model = Literal["rnn", "lstm", "gru", "bow"]
Level = Literal["word", "char", "bpe", "unigram"]


@app.command()
def train(
    corpus: Annotated[Optional[list[str]], typer.Argument(help="Training text (language model) or labelled data (classifier). Optional with --resume.")] = None,
    output: Annotated[str, typer.Option("--output", "-o", help="Run directory to create (or resume).")] = "",
    task: Annotated[Optional[Literal["lm", "classify"]], typer.Option(help="lm or classify [default: from the data].")] = None,
    model: Annotated[Optional[Model], typer.Option("--model", "-m", help="rnn, lstm, gru (bow: classifier only) [default: lstm].")] = None,
    valid: Annotated[Optional[str], typer.Option(help="Validation file [default: a held-out tail of the corpus].")] = None,
    vocab: Annotated[Optional[str], typer.Option("--vocab", "-v", help="Use this vocabulary instead of building one.")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the run in --output from its last checkpoint.")] = False,
    level: Annotated[Optional[Level], typer.Option(help="Tokenizer level when building one [default: char up to 4 MB of text, else bpe].")] = None,
    split: Annotated[Optional[Literal["punct", "whitespace"]], typer.Option(help="Word level: punctuation split or whitespace tokens.")] = None,
    lowercase: Annotated[Optional[bool], typer.Option("--lowercase", help="Word level: lowercase.")] = None,
    min_freq: Annotated[Optional[int], typer.Option(min=1, help="Word/char level: minimum count.")] = None,
    max_size: Annotated[Optional[int], typer.Option(min=1, help="Word/char level: most frequent tokens kept.")] = None,
    vocab_size: Annotated[Optional[int], typer.Option(min=1, help="bpe/unigram size.")] = None,
    embed: Annotated[Optional[int], typer.Option(min=1, max=65536, help="Embedding size [default: from the corpus].")] = None,
    hidden: Annotated[Optional[int], typer.Option(min=1, max=65536, help="Hidden units per layer [default: from the corpus].")] = None,
    layers: Annotated[Optional[int], typer.Option(min=1, max=64, help="Recurrent layers.")] = None,
    dropout: Annotated[Optional[float], typer.Option(min=0.0, max=0.99, help="Dropout.")] = None,
    tie_weights: Annotated[Optional[bool], typer.Option("--tie-weights", help="Language model: share embedding and output weights.")] = None,
    adaptive: Annotated[Optional[bool], typer.Option("--adaptive/--no-adaptive", help="Language model: adaptive softmax [default: for 8,000+ tokens].")] = None,
    bidirectional: Annotated[Optional[bool], typer.Option("--bidirectional/--unidirectional", help="Classifier: read the text both ways [default: bidirectional].")] = None,
    pool: Annotated[Optional[Literal["last", "mean", "max"]], typer.Option(help="Classifier: final hidden state (last) or mean/max over time [default: max].")] = None,
    class_weights: Annotated[Optional[Literal["auto", "none"]], typer.Option(help="Classifier: weight the loss by inverse label frequency (auto).")] = None,
    text_column: Annotated[str, typer.Option(help="Classifier, CSV data: the text column (name or 0-based index).")] = "text",
    label_column: Annotated[str, typer.Option(help="Classifier, CSV data: the label column (name or 0-based index).")] = "label",
    batch_size: Annotated[Optional[int], typer.Option(min=1, max=1_000_000, help="Batch size.")] = None,
    bptt: Annotated[Optional[int], typer.Option(min=1, max=100_000, help="Language model: steps of truncated backpropagation through time.")] = None,
    lr: Annotated[Optional[float], typer.Option(min=0.0, help="Peak learning rate (AdamW, warm-up then cosine decay).")] = None,
    weight_decay: Annotated[Optional[float], typer.Option(min=0.0, help="AdamW weight decay.")] = None,
    clip: Annotated[Optional[float], typer.Option(min=0.0, help="Gradient-norm clipping threshold; 0 turns it off [default: 1.0].")] = None,
    epochs: Annotated[Optional[int], typer.Option(min=1, help=(
        "Passes over the data (default: 2 for word and subword language models, which overfit "
        "beyond; characters: as --time-budget allows)."))] = None,
    max_steps: Annotated[Optional[int], typer.Option(min=1, help="Stop after this many steps.")] = None,
    time_budget: Annotated[Optional[float], typer.Option(min=0.001, help="Seconds for the whole command: train, evaluate and save within it.")] = None,
    eval_every: Annotated[Optional[int], typer.Option(min=1, help="Evaluate every N steps [default: about 10 times per run].")] = None,
    save_every: Annotated[Optional[str], typer.Option(help="Checkpoint every N steps, or every Ns seconds (e.g. 500 or 120s) [default: 300s].")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Random seed [default: 0].")] = None,
    on_nan: Annotated[Optional[Literal["stop", "skip"]], typer.Option(help="On a non-finite loss: stop (keeping the last good checkpoint) or skip the batch.")] = None,
    device: Annotated[Device, typer.Option(help="Where to train.")] = "auto",
    precision: Annotated[Optional[Literal["auto", "fp32", "bf16"]], typer.Option(help="bf16 autocast where the hardware is fast at it [default: auto].")] = None,
    threads: Annotated[Optional[int], THREADS_OPT] = None,
    encoding: Annotated[str, ENCODING_OPT] = "utf-8",
    errors: Annotated[Errors, ERRORS_OPT] = "strict",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace a run already in --output.")] = False,
) -> None:
    """Train a language model (rnn, lstm, gru) or a classifier on a corpus."""
    started = time.time()
    from rnncli.errors import ConfigError
    from rnncli.runs import TrainRequest

    if not output:
        raise ConfigError("missing option --output / -o (the run directory)")
    every_s, every_steps = _save_every(save_every)
    request = TrainRequest(
        corpus=list(corpus or []), output=output, task=task, valid=valid, vocab=vocab, resume=resume,
        level=level, split=split, lowercase=lowercase, min_freq=min_freq, max_size=max_size,
        vocab_size=vocab_size, kind=model, embed=embed, hidden=hidden, layers=layers, dropout=dropout,
        tie_weights=tie_weights, adaptive=adaptive, bidirectional=bidirectional, pool=pool,
        class_weights=class_weights, text_column=text_column, label_column=label_column, batch_size=batch_size, bptt=bptt, lr=lr,
        weight_decay=weight_decay, clip=clip, epochs=epochs, max_steps=max_steps, time_budget=time_budget,
        eval_every=eval_every, save_every=every_s, save_every_steps=every_steps, seed=seed, on_nan=on_nan,
        device=device, precision=precision, threads=threads, encoding=encoding, errors=errors)
    run_training(request, quiet, force, started)


def run_training(request, quiet: bool = False, force: bool = False, started: float | None = None) -> None:  # type: ignore[no-untyped-def]
    """Train as ``rnncli train`` does: guard the run directory, hold its lock, report progress."""
    from rnncli.checkpoint import CONFIG, RunDir
    from rnncli.errors import ConfigError

    from rnncli.distributed import init_from_environment, shutdown

    started = started or time.time()
    output = request.output
    dist = init_from_environment("cuda" if request.device in ("auto", "cuda") and _cuda() else "cpu")
    clean = False
    try:
        if not dist.is_main:  # rank 0 checks, locks and reports; the others follow it
            _train_locked(request, lambda message: None, output, True, started)
            clean = True
            return
        say = (lambda message: None) if quiet else info
        run_dir = RunDir(output)
        if not request.resume and run_dir.file(CONFIG).exists() and not force:
            raise ConfigError(f"{output} already holds a run: --resume to continue it, --force to replace it")
        created = not run_dir.path.exists()
        run_dir.create()
        try:
            with run_dir.lock():
                _train_locked(request, say, output, quiet, started)
            clean = True
        except BaseException:
            if created:
                _remove_unstarted(run_dir.path)
            raise
    finally:
        shutdown(clean)


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _train_locked(request, say, output: str, quiet: bool, started: float) -> None:  # type: ignore[no-untyped-def]
    from rnncli.cli.progress import ProgressPrinter
    from rnncli.runs import describe_classifier, describe_lm, prepare
    from rnncli.training import StopRequested

    printer = ProgressPrinter(quiet=quiet)
    prepared = prepare(request, say, printer, started)
    is_lm = prepared.config.task == "lm"
    printer.unit = "tok" if is_lm else "ex"
    say(describe_lm(prepared.info) if is_lm else describe_classifier(prepared.info))
    trainer = prepared.trainer
    try:
        with _graceful_stop(trainer, say):
            final = trainer.run()
    except StopRequested as stop:
        printer.close()
        info(f"stopped at step {stop.step}: the run is saved in {output}; "
             f"continue it with: rnncli train -o {output} --resume")
        raise typer.Exit(128 + stop.signum) from None
    finally:
        printer.close()
    if is_lm:
        result = (f"val_loss {_fmt(final.get('val_loss'))}, val_ppl {_fmt(final.get('val_ppl'), '.2f')}, "
                  f"val_bpc {_fmt(final.get('val_bpc'))}")
    else:
        best = max(trainer.metrics, key=trainer.task.score)  # the record best.safetensors was saved at
        result = (f"best macro_f1 {_fmt(best.get('macro_f1'))} (accuracy {_fmt(best.get('accuracy'))}) "
                  f"at step {best['step']}")
    say(f"done: step {final.get('step')}, {result} in {time.time() - started:.0f}s; run saved in {output}")


def _fmt(value, spec: str = ".4f") -> str:  # type: ignore[no-untyped-def]
    return "n/a" if value is None else format(value, spec)


def _remove_unstarted(path) -> None:  # type: ignore[no-untyped-def]
    """Undo the creation of a run directory by a run that failed before its first checkpoint."""
    import shutil

    from rnncli.checkpoint import LAST

    if not (path / LAST).exists():
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def _graceful_stop(trainer, say):  # type: ignore[no-untyped-def]
    """First SIGINT/SIGTERM: finish the step, save, stop. A second SIGINT stops at once (files are
    written atomically, so nothing is left half-written)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):  # type: ignore[no-untyped-def]
        if trainer.stop_signal is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        trainer.stop_signal = signum
        say("stopping after this step and saving (Ctrl-C again to stop at once) ...")

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _save_every(value: str | None) -> tuple[float | None, int | None]:
    from rnncli.errors import ConfigError

    if value is None:
        return None, None
    text = value.strip().lower()
    try:
        if text.endswith("s"):
            seconds = float(text[:-1])
            if seconds > 0:
                return seconds, None
        else:
            steps = int(text)
            if steps > 0:
                return None, steps
    except ValueError:
        pass
    raise ConfigError(f"--save-every must be a number of steps or seconds like 120s, not {value!r}")
