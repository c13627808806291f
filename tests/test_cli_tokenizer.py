"""build-vocab, encode and decode as a user runs them: data on stdout, the rest on stderr."""

from __future__ import annotations

import json

import pytest

from rnncli.text.vocab import load_vocab
from tests.conftest import SAMPLE, assert_one_error

CORPUS = SAMPLE / "english.txt"


@pytest.fixture
def vocab(cli, tmp_path):
    path = tmp_path / "vocab.json"
    cli.ok("build-vocab", CORPUS, "-o", path)
    return path


def test_build_vocab_writes_the_file_and_summarises_on_stderr(cli, tmp_path):
    out = tmp_path / "v.json"
    result = cli.ok("build-vocab", CORPUS, "-o", out, "--level", "word", "--min-freq", "2")
    assert result.stdout == ""
    assert "word vocabulary of" in result.stderr
    assert "most frequent" in result.stderr
    assert json.loads(out.read_text())["level"] == "word"


def test_build_vocab_reads_stdin_and_several_files(cli, tmp_path):
    (tmp_path / "a.txt").write_text("alpha beta\n")
    out = tmp_path / "v.json"
    cli.ok("build-vocab", tmp_path / "a.txt", "-", "-o", out, input="gamma\n")
    assert {"alpha", "beta", "gamma"} <= set(json.loads(out.read_text())["tokens"])


def test_bpe_vocab_size_too_large_is_lowered_with_a_warning(cli, tmp_path):
    out = tmp_path / "v.json"
    result = cli.ok("build-vocab", "-", "-o", out, "--level", "bpe", "--vocab-size", "5000",
                    input="a tiny corpus\nwith two lines\n")
    assert "warning: the corpus supports at most" in result.stderr
    assert json.loads(out.read_text())["size"] < 5000


def test_encode_decode_round_trip_on_stdin(cli, vocab):
    text = "The old miller walked to the river.\nAnna said: \"We must go.\"\n"
    ids = cli.ok("encode", "-v", vocab, input=text).stdout
    assert len(ids.splitlines()) == 2
    assert all(part.isdigit() for part in ids.split())
    assert cli.ok("decode", "-v", vocab, input=ids).stdout == text


def test_encode_formats(cli, vocab):
    pieces = cli.ok("encode", "-v", vocab, "--format", "pieces", input="the river.\n").stdout
    assert pieces == "the river .\n"
    row = json.loads(cli.ok("encode", "-v", vocab, "-f", "jsonl", input="the river\n").stdout)
    assert row["pieces"] == ["the", "river"] and len(row["ids"]) == 2


def test_bos_eos_max_len_and_padding(cli, vocab):
    out = cli.ok("encode", "-v", vocab, "--bos", "--eos", "--max-len", "4", "--pad-to", "6",
                 input="the old miller walked to the river\n").stdout.split()
    assert out[0] == "2" and out[3] == "3" and out[4:] == ["0", "0"] and len(out) == 6
    assert cli.ok("decode", "-v", vocab, input=" ".join(out) + "\n").stdout == "the old\n"


def test_decode_accepts_jsonl(cli, vocab):
    jsonl = cli.ok("encode", "-v", vocab, "-f", "jsonl", input="the river\n").stdout
    assert cli.ok("decode", "-v", vocab, input=jsonl).stdout == "the river\n"


def test_encode_to_a_file_writes_nothing_on_stdout(cli, vocab, tmp_path):
    out = tmp_path / "ids.txt"
    result = cli.ok("encode", "-v", vocab, "-o", out, input="the river\n")
    assert result.stdout == "" and out.read_text().count("\n") == 1


def test_empty_input_gives_empty_output(cli, vocab):
    assert cli.ok("encode", "-v", vocab, input="").stdout == ""


@pytest.mark.parametrize("args, input, code, message", [
    (["build-vocab", "/no/such/file", "-o", "{tmp}/v.json"], None, 1, "no such file"),
    (["build-vocab", "{tmp}", "-o", "{tmp}/v.json"], None, 1, "is a directory"),
    (["build-vocab", "-", "-o", "{tmp}/v.json"], "\n\n", 1, "empty corpus"),
    (["build-vocab", "-", "-o", "{tmp}/v.json", "--level", "bpe"], "\n\n", 1, "empty corpus"),
    (["build-vocab", "-", "-o", "{tmp}/v.json"], b"ok\n\xff\n", 1, "<stdin>:2: invalid utf-8"),
    (["encode", "-v", "{tmp}/missing.json"], "x\n", 1, "no such file"),
    (["encode", "-v", "{tmp}"], "x\n", 1, "is a directory"),
    (["encode", "-v", "{vocab}", "--encoding", "klingon"], "x\n", 2, "unknown text encoding"),
    (["decode", "-v", "{vocab}"], "1 2 x\n", 1, "<stdin>:1: expected space-separated token ids"),
    (["decode", "-v", "{vocab}"], "4\n999999\n", 1, "<stdin>:2: id 999999 is outside"),
    (["decode", "-v", "{vocab}"], '{"ids": "no"}\n', 1, "needs an \"ids\" list"),
    (["encode", "-v", "{vocab}", "--bos", "--eos", "--max-len", "1"], "x\n", 2, "--max-len"),
])
def test_user_errors_are_one_line(cli, vocab, tmp_path, args, input, code, message):
    args = [a.format(tmp=tmp_path, vocab=vocab) for a in args]
    result = cli(*args, input=input)
    assert_one_error(result, code, message)
    assert result.stdout == ""
    assert not (tmp_path / "v.json").exists()


def test_foreign_vocabulary_is_refused(cli, tmp_path):
    path = tmp_path / "tokenizer.json"
    path.write_text('{"model": {"type": "BPE"}}')
    assert_one_error(cli("encode", "-v", path, input="x\n"), 1, "not an rnncli vocabulary")


def test_invalid_utf8_is_accepted_with_errors_replace(cli, vocab):
    result = cli.ok("encode", "-v", vocab, "--errors", "replace", input=b"the \xff river\n")
    assert len(result.stdout.split()) == 3


def test_failed_encode_leaves_no_output_file(cli, vocab, tmp_path):
    out = tmp_path / "ids.txt"
    out.write_text("previous\n")
    assert_one_error(cli("encode", "-v", vocab, "-o", out, input=b"the\n\xff\n"), 1, "invalid")
    assert out.read_text() == "previous\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_debug_shows_the_traceback(cli, tmp_path):
    result = cli("encode", "-v", tmp_path / "missing.json", input="", env={"RNNCLI_DEBUG": "1"})
    assert result.exit_code == 1 and result.exception is not None


def test_every_command_has_help(cli):
    top = cli.ok("--help").stdout
    for command in ["build-vocab", "encode", "decode", "demo", "sample-data"]:
        assert command in top
        assert "Usage" in cli.ok(command, "--help").stdout


def test_bpe_encode_gives_the_same_lines_on_any_number_of_threads(cli, tmp_path):
    vocab = tmp_path / "bpe.json"
    cli.ok("build-vocab", CORPUS, "-o", vocab, "--level", "bpe", "--vocab-size", "400")
    outputs = {threads: cli.ok("encode", "-v", vocab, CORPUS, "--bos", "--eos", "--threads", threads).stdout
               for threads in ("1", "3")}
    assert outputs["1"] == outputs["3"]
    tokenizer = load_vocab(vocab)
    lines = CORPUS.read_text(encoding="utf-8").splitlines()
    assert outputs["1"].splitlines() == [" ".join(map(str, [2, *tokenizer.encode(line), 3])) for line in lines]
