"""Property tests: decode(encode(text)) reproduces any text (char, bpe, unigram) or its words."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from rnncli.text.subword import train_subword
from rnncli.text.vocab import build_char_vocab, build_word_vocab
from tests.conftest import SAMPLE

CORPUS = (SAMPLE / "english.txt").read_text().splitlines()[:400]
# Any Unicode text without line breaks (encode and decode work a line at a time).
line_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"), max_size=200)

CHAR, _ = build_char_vocab(CORPUS)
BPE, _ = train_subword(CORPUS, "bpe", 600)
UNIGRAM, _ = train_subword(CORPUS, "unigram", 600)
WORD, _ = build_word_vocab(CORPUS)


@pytest.mark.parametrize("vocab", [CHAR, BPE, UNIGRAM], ids=["char", "bpe", "unigram"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=line_text)
def test_lossless_levels_reproduce_any_text(vocab, text):
    assert vocab.decode(vocab.encode(text)) == text
    assert vocab.decode_batch(vocab.encode_batch([text, text])) == [text, text]


words = st.lists(st.sampled_from(WORD.tokens[4:200]), max_size=30)


@settings(max_examples=150, deadline=None)
@given(tokens=words)
def test_word_level_reproduces_the_words_when_all_are_known(tokens):
    text = " ".join(tokens)
    decoded = WORD.decode(WORD.encode(text))
    assert WORD.words(decoded) == WORD.words(text)


# A line as the reader gives it back: CRLF reads as LF, so no carriage return at its end.
stream_line = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"), max_size=80)


@pytest.mark.parametrize("vocab", [CHAR, BPE], ids=["char", "bpe"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(stream_line, max_size=40), final_newline=st.booleans())
def test_streamed_encode_matches_encoding_each_line(vocab, lines, final_newline, tmp_path_factory, monkeypatch):
    """The stream reads small blocks and (bpe) encodes them as parts on several threads; the
    output must still be each line's ids, one line each, in input order, newline for newline."""
    import io

    from rnncli.text import reader as reader_module
    from rnncli.text.reader import LineReader
    from rnncli.text.streams import EncodeOptions, encode_stream

    monkeypatch.setattr(reader_module, "BLOCK", 64)
    text = "\n".join(lines) + ("\n" if final_newline and lines else "")
    lines = text.split("\n")[:-1] if text.endswith("\n") else text.split("\n") if text else []
    path = tmp_path_factory.mktemp("stream") / "in.txt"
    path.write_bytes(text.encode("utf-8"))
    out = io.StringIO()
    count = encode_stream(vocab, LineReader(str(path)), out.write, EncodeOptions())
    expected = "\n".join(" ".join(map(str, vocab.encode(line))) for line in lines)
    assert out.getvalue() == expected + ("\n" if text.endswith("\n") else "")
    assert count == len(lines)
