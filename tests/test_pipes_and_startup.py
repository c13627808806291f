"""The commands as processes: pipes that close early, start-up without torch, missing newlines."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import SAMPLE, answers_while_open, ends_quietly_into_head, probe_command, run_module


def test_encode_into_head_ends_quietly(tmp_path):
    vocab = tmp_path / "v.json"
    assert run_module("build-vocab", str(SAMPLE / "english.txt"), "-o", str(vocab), "-q").returncode == 0
    big = tmp_path / "big.txt"
    big.write_text((SAMPLE / "english.txt").read_text() * 20)
    ends_quietly_into_head(f"encode -v {vocab} {big}")


def test_encode_and_decode_never_import_torch(tmp_path):
    """Nor numpy: registering every task's commands (their options modules) imports neither."""
    probe = ("import sys, runpy; sys.argv = ['rnncli', 'encode', '--help'];\n"
             "try:\n    runpy.run_module('rnncli', run_name='__main__')\n"
             "except SystemExit:\n    pass\n"
             "assert 'torch' not in sys.modules, 'torch was imported'\n"
             "assert 'numpy' not in sys.modules, 'numpy was imported'\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    import ast
    from pathlib import Path

    import rnncli.text

    for path in Path(rnncli.text.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        names = {alias.name for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                 for alias in node.names} | {node.module for node in ast.walk(tree)
                                             if isinstance(node, ast.ImportFrom) and node.module}
        assert not any(name.split(".")[0] in ("torch", "typer", "rich") for name in names), path


def test_round_trip_keeps_a_missing_final_newline(tmp_path):
    vocab = tmp_path / "v.json"
    run_module("build-vocab", str(SAMPLE / "english.txt"), "-o", str(vocab), "--level", "char", "-q")
    text = "no newline at the end \u00e9\u2581"
    ids = run_module("encode", "-v", str(vocab), input=text.encode()).stdout
    assert not ids.endswith(b"\n")
    assert run_module("decode", "-v", str(vocab), input=ids).stdout == text.encode()


def test_generate_into_head_ends_quietly(tmp_path):
    run = tmp_path / "run"
    trained = run_module("train", str(SAMPLE / "english.txt"), "-o", str(run), "--level", "char", "--max-steps", "2",
                         "--hidden", "16", "--embed", "8", "-q")
    assert trained.returncode == 0, trained.stderr
    ends_quietly_into_head(f"generate -c {run} --prompt The --max-tokens 100000", "-c 10")


@pytest.mark.parametrize("level", ["char", "bpe"])
def test_encode_answers_each_line_of_a_pipe_before_the_input_ends(tmp_path, level):
    """Interactive use: a line written to encode's stdin comes back while stdin is still open."""

    vocab = tmp_path / "v.json"
    options = ["--vocab-size", "1000"] if level == "bpe" else []
    assert run_module("build-vocab", str(SAMPLE / "english.txt"), "-o", str(vocab), "--level", level, *options,
                      "-q").returncode == 0
    answers = answers_while_open(["encode", "-v", str(vocab)], [b"The miller.\n", b"The baker.\n"])
    assert all(answer.strip() for answer in answers)


@pytest.fixture(scope="module")
def exported_classifier(tmp_path_factory):
    from typer.testing import CliRunner

    from rnncli.cli import app

    run = tmp_path_factory.mktemp("served") / "clf"
    runner = CliRunner()
    for args in (["train", str(SAMPLE / "topics.tsv"), "-o", str(run), "--hidden", "8", "--embed", "8",
                  "--max-steps", "2", "--threads", "1", "-q"], ["export", "-c", str(run)]):
        assert runner.invoke(app, args).exit_code == 0
    return run


def test_pipeline_commands_import_neither_torch_nor_pydantic(tmp_path, exported_classifier):
    vocab = tmp_path / "v.json"
    subprocess.run([sys.executable, "-m", "rnncli", "build-vocab", str(SAMPLE / "english.txt"), "--level", "char",
                    "-o", str(vocab), "-q"], check=True)
    for args, stdin in ((["encode", "-v", str(vocab)], "hello\n"), (["decode", "-v", str(vocab)], "5 6 7\n"),
                        (["classify", "-c", str(exported_classifier)], "my invoice\n")):
        _, imported = probe_command(*args, stdin=stdin)
        assert not imported & {"torch", "pydantic"}, (args[0], imported & {"torch", "pydantic"})


def test_pipeline_commands_start_fast_beside_a_bare_interpreter(tmp_path, exported_classifier):
    """Start-up measured against `python -c pass` in the same run; the bounds are loose (a loaded CI
    machine), but importing torch (seconds) would break them."""
    import statistics
    import time

    vocab = tmp_path / "v.json"
    subprocess.run([sys.executable, "-m", "rnncli", "build-vocab", str(SAMPLE / "english.txt"), "--level", "char",
                    "-o", str(vocab), "-q"], check=True)

    def median(command: list[str], stdin: bytes) -> float:
        times = []
        for _ in range(3):
            began = time.perf_counter()
            subprocess.run(command, input=stdin, capture_output=True, check=True)
            times.append(time.perf_counter() - began)
        return statistics.median(times)

    bare = median([sys.executable, "-c", "pass"], b"")
    encode = median([sys.executable, "-m", "rnncli", "encode", "-v", str(vocab)], b"")
    classify = median([sys.executable, "-m", "rnncli", "classify", "-c", str(exported_classifier)], b"hi\n")
    assert encode - bare < 0.5, (encode, bare)
    assert classify - bare < 0.9, (classify, bare)
