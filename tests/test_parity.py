"""rnncli learns at least as much per step as the plain script a user would write instead.

The plain loop below is shared/peers/char_lstm.py counted in steps: one nn.LSTM, AdamW with
cosine decay, clipping at 1.0, contiguous batches with the state carried, and an output layer
over only the characters of the corpus. rnncli's vocabulary also holds 260 classes the corpus
never uses (byte fallback, special tokens); its model keeps them out of the way and starts each
output bias at its token's log-frequency, so with the same shapes and steps it must do as well.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import rnncli
from tests.conftest import SAMPLE

SHAPES = {"embed": 16, "hidden": 64, "batch_size": 16, "bptt": 50, "lr": 4e-3}
STEPS = 150


def columns(ids: torch.Tensor, batch: int) -> tuple[torch.Tensor, torch.Tensor]:
    n = (len(ids) - 1) // batch
    return ids[: n * batch].view(batch, n), ids[1 : n * batch + 1].view(batch, n)


def plain_loop(train: str, valid: str, steps: int, seed: int = 0) -> float:
    torch.manual_seed(seed)
    chars = sorted(set(train) | set(valid))
    index = {c: i for i, c in enumerate(chars)}
    encode = lambda s: torch.tensor([index[c] for c in s])  # noqa: E731
    size, s = len(chars), SHAPES
    embedding, lstm, out = nn.Embedding(size, s["embed"]), nn.LSTM(s["embed"], s["hidden"]), nn.Linear(s["hidden"], size)
    params = [*embedding.parameters(), *lstm.parameters(), *out.parameters()]
    optimizer = torch.optim.AdamW(params, lr=s["lr"], weight_decay=0.01)
    x, y = columns(encode(train), s["batch_size"])
    state, position = None, 0
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = s["lr"] * 0.5 * (1 + math.cos(math.pi * step / steps))
        if position + s["bptt"] >= x.shape[1]:
            position, state = 0, None
        window = slice(position, position + s["bptt"])
        position += s["bptt"]
        features, state = lstm(embedding(x[:, window].t()), state)
        state = tuple(t.detach() for t in state)
        loss = F.cross_entropy(out(features).reshape(-1, size), y[:, window].t().reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
    vx, vy = columns(encode(valid), 8)
    with torch.no_grad():
        features, _ = lstm(embedding(vx.t()))
        return float(F.cross_entropy(out(features).reshape(-1, size), vy.t().reshape(-1)))


def test_same_shapes_same_steps_rnncli_learns_at_least_as_much(tmp_path):
    train, valid = SAMPLE / "english.txt", SAMPLE / "english-valid.txt"
    plain = plain_loop(train.read_text(encoding="utf-8"), valid.read_text(encoding="utf-8"), STEPS)
    run = rnncli.train(train, tmp_path / "run", valid=valid, level="char", max_steps=STEPS, dropout=0.0,
                       precision="fp32", eval_every=10 ** 6, threads=2, **SHAPES)
    ours = run.metrics[-1]["val_loss"]
    assert ours <= plain + 0.01, (ours, plain)


def test_the_training_loss_over_seen_classes_is_the_full_softmax_loss():
    """Training computes the logits of the classes the text uses and one pooled logit for the rest
    (their rows are zero, their bias one value): the loss and every gradient are the full
    softmax's, for seen and unseen targets alike."""
    from rnncli.models.config import ModelConfig
    from rnncli.models.lm import LanguageModel

    torch.manual_seed(0)
    for tie in (False, True):
        model = LanguageModel(ModelConfig(task="lm", kind="lstm", vocab_size=50, embed=8, hidden=16, tie_weights=tie))
        counts = torch.zeros(50, dtype=torch.long)
        counts[5:20] = torch.randint(1, 100, (15,))
        model.fit_output_to(counts)
        inputs, targets = torch.randint(5, 20, (7, 3)), torch.randint(0, 50, (7, 3))

        def loss_and_grads(loss_of):
            model.zero_grad()
            features, _ = model(inputs)
            loss = loss_of(features)
            loss.backward()
            return float(loss.detach()), [p.grad.clone() for p in model.parameters()]

        pooled, pooled_grads = loss_and_grads(lambda f: model.loss(f, targets))
        assert model.seen_classes is not None and len(model.seen_classes.rows) == 15
        full, full_grads = loss_and_grads(lambda f: model.token_nll(f, targets).mean())
        assert pooled == pytest.approx(full, abs=1e-5)
        assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(pooled_grads, full_grads))


def test_the_pooled_form_is_decided_on_the_weights_training_starts_from():
    """Decided at the first training loss, on the weights then in place: a resumed run's (loaded
    after fit_output_to) pools as its first part did; a model whose unseen rows are not zero
    (trained on another text, then fine-tuned) trains with the full softmax."""
    from rnncli.models.config import ModelConfig
    from rnncli.models.lm import LanguageModel

    torch.manual_seed(0)
    counts = torch.zeros(30, dtype=torch.long)
    counts[4:10] = 3
    inputs = torch.randint(4, 10, (5, 2))

    def first_loss(model):
        features, _ = model(inputs)
        model.loss(features, inputs)
        return model.seen_classes

    config = ModelConfig(task="lm", kind="lstm", vocab_size=30, embed=8, hidden=16)
    trained = LanguageModel(config)
    trained.fit_output_to(counts)
    assert first_loss(trained) is not None
    resumed = LanguageModel(config)
    resumed.fit_output_to(counts, fresh=False)  # torch's random rows, then the saved weights
    resumed.load_state_dict(trained.state_dict())
    assert first_loss(resumed) is not None
    moved = LanguageModel(config)
    moved.fit_output_to(counts, fresh=False)
    assert first_loss(moved) is None
    everything = LanguageModel(config)
    everything.fit_output_to(torch.ones(30, dtype=torch.long))  # every class seen: nothing to pool
    assert first_loss(everything) is None
