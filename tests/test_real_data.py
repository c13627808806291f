"""The issue's acceptance round trips on the real corpora in ../shared/data."""

from __future__ import annotations

from tests.conftest import run_module, shared


def _round_trip(tmp_path, train, valid, *options):
    vocab = tmp_path / "v.json"
    built = run_module("build-vocab", str(train), "-o", str(vocab), "-q", *options)
    assert built.returncode == 0, built.stderr
    ids = run_module("encode", "-v", str(vocab), str(valid))
    assert ids.returncode == 0, ids.stderr
    text = run_module("decode", "-v", str(vocab), input=ids.stdout)
    assert text.returncode == 0, text.stderr
    return text.stdout


def test_bpe_8000_on_war_and_peace_is_byte_exact(tmp_path):
    train, valid = shared("warpeace", "train.txt"), shared("warpeace", "valid.txt")
    assert _round_trip(tmp_path, train, valid, "--level", "bpe", "--vocab-size", "8000") == valid.read_bytes()


def test_char_level_on_tinyshakespeare_is_byte_exact(tmp_path):
    train, valid = shared("tinyshakespeare", "train.txt"), shared("tinyshakespeare", "valid.txt")
    assert _round_trip(tmp_path, train, valid, "--level", "char") == valid.read_bytes()


def test_word_level_on_war_and_peace_keeps_every_known_word(tmp_path):
    train, valid = shared("warpeace", "train.txt"), shared("warpeace", "valid.txt")
    from rnncli.text.vocab import load_vocab

    decoded = _round_trip(tmp_path, train, valid, "--level", "word").decode().splitlines()
    vocab = load_vocab(tmp_path / "v.json")
    for original, back in zip(valid.read_text().splitlines(), decoded):
        if 1 not in vocab.encode(original):
            assert vocab.words(back) == vocab.words(original)
