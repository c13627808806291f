"""What a tagger reads of a sentence: each token's word id, its characters' ids for the character
CNN, and hashed ids of its affixes and shape; the same for training, torch and ONNX. numpy only.

The word vocabulary is built on the training tokens as they are (whitespace inside a token, which
some treebanks allow, reads as ``_``). The alphabet is every character of the vocabulary's words,
in code-point order, so it is rebuilt from vocab.json alone: 0 pads, 1 stands for a character the
training words never had, 2 and 3 mark a word's start and end, so the CNN's windows at the edges
read prefixes and suffixes as such.

The affixes (the last two and three letters, the first three, lowercased) and the shape (``Xxxx``,
``dd.d``) are hashed into ``AFFIX_BUCKETS`` rows by CRC-32, stable across processes and machines,
so nothing is stored for them: a word never seen in training still has its suffix's row, learned
from the words that share it, as classical taggers' suffix features are (TnT, CRF taggers).
"""

from __future__ import annotations

import weakref
import zlib
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from rnncli.text.vocab import SPECIALS, UNK, Vocab

CHAR_PAD, CHAR_UNK, CHAR_START, CHAR_END = 0, 1, 2, 3
CHAR_RESERVED = 4
WORD_CHARS = 24  # a longer word is read as its first and last 12 characters
AFFIX_KINDS = ("suffix2", "suffix3", "prefix3", "shape")
AFFIX_BUCKETS = 1 << 15  # rows of the affix table besides row 0 (padding)


def shape(word: str) -> str:
    """Capitals as X, small letters x, digits d, anything else as itself; runs kept to two."""
    out: list[str] = []
    for c in word:
        kind = "X" if c.isupper() else "x" if c.islower() else "d" if c.isdigit() else c
        if len(out) < 2 or out[-1] != kind or out[-2] != kind:
            out.append(kind)
    return "".join(out)


def affix_ids(token: str) -> list[int]:
    """The token's rows of the affix table, one per kind of AFFIX_KINDS."""
    low = token.lower()
    values = (low[-2:], low[-3:], low[:3], shape(token))
    return [1 + zlib.crc32(f"{kind}:{value}".encode("utf-8", "surrogatepass")) % AFFIX_BUCKETS
            for kind, value in zip(AFFIX_KINDS, values)]


@dataclass
class Encoded:
    """Sentences as ids: per sentence, each token's word id, character ids and affix ids."""

    words: list[list[int]]
    chars: list[list[list[int]]]
    affixes: list[list[list[int]]]


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

    def encode(self, sentences: Sequence[Sequence[str]]) -> Encoded:
        return Encoded([self.words(s) for s in sentences], [self.chars(s) for s in sentences],
                       [[affix_ids(t) for t in s] for s in sentences])


_FEATURES: "weakref.WeakKeyDictionary[Vocab, TokenFeatures]" = weakref.WeakKeyDictionary()


def token_features(vocab: Vocab) -> TokenFeatures:
    """The features of ``vocab``, built on first use and kept while the vocabulary lives, so an
    engine that tags line after line does not rebuild its index per call."""
    if vocab not in _FEATURES:
        _FEATURES[vocab] = TokenFeatures(vocab)
    return _FEATURES[vocab]


def padded(per_token: Sequence[Sequence[Sequence[int]]], time: int, width: int | None = None) -> np.ndarray:
    """Each sentence's per-token id lists (characters, affixes) as (batch, time, width), 0 padding,
    the width the longest list's unless given; the tokens themselves are padded by
    :func:`rnncli.infer.batching.pad`."""
    width = width or max([1] + [len(c) for sentence in per_token for c in sentence])
    out = np.zeros((len(per_token), time, width), dtype=np.int64)
    for row, sentence in enumerate(per_token):
        for col, ids in enumerate(sentence[:time]):
            out[row, col, :len(ids)] = ids
    return out


def batch_inputs(encoded: Encoded, chosen: Sequence[int], tokens: np.ndarray, lengths: np.ndarray) -> dict[str, np.ndarray]:
    """The inputs of a length batch of sentences (``tokens`` padded by rnncli.infer.batching), by
    the names the ONNX graph gives them: tokens, chars, affixes, lengths."""
    time = tokens.shape[1]
    return {"tokens": tokens, "chars": padded([encoded.chars[i] for i in chosen], time),
            "affixes": padded([encoded.affixes[i] for i in chosen], time, len(AFFIX_KINDS)), "lengths": lengths}
