"""The torch engine of a classifier (:class:`rnncli.infer.engine.ClassifierEngine`)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import torch
from torch.nn import functional as F

from rnncli.device import autocast, inference_precision
from rnncli.infer.batching import INFERENCE_BATCH, batched_rows
from rnncli.models.classifier import Classifier
from rnncli.text.vocab import Vocab

if TYPE_CHECKING:
    from rnncli.run.weights import LoadedRun


class TorchClassifier:
    task, variant = "classify", "torch"

    def __init__(self, model: Classifier, device: torch.device | str = "cpu", precision: str = "fp32",
                 vocab: Vocab | None = None, labels: Sequence[str] = (), max_len: int = 0,
                 label_sep: str | None = None, metrics: Any = None) -> None:
        self.model, self.device, self.precision = model, torch.device(device), precision
        self.vocab, self.labels, self.max_len, self.label_sep = vocab, list(labels), max_len, label_sep
        self.multi_label = bool(model.config.multi_label)
        self._metrics = metrics  # a callable giving the run's metrics records, read for the thresholds

    @torch.no_grad()
    def probs(self, tokens: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        was_training = self.model.training
        self.model.eval()
        try:
            with autocast(self.device, self.precision):
                logits = self.model(torch.from_numpy(tokens).to(self.device), torch.from_numpy(lengths)).float()
        finally:
            self.model.train(was_training)
        scores = torch.sigmoid(logits) if self.multi_label else F.softmax(logits, dim=-1)
        return scores.cpu().numpy()

    @torch.no_grad()
    def features(self, tokens: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        self.model.eval()
        return self.model.features(torch.from_numpy(tokens).to(self.device), torch.from_numpy(lengths)).float().cpu().numpy()

    def embed(self, texts: list[str], batch_size: int = INFERENCE_BATCH) -> np.ndarray:
        """The pooled encoder state of each text: what the output layer reads."""
        from rnncli.corpus import featurize

        return batched_rows(self.features, featurize(self.vocab, texts, self.max_len), batch_size)

    def thresholds(self) -> float | np.ndarray:
        return self._thresholds

    @functools.cached_property
    def _thresholds(self) -> float | np.ndarray:
        """Read once: classify asks at every block of lines."""
        from rnncli.tasks.classification.inference import run_threshold

        return run_threshold(self._metrics() if self._metrics else [])


def open_torch(loaded: "LoadedRun", device: torch.device) -> TorchClassifier:
    plan = loaded.config.plan
    return TorchClassifier(loaded.model.to(device), device, inference_precision(plan.machine.precision, device),
                           loaded.vocab,
                           loaded.config.labels, plan.data.max_len, plan.args.label_sep, loaded.run.read_metrics)
