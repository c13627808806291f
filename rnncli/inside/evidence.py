"""The evidence for a classifier's prediction, by occlusion: each token's effect is the change in
a label's probability when that token is taken out of the text (Zeiler and Fergus 2014; Li, Monroe
and Jurafsky 2016, "Understanding neural networks through representation erasure"). It reads the
model as a black box, so the torch engine and the ONNX export give the same evidence, and it is
the same method for the LSTM, the bag of words and the convolutional network. No torch.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from rnncli.corpus import featurize
from rnncli.infer.batching import predict
from rnncli.inside.tokens import surfaces


@dataclass
class Evidence:
    """One text: its tokens as they read, the label probabilities of the whole text, and each
    token's effect on each label, p(label | text) - p(label | text without the token)."""

    text: str
    pieces: list[str]
    probs: np.ndarray  # (labels,)
    effects: np.ndarray  # (tokens, labels)

    def to_json(self, labels: Sequence[str]) -> dict[str, Any]:
        best = int(np.argmax(self.probs))
        return {"text": self.text, "label": labels[best], "prob": round(float(self.probs[best]), 6),
                "probs": {label: round(float(p), 6) for label, p in zip(labels, self.probs)},
                "tokens": self.pieces,
                "effects": {label: [round(float(e), 6) for e in self.effects[:, k]] for k, label in enumerate(labels)}}


def occlusion(engine: Any, texts: Sequence[str]) -> list[Evidence]:
    """The evidence of every text (one call of the engine for all texts and their variants)."""
    sequences = featurize(engine.vocab, texts, engine.max_len)
    variants = []
    for ids in sequences:
        variants.append(ids)
        variants.extend(ids[:k] + ids[k + 1:] for k in range(len(ids)))
    probs = predict(engine, variants)
    found, row = [], 0
    for text, ids in zip(texts, sequences):
        whole, without = probs[row], probs[row + 1: row + 1 + len(ids)]
        row += 1 + len(ids)
        pieces = [p.strip() or p for p in surfaces(engine.vocab, text, ids)]
        found.append(Evidence(text, pieces, whole, (whole[None, :] - without).reshape(len(ids), len(whole))))
    return found


def strongest_tokens(evidence: Sequence[Evidence], label: int, count: int = 20,
                     least: int = 5) -> list[tuple[str, float, int]]:
    """Over many texts, the tokens whose removal lowers ``label``'s probability most on average,
    with that mean effect and how often they were seen; only tokens seen at least ``least`` times
    (one message's chance word would otherwise lead the list)."""
    effects: dict[str, list[float]] = defaultdict(list)
    for text in evidence:
        for piece, effect in zip(text.pieces, text.effects[:, label]):
            effects[piece.lower()].append(float(effect))
    ranked = [(piece, float(np.mean(values)), len(values)) for piece, values in effects.items() if len(values) >= least]
    return sorted(ranked, key=lambda row: -row[1])[:count]
