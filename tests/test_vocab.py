"""Vocabularies: specials, options of each level, files that must be refused."""

from __future__ import annotations

import base64
import json

import pytest

from rnncli.errors import ConfigError, FormatError
from rnncli.text.build import VocabOptions, build_vocabulary
from rnncli.text.subword import train_subword
from rnncli.text.vocab import (
    BOS, EOS, PAD, SPECIALS, UNK, CharVocab, WordVocab, build_char_vocab, build_word_vocab,
    load_vocab,
)
from rnncli.text.words import join_words

TEXT = ["The cat sat on the mat.", "The dog, however, didn't sit!", "A cat and a dog."]


def test_special_ids_are_fixed():
    assert (PAD, UNK, BOS, EOS) == (0, 1, 2, 3)
    assert SPECIALS == ("<pad>", "<unk>", "<bos>", "<eos>")


def test_word_level_splits_punctuation_and_keeps_contractions():
    vocab, _ = build_word_vocab(TEXT)
    assert vocab.words("The dog, however, didn't sit!") == [
        "The", "dog", ",", "however", ",", "didn't", "sit", "!"]
    assert vocab.tokens[:4] == list(SPECIALS)


def test_word_ids_follow_frequency_then_alphabet():
    vocab, _ = build_word_vocab(["b a b c c c"], split="whitespace")
    assert vocab.tokens[4:] == ["c", "b", "a"]


def test_word_min_freq_max_size_and_lowercase():
    vocab, _ = build_word_vocab(TEXT, lowercase=True, min_freq=2)
    assert "the" in vocab.tokens and "The" not in vocab.tokens
    assert "mat" not in vocab.tokens
    assert vocab.encode("THE MAT") == [vocab.tokens.index("the"), UNK]
    small, _ = build_word_vocab(TEXT, max_size=3)
    assert len(small) == 4 + 3


def test_whitespace_split_keeps_pre_tokenised_text_and_known_specials():
    vocab, _ = build_word_vocab(["a b <unk> c", "a"], split="whitespace")
    assert vocab.words("x,y z") == ["x,y", "z"]
    assert vocab.encode("a <unk> <eos>") == [vocab.tokens.index("a"), UNK, EOS]
    assert "<unk>" not in vocab.tokens[4:]


def test_word_decode_attaches_punctuation():
    assert join_words(["He", "said", ",", '"', "go", "(", "now", ")", '"', "."], "punct") == \
        'He said, "go (now)".'


def test_char_level_spells_unknown_characters_as_bytes():
    vocab, _ = build_char_vocab(["abc"])
    ids = vocab.encode("aé")
    assert ids[0] == vocab.tokens.index("a")
    assert [vocab.tokens[i] for i in ids[1:]] == ["<0xC3>", "<0xA9>"]
    assert vocab.decode(ids) == "aé"


def test_char_level_without_byte_fallback_uses_unk():
    vocab, _ = build_char_vocab(["abc"], byte_fallback=False)
    assert vocab.encode("az") == [vocab.tokens.index("a"), UNK]
    assert len(vocab) == 4 + 3


def test_decode_drops_pad_bos_eos_but_keeps_unk():
    vocab, _ = build_word_vocab(["hello world"], split="whitespace")
    ids = vocab.encode("hello world")
    assert vocab.decode([BOS, *ids, UNK, EOS, PAD, PAD]) == "hello world <unk>"


@pytest.mark.parametrize("level", ["bpe", "unigram"])
def test_subword_vocab_is_lossless_and_keeps_specials(level):
    lines = [f"line {i}: the quick brown fox jumps over the lazy dog {i * 7}" for i in range(300)]
    vocab, _ = train_subword(lines, level, 300)
    assert vocab.tokens[:4] == list(SPECIALS)
    for text in ["  two  spaces ", "tab\there", "émoji 😀", "meta \u2581 space", ""]:
        assert vocab.decode(vocab.encode(text)) == text


def test_subword_size_is_a_soft_limit_on_a_small_corpus():
    vocab, warning = train_subword(["a tiny corpus", "of two lines"], "bpe", 5000)
    assert len(vocab) < 5000
    assert warning and "at most" in warning


def test_subword_size_below_the_byte_alphabet_is_refused():
    with pytest.raises(ConfigError, match="at least"):
        train_subword(["abc"], "bpe", 100)


def test_vocab_file_round_trip(tmp_path):
    for level in ["word", "char", "bpe"]:
        report = build_vocabulary([str(_corpus(tmp_path))], VocabOptions(level=level, vocab_size=300))
        path = tmp_path / f"{level}.json"
        report.vocab.save(path)
        loaded = load_vocab(path)
        assert loaded.tokens == report.vocab.tokens
        data = json.loads(path.read_text())
        assert (data["format"], data["version"], data["level"]) == ("rnncli-vocab", 1, level)


def _corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(TEXT * 30) + "\n")
    return path


def _saved(tmp_path, level="word"):
    report = build_vocabulary([str(_corpus(tmp_path))], VocabOptions(level=level, vocab_size=300))
    path = tmp_path / "v.json"
    report.vocab.save(path)
    return path, json.loads(path.read_text())


@pytest.mark.parametrize("mutate, message", [
    (lambda d: {"tokens": d["tokens"]}, "not an rnncli vocabulary"),
    (lambda d: {**d, "version": 99}, "newer than this rnncli reads"),
    (lambda d: {**d, "version": "1"}, "version"),
    (lambda d: {**d, "level": "morpheme"}, "unknown vocabulary level"),
    (lambda d: {**d, "tokens": d["tokens"][1:]}, "must start with"),
    (lambda d: {**d, "tokens": d["tokens"] + [d["tokens"][5]], "size": len(d["tokens"]) + 1,
                "counts": None}, "duplicate"),
    (lambda d: {**d, "counts": [1, 2]}, "one integer per token"),
    (lambda d: {**d, "size": 3}, "says size"),
    (lambda d: [1, 2, 3], "not an rnncli vocabulary"),
])
def test_inconsistent_word_vocab_files_are_refused(tmp_path, mutate, message):
    path, data = _saved(tmp_path)
    mutated = mutate(data)
    if isinstance(mutated, dict) and mutated.get("counts", 0) is None:
        del mutated["counts"]
    path.write_text(json.dumps(mutated))
    with pytest.raises(FormatError, match=message):
        load_vocab(path)


def test_corrupt_embedded_model_is_refused(tmp_path):
    path, data = _saved(tmp_path, "bpe")
    data["model"] = base64.b64encode(b"\x08\x96garbage" * 10).decode()
    path.write_text(json.dumps(data))
    with pytest.raises(FormatError):
        load_vocab(path)


@pytest.mark.parametrize("content, message", [
    (b"", "invalid JSON"),
    (b"\x80\x81", "not UTF-8"),
    (b'{"format": "rnncli-vocab", "version": 1, "level": "wo', "invalid JSON"),
    (b"[" * 100_000, "nested too deeply"),
])
def test_truncated_or_foreign_bytes_are_refused(tmp_path, content, message):
    path = tmp_path / "v.json"
    path.write_bytes(content)
    with pytest.raises(FormatError, match=message):
        load_vocab(path)


def test_classes_are_constructible_directly():
    assert len(WordVocab(list(SPECIALS) + ["x"])) == 5
    assert CharVocab(["x"], byte_fallback=False).encode("x") == [4]
