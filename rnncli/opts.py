"""How a command's option is declared once: a dataclass field whose metadata is an :class:`Opt`.

The command line, ``--help``, the Python API and (for ``train``) the saved run all derive from
these fields: :mod:`rnncli.args` declares ``train``'s, each area of the core the options of its
commands (``rnncli/text/options.py``, ``rnncli/infer/options.py``, a task's ``options.py``), and
:mod:`rnncli.cli.declare` turns any such dataclass into a command's signature. No typer here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Iterator


@dataclass(frozen=True)
class Opt:
    """How one option is offered and governed.

    ``tasks`` and ``levels`` name where it applies (empty: everywhere); given elsewhere it is
    refused. ``fixed`` options shape the model or its data and cannot change on ``--resume``.
    ``record`` options are saved with the run and restored on ``--resume``; the others (the output
    directory, ``--force``) belong to one invocation. ``complete`` names what the shell completes
    the value with: ``run`` directories or ``vocab`` files.
    """

    help: str
    flags: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    tasks: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    fixed: bool = False
    record: bool = True
    panel: str = "Training"
    argument: bool = False
    complete: str = ""
    required: bool = False


def option(default: Any = None, **opt: Any) -> Any:
    """A dataclass field that is an option (of ``rnncli train`` unless ``panel`` says otherwise)."""
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={"opt": Opt(**opt)})
    return field(default=default, metadata={"opt": Opt(**opt)})


def options(cls: type) -> Iterator[dataclasses.Field]:  # type: ignore[type-arg]
    """The option fields of an arguments class: its own in declaration order, then those it
    inherits (options shared by many commands come after each command's own)."""
    own = cls.__dict__.get("__annotations__", {})
    fields = [f for f in dataclasses.fields(cls) if "opt" in f.metadata]
    return iter([f for f in fields if f.name in own] + [f for f in fields if f.name not in own])


def option_names(cls: type) -> list[str]:
    return [f.name for f in options(cls)]


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def command_option(default: Any = None, **opt: Any) -> Any:
    """An option of a command other than ``train``: listed with the command's own options."""
    return option(default, panel="", **opt)


def encoding_option() -> Any:
    return command_option("utf-8", help="Text encoding of the input.")


def errors_option() -> Any:
    return command_option("strict", choices=("strict", "replace"), help="On undecodable bytes: stop (strict) or use U+FFFD.")


def threads_option() -> Any:
    return command_option(None, min=1, max=4096, help="CPU threads.")


def values(args: Any) -> dict[str, Any]:
    """A command's arguments by name."""
    return {f.name: getattr(args, f.name) for f in options(type(args))}
