"""What ``rnncli inspect`` shows of a classifier (:mod:`rnncli.inside.report`): each token
coloured by its effect on the predicted label (occlusion: the change in that label's probability
when the token is taken out), and the tokens that raise each label most over all the texts."""

from __future__ import annotations

from typing import Any

import numpy as np

from rnncli.inside.report import Inspection, InspectOptions, Say, Source, engine_inspection


def read(source: Source, text: str, options: InspectOptions, title: str, shape: str, say: Say) -> Inspection:
    from rnncli.inside.evidence import occlusion

    engine, found, lines = engine_inspection(source, "classify", text, options, title, shape)
    found.labels = list(engine.labels)
    found.evidence = occlusion(engine, _unlabelled(lines, found.labels))
    found.meta += "; evidence by occlusion (each token taken out in turn)"
    return found


def _unlabelled(lines: list[str], labels: list[str]) -> list[str]:
    """Texts from lines, without a leading ``label<TAB>`` where every line has one of the run's
    labels there (a labelled test file read as it is)."""
    known = set(labels)
    if lines and all("\t" in line and line.split("\t", 1)[0] in known for line in lines):
        return [line.split("\t", 1)[1] for line in lines]
    return lines


def html(found: Inspection) -> str:
    from rnncli.inside.evidence import strongest_tokens
    from rnncli.inside.page import classifier_page

    least = 5 if len(found.evidence) >= 50 else 1  # a few texts: every token they hold
    strongest = {label: strongest_tokens(found.evidence, k, 10, least) for k, label in enumerate(found.labels)}
    return classifier_page(found.evidence, found.labels, found.title, found.meta, found.notice, strongest)


def rows(found: Inspection) -> list[dict[str, Any]]:
    """One JSON object per text."""
    return [e.to_json(found.labels) for e in found.evidence]


def png(found: Inspection, path: str) -> None:
    """Each text's tokens coloured by their effect on its predicted label."""
    from rnncli.inside.picture import coloured_text, signed

    top = max([float(np.max(np.abs(e.effects))) for e in found.evidence if e.effects.size] + [1e-6])
    lines = [[(f"{found.labels[int(np.argmax(e.probs))]}: ", (0, 0, 0, 0))]
             + [(p + " ", signed(v / top)) for p, v in zip(e.pieces, e.effects[:, int(np.argmax(e.probs))])]
             for e in found.evidence]
    coloured_text(lines, path, f"{found.title}: each token's effect on the predicted label (occlusion)")
