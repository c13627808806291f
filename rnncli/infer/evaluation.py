"""Evaluating a served run on held-out data: the options ``rnncli evaluate`` takes, and the task's
own figures (``rnncli/tasks/<task>/inference.py``) of whichever engine serves it. No torch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

Warn = Callable[[str], None]


def _quiet(message: str) -> None:
    pass


@dataclass(frozen=True)
class EvaluateOptions:
    """How held-out data is read and scored; each task reads the fields that concern it."""

    encoding: str = "utf-8"
    errors: str = "strict"
    text_column: str = "text"  # classifiers, CSV data
    label_column: str = "label"
    k: int | None = None  # classifiers: precision and recall at k
    cache: str = "auto"  # language models: auto, none, unigram or neural (rnncli.infer.caches)
    warn: Warn = _quiet
    tag_column: str | None = None  # taggers: the tag column of the data
    beam: int | None = None  # translation: beam search of this many beams (None: greedy)


def evaluate(engine: Any, path: str, options: EvaluateOptions = EvaluateOptions()) -> dict[str, Any]:
    """The held-out figures of ``path`` under the engine, as its task computes them."""
    from rnncli.tasks import task

    return task(engine.task).part("evaluate")(engine, path, options)  # type: ignore[no-any-return]
