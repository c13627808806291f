"""The fused torch layers compute the lecture's equations: same outputs, states and gradients."""

from __future__ import annotations

import math

import pytest
import torch

from rnncli.models.cells import ReferenceRecurrent, elman_cell, fused, gru_cell, lstm_cell


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("layers", [1, 2])
def test_reference_and_fused_agree_on_outputs_states_and_gradients(kind, layers):
    torch.manual_seed(0)
    fast = fused(kind, 5, 7, layers).double()
    slow = ReferenceRecurrent(kind, 5, 7, layers).double()
    slow.load_state_dict(fast.state_dict())
    x = torch.randn(11, 3, 5, dtype=torch.double)
    h0 = torch.randn(layers, 3, 7, dtype=torch.double)
    state = (h0, torch.randn_like(h0)) if kind == "lstm" else h0
    out_fast, state_fast = fast(x, state)
    out_slow, state_slow = slow(x, state)
    assert torch.allclose(out_fast, out_slow, atol=1e-5)
    for a, b in zip(*((s if isinstance(s, tuple) else (s,)) for s in (state_fast, state_slow))):
        assert torch.allclose(a, b, atol=1e-5)
    (out_fast.square().sum() + sum(s.sum() for s in (state_fast if kind == "lstm" else (state_fast,)))).backward()
    (out_slow.square().sum() + sum(s.sum() for s in (state_slow if kind == "lstm" else (state_slow,)))).backward()
    for (name, p_fast), p_slow in zip(fast.named_parameters(), slow.parameters()):
        assert torch.allclose(p_fast.grad, p_slow.grad, atol=1e-5), name


def test_float32_agreement_within_1e5():
    torch.manual_seed(1)
    fast = fused("lstm", 16, 32, 1)
    slow = ReferenceRecurrent("lstm", 16, 32, 1)
    slow.load_state_dict(fast.state_dict())
    x = torch.randn(50, 4, 16)
    assert torch.allclose(fast(x)[0], slow(x)[0], atol=1e-5)


def sigmoid(v: float) -> float:
    return 1 / (1 + math.exp(-v))


def test_lstm_step_by_hand():
    # one unit, one input: every gate pre-activation is w_x * x + w_h * h + b, gate order i, f, g, o
    w_ih = torch.tensor([[0.5], [-0.3], [0.8], [0.1]])
    w_hh = torch.tensor([[0.2], [0.4], [-0.6], [0.7]])
    b_ih = torch.tensor([0.1, 0.2, 0.0, -0.1])
    b_hh = torch.zeros(4)
    x, h, c = 1.5, 0.25, -0.5
    i = sigmoid(0.5 * x + 0.2 * h + 0.1)
    f = sigmoid(-0.3 * x + 0.4 * h + 0.2)
    g = math.tanh(0.8 * x - 0.6 * h)
    o = sigmoid(0.1 * x + 0.7 * h - 0.1)
    c_next = f * c + i * g
    h_next = o * math.tanh(c_next)
    got_h, got_c = lstm_cell(torch.tensor([[x]]), torch.tensor([[h]]), torch.tensor([[c]]), w_ih, w_hh, b_ih, b_hh)
    assert got_c.item() == pytest.approx(c_next, abs=1e-6)
    assert got_h.item() == pytest.approx(h_next, abs=1e-6)


def test_elman_step_by_hand():
    got = elman_cell(torch.tensor([[2.0]]), torch.tensor([[-1.0]]), torch.tensor([[0.3]]),
                     torch.tensor([[0.5]]), torch.tensor([0.1]), torch.tensor([0.05]))
    assert got.item() == pytest.approx(math.tanh(0.3 * 2 - 0.5 + 0.15), abs=1e-6)


def test_gru_step_by_hand():
    w_ih = torch.tensor([[0.5], [-0.4], [0.9]])  # reset, update, node
    w_hh = torch.tensor([[0.3], [0.2], [-0.7]])
    b_ih, b_hh = torch.tensor([0.0, 0.1, 0.2]), torch.tensor([0.05, 0.0, -0.1])
    x, h = 1.0, 0.5
    r = sigmoid(0.5 * x + 0.3 * h + 0.05)
    z = sigmoid(-0.4 * x + 0.1 + 0.2 * h)
    n = math.tanh(0.9 * x + 0.2 + r * (-0.7 * h - 0.1))
    expected = (1 - z) * n + z * h
    got = gru_cell(torch.tensor([[x]]), torch.tensor([[h]]), w_ih, w_hh, b_ih, b_hh)
    assert got.item() == pytest.approx(expected, abs=1e-6)
