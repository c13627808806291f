"""The AWD-LSTM regularisers (Merity, Keskar and Socher, 2017), on torch's fused recurrent kernels.

- Locked (variational) dropout: one mask per sequence, the same at every time step, so a unit
  that is dropped stays dropped for the whole window instead of flickering (Gal and Ghahramani).
- Embedding dropout: whole words dropped from the embedding, the same words everywhere in the
  batch; the mask is drawn over the vocabulary and read by token id, so no copy of the table is
  made (a 200k-word table would cost more than the step).
- DropConnect on the hidden-to-hidden weights: the weights themselves are dropped once per
  window, so the fused kernel still runs the whole recurrence in one call per layer (or, for the
  taggers' and translation's encoders, one call of the whole module on packed sequences, both
  directions: :func:`weight_dropped`).
- Activation regularisation (AR: the size of the top layer's dropped outputs) and temporal
  activation regularisation (TAR: how much its outputs move from one step to the next).

Every mask is drawn by :func:`keep_mask` from random bytes: on a CPU the Bernoulli draw is most of
what ``F.dropout`` costs, and bytes cut from random 64-bit words cost a fraction of it (docs/defaults.md).

Only training applies them: in evaluation the layers are the plain fused module, so inference,
the torch engine and the ONNX export read the same weights under the same names.
"""

from __future__ import annotations

import math
import sys
from typing import Any

import torch
from torch import Tensor, _VF, nn

_KERNELS = {"lstm": _VF.lstm, "gru": _VF.gru, "rnn": _VF.rnn_tanh}


_TOP = 7 if sys.byteorder == "little" else 0  # the byte of an int64 whose top bit random_() leaves 0


def random_bytes(count: int, device: torch.device) -> Tensor:
    """``count`` uniform random bytes: int64's random_() fills [0, 2**63), so each word gives seven
    uniform bytes and its top byte is left out."""
    words = torch.empty((count + 6) // 7, dtype=torch.int64, device=device).random_()
    kept = [k for k in range(8) if k != _TOP]
    return words.view(torch.uint8).view(-1, 8)[:, kept[0]:kept[-1] + 1].reshape(-1)[:count]


def keep_mask(shape: tuple[int, ...] | torch.Size, p: float, like: Tensor) -> Tensor:
    """Inverted dropout's mask in ``like``'s dtype and device: 1/(1-p) where kept, 0 where dropped,
    ``p`` rounded to 1/256."""
    dropped = min(round(p * 256), 255)
    keep = (random_bytes(math.prod(shape), like.device) >= dropped).view(shape)
    return keep.to(like.dtype) * (256 / (256 - dropped))


def dropout(x: Tensor, p: float, training: bool) -> Tensor:
    """``F.dropout``, with the mask of :func:`keep_mask`."""
    if not training or p <= 0:
        return x
    return x * keep_mask(x.shape, p, x)


def locked_dropout(x: Tensor, p: float, training: bool) -> Tensor:
    """Dropout on (time, batch, features) with one mask per batch column for every time step."""
    if not training or p <= 0:
        return x
    return x * keep_mask((1, x.shape[1], x.shape[2]), p, x)


def embedding_dropout(embedded: Tensor, tokens: Tensor, vocab_size: int, p: float, training: bool) -> Tensor:
    """Drop whole words: every occurrence of a dropped word in the batch reads a zero vector."""
    if not training or p <= 0:
        return embedded
    return embedded * keep_mask((vocab_size,), p, embedded)[tokens].unsqueeze(-1)


def weight_dropped(rnn: nn.RNNBase, p: float, training: bool, *inputs: Any) -> Any:
    """The fused module run on ``inputs`` (padded or packed, one direction or two) with its
    hidden-to-hidden weights dropped for this call: the list of weights its forward hands the
    kernel is swapped for the call and put back, so the kernel stays the module's and the gradient
    reaches its parameters."""
    if not training or p <= 0:
        return rnn(*inputs)
    flat = rnn._flat_weights
    rnn._flat_weights = [dropout(w, p, True) if name.startswith("weight_hh") else w
                         for name, w in zip(rnn._flat_weights_names, flat)]
    try:
        return rnn(*inputs)
    finally:
        rnn._flat_weights = flat


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
        weights = [w_ih, dropout(w_hh, weight_drop, True), b_ih, b_hh]
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
            x = locked_dropout(x, between, True) if locked else dropout(x, between, True)
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
