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


@pytest.mark.parametrize("lowercase", [False, True])
def test_what_the_tagger_reads_of_a_word(lowercase):
    """Each token's word id (through the vocabulary's lowercasing, if any) and its spelling, marked
    at both ends so the CNN reads suffixes as suffixes; a run's vocabulary decides both."""
    from rnncli.tasks.tagging.features import CHAR_END, CHAR_START, CHAR_UNK, TokenFeatures
    from rnncli.text.vocab import SPECIALS, UNK, WordVocab

    vocab = WordVocab([*SPECIALS, "the", "cat"] if lowercase else [*SPECIALS, "The", "the", "cat"],
                      split="whitespace", lowercase=lowercase)
    features = TokenFeatures(vocab)
    ids = features.words(["The", "the", "cat", "Cat", "dog"])
    assert ids[1:3] == [vocab.tokens.index("the"), vocab.tokens.index("cat")] and ids[4] == UNK
    assert (ids[0] == ids[1] and ids[3] == ids[2]) is lowercase
    spelled = features.chars(["The", "cat", "é"])
    assert spelled[0][0] == CHAR_START and spelled[0][-1] == CHAR_END and len(spelled[0]) == 5
    assert CHAR_UNK not in spelled[0] and spelled[0][1] != features.chars(["the"])[0][1]  # case kept in spelling
    assert spelled[2] == [CHAR_START, CHAR_UNK, CHAR_END]
    assert not features.known("dog") and features.known("cat")
