"""The AWD-LSTM regularisers: what each does to a training step, that evaluation never sees them,
and that the fused kernels still run the recurrence."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from rnncli.data import LMWindows
from rnncli.models.config import ModelConfig
from rnncli.models.lm import LanguageModel
from rnncli.models.regularise import activation_penalty, embedding_dropout, locked_dropout, recurrent_layers

AWD = dict(dropout=0.4, dropout_input=0.4, dropout_embed=0.2, dropout_weight=0.5, locked=True, ar=2.0, tar=1.0)


def _model(kind: str = "lstm", layers: int = 2, **rates: object) -> LanguageModel:
    torch.manual_seed(0)
    return LanguageModel(ModelConfig(kind=kind, vocab_size=40, embed=8, hidden=12, layers=layers, **rates))


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_layer_by_layer_is_the_fused_module_when_nothing_is_dropped(kind):
    model = _model(kind, layers=3)
    x = torch.randn(9, 4, 8)
    fused, fused_state = model.rnn(x)
    layered, layered_state = recurrent_layers(model.rnn, x, None, kind, 0.0, 0.0)
    assert torch.allclose(fused, layered, atol=1e-6)
    for a, b in zip(fused_state if kind == "lstm" else [fused_state], layered_state if kind == "lstm" else [layered_state]):
        assert torch.allclose(a, b, atol=1e-6)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_evaluation_reads_the_plain_weights_and_training_drops_them(kind):
    plain, awd = _model(kind), _model(kind, **AWD)
    awd.load_state_dict(plain.state_dict())
    tokens = torch.randint(0, 40, (7, 3))
    plain.eval(), awd.eval()
    assert torch.equal(plain(tokens)[0], awd(tokens)[0])
    awd.train()
    features, _ = awd(tokens)
    assert not torch.allclose(features, plain(tokens)[0])
    loss = awd.loss(features, tokens) + awd.penalty
    loss.backward()
    assert awd.rnn.weight_hh_l0.grad is not None and awd.rnn.weight_hh_l0.grad.abs().sum() > 0


def test_locked_dropout_keeps_one_mask_for_every_step():
    x = torch.ones(20, 5, 30)
    dropped = locked_dropout(x, 0.5, True)
    assert torch.equal(dropped, dropped[:1].expand_as(dropped))
    assert set(dropped.unique().tolist()) <= {0.0, 2.0}
    assert torch.equal(locked_dropout(x, 0.5, False), x)


def test_embedding_dropout_drops_whole_words():
    tokens = torch.tensor([[1, 2, 1, 3, 2, 1]] * 4).t()
    embedded = torch.ones(6, 4, 5)
    torch.manual_seed(3)
    dropped = embedding_dropout(embedded, tokens, 10, 0.5, True)
    for word in (1, 2, 3):
        rows = dropped[tokens == word]
        assert torch.equal(rows, rows[:1].expand_as(rows))  # every occurrence alike
    assert torch.equal(embedding_dropout(embedded, tokens, 10, 0.5, False), embedded)


def test_activation_penalties():
    steady = torch.ones(6, 2, 3)
    assert float(activation_penalty(steady, steady, 0.0, 1.0)) == 0.0  # nothing moves
    assert float(activation_penalty(steady, steady, 2.0, 0.0)) == pytest.approx(2.0)
    assert activation_penalty(steady, steady, 0.0, 0.0) == 0.0


def test_a_run_saved_before_the_input_had_its_own_rate_keeps_dropout_there():
    old = ModelConfig(kind="lstm", vocab_size=40, dropout=0.3).to_json()
    del old["dropout_input"], old["dropout_embed"], old["dropout_weight"], old["locked"], old["ar"], old["tar"]
    assert ModelConfig.from_json(old).dropout_input == 0.3
    with pytest.raises(Exception, match="dropout_weight"):
        ModelConfig(vocab_size=40, dropout_weight=1.0).check()


@settings(max_examples=60, deadline=None)
@given(tokens=st.integers(20, 400), batch=st.integers(1, 4), bptt=st.integers(1, 30), offset=st.integers(0, 50))
def test_shifted_windows_read_every_target_once_in_the_same_number_of_windows(tokens, batch, bptt, offset):
    ids = np.arange(tokens)
    windows = LMWindows(ids, batch, bptt)
    count = len(windows)
    windows.shift(offset)
    assert len(windows) == count
    targets = torch.cat([windows.window(k)[1] for k in range(count)])
    inputs = torch.cat([windows.window(k)[0] for k in range(count)])
    assert torch.equal(targets, torch.from_numpy(windows.grid[:, 1:].T.astype(np.int64)))
    assert torch.equal(inputs, torch.from_numpy(windows.grid[:, :-1].T.astype(np.int64)))
    assert all(len(windows.window(k)[0]) >= 1 for k in range(count))


def test_word_models_train_with_the_recipe_asked_for_and_say_so(cli, tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(f"the cat {k % 7} sat on the mat {k % 5} ." for k in range(400)) + "\n")
    default = cli.ok("train", corpus, "--level", "word", "-o", tmp_path / "d", "--max-steps", "10", "--hidden", "16",
                     "--threads", "1", "--precision", "fp32")
    assert "dropout 0.3 (input 0.3), words dropped 0, DropConnect 0, AR 2, TAR 1" in default.stderr
    run = cli.ok("train", corpus, "--level", "word", "-o", tmp_path / "r", "--max-steps", "30", "--hidden", "16",
                 "--threads", "1", "--precision", "fp32", "--layers", "2", "--locked-dropout", "--dropout", "0.4",
                 "--input-dropout", "0.4", "--embed-dropout", "0.1", "--weight-dropout", "0.4")
    assert "locked dropout 0.4 (input 0.4), words dropped 0.1, DropConnect 0.4, AR 2, TAR 1" in run.stderr
    plain = cli.ok("train", corpus, "--level", "word", "-o", tmp_path / "p", "--max-steps", "30", "--hidden", "16",
                   "--threads", "1", "--precision", "fp32", "--dropout", "0.1", "--input-dropout", "0.1",
                   "--embed-dropout", "0", "--weight-dropout", "0", "--no-locked-dropout", "--ar", "0", "--tar", "0",
                   "--fixed-windows")
    assert "dropout 0.1," in plain.stderr and "DropConnect" not in plain.stderr
    refused = cli("train", corpus, "--level", "word", "-o", tmp_path / "n", "--model", "ngram", "--ar", "1")
    assert refused.exit_code == 2 or refused.exit_code == 1
    assert "--ar" in refused.stderr and refused.stdout == ""
