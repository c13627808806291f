"""How fast this machine trains a model: a few timed steps on random tokens, before a run starts.

The planner sizes a language model so that a --time-budget is spent well; for that it needs the
tokens per second each candidate size trains at here, with this device, precision and thread count.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from rnncli.device import autocast
from rnncli.models.config import ModelConfig


def training_rate(config: ModelConfig, batch: int, bptt: int, device: torch.device, precision: str,
                  counts: np.ndarray | None = None, seconds: float = 0.4) -> float:
    """Tokens per second of full training steps (forward, loss, backward, clipping, AdamW), timed for
    about ``seconds`` after two warm-up steps (the first steps of a process set up their kernels).
    ``counts`` of each class in the training text (int64) give the loss the run will compute (see
    rnncli.models.lm.SeenClasses) and the tokens it is timed on."""
    from rnncli.models.lm import LanguageModel
    from rnncli.trainoptions import TrainOptions
    from rnncli.training import make_optimizer

    model = LanguageModel(config).to(device)
    frequencies = torch.ones(config.vocab_size, dtype=torch.float64)
    frequencies[:4] = 0
    if counts is not None:
        model.fit_output_to(torch.from_numpy(counts))
        frequencies = torch.from_numpy(counts).double()
    optimizer = make_optimizer(model, TrainOptions())
    # drawn as often as the text has them: an adaptive softmax's cost depends on how often the tail is read
    tokens = torch.multinomial(frequencies, (bptt + 1) * batch, replacement=True).view(bptt + 1, batch).to(device)

    def step() -> None:
        with autocast(device, precision):
            features, _ = model(tokens[:-1])
            loss = model.loss(features, tokens[1:])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        float(loss.detach())

    for _ in range(2):
        step()
    began, steps = time.perf_counter(), 0
    while steps < 2 or time.perf_counter() - began < seconds:
        step()
        steps += 1
    return batch * bptt * steps / (time.perf_counter() - began)
