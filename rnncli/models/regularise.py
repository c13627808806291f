"""The AWD-LSTM regularisers (Merity, Keskar and Socher, 2017), on torch's fused recurrent kernels.

- Locked (variational) dropout: one mask per sequence, the same at every time step, so a unit
  that is dropped stays dropped for the whole window instead of flickering (Gal and Ghahramani).
- Embedding dropout: whole words dropped from the embedding, the same words everywhere in the
  batch; the mask is drawn over the vocabulary and read by token id, so no copy of the table is
  made (a 200k-word table would cost more than the step).
- DropConnect on the hidden-to-hidden weights: the weights themselves are dropped once per
  window, so the fused kernel still runs the whole recurrence in one call per layer.
- Activation regularisation (AR: the size of the top layer's dropped outputs) and temporal
  activation regularisation (TAR: how much its outputs move from one step to the next).

Only training applies them: in evaluation the layers are the plain fused module, so inference,
the torch engine and the ONNX export read the same weights under the same names.
"""

from __future__ import annotations

import torch
from torch import Tensor, _VF, nn
from torch.nn import functional as F

_KERNELS = {"lstm": _VF.lstm, "gru": _VF.gru, "rnn": _VF.rnn_tanh}


def locked_dropout(x: Tensor, p: float, training: bool) -> Tensor:
    """Dropout on (time, batch, features) with one mask per batch column for every time step."""
    if not training or p <= 0:
        return x
    mask = x.new_empty(1, x.shape[1], x.shape[2]).bernoulli_(1 - p) / (1 - p)
    return x * mask


def embedding_dropout(embedded: Tensor, tokens: Tensor, vocab_size: int, p: float, training: bool) -> Tensor:
    """Drop whole words: every occurrence of a dropped word in the batch reads a zero vector."""
    if not training or p <= 0:
        return embedded
    keep = embedded.new_empty(vocab_size).bernoulli_(1 - p) / (1 - p)
    return embedded * keep[tokens].unsqueeze(-1)


def recurrent_layers(rnn: nn.RNNBase, x: Tensor, state: Tensor | tuple[Tensor, Tensor] | None, kind: str,
                     between: float, weight_drop: float, locked: bool = True,
                     outputs: list[Tensor] | None = None) -> tuple[Tensor, Tensor | tuple[Tensor, Tensor]]:
    """The fused module's layers called one at a time in training: its hidden-to-hidden weights
    dropped (DropConnect) and dropout between layers, ``locked`` or per step. Same parameters,
    same kernels. ``outputs``, if given, receives each layer's output sequence (what ``rnncli
    inspect`` shows; with no dropout this is the module's own computation)."""
    layers, hidden = rnn.num_layers, rnn.hidden_size
    if state is None:
        zeros = x.new_zeros(layers, x.shape[1], hidden)
        state = (zeros, zeros) if kind == "lstm" else zeros
    finals: list[tuple[Tensor, ...]] = []
    for k in range(layers):
        w_ih, w_hh, b_ih, b_hh = (getattr(rnn, f"{name}_l{k}") for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
        weights = [w_ih, F.dropout(w_hh, weight_drop, True) if weight_drop > 0 else w_hh, b_ih, b_hh]
        if kind == "lstm":
            h, c = state
            x, h_k, c_k = _KERNELS[kind](x, (h[k : k + 1], c[k : k + 1]), weights, True, 1, 0.0, True, False, False)
            finals.append((h_k, c_k))
        else:
            x, h_k = _KERNELS[kind](x, state[k : k + 1], weights, True, 1, 0.0, True, False, False)  # type: ignore[index]
            finals.append((h_k,))
        if outputs is not None:
            outputs.append(x)
        if k < layers - 1 and between > 0:
            x = locked_dropout(x, between, True) if locked else F.dropout(x, between, True)
    if kind == "lstm":
        return x, (torch.cat([f[0] for f in finals]), torch.cat([f[1] for f in finals]))
    return x, torch.cat([f[0] for f in finals])


def activation_penalty(dropped: Tensor, raw: Tensor, ar: float, tar: float) -> Tensor | float:
    """AR on the top layer's dropped outputs plus TAR on its raw outputs' step-to-step change."""
    penalty: Tensor | float = 0.0
    if ar > 0:
        penalty = penalty + ar * dropped.float().pow(2).mean()
    if tar > 0 and raw.shape[0] > 1:
        penalty = penalty + tar * (raw[1:] - raw[:-1]).float().pow(2).mean()
    return penalty
