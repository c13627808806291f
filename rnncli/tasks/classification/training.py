"""Training a classifier (many-to-one): the loss, and the validation metrics the best checkpoint is chosen by."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnncli.data import ClassBatches
from rnncli.distributed import current
from rnncli.infer.batching import predict
from rnncli.models.classifier import Classifier
from rnncli.models.config import ModelConfig
from rnncli.scores import choose_thresholds, classification_metrics, classifier_score, multilabel_metrics
from rnncli.tasks.classification.engine import TorchClassifier
from rnncli.training import Task


def build_model(config: ModelConfig) -> Classifier:
    return Classifier(config)


def predict_proba(model: Classifier, sequences: list[list[int]], device: torch.device, precision: str = "fp32",
                  batch_size: int = 512) -> np.ndarray:
    """Label probabilities (n, labels) of the model, in the order given (see rnncli.infer.batching)."""
    return predict(TorchClassifier(model, device, precision, labels=range(model.config.num_labels)), sequences,
                   batch_size)


def multilabel_evaluation(gold: np.ndarray, probs: np.ndarray, labels: list[str]) -> dict[str, Any]:
    """Validation figures of a multi-label classifier at the thresholds that serve it best: one
    global ``threshold``, and ``thresholds`` (one per label) where those serve better (see
    :func:`rnncli.scores.choose_thresholds`)."""
    threshold, per_label = choose_thresholds(gold, probs)
    clipped = np.clip(probs, 1e-7, 1 - 1e-7)
    loss = float(-(gold * np.log(clipped) + ~gold * np.log(1 - clipped)).mean())
    metrics = multilabel_metrics(gold, probs >= (per_label if per_label is not None else threshold), labels)
    return {"val_loss": loss, "micro_f1": metrics["micro_f1"], "macro_f1": metrics["macro_f1"],
            "samples_f1": metrics["samples_f1"], "exact_match": metrics["exact_match"], "threshold": threshold,
            **({"thresholds": [float(t) for t in per_label]} if per_label is not None else {})}


class ClassificationTask(Task):
    unit = "examples"

    def __init__(self, train: tuple[list[list[int]], list[Any]], valid: tuple[list[list[int]], list[Any]],
                 labels: list[str], batch_size: int, device: torch.device, precision: str,
                 class_weights: Tensor | None = None, seed: int = 0, multi_label: bool = False) -> None:
        """Targets are label indices, or multi-hot rows (one 0/1 per label) with ``multi_label``."""
        self.multi_label = multi_label
        self.batches = ClassBatches(train[0], train[1], batch_size, shuffle=True, seed=seed)
        self.valid = valid
        self.labels = labels
        self.device = device
        self.precision = precision
        self.class_weights = class_weights.to(device) if class_weights is not None else None

    def steps_per_epoch(self) -> int:
        return len(self.batches)

    def train_step(self, model: nn.Module, epoch: int, index: int) -> tuple[Tensor, int]:
        # --batch-size is the global batch: in a distributed run each rank takes every world-th
        # example of it (the epoch's order depends on the seed and epoch only, like a
        # DistributedSampler with set_epoch), and DDP averages the gradients.
        dist = current()
        tokens, lengths, targets = self.batches.batch(epoch, index, dist.rank, dist.world)
        logits = model(tokens.to(self.device), lengths)
        if self.multi_label:
            return F.binary_cross_entropy_with_logits(logits.float(), targets.to(self.device).float()), len(targets)
        loss = F.cross_entropy(logits.float(), targets.to(self.device), weight=self.class_weights)
        return loss, len(targets)

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        probs = predict_proba(model, self.valid[0], self.device, self.precision)
        if self.multi_label:
            return multilabel_evaluation(np.asarray(self.valid[1], dtype=bool), probs, self.labels)
        gold = np.asarray(self.valid[1])
        loss = float(-np.log(np.clip(probs[np.arange(len(gold)), gold], 1e-12, 1)).mean())
        metrics = classification_metrics(gold.tolist(), probs.argmax(1).tolist(), self.labels)
        return {"val_loss": loss, "accuracy": metrics["accuracy"], "macro_f1": metrics["macro_f1"]}

    def score(self, metrics: dict[str, float]) -> float:
        return classifier_score(metrics)

    def eval_size(self) -> int:
        return len(self.valid[0])
