"""sample-data: write the project's synthetic corpora (demo text, teaching tasks)."""

from __future__ import annotations

from typing import Annotated, Literal, Optional

import typer

from rnncli.cli.app import START, command
from rnncli.cli.common import open_output
from rnncli.errors import ConfigError

Kind = Literal["english", "topics", "word-order", "long-range", "multi-label"]


@command("sample-data", START)
def sample_data(
    kind: Annotated[Kind, typer.Argument(help="english (text), topics, word-order or long-range (label<TAB>text), multi-label (__label__a __label__b text).")],
    output: Annotated[Optional[str], typer.Option("--output", "-o", help="File to write (atomically); stdout if absent.")] = None,
    lines: Annotated[int, typer.Option(min=1, max=1_000_000_000, help="Number of lines (written as they are made).")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same file.")] = 0,
    distance: Annotated[int, typer.Option(min=1, max=100_000, help="long-range: distractor words between the key and the end.")] = 50,
    length: Annotated[int, typer.Option(min=6, max=100_000, help="word-order: words per line.")] = 12,
) -> None:
    """Generate a synthetic corpus: deterministic, for demos, tests and the lecture's experiments."""
    from rnncli.synthetic import GENERATORS

    generator = GENERATORS[kind]
    extra = {"long-range": {"distance": distance}, "word-order": {"length": length}}.get(kind, {})
    try:
        rows = generator(lines=lines, seed=seed, **extra)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    with open_output(output) as out:
        for row in rows:
            out.write(row + "\n")
