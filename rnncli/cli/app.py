"""The Typer application and the one place where errors become one-line messages."""

from __future__ import annotations

import os
import sys
from typing import Any

import typer
from typer.core import TyperGroup

from rnncli.errors import RnncliError


def debug() -> bool:
    return os.environ.get("RNNCLI_DEBUG", "") not in ("", "0")


def silence_stdout() -> None:
    """After the reader of stdout went away: drop further output so exit is quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


class RnncliGroup(TyperGroup):
    """Runs a command and turns user errors into ``error: ...`` on stderr, exit 1 (usage 2)."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except RnncliError as exc:
            if debug():
                raise
            print(f"error: {exc}", file=sys.stderr, flush=True)
            raise typer.Exit(exc.exit_code) from None
        except BrokenPipeError:
            silence_stdout()
            raise typer.Exit(0) from None
        except typer.Exit:
            raise
        except KeyboardInterrupt:
            if debug():
                raise
            print("error: interrupted", file=sys.stderr, flush=True)
            raise typer.Exit(130) from None
        except MemoryError:
            if debug():
                raise
            print("error: out of memory", file=sys.stderr, flush=True)
            raise typer.Exit(1) from None
        except OSError as exc:
            # Disk full, permissions, a vanished file: the user's environment, not a bug.
            if debug() or exc.strerror is None:
                raise
            where = f"{exc.filename}: " if exc.filename else ""
            print(f"error: {where}{exc.strerror.lower()}", file=sys.stderr, flush=True)
            raise typer.Exit(1) from None
        except Exception as exc:  # usage errors from a subcommand's own parsing
            usage_error = _as_usage_error(exc)
            if usage_error is None or debug():
                raise
            ctx_used = getattr(usage_error, "ctx", None)
            if ctx_used is not None:
                print(ctx_used.get_usage(), file=sys.stderr)
                print(f"Try '{ctx_used.command_path} --help' for help.", file=sys.stderr)
            print(f"error: {usage_error.format_message()}", file=sys.stderr, flush=True)
            raise typer.Exit(usage_error.exit_code) from None


def _as_usage_error(exc: Exception) -> Any:
    """Typer's own usage errors: ``typer.TyperException`` where Typer vendors click (0.22 and
    later), click's ``ClickException`` before."""
    base = getattr(typer, "TyperException", None)
    if base is None:
        import click

        base = click.ClickException
    return exc if isinstance(exc, base) else None


app = typer.Typer(
    name="rnncli",
    cls=RnncliGroup,
    help="Sequence learning with recurrent networks (RNN, LSTM, GRU), from the command line.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


# The panels of ``rnncli --help``, in the order of the work; each command names its own.
START, TEXT, TRAIN, USE, INSPECT, DEPLOY = "Start", "Text", "Train", "Use a trained run", "Inspect", "Deploy"


def command(name: str, panel: str = USE) -> Any:
    """Register a command under ``name`` in its ``--help`` panel, with its examples at the end of
    its own ``--help``."""
    from rnncli.cli.examples import epilog

    return app.command(name, epilog=epilog(name), rich_help_panel=panel)


def register_commands() -> None:
    """Import every command module, in the order ``rnncli --help`` lists them: the house's, with
    each task's own commands (``rnncli/tasks/<task>/commands.py``, found through the registry)
    among those that use a trained run."""
    import importlib

    from rnncli.tasks import tasks

    for name in ("demo", "data", "vocab", "train"):
        importlib.import_module(f"rnncli.cli.{name}")
    for spec in tasks().values():
        spec.part("commands")
    for name in ("evaluate", "vectors", "info", "lecture", "inspect", "export", "serve"):
        importlib.import_module(f"rnncli.cli.{name}")
