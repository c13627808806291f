"""Shell conventions: a corpus from a pipe, a run directory you need not name, completion, examples
in every --help, a run reproduced from its config, `info`, and TensorBoard."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys

import pytest
import typer

from rnncli.run.directory import fresh_run_dir
from rnncli.cli import app
from rnncli.cli.examples import EXAMPLES
from tests.conftest import SAMPLE, assert_one_error

TINY = ["--hidden", "16", "--embed", "8", "--threads", "1", "--precision", "fp32", "--max-steps", "4",
        "--eval-every", "2"]


def curve(run) -> list[tuple[int, float, float]]:  # type: ignore[no-untyped-def]
    """The figures a run learned: step, training and validation loss (not its timings)."""
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [(r["step"], r["train_loss"], r["val_loss"]) for r in records]


# ----- a corpus from a pipe ---------------------------------------------------------------------

@pytest.mark.parametrize("level", ["char", "word"])
def test_training_from_stdin_equals_training_from_the_file(cli, tmp_path, level):
    corpus = SAMPLE / "english.txt"
    common = ["--level", level, "--seed", "3", *TINY]
    cli.ok("train", corpus, "-o", tmp_path / "file", "-q", *common)
    piped = cli.ok("train", "-", "-o", tmp_path / "pipe", "-q", *common, input=corpus.read_bytes())
    assert piped.stdout == ""
    assert curve(tmp_path / "pipe") == curve(tmp_path / "file")
    config = json.loads((tmp_path / "pipe" / "config.json").read_text())
    assert config["plan"]["args"]["corpus"] == ["-"]


def test_a_labelled_pipe_trains_a_classifier(cli, tmp_path):
    result = cli.ok("train", "-", "-o", tmp_path / "clf", *TINY, input=(SAMPLE / "topics.tsv").read_bytes())
    assert "task: classify" in result.stderr
    assert (tmp_path / "clf" / "labels.json").is_file()


def test_the_copy_of_stdin_is_removed_and_a_failed_read_leaves_no_run(cli, tmp_path):
    cache = tmp_path / "cache"
    result = cli("train", "-", "-o", tmp_path / "run", "--level", "char", input=b"",
                 env={"RNNCLI_CACHE_DIR": str(cache)})
    assert_one_error(result, 1, "empty corpus")
    assert not (tmp_path / "run").exists()
    assert list(cache.iterdir()) == []
    cli.ok("train", "-", "-o", tmp_path / "ok", "--level", "char", *TINY, input=b"some text to learn\n" * 50)
    leftovers = [p.name for p in (tmp_path.parent / "token-cache").glob(".stdin.*")]
    assert leftovers == []


def test_validation_text_cannot_come_from_stdin(cli, tmp_path):
    result = cli("train", SAMPLE / "english.txt", "--valid", "-", "-o", tmp_path / "run", input="x\n")
    assert_one_error(result, 2, "--valid cannot read stdin")


# ----- the run directory ------------------------------------------------------------------------

def test_without_output_a_run_gets_a_named_directory(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli.ok("train", SAMPLE / "english.txt", *TINY)
    named = re.search(r"run directory: (runs/lstm-char-\d{8}-\d{6})", result.stderr)
    assert named, result.stderr
    assert (tmp_path / named.group(1) / "config.json").is_file()
    assert result.stdout == ""
    printed = cli.ok("train", SAMPLE / "topics.tsv", "--model", "gru", "-q", "--print-run-dir", *TINY)
    path = printed.stdout.strip()
    assert re.fullmatch(r"runs/gru-word-\d{8}-\d{6}(-\d+)?", path) and (tmp_path / path / "best.safetensors").is_file()
    assert printed.stderr == ""


def test_run_directories_started_in_the_same_second_differ(tmp_path):
    first, second = fresh_run_dir(tmp_path / "runs", "lstm-char-x"), fresh_run_dir(tmp_path / "runs", "lstm-char-x")
    assert (first.name, second.name) == ("lstm-char-x", "lstm-char-x-2")


def test_resume_needs_the_run_it_continues(cli):
    assert_one_error(cli("train", "--resume"), 2, "--resume needs --output")


# ----- completion and examples ------------------------------------------------------------------

def complete(words: str, cwd=None) -> list[str]:  # type: ignore[no-untyped-def]
    """What bash's completion function would offer for the line ``words`` (cursor at its end)."""
    env = {**os.environ, "_RNNCLI_COMPLETE": "complete_bash", "COMP_WORDS": words,
           "COMP_CWORD": str(len(shlex.split(words)) - (0 if words.endswith(" ") else 1))}
    done = subprocess.run([sys.executable, "-m", "rnncli"], env=env, capture_output=True, text=True, cwd=cwd,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_bash_completes_commands_options_and_run_directories(tmp_path, cli):
    assert "train" in complete("rnncli tr")
    assert {"--time-budget", "--tie-weights"} <= set(complete("rnncli train --ti"))
    cli.ok("train", SAMPLE / "english.txt", "-o", tmp_path / "runs" / "first", "-q", *TINY)
    (tmp_path / "notes").mkdir()
    assert complete("rnncli generate -c ", cwd=tmp_path) == ["runs/"]
    assert complete("rnncli generate -c runs/", cwd=tmp_path) == ["runs/first"]


def test_completion_scripts_install_for_bash_and_show_for_zsh_and_fish(tmp_path):
    """Typer detects the user's shell; the test names it instead (Typer's switch for that)."""
    env = {**os.environ, "HOME": str(tmp_path), "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}

    def rnncli(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "rnncli", *args], env=env, capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "bash completion installed" in rnncli("--install-completion", "bash")
    scripts = list(tmp_path.rglob("rnncli*"))
    assert scripts and "_RNNCLI_COMPLETE=complete_bash" in scripts[0].read_text()
    assert "rnncli" in (tmp_path / ".bashrc").read_text()
    assert "compdef _rnncli_completion rnncli" in rnncli("--show-completion", "zsh")
    assert "complete --command rnncli" in rnncli("--show-completion", "fish")


def commands() -> dict[str, typer.main.TyperCommand]:  # type: ignore[name-defined]
    return typer.main.get_command(app).commands  # type: ignore[attr-defined, no-any-return]


def test_every_command_ends_its_help_with_examples(cli):
    assert set(commands()) == set(EXAMPLES)
    for name in commands():
        shown = cli.ok(name, "--help").stdout
        assert "Examples:" in shown, name
        assert len(re.findall(r"rnncli " + re.escape(name), shown)) >= 2, shown


def test_examples_use_only_options_their_command_has():
    lines = [line for examples in EXAMPLES.values() for line in examples]
    for name, command in commands().items():
        known = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}
        for line in lines:
            for segment in re.findall(r"rnncli " + re.escape(name) + r"(?![-\w])([^|>)#]*)", line):
                used = {w.split("=")[0] for w in shlex.split(segment) if re.match(r"--?[a-zA-Z]", w)}
                assert used <= known, (name, line, used - known)


# ----- a run reproduced from its config ---------------------------------------------------------

def test_config_reproduces_a_run_and_flags_override_it(cli, tmp_path):
    cli.ok("train", SAMPLE / "english.txt", "-o", tmp_path / "a", "--level", "word", "--seed", "7", "-q", *TINY)
    cli.ok("train", "--config", tmp_path / "a" / "config.json", "-o", tmp_path / "b", "-q")
    assert curve(tmp_path / "b") == curve(tmp_path / "a")
    plan = json.loads((tmp_path / "b" / "config.json").read_text())["plan"]
    assert plan["args"]["config"] == str(tmp_path / "a" / "config.json")
    assert plan["args"]["level"] == "word" and plan["args"]["seed"] == 7
    cli.ok("train", "--config", tmp_path / "a", "-o", tmp_path / "c", "--seed", "8", "--max-steps", "2", "-q")
    other = json.loads((tmp_path / "c" / "config.json").read_text())["plan"]["args"]
    assert (other["seed"], other["max_steps"], other["hidden"]) == (8, 2, 16)
    assert curve(tmp_path / "c") != curve(tmp_path / "a")[:1]


def test_config_applies_only_what_the_user_gave(cli, tmp_path):
    """Options the planner chose are chosen again for the new corpus, not copied."""
    cli.ok("train", SAMPLE / "english.txt", "-o", tmp_path / "a", "--level", "char", "-q", *TINY)
    cli.ok("train", "--config", tmp_path / "a", SAMPLE / "topics.tsv", "--task", "lm", "-o", tmp_path / "b", "-q")
    a, b = (json.loads((tmp_path / r / "config.json").read_text()) for r in "ab")
    assert b["plan"]["args"]["corpus"] == [str(SAMPLE / "topics.tsv")]
    assert b["model"]["vocab_size"] != a["model"]["vocab_size"]


# ----- info -------------------------------------------------------------------------------------

def info(cli, run) -> dict:  # type: ignore[no-untyped-def, type-arg]
    shown = cli.ok("info", "-c", run, "--json")
    assert shown.stderr == ""
    return json.loads(shown.stdout)  # type: ignore[no-any-return]


def test_info_of_a_language_model(cli, tmp_path):
    import rnncli

    run = rnncli.train(SAMPLE / "english.txt", tmp_path / "lm", level="char", hidden=16, embed=8, max_steps=4,
                       eval_every=2, threads=1)
    facts = info(cli, tmp_path / "lm")
    assert facts == json.loads(json.dumps(rnncli.describe(tmp_path / "lm")))
    assert facts["task"] == "lm" and facts["model"]["hidden"] == 16
    assert facts["parameters"] == sum(p.numel() for p in run.model.parameters())
    assert facts["vocabulary"] == {"level": "char", "size": len(run.vocab)}
    assert facts["steps"] == 4 and facts["last"]["step"] == 4
    assert facts["best"]["val_loss"] == min(r["val_loss"] for r in run.metrics)
    assert set(facts["files"]) >= {"config.json", "vocab.json", "best.safetensors", "last.safetensors"}
    assert facts["files"]["config.json"] == (tmp_path / "lm" / "config.json").stat().st_size
    assert facts["onnx"] is None and facts["labels"] is None
    text = cli.ok("info", "-c", tmp_path / "lm").stdout
    assert re.search(r"^parameters\s+" + f"{facts['parameters']:,}", text, re.M)
    assert re.search(r"^given\s+.*--hidden 16", text, re.M)


def test_info_of_a_classifier_and_of_a_resumed_run(cli, tmp_path):
    cli.ok("train", SAMPLE / "topics.tsv", "-o", tmp_path / "clf", "-q", *TINY)
    facts = info(cli, tmp_path / "clf")
    assert facts["task"] == "classify" and len(facts["labels"]) == facts["model"]["num_labels"] >= 2
    metrics = [json.loads(line) for line in (tmp_path / "clf" / "metrics.jsonl").read_text().splitlines()]
    assert facts["best"]["macro_f1"] == max(r["macro_f1"] for r in metrics)
    cli.ok("train", "-o", tmp_path / "clf", "--resume", "--max-steps", "8", "-q")
    resumed = info(cli, tmp_path / "clf")
    assert resumed["steps"] == 8 and resumed["seen"]["examples_seen"] > facts["seen"]["examples_seen"]
    assert resumed["plan"]["args"]["max_steps"] == 8
    assert "labels" in cli.ok("info", "-c", tmp_path / "clf").stdout


# ----- TensorBoard ------------------------------------------------------------------------------

def test_tensorboard_event_files_hold_the_metrics(cli, tmp_path):
    pytest.importorskip("tensorboard", reason="the tensorboard extra is not installed")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = tmp_path / "run"
    cli.ok("train", SAMPLE / "english.txt", "-o", run, "--log", "tensorboard", "-q", *TINY)
    events = EventAccumulator(str(run / "tensorboard"))
    events.Reload()
    logged = [(e.step, e.value) for e in events.Scalars("val_loss")]
    expected = [(step, val) for step, _, val in curve(run)]
    assert [s for s, _ in logged] == [s for s, _ in expected]
    assert all(abs(a - b) < 1e-5 for (_, a), (_, b) in zip(logged, expected))
    assert {"train_loss", "lr", "val_ppl"} <= set(events.Tags()["scalars"])


def test_tensorboard_missing_is_one_clear_error(cli, tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tensorboard" else real(name, *a))
    result = cli("train", SAMPLE / "english.txt", "-o", tmp_path / "run", "--log", "tensorboard")
    assert_one_error(result, 2, "pip install 'rnncli[tensorboard]'")
    assert not (tmp_path / "run").exists()
