"""The options of ``rnncli inspect``, declared once (:mod:`rnncli.opts`); no numpy, so ``--help``
and the other commands start fast."""

from __future__ import annotations

from dataclasses import dataclass

from rnncli.infer.options import device_option, run_option
from rnncli.opts import command_option, encoding_option, errors_option, threads_option
from rnncli.text.reader import STDIN


FORMATS = ("html", "png", "jsonl")
MAX_CHARS = 10_000  # characters read by default: a page of 10,000 stays under 5 MB and renders in seconds


@dataclass(frozen=True)
class InspectArgs:
    run: str = run_option()
    file: str = command_option(STDIN, argument=True, help="The text to read ('-' for stdin); other tasks: one text "
                                                          "(classifier), sentence (tagger) or source (translation) "
                                                          "per line.")
    output: str | None = command_option(None, flags=("--output", "-o"), help=(
        "File to write [default: stdout; png needs a file]."))
    format: str | None = command_option(None, flags=("--format", "-f"), choices=FORMATS, help=(
        "html (one self-contained page), png (the coloured text as a picture) or jsonl (the numbers) "
        "[default: from the --output suffix, else html]."))
    find: list[str] | None = command_option(None, help=(
        "Language models: rank every unit by its correlation with a feature of the text: quotes (inside double "
        "quotes), line-position, brackets (depth), or a file of one 0/1 per character; repeatable."))
    unit: list[str] | None = command_option(None, help=(
        "Language models: a unit the page carries besides the found ones, as h2:17 (layer 2's hidden state) or "
        "c1:5 (layer 1's LSTM cell); repeatable."))
    top: int = command_option(5, min=1, max=50, help="Next-token guesses per position (tags per token).")
    max_chars: int = command_option(MAX_CHARS, min=1, max=10_000_000, help=(
        "Read at most this many characters; a longer input is cut (and the page says so)."))
    device: str = device_option()
    threads: int | None = threads_option()
    encoding: str = encoding_option()
    errors: str = errors_option()
