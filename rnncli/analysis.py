"""What the lecture claims, measured: how far back gradients reach through each recurrent model.

Backpropagation through time multiplies Jacobians, dh_t/dh_k = prod_{i=k+1..t} dh_i/dh_{i-1}, so
the norm of dL_T/dh_k shrinks (or grows) geometrically with the distance T - k for an Elman RNN.
The LSTM's cell state is a near-linear path, dL/dc_{t-k} ~ dL/dc_t * prod f_j, along which the
gradient survives while the forget gates stay near 1. This module runs the reference cells of
``models/cells.py`` step by step (on a fresh model or a trained run's weights), keeps every h_k and
c_k, and reads their gradients.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from rnncli.errors import ConfigError
from rnncli.models.cells import elman_cell, gru_cell, lstm_cell


@dataclass
class GradientReport:
    model: str
    length: int
    h: list[float]  # mean norm of dL_T/dh_{T-d} for distance d = 0 .. length-1
    c: list[float] = field(default_factory=list)  # LSTM: dL_T/dc_{T-d}
    forget_gate_mean: list[float] = field(default_factory=list)  # per layer, LSTM
    samples: int = 1

    def ratio(self, distance: int, which: str = "h") -> float:
        values = self.h if which == "h" else self.c
        return values[distance] / values[0] if values and values[0] else float("nan")

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model, "length": self.length, "samples": self.samples,
                "distance": list(range(self.length)), "h_norm": self.h, "c_norm": self.c,
                "forget_gate_mean": self.forget_gate_mean}


def _weights(rnn: nn.Module, layer: int) -> tuple[torch.Tensor, ...]:
    return tuple(getattr(rnn, f"{n}_l{layer}") for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))


def gradient_flow(kind: str, rnn: nn.Module, embedding: nn.Embedding, head: nn.Module,
                  sequences: torch.Tensor, targets: torch.Tensor) -> GradientReport:
    """Norms of dL_T/dh_k (and dL_T/dc_k) over every step k, averaged (geometrically) over sequences.

    ``sequences`` is (samples, T) token ids; L_T is the cross-entropy of ``head`` on the last
    hidden state against ``targets`` (samples,).
    """
    if getattr(rnn, "bidirectional", False):
        raise ConfigError("gradient flow is defined here for unidirectional models")
    layers = rnn.num_layers
    hidden = rnn.hidden_size
    samples, steps = sequences.shape
    x_all = embedding(sequences).detach()
    h = [torch.zeros(samples, hidden) for _ in range(layers)]
    c = [torch.zeros(samples, hidden) for _ in range(layers)]
    kept_h, kept_c = [], []
    forget_sums = [0.0] * layers
    for t in range(steps):
        x = x_all[:, t]
        for layer in range(layers):
            w = _weights(rnn, layer)
            if kind == "lstm":
                with torch.no_grad():
                    forget = torch.sigmoid((x @ w[0].T + w[2] + h[layer] @ w[1].T + w[3])[:, hidden : 2 * hidden])
                    forget_sums[layer] += float(forget.mean())
                h[layer], c[layer] = lstm_cell(x, h[layer], c[layer], *w)
            elif kind == "gru":
                h[layer] = gru_cell(x, h[layer], *w)
            else:
                h[layer] = elman_cell(x, h[layer], *w)
            x = h[layer]
        h[-1].retain_grad()
        kept_h.append(h[-1])
        if kind == "lstm":
            c[-1].retain_grad()
            kept_c.append(c[-1])
    loss = F.cross_entropy(head(h[-1]), targets, reduction="sum")
    loss.backward()

    def norms(kept: list[torch.Tensor]) -> list[float]:
        out = []
        for distance in range(steps):
            grad = kept[steps - 1 - distance].grad
            per_sample = grad.norm(dim=1).clamp(min=1e-300).double()
            out.append(float(torch.exp(per_sample.log().mean())))
        return out

    return GradientReport(kind, steps, norms(kept_h), norms(kept_c) if kind == "lstm" else [],
                          [s / steps for s in forget_sums] if kind == "lstm" else [], samples)


def fresh_model(kind: str, vocab_size: int, embed: int, hidden: int, layers: int, forget_bias: float,
                seed: int) -> tuple[nn.Module, nn.Embedding, nn.Module]:
    """A language model's parts with rnncli's default initialisation."""
    from rnncli.models.config import ModelConfig
    from rnncli.models.lm import LanguageModel, init_recurrent

    torch.manual_seed(seed)
    model = LanguageModel(ModelConfig(kind=kind, vocab_size=vocab_size, embed=embed, hidden=hidden, layers=layers))
    init_recurrent(model.rnn, kind, hidden, forget_bias)
    return model.rnn, model.embedding, model.decoder  # type: ignore[return-value]


def log_range(series: list[list[float]], decades: float = 24) -> tuple[float, float]:
    """A common log10 scale for several curves: their top, and at most ``decades`` below it."""
    logs = [math.log10(v) for values in series for v in values if v > 0]
    if not logs:
        return 0.0, -1.0
    top = max(logs)
    return top, max(min(logs), top - decades)


def sparkline(values: list[float], width: int = 40, scale: tuple[float, float] | None = None) -> str:
    """log10 of positive values as block characters, left = distance 0, on a shared ``scale``."""
    blocks = "▁▂▃▄▅▆▇█"
    if not values:
        return ""
    step = max(1, math.ceil(len(values) / width))
    picked = [values[i] for i in range(0, len(values), step)]
    logs = [math.log10(v) if v > 0 else -300.0 for v in picked]
    top, bottom = scale if scale is not None else log_range([values])
    span = (top - bottom) or 1.0
    return "".join(blocks[max(0, min(7, int((v - bottom) / span * 7.999)))] for v in logs)
