"""Nothing lost: exact resume (also after kill -9), signals, locks, numerical failure."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import SAMPLE, assert_one_error

TIMING = {"elapsed_s", "tokens_per_sec", "examples_per_sec", "eval_s"}
LM = ["--level", "char", "--hidden", "32", "--embed", "16", "--batch-size", "4", "--bptt", "16",
      "--threads", "1", "--dropout", "0.1", "--seed", "3"]
CLASSIFY = ["--task", "classify", "--hidden", "16", "--embed", "16", "--batch-size", "16", "--threads", "1",
            "--seed", "3"]


def curve(run):
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in row.items() if k not in TIMING} for row in rows]


def train_process(*args, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "rnncli", "train", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


@pytest.mark.parametrize("data, options", [(SAMPLE / "english.txt", LM), (SAMPLE / "topics.tsv", CLASSIFY)],
                         ids=["language-model", "classifier"])
def test_interrupted_and_resumed_equals_uninterrupted(tmp_path, cli, data, options):
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    common = ["--max-steps", "40", "--eval-every", "4", *options]
    cli.ok("train", data, "-o", whole, "-q", *common)
    process = train_process(data, "-o", parts, *common)
    for line in process.stderr:
        if line.startswith("eval at step 12"):
            process.send_signal(signal.SIGINT)
            break
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "stopped at step" in err
    cli.ok("train", "-o", parts, "--resume", "-q")
    assert curve(parts) == curve(whole)


def test_kill_9_mid_run_then_resume_gives_the_same_curve(tmp_path, cli):
    data = SAMPLE / "english.txt"
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    common = ["--max-steps", "60", "--eval-every", "10", "--save-every", "3", *LM]
    cli.ok("train", data, "-o", whole, "-q", *common)
    process = train_process(data, "-o", killed, *common)
    for line in process.stderr:
        if line.startswith("eval at step 30"):
            break
    time.sleep(0.05)
    process.kill()
    process.wait()
    assert process.returncode == -signal.SIGKILL
    result = cli("train", "-o", killed, "--resume", "-q")
    assert result.exit_code == 0, result.stderr
    assert curve(killed) == curve(whole)


def test_sigterm_saves_and_says_how_to_resume(tmp_path):
    run = tmp_path / "run"
    process = train_process(SAMPLE / "english.txt", "-o", run, "--max-steps", "100000", "--eval-every", "5",
                            "--save-every", "100000", *LM)
    for line in process.stderr:
        if line.startswith("eval at step 5"):
            break
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143
    assert "--resume" in err and "Traceback" not in err
    assert (run / "last.safetensors").is_file()


def test_a_second_trainer_on_the_same_directory_is_refused(tmp_path, cli):
    run = tmp_path / "run"
    process = train_process(SAMPLE / "english.txt", "-o", run, "--max-steps", "100000", "--eval-every", "5", *LM)
    try:
        for line in process.stderr:
            if line.startswith("eval at step 5"):
                break
        config = (run / "config.json").read_text()
        result = cli("train", "-o", run, "--resume")
        assert_one_error(result, 1, "is in use by process")
        assert (run / "config.json").read_text() == config
    finally:
        process.kill()
        process.wait()
    # the dead process's lock is recovered
    assert cli("train", "-o", run, "--resume", "--max-steps", "6", "-q").exit_code == 0


def test_an_existing_run_is_not_overwritten_by_accident(tmp_path, cli):
    run = tmp_path / "run"
    cli.ok("train", SAMPLE / "english.txt", "-o", run, "--max-steps", "2", "-q", *LM)
    before = (run / "last.safetensors").read_bytes()
    assert_one_error(cli("train", SAMPLE / "english.txt", "-o", run, *LM), 2, "already holds a run")
    assert (run / "last.safetensors").read_bytes() == before
    cli.ok("train", SAMPLE / "english.txt", "-o", run, "--max-steps", "2", "--force", "-q", *LM)


def test_a_failed_start_leaves_no_run_directory(tmp_path, cli):
    run = tmp_path / "run"
    assert_one_error(cli("train", tmp_path / "missing.txt", "-o", run), 1, "no such file")
    assert not run.exists()


def test_non_finite_loss_stops_with_remedies_and_keeps_a_checkpoint(tmp_path, cli):
    run = tmp_path / "run"
    result = cli("train", SAMPLE / "english.txt", "-o", run, "--max-steps", "50", "--lr", "1e30", "--clip", "0",
                 "--precision", "fp32", *LM)
    assert_one_error(result, 1, "not finite")
    assert "--lr" in result.stderr and "--clip" in result.stderr
    assert (run / "last.safetensors").is_file()


def test_on_nan_skip_counts_skipped_batches(tmp_path, cli):
    run = tmp_path / "run"
    cli.ok("train", SAMPLE / "english.txt", "-o", run, "--max-steps", "12", "--eval-every", "12", "--lr", "1e30",
           "--clip", "0", "--on-nan", "skip", "--precision", "fp32", "-q", *LM)
    assert curve(run)[-1]["nan_skipped"] > 0


def test_no_temporary_files_are_left_behind(tmp_path, cli):
    run = tmp_path / "run"
    cli.ok("train", SAMPLE / "english.txt", "-o", run, "--max-steps", "4", "--eval-every", "2", "-q", *LM)
    assert not [p.name for p in run.iterdir() if p.name.endswith(".tmp")]
    assert os.path.getsize(run / "best.safetensors") > 0
