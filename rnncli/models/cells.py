"""The recurrent cells written from the course equations: the reference, never the training path.

Elman RNN  h_t = tanh(W_hx x_t + W_hh h_{t-1} + b_h)
LSTM       f_t, i_t, o_t = sigmoid(W[x_t, h_{t-1}] + b)    (forget, input, output gates)
           g_t = tanh(W_g[x_t, h_{t-1}] + b_g)             (input node)
           c_t = f_t * c_{t-1} + i_t * g_t                 (cell state)
           h_t = o_t * tanh(c_t)
GRU        r_t, z_t = sigmoid(W[x_t, h_{t-1}] + b)          (reset, update gates)
           n_t = tanh(W_n x_t + b_n + r_t * (U_n h_{t-1} + c_n))
           h_t = (1 - z_t) * n_t + z_t * h_{t-1}

The parameters have torch.nn's names and layouts (``weight_ih_l0`` stacks the gates in the order
torch uses: i, f, g, o for the LSTM; r, z, n for the GRU), so a reference model can load the
weights of a fused ``nn.LSTM`` and tests can prove both compute the same function. A Python loop
over time steps is several times slower than the fused kernel, so training never uses it.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

KINDS = ("rnn", "lstm", "gru")
GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def elman_cell(x: Tensor, h: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor, b_hh: Tensor) -> Tensor:
    return torch.tanh(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh)


def lstm_cell(x: Tensor, h: Tensor, c: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor,
              b_hh: Tensor) -> tuple[Tensor, Tensor]:
    pre = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
    pre_input, pre_forget, pre_node, pre_output = pre.chunk(4, dim=-1)
    input_gate = torch.sigmoid(pre_input)
    forget_gate = torch.sigmoid(pre_forget)
    input_node = torch.tanh(pre_node)
    output_gate = torch.sigmoid(pre_output)
    c_next = forget_gate * c + input_gate * input_node
    h_next = output_gate * torch.tanh(c_next)
    return h_next, c_next


def gru_cell(x: Tensor, h: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor, b_hh: Tensor) -> Tensor:
    from_x = x @ w_ih.T + b_ih
    from_h = h @ w_hh.T + b_hh
    x_reset, x_update, x_node = from_x.chunk(3, dim=-1)
    h_reset, h_update, h_node = from_h.chunk(3, dim=-1)
    reset_gate = torch.sigmoid(x_reset + h_reset)
    update_gate = torch.sigmoid(x_update + h_update)
    node = torch.tanh(x_node + reset_gate * h_node)
    return (1 - update_gate) * node + update_gate * h


class ReferenceRecurrent(nn.Module):
    """A multi-layer RNN/LSTM/GRU over (time, batch, features), one Python step at a time.

    Same constructor, parameters, inputs and outputs as ``nn.RNN``/``nn.LSTM``/``nn.GRU`` with
    ``batch_first=False`` (state is ``h`` or ``(h, c)`` of shape (layers, batch, hidden)).
    """

    def __init__(self, kind: str, input_size: int, hidden_size: int, num_layers: int = 1) -> None:
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"unknown recurrent kind {kind!r}")
        self.kind, self.hidden_size, self.num_layers = kind, hidden_size, num_layers
        gates = GATES[kind] * hidden_size
        for layer in range(num_layers):
            size_in = input_size if layer == 0 else hidden_size
            self.register_parameter(f"weight_ih_l{layer}", nn.Parameter(torch.empty(gates, size_in)))
            self.register_parameter(f"weight_hh_l{layer}", nn.Parameter(torch.empty(gates, hidden_size)))
            self.register_parameter(f"bias_ih_l{layer}", nn.Parameter(torch.empty(gates)))
            self.register_parameter(f"bias_hh_l{layer}", nn.Parameter(torch.empty(gates)))
        bound = hidden_size ** -0.5
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def _weights(self, layer: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        return tuple(getattr(self, f"{n}_l{layer}") for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))  # type: ignore[return-value]

    def forward(self, x: Tensor, state=None):  # type: ignore[no-untyped-def]
        steps, batch = x.shape[0], x.shape[1]
        zeros = x.new_zeros(self.num_layers, batch, self.hidden_size)
        if self.kind == "lstm":
            h0, c0 = state if state is not None else (zeros, zeros)
        else:
            h0, c0 = (state if state is not None else zeros), None
        final_h, final_c = [], []
        layer_input = x
        for layer in range(self.num_layers):
            w = self._weights(layer)
            h = h0[layer]
            c = c0[layer] if c0 is not None else None
            outputs = []
            for t in range(steps):
                if self.kind == "lstm":
                    h, c = lstm_cell(layer_input[t], h, c, *w)
                elif self.kind == "gru":
                    h = gru_cell(layer_input[t], h, *w)
                else:
                    h = elman_cell(layer_input[t], h, *w)
                outputs.append(h)
            layer_input = torch.stack(outputs)
            final_h.append(h)
            if c is not None:
                final_c.append(c)
        h_n = torch.stack(final_h)
        if self.kind == "lstm":
            return layer_input, (h_n, torch.stack(final_c))
        return layer_input, h_n


def fused(kind: str, input_size: int, hidden_size: int, num_layers: int = 1, dropout: float = 0.0,
          bidirectional: bool = False) -> nn.Module:
    """torch's fused recurrent layer: the same mathematics as the reference, at full speed."""
    cls = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind]
    kwargs = {"nonlinearity": "tanh"} if kind == "rnn" else {}
    return cls(input_size, hidden_size, num_layers=num_layers, dropout=dropout if num_layers > 1 else 0.0,
               bidirectional=bidirectional, **kwargs)
