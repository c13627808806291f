"""What ``rnncli inspect`` shows of a translation model (:mod:`rnncli.inside.report`): the attention
alignment of each source line with its translation."""

from __future__ import annotations

from typing import Any

import numpy as np

from rnncli.errors import InputError
from rnncli.inside.report import Inspection, InspectOptions, Say, Source, engine_inspection


def read(source: Source, text: str, options: InspectOptions, title: str, shape: str, say: Say) -> Inspection:
    engine, found, lines = engine_inspection(source, "seq2seq", text, options, title, shape)
    for t in engine.translate(lines, attention=True):
        if t.attention is not None:
            found.alignments.append((engine.vocab.pieces(t.source_ids), engine.target_vocab.pieces(t.ids) + ["<eos>"],
                                     t.attention))
    return found


def html(found: Inspection) -> str:
    from rnncli.inside.page import alignment_page

    return alignment_page(found.alignments, found.title, found.meta, found.notice)


def rows(found: Inspection) -> list[dict[str, Any]]:
    """One JSON object per translated line."""
    return [{"source_tokens": s, "target_tokens": t, "attention": np.round(a, 5).tolist()}
            for s, t, a in found.alignments]


def png(found: Inspection, path: str) -> None:
    """The first alignment."""
    from rnncli.plots import plot_alignment

    if not found.alignments:
        raise InputError("no translation to draw")
    source, target, weights = found.alignments[0]
    plot_alignment(source, target, weights, path)
