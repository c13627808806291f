"""The figures of a tagger: token accuracy (and on words unseen in training), per-tag precision,
recall and F1, the most confused pairs, and for BIO/BIOES tags entity-level scores counted as
conlleval counts them.

Entities: a chunk starts and ends where conlleval's rules say (its Python port with BIOES, which
seqeval's default mode follows): ``B``/``S`` start one, ``I``/``E`` after ``O`` or after a chunk of
another type start one too, ``E``/``S`` end one; a predicted entity is correct when its type, start
and end all equal a gold entity's. Pure Python; no torch.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, Callable, Iterable, Sequence

CHUNK = re.compile(r"^[BIES]-.+$")
CONFUSED = 10  # pairs of the confusion reported


def is_chunked(tags: Iterable[str]) -> bool:
    """Whether a tag set is BIO/BIOES (every tag ``O`` or ``B-X``, ``I-X``, ``E-X``, ``S-X``), with at
    least one entity tag."""
    found = set(tags)
    return bool(found - {"O"}) and all(t == "O" or CHUNK.match(t) for t in found)


def _split(tag: str) -> tuple[str, str]:
    if tag == "O" or "-" not in tag:
        return "O", ""
    prefix, kind = tag.split("-", 1)
    return prefix, kind


def _ends(prev: str, tag: str, prev_type: str, kind: str) -> bool:
    return (prev in ("E", "S") or (prev in ("B", "I") and tag in ("B", "S", "O"))
            or (prev != "O" and prev_type != kind))


def _starts(prev: str, tag: str, prev_type: str, kind: str) -> bool:
    return (tag in ("B", "S") or (prev in ("E", "S", "O") and tag in ("E", "I"))
            or (tag != "O" and prev_type != kind))


def entity_spans(tags: Sequence[str]) -> set[tuple[str, int, int]]:
    """The entities of one sentence as (type, first token, last token)."""
    spans: set[tuple[str, int, int]] = set()
    prev, prev_type, start = "O", "", -1
    for i, tag in enumerate([*tags, "O"]):
        prefix, kind = _split(tag)
        if start >= 0 and _ends(prev, prefix, prev_type, kind):
            spans.add((prev_type, start, i - 1))
            start = -1
        if _starts(prev, prefix, prev_type, kind) and prefix != "O":
            start = i
        prev, prev_type = prefix, kind
    return spans


def _prf(correct: int, predicted: int, gold: int) -> dict[str, float]:
    precision = correct / predicted if predicted else 0.0
    recall = correct / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def entity_scores(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> dict[str, Any]:
    """Entity precision, recall and F1 over sentences, overall and per type (conlleval's counts)."""
    counts: dict[str, Counter[str]] = {"correct": Counter(), "predicted": Counter(), "gold": Counter()}
    for g, p in zip(gold, predicted):
        gold_spans, predicted_spans = entity_spans(g), entity_spans(p)
        counts["gold"].update(kind for kind, _, _ in gold_spans)
        counts["predicted"].update(kind for kind, _, _ in predicted_spans)
        counts["correct"].update(kind for kind, _, _ in gold_spans & predicted_spans)
    total = {k: sum(c.values()) for k, c in counts.items()}
    kinds = sorted(set(counts["gold"]) | set(counts["predicted"]))
    per_type = {k: {**_prf(counts["correct"][k], counts["predicted"][k], counts["gold"][k]),
                    "support": counts["gold"][k]} for k in kinds}
    return {**_prf(total["correct"], total["predicted"], total["gold"]), "found": total["predicted"],
            "gold": total["gold"], "correct": total["correct"], "per_type": per_type}


def tagging_metrics(tokens: Sequence[Sequence[str]], gold: Sequence[Sequence[str]],
                    predicted: Sequence[Sequence[str]], seen: Callable[[str], bool],
                    known_tags: Iterable[str]) -> dict[str, Any]:
    """Token accuracy, accuracy on words ``seen`` says training never had, per-tag scores, the most
    confused pairs (gold, predicted, count), gold tags the tagger does not know (counted: they can
    never be right), and ``entity`` scores when the gold tags are BIO/BIOES."""
    known = set(known_tags)
    pairs = [(w, g, p) for ws, gs, ps in zip(tokens, gold, predicted) for w, g, p in zip(ws, gs, ps)]
    right = sum(g == p for _, g, p in pairs)
    unseen = [(g, p) for w, g, p in pairs if not seen(w)]
    gold_count = Counter(g for _, g, _ in pairs)
    predicted_count = Counter(p for _, _, p in pairs)
    correct = Counter(g for _, g, p in pairs if g == p)
    per_tag = {t: {**_prf(correct[t], predicted_count[t], gold_count[t]), "support": gold_count[t]}
               for t in sorted(set(gold_count) | set(predicted_count))}
    confused = Counter((g, p) for _, g, p in pairs if g != p).most_common(CONFUSED)
    report: dict[str, Any] = {
        "tokens": len(pairs), "sentences": len(gold), "accuracy": right / len(pairs) if pairs else 0.0,
        "unseen_tokens": len(unseen),
        "unseen_accuracy": sum(g == p for g, p in unseen) / len(unseen) if unseen else None,
        "per_tag": per_tag, "confused": [[g, p, n] for (g, p), n in confused]}
    unknown = {t: n for t, n in sorted(gold_count.items()) if t not in known}
    if unknown:
        report["unknown_tags"] = unknown
    if is_chunked(gold_count):
        report["entity"] = entity_scores(gold, predicted)
    return report
