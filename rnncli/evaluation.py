"""Evaluating a trained run on held-out data: the figures ``rnncli evaluate`` prints, whichever
engine computes the model's outputs (torch here, onnxruntime in rnncli.onnxrun). No torch is
imported until a torch model is evaluated."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from rnncli.errors import InputError
from rnncli.text.vocab import Vocab

if TYPE_CHECKING:
    import torch

    from rnncli.checkpoint import LoadedRun
    from rnncli.corpus import TokenText
    from rnncli.unigram_cache import UnigramCache

Warn = Callable[[str], None]


def inference_precision(loaded: "LoadedRun", device: "torch.device") -> str:
    """The precision the run trained in, where the device can run it (bf16 never on mps)."""
    from rnncli.device import resolve_precision

    precision = loaded.config.plan.machine.precision
    if device.type == "mps":
        return "fp32"
    return resolve_precision(precision if precision in ("fp32", "bf16") else "auto", device)


def lm_report(vocab: Vocab, path: str, log_probs: Callable[["TokenText"], np.ndarray], encoding: str = "utf-8",
              errors: str = "strict", cache: "UnigramCache | None" = None) -> dict[str, Any]:
    """Loss in nats per token, perplexity, bits per character, tokens and characters of a text
    (see :func:`rnncli.corpus.stream_figures`); ``log_probs`` gives the network's log P of each
    token after the first, in the text's order."""
    from rnncli.corpus import encode_corpus, stream_figures

    text = encode_corpus([path], vocab, encoding, errors)
    if len(text) < 2:
        raise InputError(f"{path}: too little text to evaluate (fewer than 2 tokens)")
    return stream_figures(text, log_probs(text), cache)


def classifier_report(labels: Sequence[str], vocab: Vocab, max_len: int,
                      predict: Callable[[list[list[int]]], np.ndarray], path: str, encoding: str = "utf-8",
                      errors: str = "strict", text_column: str = "text", label_column: str = "label",
                      warn: Warn = lambda message: None, multi_label: bool = False,
                      threshold: float | np.ndarray = 0.5,
                      k: int | None = None, label_sep: str | None = None) -> dict[str, Any]:
    """Accuracy, macro-F1, per-label precision/recall/F1/support and the confusion matrix; labels
    the run never saw count as errors. ``predict`` gives class probabilities for token ids. A
    multi-label classifier is scored on every label of each line (see :func:`_multilabel_report`)."""
    from rnncli.corpus import featurize
    from rnncli.scores import classification_metrics
    from rnncli.text.labelled import read_labelled

    labelled = read_labelled(path, text_column=text_column, label_column=label_column, label_sep=label_sep,
                             encoding=encoding,
                             errors=errors)
    unseen = sorted({e.label for e in labelled.examples} - set(labels))
    if unseen:
        warn(f"label(s) only in {labelled.source}, never seen in training: {', '.join(unseen[:5])} "
             "(their examples count as errors)")
    if labelled.skipped_empty:
        warn(f"{labelled.skipped_empty:,} lines with an empty text skipped")
    if multi_label:
        return _multilabel_report(labels, vocab, max_len, predict, labelled, threshold, k, warn)
    if labelled.multi_labelled:
        warn(f"{labelled.multi_labelled:,} lines carry several labels; only the first of each is scored "
             "(single-label classifier)")
    all_labels = list(labels) + unseen
    index = {label: k for k, label in enumerate(all_labels)}
    probs = predict(featurize(vocab, [e.text for e in labelled.examples], max_len))
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


def _multilabel_report(labels: Sequence[str], vocab: Vocab, max_len: int,
                       predict: Callable[[list[list[int]]], np.ndarray], labelled: Any,
                       threshold: float | np.ndarray,
                       k: int | None, warn: Warn) -> dict[str, Any]:
    """Micro-, macro- and samples-F1, exact match and per-label figures at the run's threshold;
    precision and recall at ``k`` as fastText's ``test`` reports them; labels the run never saw
    count as missed."""
    from rnncli.corpus import featurize
    from rnncli.scores import at_k, multilabel_metrics

    unseen = sorted({label for e in labelled.examples for label in e.labels} - set(labels))
    if unseen:
        warn(f"label(s) only in {labelled.source}, never seen in training: {', '.join(unseen[:5])} "
             "(counted as missed)")
    all_labels = list(labels) + unseen
    column = {label: j for j, label in enumerate(all_labels)}
    gold = np.zeros((len(labelled.examples), len(all_labels)), dtype=bool)
    for row, example in enumerate(labelled.examples):
        gold[row, [column[label] for label in example.labels]] = True
    probs = predict(featurize(vocab, [e.text for e in labelled.examples], max_len))
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


def evaluate_language_model(loaded: "LoadedRun", path: str, device: "torch.device", encoding: str = "utf-8",
                            errors: str = "strict", cache: "UnigramCache | None" = None) -> dict[str, Any]:
    from rnncli.tasks.language import stream_log_probs

    model, precision = loaded.model.to(device), inference_precision(loaded, device)
    return lm_report(loaded.vocab, path, lambda text: stream_log_probs(model, text.ids, device, precision),
                     encoding, errors, cache)


def run_threshold(metrics: list[dict[str, Any]]) -> float | np.ndarray:
    """A multi-label run's decision thresholds, those its best checkpoint was chosen at: one per
    label where validation chose them so, else one for all."""
    from rnncli.scores import best_of, classifier_score

    best = best_of(metrics, classifier_score) or {}
    if isinstance(best.get("thresholds"), list):
        return np.asarray(best["thresholds"], dtype=np.float64)
    return float(best.get("threshold", 0.5))


def evaluate_classifier(loaded: "LoadedRun", path: str, device: "torch.device", encoding: str = "utf-8",
                        errors: str = "strict", text_column: str = "text", label_column: str = "label",
                        warn: Warn = lambda message: None, k: int | None = None) -> dict[str, Any]:
    from rnncli.tasks.classification import predict_proba

    model, precision = loaded.model.to(device), inference_precision(loaded, device)
    return classifier_report(loaded.config.labels, loaded.vocab, loaded.config.plan.data.max_len,
                             lambda sequences: predict_proba(model, sequences, device, precision), path, encoding,
                             errors, text_column, label_column, warn, loaded.config.model.multi_label,
                             run_threshold(loaded.run.read_metrics()), k, loaded.config.plan.args.label_sep)
