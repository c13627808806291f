"""Typer parameters derived from the core's option declarations (:mod:`rnncli.args`).

A command whose options are a dataclass of :class:`~rnncli.args.Opt` fields gets its signature
from :func:`command_signature`; :func:`given_names` reads back which of them the user typed.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from typing import Annotated, Any, Callable, Literal, Optional

import typer

from rnncli.opts import Opt, flag, options
from rnncli.cli.complete import COMPLETERS


def _annotation(hint: Any, opt: Opt) -> Any:
    """The field's type as Typer reads it: choices become a Literal, a list argument is optional."""
    optional = type(None) in typing.get_args(hint)
    base = next((a for a in typing.get_args(hint) if a is not type(None)), hint) if optional else hint
    if opt.choices:
        base = Literal[opt.choices]  # type: ignore[valid-type]
    return Optional[base] if optional or opt.argument else base


def _parameter_info(name: str, hint: Any, opt: Opt, default: Any) -> Any:
    text = opt.help.replace("[", "\\[")  # help is plain text; rich would read [default: ...] as markup
    completion = {"autocompletion": COMPLETERS[opt.complete]} if opt.complete else {}
    if opt.argument:
        return typer.Argument(help=text, show_default=default not in (None, ...), **completion)
    bounds = {k: v for k, v in (("min", opt.min), ("max", opt.max)) if v is not None and hint is not str}
    return typer.Option(*(opt.flags or (flag(name),)), help=text, rich_help_panel=opt.panel or None, **bounds,
                        **completion)


def command_signature(args_class: type) -> list[inspect.Parameter]:
    """One keyword parameter per option field, in declaration order."""
    hints = typing.get_type_hints(args_class)
    parameters = []
    for f in options(args_class):
        opt: Opt = f.metadata["opt"]
        default = ... if opt.required else f.default if f.default is not dataclasses.MISSING else None
        annotation = Annotated[_annotation(hints[f.name], opt), _parameter_info(f.name, hints[f.name], opt, default)]
        parameters.append(inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=default,
                                            annotation=annotation))
    return parameters


def given_names(ctx: typer.Context, names: typing.Iterable[str]) -> frozenset[str]:
    """The options the user gave on the command line (or through the environment), by their source."""
    given = set()
    for name in names:
        source = ctx.get_parameter_source(name)
        if source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP"):
            given.add(name)
    return frozenset(given)


def declared(args_class: type, body: Callable[[Any], None]) -> Callable[..., None]:
    """A command whose options are the fields of ``args_class``: Typer reads its signature from the
    declarations, and ``body`` receives one ``args_class`` instance (its docstring is the help)."""

    def command(**values: Any) -> None:
        body(args_class(**{k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}))

    command.__signature__ = inspect.Signature(command_signature(args_class))  # type: ignore[attr-defined]
    command.__doc__, command.__name__ = body.__doc__, body.__name__.lstrip("_")
    return command
