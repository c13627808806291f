"""Shared fixtures: a CLI runner with stdout and stderr kept apart, and the real data."""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from rnncli.cli import app

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
SHARED = Path(os.environ.get("RNNCLI_SHARED_DATA", ROOT.parent / "shared" / "data"))


class Cli:
    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: Any, input: str | bytes | None = None,
                 env: dict[str, str] | None = None) -> Any:
        return self.runner.invoke(app, [str(a) for a in args], input=input, env=env)

    def ok(self, *args: Any, input: str | bytes | None = None) -> Any:
        result = self(*args, input=input)
        assert result.exit_code == 0, f"exit {result.exit_code}\n{result.stderr}\n{result.exception!r}"
        return result


@pytest.fixture
def cli() -> Cli:
    return Cli()


def shared(*parts: str) -> Path:
    """A file of ../shared/data, or skip the test saying why."""
    path = SHARED.joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"real data not available: {path} is absent")
    return path


def assert_one_error(result: Any, code: int = 1, contains: str = "") -> None:
    """The contract of every user error: one 'error:' line on stderr, no traceback, no stdout."""
    assert result.exit_code == code, (result.exit_code, result.stderr, result.exception)
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert contains in lines[0], lines[0]


def probe_command(*args: str, stdin: str = "") -> tuple[str, set[str]]:
    """Run an rnncli command in a fresh interpreter: its stdout and the top-level modules it imported."""
    import subprocess

    code = ("import sys\nfrom rnncli.cli import main\nsys.argv = ['rnncli', *sys.argv[1:]]\n"
            "try:\n    main()\nexcept SystemExit as stop:\n    assert not stop.code, stop.code\n"
            "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})), file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", code, *args], input=stdin, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout, set(done.stderr.strip().splitlines()[-1].split())


def run_module(*args: str, **kwargs: Any) -> Any:
    import subprocess

    return subprocess.run([sys.executable, "-m", "rnncli", *args], capture_output=True, **kwargs)


def answers_while_open(args: list[str], lines: list[bytes], timeout: float = 30) -> list[bytes]:
    """Write each line to ``rnncli ARGS``'s stdin and read one line back before writing the next:
    what the command answered, line by line, while its input was still open (it then exits 0)."""
    import select
    import subprocess

    process = subprocess.Popen([sys.executable, "-m", "rnncli", *args], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    answers = []
    try:
        for line in lines:
            process.stdin.write(line)
            process.stdin.flush()
            ready, _, _ = select.select([process.stdout], [], [], timeout)
            assert ready, "no output while the input was still open"
            answers.append(process.stdout.readline())
    finally:
        process.stdin.close()
        process.wait(timeout=timeout)
    assert process.returncode == 0
    return answers


def ends_quietly_into_head(command: str, head: str = "-1") -> None:
    """``rnncli COMMAND | head HEAD``: the reader stops early, and rnncli exits 0 with nothing on stderr."""
    import subprocess

    pipeline = f"{sys.executable} -m rnncli {command} | head {head} >/dev/null; echo ${{PIPESTATUS[0]}}"
    done = subprocess.run(["bash", "-c", pipeline], capture_output=True, text=True)
    assert done.stdout.strip() == "0" and done.stderr == ""


@pytest.fixture(autouse=True)
def _private_token_cache(tmp_path_factory, monkeypatch):
    """Tests never touch the user's token cache."""
    monkeypatch.setenv("RNNCLI_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "token-cache"))


def _repeating_corpus(path: Path, lines: int, seed: int) -> None:
    """Paragraphs of 12 lines about one of 150 names: no model of the words can know the name of a
    paragraph before it appears, a cache can once it has."""
    rng = random.Random(seed)
    names = [f"name{k}" for k in range(150)]
    verbs, places = ["met", "saw", "left", "found", "followed"], ["the river", "the town", "the hill", "a farm"]
    out = []
    for _ in range(lines // 12):
        name = rng.choice(names)
        out += [f"{name} {rng.choice(verbs)} {rng.choice(names)} near {rng.choice(places)} ." for _ in range(12)]
    path.write_text("\n".join(out) + "\n")


@pytest.fixture(scope="session")
def cached_run(tmp_path_factory):
    """A tiny word model of a text whose paragraphs repeat their names, with both caches fitted."""
    work = tmp_path_factory.mktemp("cached-lm")
    _repeating_corpus(work / "train.txt", 2400, 0)
    _repeating_corpus(work / "valid.txt", 480, 1)
    _repeating_corpus(work / "test.txt", 480, 2)
    result = CliRunner().invoke(app, ["train", str(work / "train.txt"), "--valid", str(work / "valid.txt"), "-o",
                                      str(work / "lm"), "--level", "word", "--max-steps", "150", "--hidden", "32",
                                      "--embed", "16", "--threads", "1", "--precision", "fp32"])
    assert result.exit_code == 0, result.stderr
    assert "unigram cache: window" in result.stderr and "neural cache: window" in result.stderr
    return work
