"""``rnncli inspect``: what a trained run does with a text, as a page, a picture or numbers.

What each task shows is its own (``rnncli/tasks/<task>/inside.py``: ``read``, ``html``, ``rows``,
``png``): a language model's units, surprisal and guesses, read by torch (the units are inside the
network); a classifier's evidence, a tagger's confidence, a translation's attention, through
whichever engine serves the run (the ONNX export without torch, when it is current). Here: the
options, what every run is refused for, the preamble of a task read through its engine, and the
dispatch by task.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

import numpy as np

from rnncli.errors import ConfigError, InputError
from rnncli.inside.features import Unit
from rnncli.inside.options import MAX_CHARS

Say = Callable[[str], None]


@dataclass(frozen=True)
class InspectOptions:
    find: tuple[str, ...] = ()  # features to rank the units by (language models)
    units: tuple[str, ...] = ()  # units to carry besides the found ones, as h2:17 or c1:5
    max_chars: int = MAX_CHARS
    top: int = 5  # next-token guesses per position; tags per token

    def check(self) -> "InspectOptions":
        if self.max_chars < 1:
            raise ConfigError("--max-chars must be at least 1")
        if not 1 <= self.top <= 50:
            raise ConfigError("--top must be between 1 and 50")
        for name in self.units:
            parse_unit(name)
        return self


@dataclass
class Inspection:
    """What a run showed, ready for any format."""

    task: str
    title: str
    meta: str
    notice: str = ""
    trace: Any = None  # language model: rnncli.inside.lm.LMTrace
    found: list[tuple[str, Unit, float]] = field(default_factory=list)
    shown: list[Unit] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    evidence: list[Any] = field(default_factory=list)  # classifier: rnncli.inside.evidence.Evidence
    tagged: list[list[tuple[str, str, float, list[tuple[str, float]]]]] = field(default_factory=list)
    alignments: list[tuple[list[str], list[str], np.ndarray]] = field(default_factory=list)


def parse_unit(name: str) -> Unit:
    """``h2:17`` (layer 2's hidden unit 17) or ``c1:5`` (layer 1's LSTM cell 5)."""
    kind, _, index = name.partition(":")
    if len(kind) < 2 or kind[0] not in "hc" or not kind[1:].isdigit() or not index.isdigit() or int(kind[1:]) < 1:
        raise ConfigError(f"--unit takes a unit as h2:17 (hidden state) or c1:5 (LSTM cell), not {name!r}")
    return Unit(kind[0], int(kind[1:]), int(index))


def check_run(config: Any, options: InspectOptions, text: str) -> str:
    """What inspect refuses (an empty text; a counted model; --find on a run that is not a language
    model); the model's shape in words."""
    if not text.strip():
        raise InputError("nothing to inspect: the text is empty")
    from rnncli.tasks import task

    if config.model.kind in task(config.task).counted:
        raise ConfigError(f"a {config.model.kind} run is counted, not a network: there is nothing inside to show")
    if options.find and not getattr(_view(config.task), "FINDS_UNITS", False):
        raise ConfigError("--find ranks a language model's units; this run is a " + config.task + " run")
    m = config.model
    return f"{m.kind}, hidden {m.hidden} x {m.layers}" if m.kind != "cnn" else "cnn, Kim's filters of widths 3, 4, 5"


class Source(Protocol):
    """Where a task's ``read`` gets what it reads, opened on first use: the torch network and its
    vocabulary, or the engine that serves the run (the ONNX export without torch, when current)."""

    def network(self) -> tuple[Any, Any]: ...

    def open_engine(self) -> Any: ...


def inspect(task_name: str, source: Source, text: str, options: InspectOptions, title: str, shape: str,
            say: Say = lambda m: None) -> Inspection:
    """What ``source``, a run of ``task_name``, does with ``text``: its task's ``read``."""
    return _view(task_name).read(source, text, options, title, shape, say)  # type: ignore[no-any-return]


def engine_inspection(source: Source, task_name: str, text: str, options: InspectOptions, title: str,
                      shape: str) -> tuple[Any, Inspection, list[str]]:
    """For a task read through its engine: the engine, the inspection begun (its title, the model
    and the text in words, the notice of a cut), and the lines of ``text`` it covers."""
    lines, cut = _lines(text, options.max_chars)
    engine = source.open_engine()
    notice = (f"the input was cut after {len(lines):,} lines: {cut:,} characters are not shown (--max-chars)"
              if cut else "")
    meta = f"{shape}, {engine.vocab.level} vocabulary of {len(engine.vocab):,}; {len(lines):,} lines"
    return engine, Inspection(task_name, title, meta, notice), lines


def _lines(text: str, max_chars: int) -> tuple[list[str], int]:
    """The non-empty lines of ``text`` up to ``max_chars`` characters, and the characters left out."""
    lines, used = [], 0
    for line in text.splitlines():
        if used + len(line) > max_chars and lines:
            break
        used += len(line) + 1
        if line.strip():
            lines.append(line[:max_chars])
    return lines, max(0, len(text) - used)



# ----- formats ---------------------------------------------------------------------------------

def _view(task_name: str) -> Any:
    """The task's inspect module (rnncli/tasks/<task>/inside.py): read, html, rows, png."""
    import importlib

    from rnncli.tasks import task

    return importlib.import_module(task(task_name).module("inside"))


def html_of(found: Inspection) -> str:
    """The page (the task's, built with rnncli.inside.page)."""
    return _view(found.task).html(found)  # type: ignore[no-any-return]


def rows_of(found: Inspection) -> list[dict[str, Any]]:
    """The numbers, one JSON object per token (language model) or per line (other tasks)."""
    return _view(found.task).rows(found)  # type: ignore[no-any-return]


def png_of(found: Inspection, path: str) -> None:
    """The picture: the page's coloured text (its first lines), or the first alignment."""
    _view(found.task).png(found, path)
