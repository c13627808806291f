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


@pytest.mark.parametrize("p", [0.1, 0.25, 0.5, 0.9])
def test_masks_drop_at_the_rate_asked_and_keep_the_mean(p):
    from rnncli.models.regularise import keep_mask, random_bytes

    mask = keep_mask((1000, 1000), p, torch.ones(1, dtype=torch.bfloat16))
    assert mask.dtype == torch.bfloat16 and mask.shape == (1000, 1000)
    assert abs((mask == 0).float().mean().item() - round(p * 256) / 256) < 0.003
    assert abs(mask.float().mean().item() - 1.0) < 0.01
    counts = torch.bincount(random_bytes(2_560_000, torch.device("cpu")).long(), minlength=256)
    assert counts.min() > 8_500 and counts.max() < 11_500  # every byte value alike (10,000 expected)


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


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_dropconnect_on_a_packed_bidirectional_encoder_drops_weights_not_the_kernel(kind):
    from torch.nn.utils.rnn import pack_padded_sequence

    from rnncli.models.cells import fused
    from rnncli.models.regularise import weight_dropped

    torch.manual_seed(0)
    rnn = fused(kind, 6, 10, 1, 0.0, True)
    packed = pack_padded_sequence(torch.randn(3, 7, 6), torch.tensor([7, 4, 1]), batch_first=True,
                                  enforce_sorted=False)
    plain, _ = rnn(packed)
    assert torch.equal(weight_dropped(rnn, 0.5, False, packed)[0].data, plain.data)  # evaluation: the weights as they are
    dropped, _ = weight_dropped(rnn, 0.5, True, packed)
    assert not torch.allclose(dropped.data, plain.data)
    dropped.data.sum().backward()
    zeroed = (rnn.weight_hh_l0.grad == 0).float().mean().item()  # a dropped weight learns nothing from this step
    assert 0.3 < zeroed < 0.7 and rnn.weight_ih_l0.grad.abs().sum() > 0
    assert rnn._flat_weights[1] is rnn.weight_hh_l0  # the module holds its own parameters again


def test_taggers_and_translation_take_the_encoder_regularisers_and_say_so(cli, tmp_path):
    from tests.conftest import SAMPLE

    tiny = ["--max-steps", "3", "--threads", "1", "--precision", "fp32", "--hidden", "16"]
    tagged = cli.ok("train", SAMPLE / "entities.txt", "-o", tmp_path / "t", "--embed-dropout", "0.1",
                    "--weight-dropout", "0.25", *tiny)
    assert "dropout 0.33, words dropped 0.1, DropConnect 0.25," in tagged.stderr
    assert cli.ok("tag", "-c", tmp_path / "t", input="Victoria thanked Austin\n").stdout.count("/") == 3
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("".join(f"ein hund {k}\ta dog {k}\n" for k in range(60)))
    translated = cli.ok("train", pairs, "-o", tmp_path / "s", "--weight-dropout", "0.2", "--level", "word", *tiny)
    assert "dropout 0.3, DropConnect 0.2;" in translated.stderr
    assert "words dropped" not in translated.stderr
    refused = cli("train", SAMPLE / "topics.tsv", "-o", tmp_path / "c", "--weight-dropout", "0.2", "-q")
    assert refused.exit_code in (1, 2) and "--weight-dropout" in refused.stderr and refused.stdout == ""
    counted = cli("train", SAMPLE / "entities.txt", "-o", tmp_path / "h", "--model", "hmm", "--embed-dropout", "0.1")
    assert counted.exit_code in (1, 2) and "--embed-dropout" in counted.stderr
