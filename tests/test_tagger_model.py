"""The tagger network: a score per tag for every token, independent of the batch's padding, the
character CNN reading spelling, and small data fitted (softmax and CRF alike)."""

from __future__ import annotations

import pytest
import torch

from rnncli.models.config import ModelConfig
from rnncli.models.tagger import Tagger


def config(**changes: object) -> ModelConfig:
    base = dict(task="tag", kind="lstm", vocab_size=12, embed=8, hidden=16, bidirectional=True, num_labels=3,
                char_vocab_size=10, char_embed=6, char_filters=5)
    return ModelConfig(**{**base, **changes})  # type: ignore[arg-type]


def batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    tokens = torch.tensor([[2, 3, 4, 5], [6, 7, 0, 0]])
    chars = torch.randint(1, 10, (2, 4, 5))
    chars[1, 2:] = 0
    chars[:, :, 4] = 0  # words of 4 characters, padded to 5
    return tokens, chars, torch.tensor([4, 2])


@pytest.mark.parametrize("crf", [False, True])
def test_a_sentence_is_tagged_alike_alone_and_in_a_padded_batch(crf):
    torch.manual_seed(0)
    model = Tagger(config(crf=crf)).eval()
    tokens, chars, lengths = batch()
    together = model(tokens, chars, lengths)
    alone = model(tokens[1:, :2], chars[1:, :2], lengths[1:])
    assert together.shape == (2, 4, 3)
    assert torch.allclose(together[1, :2], alone[0], atol=1e-6)


def test_the_spelling_reads_characters_and_ignores_pads():
    torch.manual_seed(0)
    model = Tagger(config()).eval()
    chars = torch.tensor([[[1, 2, 3, 0, 0], [1, 2, 4, 0, 0]]])
    wider = torch.cat([chars, torch.zeros(1, 2, 3, dtype=torch.long)], dim=2)
    assert torch.allclose(model.spelling(chars), model.spelling(wider))
    spelled = model.spelling(chars)
    assert not torch.allclose(spelled[0, 0], spelled[0, 1])


@pytest.mark.parametrize("crf", [False, True])
def test_small_data_is_fitted(crf):
    torch.manual_seed(0)
    model = Tagger(config(crf=crf, dropout=0.0))
    tokens, chars, lengths = batch()
    tags = torch.tensor([[0, 1, 2, 1], [2, 0, 0, 0]])
    mask = torch.arange(4)[None, :] < lengths[:, None]
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(60):
        optimizer.zero_grad()
        loss = model.loss(model(tokens, chars, lengths), tags, mask)
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.05
    model.eval()
    assert model(tokens, chars, lengths).argmax(-1)[mask].tolist() == tags[mask].tolist()


def test_words_alone_without_the_character_cnn():
    model = Tagger(config(char_vocab_size=0, char_embed=0, char_filters=0, bidirectional=False, kind="gru"))
    tokens, _, lengths = batch()
    assert model(tokens, None, lengths).shape == (2, 4, 3)
