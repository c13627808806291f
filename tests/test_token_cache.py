"""The token cache: built once, reused, and invalidated when the corpus or the vocabulary changes."""

from __future__ import annotations

import numpy as np

from rnncli.corpus import encode_corpus
from rnncli.text.vocab import build_char_vocab
from rnncli.tokencache import cached_corpus


def test_cache_matches_direct_encoding_and_is_reused(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("hello world\nsecond line\n")
    vocab, _ = build_char_vocab(corpus.read_text().splitlines())
    first = cached_corpus([str(corpus)], vocab, directory=tmp_path / "cache")
    direct = encode_corpus([str(corpus)], vocab)
    assert np.array_equal(np.asarray(first.ids), direct.ids)
    assert (first.chars, first.lines) == (direct.chars, direct.lines)
    entries = sorted(p.name for p in (tmp_path / "cache").iterdir())
    again = cached_corpus([str(corpus)], vocab, directory=tmp_path / "cache")
    assert isinstance(again.ids, np.memmap)
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == entries


def test_changed_corpus_or_vocabulary_gets_a_new_entry(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("abc\n")
    vocab, _ = build_char_vocab(["abcd"])
    cache = tmp_path / "cache"
    cached_corpus([str(corpus)], vocab, directory=cache)
    corpus.write_text("abd\n")
    changed = cached_corpus([str(corpus)], vocab, directory=cache)
    assert changed.ids.tolist()[:3] == vocab.encode("abd")
    other, _ = build_char_vocab(["abcdxyz"])
    cached_corpus([str(corpus)], other, directory=cache)
    assert len(list(cache.glob("*.ids"))) == 3


def test_a_damaged_entry_is_rebuilt(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("abc\n" * 10)
    vocab, _ = build_char_vocab(["abc"])
    cache = tmp_path / "cache"
    cached_corpus([str(corpus)], vocab, directory=cache)
    ids_file = next(cache.glob("*.ids"))
    ids_file.write_bytes(ids_file.read_bytes()[:5])
    again = cached_corpus([str(corpus)], vocab, directory=cache)
    assert len(again.ids) == 40
