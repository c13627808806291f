"""Evaluating a trained run on held-out data: the figures ``rnncli evaluate`` prints."""

from __future__ import annotations

from typing import Any, Callable

import torch

from rnncli.checkpoint import LoadedRun
from rnncli.device import resolve_precision
from rnncli.errors import InputError


def inference_precision(loaded: LoadedRun, device: torch.device) -> str:
    """The precision the run trained in, where the device can run it (bf16 never on mps)."""
    precision = loaded.config.plan.machine.precision
    if device.type == "mps":
        return "fp32"
    return resolve_precision(precision if precision in ("fp32", "bf16") else "auto", device)


def evaluate_language_model(loaded: LoadedRun, path: str, device: torch.device, encoding: str = "utf-8",
                            errors: str = "strict") -> dict[str, float]:
    """Loss in nats per token, perplexity, bits per character, tokens and characters of a text."""
    from rnncli.data import encode_corpus
    from rnncli.tasks.language import evaluate_lm

    text = encode_corpus([path], loaded.vocab, encoding, errors)
    if len(text) < 2:
        raise InputError(f"{path}: too little text to evaluate (fewer than 2 tokens)")
    result = evaluate_lm(loaded.model.to(device), text, device, inference_precision(loaded, device))
    return {key: result[key] for key in ("loss", "ppl", "bpc", "tokens", "chars")}


def evaluate_classifier(loaded: LoadedRun, path: str, device: torch.device, encoding: str = "utf-8",
                        errors: str = "strict", text_column: str = "text", label_column: str = "label",
                        warn: Callable[[str], None] = lambda message: None) -> dict[str, Any]:
    """Accuracy, macro-F1, per-label precision/recall/F1/support and the confusion matrix; labels
    the run never saw count as errors."""
    from rnncli.tasks.classification import classification_metrics, featurize, predict_proba
    from rnncli.text.labelled import read_labelled

    labelled = read_labelled(path, text_column=text_column, label_column=label_column, encoding=encoding,
                             errors=errors)
    labels = list(loaded.config.labels)
    unseen = sorted({e.label for e in labelled.examples} - set(labels))
    if unseen:
        warn(f"label(s) only in {labelled.source}, never seen in training: {', '.join(unseen[:5])} "
             "(their examples count as errors)")
    if labelled.skipped_empty:
        warn(f"{labelled.skipped_empty:,} lines with an empty text skipped")
    all_labels = labels + unseen
    index = {label: k for k, label in enumerate(all_labels)}
    sequences = featurize(loaded.vocab, [e.text for e in labelled.examples], loaded.config.plan.data.max_len)
    probs = predict_proba(loaded.model.to(device), sequences, device, inference_precision(loaded, device))
    metrics = classification_metrics([index[e.label] for e in labelled.examples], probs.argmax(axis=1).tolist(),
                                     all_labels)
    return {"accuracy": metrics["accuracy"], "macro_f1": metrics["macro_f1"], "per_label": metrics["per_label"],
            "confusion": metrics["confusion"], "labels": all_labels, "examples": metrics["examples"],
            "source": labelled.source}
