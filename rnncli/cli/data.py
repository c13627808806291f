"""sample-data: write the project's synthetic corpora (demo text, teaching tasks)."""

from __future__ import annotations

from rnncli.cli.app import START, command
from rnncli.cli.common import open_output
from rnncli.cli.declare import declared
from rnncli.errors import ConfigError
from rnncli.lesson_options import SampleDataArgs


def _sample_data(args: SampleDataArgs) -> None:
    """Generate a synthetic corpus: deterministic, for demos, tests and the lecture's experiments."""
    from rnncli.synthetic import GENERATORS

    generator = GENERATORS[args.kind]
    extra = {"long-range": {"distance": args.distance}, "word-order": {"length": args.length}}.get(args.kind, {})
    try:
        rows = generator(lines=args.lines, seed=args.seed, **extra)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    with open_output(args.output) as out:
        for row in rows:
            out.write(row + "\n")


sample_data = command("sample-data", START)(declared(SampleDataArgs, _sample_data))
