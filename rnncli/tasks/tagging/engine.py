"""The torch engine of a tagger: each token's score per tag, and a CRF tagger's transition scores
(decoding is rnncli/tasks/tagging/inference.py's, whatever engine computes the scores)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np
import torch

from rnncli.device import autocast, inference_precision
from rnncli.models.tagger import Tagger
from rnncli.tasks.tagging.inference import Tagged, decode
from rnncli.text.vocab import Vocab

if TYPE_CHECKING:
    from rnncli.run.weights import LoadedRun


class TorchTagger:
    task, variant = "tag", "torch"

    def __init__(self, model: Tagger, device: torch.device | str = "cpu", precision: str = "fp32",
                 vocab: Vocab | None = None, labels: Sequence[str] = ()) -> None:
        self.model, self.device, self.precision = model, torch.device(device), precision
        self.vocab, self.labels = vocab, list(labels)

    @torch.no_grad()
    def scores(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        """(batch, time, tags) scores of padded sentences (rnncli.tasks.tagging.features.batch_inputs)."""
        was_training = self.model.training
        self.model.eval()
        try:
            with autocast(self.device, self.precision):
                scores = self.model.read(inputs, self.device)
        finally:
            self.model.train(was_training)
        return scores.float().cpu().numpy()  # type: ignore[no-any-return]

    def tag(self, tokens: Sequence[Sequence[str]], batch_size: int, top: int = 1) -> list[Tagged]:
        return decode(self, tokens, batch_size, top)

    def crf(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The CRF's start, transition and end scores; None for a softmax tagger."""
        crf = self.model.crf
        if crf is None:
            return None
        return tuple(p.detach().float().cpu().numpy().astype(np.float64)  # type: ignore[return-value]
                     for p in (crf.start, crf.transitions, crf.end))


def open_torch(loaded: "LoadedRun", device: torch.device) -> TorchTagger:
    plan = loaded.config.plan
    return TorchTagger(loaded.model.to(device), device, inference_precision(plan.machine.precision, device),
                       loaded.vocab, loaded.config.labels)
