"""inspect: see inside a trained run, as a page a person looks at, a picture or numbers."""

from __future__ import annotations

import json
from pathlib import Path

from rnncli.cli.app import INSPECT, command
from rnncli.cli.common import info, note_stdin, open_output
from rnncli.cli.declare import declared
from rnncli.inside.options import InspectArgs


def _inspect(args: InspectArgs) -> None:
    """What a run does with a text: a language model's units and next-token guesses (--find the
    units that follow a feature), a classifier's evidence, a tagger's confidence, a translation's
    attention; one self-contained HTML page (or --format png / jsonl)."""
    from rnncli.errors import ConfigError
    from rnncli.inside.opening import inspect_run
    from rnncli.inside.report import InspectOptions, html_of, png_of, rows_of
    from rnncli.text.reader import LineReader

    fmt = args.format or {".png": "png", ".jsonl": "jsonl"}.get(Path(args.output or "").suffix.lower(), "html")
    if fmt == "png" and args.output is None:
        raise ConfigError("--format png needs --output FILE (a picture is not written to the terminal)")
    reader = LineReader(args.file, args.encoding, args.errors)
    note_stdin(args.file)
    lines = list(reader)
    text = "\n".join(lines) + ("\n" if lines and reader.final_newline else "")
    options = InspectOptions(tuple(args.find or ()), tuple(args.unit or ()), args.max_chars, args.top)
    found = inspect_run(args.run, text, options, info, args.device, args.threads)
    if found.notice:
        info(found.notice)
    if fmt == "png":
        png_of(found, args.output)  # type: ignore[arg-type]
    else:
        body = html_of(found) if fmt == "html" else "".join(
            json.dumps(row, ensure_ascii=False) + "\n" for row in rows_of(found))
        with open_output(args.output) as out:
            out.write(body)
    if args.output is not None:
        info(f"{fmt} written to {args.output}")


inspect = command("inspect", INSPECT)(declared(InspectArgs, _inspect))
