"""The bad-input battery: every command, every kind of bad input, one clean error each.

Each case asserts: exit status 1 (2 for usage errors), exactly one ``error:`` line (or typer's
usage message) on stderr, no traceback, nothing on stdout, and no file created or modified.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import shutil
from pathlib import Path
from typing import Callable

import pytest

from tests.conftest import SAMPLE

TINY_LM = ["--level", "char", "--hidden", "16", "--embed", "8", "--batch-size", "4", "--bptt", "8",
           "--max-steps", "2", "--threads", "1", "-q"]
TINY_CLF = ["--task", "classify", "--hidden", "8", "--embed", "8", "--max-steps", "2", "--threads", "1", "-q"]


class Pickled:
    """Unpickling this would create a file: proof that a loader ran code."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (open, (self.marker, "w"))


@pytest.fixture(scope="module")
def assets(tmp_path_factory):
    from typer.testing import CliRunner

    from rnncli.cli import app

    root = tmp_path_factory.mktemp("assets")
    runner = CliRunner()
    for args in (["build-vocab", str(SAMPLE / "english.txt"), "-o", str(root / "vocab.json"), "-q"],
                 ["train", str(SAMPLE / "english.txt"), "-o", str(root / "lm"), *TINY_LM],
                 ["train", str(SAMPLE / "topics.tsv"), "-o", str(root / "clf"), *TINY_CLF]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.stderr
    (root / "text.txt").write_text("the old miller\n")
    (root / "bad-utf8.txt").write_bytes(b"fine\n\xc3\x28 broken\n")
    (root / "empty.txt").write_text("")
    (root / "no-tab.tsv").write_text("ham\thello\nthis line has no tab\n")
    (root / "one-label.tsv").write_text("ham\thello\nham\tworld\n")
    (root / "newer-vocab.json").write_text(json.dumps({**json.loads((root / "vocab.json").read_text()), "version": 9}))
    (root / "hf-tokenizer.json").write_text('{"version": "1.0", "model": {"type": "BPE", "vocab": {}}}')
    (root / "truncated-vocab.json").write_bytes((root / "vocab.json").read_bytes()[:100])
    return root


def edit_json(path: Path, **changes) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(path.read_text())
    for key, value in changes.items():
        target = data
        *parents, leaf = key.split("__")
        for parent in parents:
            target = target[parent]
        target[leaf] = value
    path.write_text(json.dumps(data))


def pickle_as(name: str) -> Callable[[Path], None]:
    def setup(tmp: Path) -> None:
        (tmp / name).write_bytes(pickle.dumps(Pickled(str(tmp / "PWNED"))))
    return setup


def truncate(name: str, keep: int) -> Callable[[Path], None]:
    def setup(tmp: Path) -> None:
        path = tmp / name
        path.write_bytes(path.read_bytes()[:keep])
    return setup


def other_vocab(tmp: Path) -> None:
    shutil.copy(tmp / "vocab.json", tmp / "lm" / "vocab.json")


CASES = [
    # id, args, stdin, exit code, message, setup
    ("vocab-missing-file", ["build-vocab", "{tmp}/nope.txt", "-o", "{tmp}/out.json"], None, 1, "no such file", None),
    ("vocab-directory", ["build-vocab", "{tmp}", "-o", "{tmp}/out.json"], None, 1, "is a directory", None),
    ("vocab-empty-corpus", ["build-vocab", "{tmp}/empty.txt", "-o", "{tmp}/out.json"], None, 1, "empty corpus", None),
    ("vocab-invalid-utf8", ["build-vocab", "{tmp}/bad-utf8.txt", "-o", "{tmp}/out.json"], None, 1, "bad-utf8.txt:2", None),
    ("vocab-min-freq-0", ["build-vocab", "{tmp}/text.txt", "-o", "{tmp}/out.json", "--min-freq", "0"], None, 2, "", None),
    ("vocab-unknown-level", ["build-vocab", "{tmp}/text.txt", "-o", "{tmp}/out.json", "--level", "morph"], None, 2, "", None),
    ("vocab-output-dir-missing", ["build-vocab", "{tmp}/text.txt", "-o", "{tmp}/no/such/dir/v.json"], None, 1, "no such directory", None),
    ("vocab-bpe-too-small", ["build-vocab", "{tmp}/text.txt", "-o", "{tmp}/out.json", "--level", "bpe", "--vocab-size", "50"], None, 2, "--vocab-size", None),
    ("vocab-stdin-twice", ["build-vocab", "-", "-", "-o", "{tmp}/out.json"], "x\n", 2, "only once", None),
    ("encode-foreign-vocab", ["encode", "-v", "{tmp}/hf-tokenizer.json"], "x\n", 1, "not an rnncli vocabulary", None),
    ("encode-newer-vocab", ["encode", "-v", "{tmp}/newer-vocab.json"], "x\n", 1, "newer", None),
    ("encode-truncated-vocab", ["encode", "-v", "{tmp}/truncated-vocab.json"], "x\n", 1, "invalid JSON", None),
    ("encode-pickle-vocab", ["encode", "-v", "{tmp}/evil.json"], "x\n", 1, "not a vocabulary file", pickle_as("evil.json")),
    ("encode-max-len-0", ["encode", "-v", "{tmp}/vocab.json", "--max-len", "0"], "x\n", 2, "", None),
    ("encode-pad-negative", ["encode", "-v", "{tmp}/vocab.json", "--pad-to", "-3"], "x\n", 2, "", None),
    ("encode-invalid-utf8", ["encode", "-v", "{tmp}/vocab.json", "{tmp}/bad-utf8.txt", "-o", "{tmp}/ids.txt"], None, 1, "bad-utf8.txt:2", None),
    ("encode-output-is-dir", ["encode", "-v", "{tmp}/vocab.json", "{tmp}/text.txt", "-o", "{tmp}/lm"], None, 1, "is a directory", None),
    ("encode-bad-format", ["encode", "-v", "{tmp}/vocab.json", "--format", "xml"], "x\n", 2, "", None),
    ("decode-words-not-ids", ["decode", "-v", "{tmp}/vocab.json"], "5 six 7\n", 1, "<stdin>:1", None),
    ("decode-id-out-of-range", ["decode", "-v", "{tmp}/vocab.json"], "5\n-1\n", 1, "<stdin>:2", None),
    ("decode-nul-bytes", ["decode", "-v", "{tmp}/vocab.json"], "5\x006\n", 1, "<stdin>:1", None),
    ("train-missing-corpus", ["train", "{tmp}/nope.txt", "-o", "{tmp}/run"], None, 1, "no such file", None),
    ("train-valid-from-stdin", ["train", "{tmp}/text.txt", "--valid", "-", "-o", "{tmp}/run"], "x\n", 2,
     "--valid cannot read stdin", None),
    ("train-config-not-a-run", ["train", "--config", "{tmp}/nowhere", "-o", "{tmp}/run"], None, 1, "no such run", None),
    ("train-config-and-resume", ["train", "--config", "{tmp}/lm", "-o", "{tmp}/lm", "--resume"], None, 2, "one of them", None),
    ("train-log-unknown", ["train", "{tmp}/text.txt", "-o", "{tmp}/run", "--log", "wandb"], None, 2, "", None),
    ("train-empty-corpus", ["train", "{tmp}/empty.txt", "-o", "{tmp}/run", "--level", "char"], None, 1, "empty corpus", None),
    ("train-hidden-0", ["train", "{tmp}/text.txt", "-o", "{tmp}/run", "--hidden", "0"], None, 2, "", None),
    ("train-dropout-1", ["train", "{tmp}/text.txt", "-o", "{tmp}/run", "--dropout", "1.5"], None, 2, "", None),
    ("train-lr-0", ["train", "{tmp}/text.txt", "-o", "{tmp}/run", "--lr", "0", "--level", "char"], None, 2, "--lr", None),
    ("train-resume-no-output", ["train", "--resume"], None, 2, "--output", None),
    ("train-save-every-bogus", ["train", "{tmp}/text.txt", "-o", "{tmp}/run", "--save-every", "soon"], None, 2, "--save-every", None),
    ("train-resume-not-a-run", ["train", "-o", "{tmp}", "--resume"], None, 1, "missing config.json", None),
    ("train-foreign-vocab", ["train", "{tmp}/text.txt", "-o", "{tmp}/run", "--vocab", "{tmp}/hf-tokenizer.json"], None, 1, "not an rnncli vocabulary", None),
    ("train-tsv-missing-column", ["train", "{tmp}/no-tab.tsv", "-o", "{tmp}/run", "--task", "classify"], None, 1, "no-tab.tsv:2", None),
    ("train-one-label", ["train", "{tmp}/one-label.tsv", "-o", "{tmp}/run", "--task", "classify"], None, 1, "at least 2 labels", None),
    ("train-stdin-empty", ["train", "-", "-o", "{tmp}/run", "--level", "char"], "", 1, "empty corpus", None),
    ("train-huge-batch", ["train", "{tmp}/text.txt", "-o", "{tmp}/run", "--level", "char", "--batch-size", "1000"], None, 1, "too small", None),
    ("generate-no-run", ["generate", "-c", "{tmp}/nowhere", "--prompt", "x"], None, 1, "no such run directory", None),
    ("generate-truncated-weights", ["generate", "-c", "{tmp}/lm", "--prompt", "x"], None, 1, "best.safetensors", truncate("lm/best.safetensors", 40)),
    ("generate-pickled-weights", ["generate", "-c", "{tmp}/lm", "--prompt", "x"], None, 1, "best.safetensors", pickle_as("lm/best.safetensors")),
    ("generate-shape-mismatch", ["generate", "-c", "{tmp}/lm", "--prompt", "x"], None, 1, "shape", lambda t: edit_json(t / "lm/config.json", model__hidden=17)),
    ("generate-vocab-size-mismatch", ["generate", "-c", "{tmp}/lm", "--prompt", "x"], None, 1, "does not match", other_vocab),
    ("generate-newer-run-format", ["generate", "-c", "{tmp}/lm", "--prompt", "x"], None, 1, "newer", lambda t: edit_json(t / "lm/config.json", version=7)),
    ("generate-corrupt-config", ["generate", "-c", "{tmp}/lm", "--prompt", "x"], None, 1, "config.json", truncate("lm/config.json", 30)),
    ("generate-negative-temperature", ["generate", "-c", "{tmp}/lm", "--prompt", "x", "--temperature", "-1"], None, 2, "--temperature", None),
    ("generate-top-p-above-1", ["generate", "-c", "{tmp}/lm", "--prompt", "x", "--top-p", "2"], None, 2, "--top-p", None),
    ("generate-on-classifier", ["generate", "-c", "{tmp}/clf", "--prompt", "x"], None, 1, "holds a classifier", None),
    ("classify-on-lm", ["classify", "-c", "{tmp}/lm"], "x\n", 1, "holds a language model", None),
    ("classify-missing-labels", ["classify", "-c", "{tmp}/clf"], "x\n", 1, "missing labels.json", lambda t: (t / "clf/labels.json").unlink()),
    ("classify-threshold-2", ["classify", "-c", "{tmp}/clf", "--threshold", "2"], "x\n", 2, "", None),
    ("info-not-a-run", ["info", "-c", "{tmp}/nowhere"], None, 1, "no such run directory", None),
    ("info-truncated-weights", ["info", "-c", "{tmp}/lm"], None, 1, "best.safetensors", truncate("lm/best.safetensors", 4)),
    ("evaluate-tsv-no-tab", ["evaluate", "-c", "{tmp}/clf", "{tmp}/no-tab.tsv"], None, 1, "no-tab.tsv:2", None),
    ("evaluate-empty-text", ["evaluate", "-c", "{tmp}/lm", "{tmp}/empty.txt"], None, 1, "too little text", None),
    ("evaluate-invalid-utf8", ["evaluate", "-c", "{tmp}/lm", "{tmp}/bad-utf8.txt"], None, 1, "bad-utf8.txt:2", None),
    ("sample-data-zero-lines", ["sample-data", "english", "--lines", "0", "-o", "{tmp}/s.txt"], None, 2, "", None),
    ("unknown-command", ["trian"], None, 2, "", None),
]


def snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(root.rglob("*")) if p.name != ".lock"}


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input(case, assets, tmp_path, cli):
    name, args, stdin, code, message, setup = case
    work = tmp_path / "w"
    shutil.copytree(assets, work)
    if setup is not None:
        setup(work)
    before = snapshot(work)
    result = cli(*[a.format(tmp=work) for a in args], input=stdin)
    assert result.exit_code == code, (result.exit_code, result.stderr, result.exception)
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if line.lower().startswith("error")]
    usage = "Usage:" in result.stderr or "Usage" in result.stderr
    assert len(errors) == 1 or (code == 2 and usage), result.stderr
    if errors and message:
        assert message in result.stderr, result.stderr
    assert snapshot(work) == before
    assert not (work / "PWNED").exists()


def test_battery_is_large_enough():
    assert len(CASES) >= 30
    commands = {args[0] for _, args, *_ in CASES}
    assert {"build-vocab", "encode", "decode", "train", "generate", "classify", "evaluate", "sample-data"} <= commands
