"""The torch engine of a translation model: the encoder over padded sources, and one decoder step
at a time (searching is rnncli/tasks/translation/inference.py's, whatever engine steps)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch
from torch.nn import functional as F

from rnncli.device import autocast, inference_precision
from rnncli.models.seq2seq import Seq2Seq
from rnncli.tasks.translation.inference import Translating
from rnncli.text.vocab import Vocab

if TYPE_CHECKING:
    from rnncli.run.weights import LoadedRun


class TorchTranslator(Translating):
    task, variant = "seq2seq", "torch"

    def __init__(self, model: Seq2Seq, device: torch.device | str = "cpu", precision: str = "fp32",
                 vocab: Vocab | None = None, target_vocab: Vocab | None = None) -> None:
        self.model, self.device, self.precision = model, torch.device(device), precision
        self.vocab, self.target_vocab = vocab, target_vocab

    @torch.no_grad()
    def encode(self, tokens: np.ndarray, lengths: np.ndarray) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        self.model.eval()
        with autocast(self.device, self.precision):
            return self.model.encode(torch.from_numpy(tokens).to(self.device), torch.from_numpy(lengths))

    @torch.no_grad()
    def step(self, tokens: np.ndarray, state: torch.Tensor,
             context: dict[str, torch.Tensor]) -> tuple[np.ndarray, torch.Tensor, np.ndarray]:
        """Log-probabilities (rows, target vocabulary) of the token after ``tokens`` (rows), the
        state after it, and the attention (rows, source) that read it."""
        previous = torch.from_numpy(np.ascontiguousarray(tokens)).to(self.device)[:, None]
        with autocast(self.device, self.precision):
            scores, state, attention = self.model.decode(previous, state, context)
        logp = F.log_softmax(scores[:, 0].float(), dim=-1)
        return logp.cpu().numpy(), state, attention[:, 0].float().cpu().numpy()


def open_torch(loaded: "LoadedRun", device: torch.device) -> TorchTranslator:
    from rnncli.run.files import TARGET_VOCAB

    model = loaded.config.model
    target = loaded.run.load_vocab(model.target_vocab_size, TARGET_VOCAB) if model.target_vocab_size else loaded.vocab
    return TorchTranslator(loaded.model.to(device), device,
                           inference_precision(loaded.config.plan.machine.precision, device), loaded.vocab, target)
