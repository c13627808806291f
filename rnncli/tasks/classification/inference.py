"""What a classifier engine is used for: labelling texts (``classify``) and the figures users judge
it by on held-out data (``evaluate``), whichever engine computes the probabilities. No torch."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from rnncli.infer.batching import INFERENCE_BATCH, predict
from rnncli.infer.engine import ClassifierEngine
from rnncli.infer.evaluation import EvaluateOptions, Warn


def classify(engine: ClassifierEngine, texts: Sequence[str], top: int | None = None,
             threshold: float | np.ndarray | None = None,
             batch_size: int = INFERENCE_BATCH) -> list[list[tuple[str, float]]]:
    """The ``top`` most likely labels of each text with their probabilities (those at or above
    ``threshold`` only); an empty text gets no label. A multi-label classifier gives every label at
    or above its threshold (the run's, unless ``threshold`` is given; ``top`` caps them)."""
    texts = list(texts)
    return chosen_labels(engine, texts, probabilities(engine, texts, batch_size), top, threshold)


def chosen_labels(engine: ClassifierEngine, texts: Sequence[str], probs: np.ndarray, top: int | None = None,
                  threshold: float | np.ndarray | None = None) -> list[list[tuple[str, float]]]:
    """:func:`classify`'s labels of ``texts`` whose probabilities the engine gave."""
    if engine.multi_label and threshold is None:
        threshold = engine.thresholds()
    return top_labels(texts, probs, engine.labels, top, threshold, engine.multi_label)


def labels_record(chosen: list[tuple[str, float]]) -> dict[str, Any]:
    """One text's labels as a JSON record (``classify --format jsonl``, the server's answer)."""
    return {"label": chosen[0][0] if chosen else None, "labels": [c[0] for c in chosen],
            "probs": [round(c[1], 6) for c in chosen]}


def probabilities(engine: ClassifierEngine, texts: Sequence[str], batch_size: int = INFERENCE_BATCH) -> np.ndarray:
    from rnncli.corpus import featurize

    return predict(engine, featurize(engine.vocab, texts, engine.max_len), batch_size)


def top_labels(texts: Sequence[str], probs: np.ndarray, labels: Sequence[str], top: int | None,
               threshold: float | np.ndarray | None, multi_label: bool = False) -> list[list[tuple[str, float]]]:
    """The ``top`` most likely labels of each text (those at or above ``threshold``, one for all
    labels or one per label); none for an empty text. ``top`` defaults to one label, or to every
    label above the threshold of a multi-label classifier."""
    k = min(top or (len(labels) if multi_label else 1), len(labels))
    best = (-probs).argsort(axis=1, kind="stable")[:, :k]
    cut = np.broadcast_to(np.asarray(-np.inf if threshold is None else threshold, dtype=np.float64), (len(labels),))
    return [[] if not text.strip() else [(labels[j], float(row[j])) for j in order if row[j] >= cut[j]]
            for text, row, order in zip(texts, probs, best)]


def evaluate(engine: ClassifierEngine, path: str, options: EvaluateOptions) -> dict[str, Any]:
    """Accuracy, macro-F1, per-label precision/recall/F1/support and the confusion matrix; labels
    the run never saw count as errors. A multi-label classifier is scored on every label of each
    line (see :func:`_multilabel_report`)."""
    from rnncli.scores import classification_metrics
    from rnncli.text.labelled import read_labelled

    labels, warn, k = list(engine.labels), options.warn, options.k
    labelled = read_labelled(path, text_column=options.text_column, label_column=options.label_column,
                             label_sep=engine.label_sep, encoding=options.encoding, errors=options.errors)
    unseen = sorted({e.label for e in labelled.examples} - set(labels))
    if unseen:
        warn(f"label(s) only in {labelled.source}, never seen in training: {', '.join(unseen[:5])} "
             "(their examples count as errors)")
    if labelled.skipped_empty:
        warn(f"{labelled.skipped_empty:,} lines with an empty text skipped")
    if engine.multi_label:
        return _multilabel_report(engine, labelled, k, warn)
    if labelled.multi_labelled:
        warn(f"{labelled.multi_labelled:,} lines carry several labels; only the first of each is scored "
             "(single-label classifier)")
    all_labels = list(labels) + unseen
    index = {label: k for k, label in enumerate(all_labels)}
    probs = probabilities(engine, [e.text for e in labelled.examples])
    at = {}
    if k is not None:
        from rnncli.scores import at_k

        gold = np.zeros((len(probs), len(labels)), dtype=bool)
        for row, example in enumerate(labelled.examples):
            if example.label in index and index[example.label] < len(labels):
                gold[row, index[example.label]] = True
        at["precision_at_k"], at["recall_at_k"] = at_k(gold, probs, k)
        at["k"] = k
    metrics = classification_metrics([index[e.label] for e in labelled.examples], probs.argmax(axis=1).tolist(),
                                     all_labels)
    return {"accuracy": metrics["accuracy"], "macro_f1": metrics["macro_f1"], "per_label": metrics["per_label"],
            "confusion": metrics["confusion"], "labels": all_labels, "examples": metrics["examples"],
            "source": labelled.source, **at}


def _multilabel_report(engine: ClassifierEngine, labelled: Any, k: int | None, warn: Warn) -> dict[str, Any]:
    """Micro-, macro- and samples-F1, exact match and per-label figures at the run's threshold;
    precision and recall at ``k`` as fastText's ``test`` reports them; labels the run never saw
    count as missed."""
    from rnncli.scores import at_k, multilabel_metrics

    labels, threshold = list(engine.labels), engine.thresholds()
    unseen = sorted({label for e in labelled.examples for label in e.labels} - set(labels))
    if unseen:
        warn(f"label(s) only in {labelled.source}, never seen in training: {', '.join(unseen[:5])} "
             "(counted as missed)")
    all_labels = list(labels) + unseen
    column = {label: j for j, label in enumerate(all_labels)}
    gold = np.zeros((len(labelled.examples), len(all_labels)), dtype=bool)
    for row, example in enumerate(labelled.examples):
        gold[row, [column[label] for label in example.labels]] = True
    probs = probabilities(engine, [e.text for e in labelled.examples])
    probs = np.concatenate([probs, np.zeros((len(probs), len(unseen)), probs.dtype)], axis=1)
    per_label = np.ndim(threshold) > 0
    cut = np.concatenate([threshold, np.full(len(unseen), 0.5)]) if per_label else threshold
    report = multilabel_metrics(gold, probs >= cut, all_labels)
    report.update({"labels": all_labels, "source": labelled.source})
    if per_label:
        report["thresholds"] = {label: float(t) for label, t in zip(labels, threshold)}
    else:
        report["threshold"] = threshold
    if k is not None:
        report["precision_at_k"], report["recall_at_k"] = at_k(gold, probs, k)
        report["k"] = k
    return report


def run_threshold(metrics: list[dict[str, Any]]) -> float | np.ndarray:
    """A multi-label run's decision thresholds, those its best checkpoint was chosen at: one per
    label where validation chose them so, else one for all."""
    from rnncli.scores import best_of, classifier_score

    best = best_of(metrics, classifier_score) or {}
    if isinstance(best.get("thresholds"), list):
        return np.asarray(best["thresholds"], dtype=np.float64)
    return float(best.get("threshold", 0.5))
