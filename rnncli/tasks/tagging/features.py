"""What a tagger reads of a sentence: each token's word id, and its characters' ids for the
character CNN; the same for training, torch and ONNX. numpy only.

The word vocabulary is built on the training tokens as they are (whitespace inside a token, which
some treebanks allow, reads as ``_``). The alphabet is every character of the vocabulary's words,
in code-point order, so it is rebuilt from vocab.json alone: 0 pads, 1 stands for a character the
training words never had, 2 and 3 mark a word's start and end, so the CNN's windows at the edges
read prefixes and suffixes as such ("-ly" at the end, not anywhere).
"""

from __future__ import annotations

import weakref
from typing import Sequence

import numpy as np

from rnncli.text.vocab import SPECIALS, UNK, Vocab

CHAR_PAD, CHAR_UNK, CHAR_START, CHAR_END = 0, 1, 2, 3
CHAR_RESERVED = 4
WORD_CHARS = 24  # a longer word is read as its first and last 12 characters


def word_key(token: str) -> str:
    return "_".join(token.split()) if any(c.isspace() for c in token) else token


def alphabet(vocab: Vocab) -> dict[str, int]:
    """Every character of the vocabulary's words (and their capitals, where the words were
    lowercased: the spelling keeps the case the word lookup drops)."""
    chars = {c for token in vocab.tokens[len(SPECIALS):] for c in token}
    if getattr(vocab, "lowercase", False):
        chars |= {c.upper() for c in chars if len(c.upper()) == 1}
    return {c: i + CHAR_RESERVED for i, c in enumerate(sorted(chars))}


class TokenFeatures:
    """A vocabulary's word index and alphabet, built once: the ids of any token list."""

    def __init__(self, vocab: Vocab) -> None:
        self.index = {token: i for i, token in enumerate(vocab.tokens)}
        self.letters = alphabet(vocab)
        self.lowercase = bool(getattr(vocab, "lowercase", False))

    def word(self, token: str) -> int:
        key = word_key(token)
        return self.index.get(key.lower() if self.lowercase else key, UNK)

    def words(self, tokens: Sequence[str]) -> list[int]:
        return [self.word(t) for t in tokens]

    def chars(self, tokens: Sequence[str]) -> list[list[int]]:
        half, letters = WORD_CHARS // 2, self.letters
        return [[CHAR_START, *(letters.get(c, CHAR_UNK) for c in (t if len(t) <= WORD_CHARS else t[:half] + t[-half:])),
                 CHAR_END] for t in tokens]

    def known(self, token: str) -> bool:
        return self.word(token) != UNK


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
