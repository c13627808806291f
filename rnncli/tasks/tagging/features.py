"""What a tagger reads of a sentence: each token's word id, and its characters' ids for the
character CNN; the same for training, torch and ONNX. numpy only.

The word vocabulary is built on the training tokens as they are (whitespace inside a token, which
some treebanks allow, reads as ``_``). The alphabet is every character of the vocabulary's words,
in code-point order, so it is rebuilt from vocab.json alone: 0 pads, 1 stands for a character the
training words never had.
"""

from __future__ import annotations

import weakref
from typing import Sequence

import numpy as np

from rnncli.text.vocab import SPECIALS, UNK, Vocab

CHAR_PAD, CHAR_UNK = 0, 1
WORD_CHARS = 24  # a longer word is read as its first and last 12 characters


def word_key(token: str) -> str:
    return "_".join(token.split()) if any(c.isspace() for c in token) else token


def word_index(vocab: Vocab) -> dict[str, int]:
    return {token: i for i, token in enumerate(vocab.tokens)}


def alphabet(vocab: Vocab) -> dict[str, int]:
    chars = sorted({c for token in vocab.tokens[len(SPECIALS):] for c in token})
    return {c: i + 2 for i, c in enumerate(chars)}


def word_ids(index: dict[str, int], tokens: Sequence[str]) -> list[int]:
    return [index.get(word_key(t), UNK) for t in tokens]


def char_ids(letters: dict[str, int], tokens: Sequence[str]) -> list[list[int]]:
    half = WORD_CHARS // 2
    return [[letters.get(c, CHAR_UNK) for c in (t if len(t) <= WORD_CHARS else t[:half] + t[-half:])] or [CHAR_UNK]
            for t in tokens]


class TokenFeatures:
    """A vocabulary's word index and alphabet, built once: the ids of any token list."""

    def __init__(self, vocab: Vocab) -> None:
        self.index, self.letters = word_index(vocab), alphabet(vocab)

    def words(self, tokens: Sequence[str]) -> list[int]:
        return word_ids(self.index, tokens)

    def chars(self, tokens: Sequence[str]) -> list[list[int]]:
        return char_ids(self.letters, tokens)

    def known(self, token: str) -> bool:
        return self.index.get(word_key(token), UNK) != UNK


_FEATURES: "weakref.WeakKeyDictionary[Vocab, TokenFeatures]" = weakref.WeakKeyDictionary()


def token_features(vocab: Vocab) -> TokenFeatures:
    """The features of ``vocab``, built on first use and kept while the vocabulary lives, so an
    engine that tags line after line does not rebuild its index per call."""
    if vocab not in _FEATURES:
        _FEATURES[vocab] = TokenFeatures(vocab)
    return _FEATURES[vocab]


def padded_chars(chars: Sequence[Sequence[Sequence[int]]], time: int) -> np.ndarray:
    """Each sentence's characters as (batch, time, characters), 0 padding; the tokens themselves
    are padded by :func:`rnncli.infer.batching.pad`."""
    width = max([1] + [len(c) for sentence in chars for c in sentence])
    letters = np.zeros((len(chars), time, width), dtype=np.int64)
    for row, sentence in enumerate(chars):
        for col, spelled in enumerate(sentence[:time]):
            letters[row, col, :len(spelled)] = spelled
    return letters
