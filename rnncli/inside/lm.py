"""A language model read over a text, with everything a person may want to look at: each
token's surprisal, the model's next-token guesses after it, and every unit's activation (the
hidden state of each layer, and the LSTM's cell)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor

from rnncli.inside.tokens import tokens_of
from rnncli.models.lm import LanguageModel
from rnncli.models.regularise import recurrent_layers
from rnncli.text.vocab import BOS, EOS, META_SPACE, PAD, Vocab

LOG2 = float(np.log(2))


@dataclass
class LMTrace:
    """``pieces[t]`` is token t as it appears in ``text`` (their concatenation); ``surprisal[t]``
    the bits the model spent on it; ``guesses[t]`` its top next-token guesses after it; ``units``
    arrays named ``h1``, ``c1``, ``h2``, ... of shape (tokens, hidden)."""

    text: str
    pieces: list[str]
    surprisal: np.ndarray
    guesses: list[list[tuple[str, float]]]
    units: dict[str, np.ndarray]
    cut: int = 0  # characters of the input left out (past the limit)
    starts: list[int] = field(default_factory=list)  # each token's first character in ``text``

    def __post_init__(self) -> None:
        if not self.starts:
            self.starts = list(np.cumsum([0] + [len(p) for p in self.pieces[:-1]]).tolist())

    def per_token(self, per_char: np.ndarray) -> np.ndarray:
        """A per-character feature read at each token's first character."""
        return per_char[np.asarray(self.starts, dtype=np.int64)] if self.pieces else per_char[:0]


@torch.no_grad()
def trace(model: LanguageModel, vocab: Vocab, text: str, max_chars: int, top: int = 5) -> LMTrace:
    """Read ``text`` from a fresh state after ``<eos>`` (as each line of training began) and keep
    what :class:`LMTrace` holds."""
    model = model.float().eval()
    ids, pieces, cut = tokens_of(vocab, text, max_chars)
    inputs = torch.tensor([EOS] + ids, dtype=torch.long)[:, None]  # (time, 1)
    layers: list[Tensor] = []
    x = model.embedding(inputs)
    recurrent_layers(model.rnn, x, None, model.config.kind, 0.0, 0.0, outputs=layers)  # type: ignore[arg-type]
    units = {f"h{k + 1}": out[1:, 0].numpy() for k, out in enumerate(layers)}
    if model.config.kind == "lstm":
        for k, out in enumerate(layers):
            below = x if k == 0 else layers[k - 1]
            units[f"c{k + 1}"] = cell_states(model.rnn, k, below, out)[1:].numpy()
    features = layers[-1] if model.proj is None else model.proj(layers[-1])
    surprisal, guesses = _predictions(model, vocab, features[:, 0], inputs[1:, 0], top)
    shown = "".join(pieces)
    ordered = dict(sorted(units.items(), key=lambda kv: (int(kv[0][1:]), kv[0] != "h" + kv[0][1:])))
    return LMTrace(shown, pieces, surprisal, guesses, ordered, cut)


def cell_states(rnn: Any, layer: int, below: Tensor, out: Tensor) -> Tensor:
    """The LSTM cell state after every step (time, hidden) of one layer, from its input and its
    outputs: the gates are recomputed in one product (the fused kernel does not return them) and
    the cell follows c_t = f_t c_(t-1) + i_t g_t."""
    w_ih, w_hh, b_ih, b_hh = (getattr(rnn, f"{name}_l{layer}") for name in ("weight_ih", "weight_hh", "bias_ih",
                                                                            "bias_hh"))
    h = out[:, 0]
    previous = torch.cat([h.new_zeros(1, h.shape[1]), h[:-1]])
    gates = below[:, 0] @ w_ih.T + b_ih + previous @ w_hh.T + b_hh
    i, f, g, _ = gates.chunk(4, dim=1)
    i, f, g = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g)
    cells = torch.empty_like(h)
    c = h.new_zeros(h.shape[1])
    for t in range(h.shape[0]):
        c = f[t] * c + i[t] * g[t]
        cells[t] = c
    return cells


def _predictions(model: LanguageModel, vocab: Vocab, features: Tensor, targets: Tensor,
                 top: int) -> tuple[np.ndarray, list[list[tuple[str, float]]]]:
    """Bits spent on each target (the prediction before it), and the top guesses after each
    target (the prediction that follows it); in blocks, so that a large vocabulary never holds
    more than a block's distributions."""
    surprisal = np.zeros(len(targets), dtype=np.float32)
    guesses: list[list[tuple[str, float]]] = []
    names = [("\n" if i == EOS else "" if i in (PAD, BOS) else t.replace(META_SPACE, " "))
             for i, t in enumerate(vocab.tokens)]
    block = 512
    for start in range(0, features.shape[0], block):
        log_probs = model.log_probs(features[start:start + block])
        inside = torch.arange(start, min(start + block, len(targets)))
        surprisal[inside.numpy()] = (-log_probs[inside - start, targets[inside]] / LOG2).numpy()
        values, indices = log_probs.exp().topk(min(top, log_probs.shape[1]), dim=1)
        guesses.extend([(names[i], round(float(p), 4)) for p, i in zip(v.tolist(), ix.tolist())]
                       for v, ix in zip(values, indices))
    return surprisal, guesses[1:]
