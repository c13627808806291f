"""Reading corpora: line ends, encodings, invalid bytes, odd content."""

from __future__ import annotations

import pytest

from rnncli.errors import ConfigError, InputError
from rnncli.text.reader import LineReader, iter_corpus


def lines_of(path, **kwargs) -> tuple[list[str], bool]:
    reader = LineReader(str(path), **kwargs)
    return list(reader), reader.final_newline


def test_lf_and_crlf_read_the_same(tmp_path):
    (tmp_path / "lf").write_bytes(b"one\ntwo\n\nthree\n")
    (tmp_path / "crlf").write_bytes(b"one\r\ntwo\r\n\r\nthree\r\n")
    assert lines_of(tmp_path / "lf") == lines_of(tmp_path / "crlf") == (["one", "two", "", "three"], True)


def test_missing_final_newline_is_reported(tmp_path):
    (tmp_path / "f").write_bytes(b"a\nb")
    assert lines_of(tmp_path / "f") == (["a", "b"], False)


def test_lone_carriage_return_is_kept_inside_a_line(tmp_path):
    (tmp_path / "f").write_bytes(b"a\rb\n")
    assert lines_of(tmp_path / "f") == (["a\rb"], True)


def test_invalid_utf8_names_file_and_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"fine\nalso fine\nbad \xff here\n")
    with pytest.raises(InputError, match=r"bad.txt:3: invalid utf-8"):
        lines_of(path)


def test_errors_replace_accepts_invalid_bytes(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"bad \xff here\n")
    assert lines_of(path, errors="replace")[0] == ["bad \ufffd here"]


def test_nul_bytes_and_a_ten_megabyte_line(tmp_path):
    path = tmp_path / "big"
    big = "x" * 10_000_000
    path.write_bytes(b"a\x00b\n" + big.encode() + b"\nend\n")
    assert lines_of(path)[0] == ["a\x00b", big, "end"]


def test_utf16_input(tmp_path):
    path = tmp_path / "u16"
    path.write_bytes("héllo\nwörld\n".encode("utf-16"))
    assert lines_of(path, encoding="utf-16")[0] == ["héllo", "wörld"]


def test_unknown_encoding_is_a_usage_error(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(ConfigError):
        LineReader(str(tmp_path / "f"), encoding="no-such-codec")


@pytest.mark.parametrize("make, message", [
    (lambda p: p / "absent", "no such file"),
    (lambda p: p, "is a directory"),
])
def test_unreadable_paths(tmp_path, make, message):
    with pytest.raises(InputError, match=message):
        LineReader(str(make(tmp_path)))


def test_several_files_in_order(tmp_path):
    (tmp_path / "a").write_text("1\n2\n")
    (tmp_path / "b").write_text("3")
    assert list(iter_corpus([str(tmp_path / "a"), str(tmp_path / "b")])) == ["1", "2", "3"]
