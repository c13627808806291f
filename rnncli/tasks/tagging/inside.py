"""What ``rnncli inspect`` shows of a tagger (:mod:`rnncli.inside.report`): each token's tag and
how sure the tagger is of it, with the other likely tags."""

from __future__ import annotations

from typing import Any

from rnncli.inside.report import Inspection, InspectOptions, Say, Source, engine_inspection


def read(source: Source, text: str, options: InspectOptions, title: str, shape: str, say: Say) -> Inspection:
    from rnncli.infer.batching import INFERENCE_BATCH

    engine, found, lines = engine_inspection(source, "tag", text, options, title, shape)
    sentences = [line.split() for line in lines]
    found.tagged = [[(token, tag, p, top) for token, (tag, p, top) in zip(words, tags)]
                    for words, tags in zip(sentences, engine.tag(sentences, INFERENCE_BATCH, top=options.top))]
    return found


def html(found: Inspection) -> str:
    from rnncli.inside.page import tagger_page

    return tagger_page(found.tagged, found.title, found.meta, found.notice)


def rows(found: Inspection) -> list[dict[str, Any]]:
    """One JSON object per sentence."""
    return [{"tokens": [w for w, _, _, _ in s], "tags": [g for _, g, _, _ in s],
             "probs": [round(p, 6) for _, _, p, _ in s]} for s in found.tagged]


def png(found: Inspection, path: str) -> None:
    """Each token with its tag, warmer where the tagger is less sure."""
    from rnncli.inside.picture import coloured_text, heat

    lines = [[(f"{w}/{g} ", heat(1 - p)) for w, g, p, _ in s] for s in found.tagged]
    coloured_text(lines, path, f"{found.title}: tags, warmer where the tagger is less sure")
