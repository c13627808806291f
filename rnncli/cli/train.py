"""train: language models and classifiers. The options are declared once, in rnncli.args."""

from __future__ import annotations

import inspect
import time
from typing import Annotated, Any

import typer

from rnncli.args import TrainArgs, option_names
from rnncli.cli.app import TRAIN, command
from rnncli.cli.common import info
from rnncli.cli.declare import command_signature, given_names

QUIET = inspect.Parameter("quiet", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Annotated[
    bool, typer.Option("--quiet", "-q", help="No progress output.", rich_help_panel="Input and output")])


def make_train_command(args_class: type = TrainArgs) -> Any:
    """The ``train`` command for an arguments class (its fields are the options)."""
    names = option_names(args_class)

    def train(ctx: typer.Context, **values: Any) -> None:
        """Train a language model (rnn, lstm, gru, or an n-gram baseline) or a classifier on a corpus."""
        quiet = values.pop("quiet")
        given = given_names(ctx, names)
        values["corpus"] = list(values["corpus"] or [])
        args = args_class(**values, given=given)
        run_training(args, quiet, time.time())

    context = inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)
    train.__signature__ = inspect.Signature([context, *command_signature(args_class), QUIET])  # type: ignore[attr-defined]
    return train


def run_training(args: TrainArgs, quiet: bool = False, started: float | None = None) -> None:
    """Train with progress on stderr; a signal stops the run after a save, with the way to resume."""
    from rnncli.cli.progress import ProgressPrinter
    from rnncli.execute import train as execute
    from rnncli.errors import StopRequested
    from rnncli.training import EventReporter

    printer = ProgressPrinter(quiet=quiet)
    say = (lambda message: None) if quiet else info
    started = started or time.time()
    try:
        result = execute(args, say, [EventReporter(printer)], started)
    except StopRequested as stop:
        printer.close()
        info(f"stopped at step {stop.step}: the run is saved in {stop.path}; "
             f"continue it with: rnncli train -o {stop.path} --resume")
        _print_run_dir(args, stop.path)
        raise typer.Exit(128 + stop.signum) from None
    finally:
        printer.close()
    from rnncli.plan import planning

    final = result.final
    outcome = planning(result.plan.task).outcome(final, result.best or {})
    say(f"done: step {final.get('step')}, {outcome} in {time.time() - started:.0f}s; run saved in {result.path}")
    _print_run_dir(args, result.path)


def _print_run_dir(args: TrainArgs, path: str) -> None:
    if args.print_run_dir:
        print(path, flush=True)


command("train", TRAIN)(make_train_command())
