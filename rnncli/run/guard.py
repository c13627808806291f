"""What guards a training process: its run directory (a new one, never a run replaced by accident,
held by one process, removed again when the run fails before its first checkpoint), standard input
read once into a file, and the signals that stop it cleanly. No torch."""

from __future__ import annotations

import contextlib
import shutil
import signal
import threading
from pathlib import Path
from typing import Any, Callable, Iterator

from rnncli.args import TrainArgs, reapplied
from rnncli.errors import ConfigError, InputError, StopRequested
from rnncli.run.directory import RunDir, fresh_run_dir
from rnncli.run.files import CONFIG, LAST
from rnncli.text.reader import STDIN

Report = Callable[[str], None]
RUNS_ROOT = "runs"


@contextlib.contextmanager
def run_directory(args: TrainArgs, name: Callable[[], str], report: Report) -> Iterator[tuple[TrainArgs, RunDir]]:
    """The run directory of ``args``, created and locked for the run (without ``--output``, a new one
    under ``runs/`` called ``name()``); an existing run is refused unless resumed or forced. A
    directory created here is removed again if the run fails before its first checkpoint."""
    created = not args.output
    if created:
        if args.resume:
            raise ConfigError("--resume needs --output / -o: the run to continue")
        args = args.with_values(output=str(fresh_run_dir(RUNS_ROOT, name())))
        report(f"run directory: {args.output}")
    run = RunDir(args.output)
    if not args.resume and run.file(CONFIG).exists() and not args.force:
        raise ConfigError(f"{args.output} already holds a run: --resume to continue it, --force to replace it")
    created = created or not run.path.exists()
    run.create()
    try:
        with run.lock():
            yield args, run
    except StopRequested as stop:
        stop.path = args.output
        raise
    except BaseException:
        if created and not run.file(LAST).exists():
            shutil.rmtree(run.path, ignore_errors=True)
        raise


@contextlib.contextmanager
def stdin_file(args: TrainArgs) -> Iterator[str | None]:
    """Standard input read once into a file beside the token cache, when the corpus is ``-``."""
    if STDIN not in args.corpus:
        yield None
        return
    import sys

    from rnncli.fileio import spooled_stdin
    from rnncli.tokencache import cache_dir

    if sys.stdin is None or sys.stdin.isatty():
        raise ConfigError("the corpus is - (stdin), but stdin is a terminal: pipe the text in or name a file")
    with spooled_stdin(cache_dir()) as path:
        yield str(path)


def sources(corpus: list[str], stdin_copy: str | None) -> list[str]:
    """The files to read: ``-`` stands for the copy of stdin."""
    if STDIN in corpus and stdin_copy is None:
        raise ConfigError("the corpus is - (stdin): pipe it in again, or name the corpus files")
    return [stdin_copy if p == STDIN and stdin_copy else p for p in corpus]


def from_config(args: TrainArgs) -> TrainArgs:
    """--config: the options another run was given, with those given now on top."""
    if args.resume:
        raise ConfigError("--config starts a new run and --resume continues one: give one of them")
    source = Path(args.config or "")
    run = RunDir(source if source.is_dir() else source.parent)
    if not source.exists():
        raise InputError(f"--config {source}: no such run directory or file")
    if source.is_file() and source.name != CONFIG:
        raise ConfigError(f"--config {source}: give a run directory or its {CONFIG}")
    run.require(CONFIG)
    return reapplied(run.load_config(type(args)).plan.args, args, str(run.file(CONFIG)))


@contextlib.contextmanager
def graceful_stop(trainer: Any, report: Report) -> Iterator[None]:
    """First SIGINT/SIGTERM: finish the step, save, stop. A second SIGINT stops at once (files are
    written atomically, so nothing is left half-written)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        if trainer.stop_signal is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        trainer.stop_signal = signum
        report("stopping after this step and saving (Ctrl-C again to stop at once) ...")

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
