"""Distributed training on torchrun with gloo: 2 processes match 1 process with the same global batch."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import SAMPLE

COMMON = ["--hidden", "32", "--embed", "16", "--dropout", "0", "--threads", "1", "--precision", "fp32", "-q",
          "--seed", "5"]


def torchrun(nproc: int, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}",
               "-m", "rnncli", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})})


def losses(run) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("task, data, extra", [
    ("lm", SAMPLE / "english.txt", ["--level", "char", "--batch-size", "8", "--bptt", "16"]),
    ("classify", SAMPLE / "topics.tsv", ["--batch-size", "16"]),
])
def test_two_gloo_processes_match_one(tmp_path, task, data, extra):
    args = ["train", str(data), "--task", task, "--max-steps", "12", "--eval-every", "4", *COMMON, *extra]
    one = torchrun(1, *args, "-o", str(tmp_path / "one"))
    assert one.returncode == 0, one.stderr[-3000:]
    two = torchrun(2, *args, "-o", str(tmp_path / "two"))
    assert two.returncode == 0, two.stderr[-3000:]
    a, b = losses(tmp_path / "one"), losses(tmp_path / "two")
    assert [r["step"] for r in a] == [r["step"] for r in b] == [4, 8, 12]
    for x, y in zip(a, b):
        assert abs(x["val_loss"] - y["val_loss"]) < 2e-3 * max(1.0, abs(x["val_loss"]))
        assert abs(x["train_loss"] - y["train_loss"]) < 2e-3 * max(1.0, abs(x["train_loss"]))
    files = {p.name for p in (tmp_path / "two").iterdir()}
    assert {"config.json", "vocab.json", "best.safetensors", "last.safetensors", "metrics.jsonl"} <= files
    shown = subprocess.run([sys.executable, "-m", "rnncli", "info", "-c", str(tmp_path / "two"), "--json"],
                           capture_output=True, text=True, timeout=120)
    facts = json.loads(shown.stdout)
    assert facts["plan"]["machine"]["world"] == 2 and facts["steps"] == 12
    assert facts["last"]["val_loss"] == b[-1]["val_loss"]
    assert "2 processes" in subprocess.run([sys.executable, "-m", "rnncli", "info", "-c", str(tmp_path / "two")],
                                           capture_output=True, text=True, timeout=120).stdout


def test_distributed_resume_across_world_sizes(tmp_path):
    run = tmp_path / "run"
    args = ["train", str(SAMPLE / "english.txt"), "--level", "char", "--batch-size", "8", "--bptt", "16", *COMMON]
    first = torchrun(2, *args, "--max-steps", "6", "--eval-every", "3", "-o", str(run))
    assert first.returncode == 0, first.stderr[-3000:]
    resumed = torchrun(1, "train", "-o", str(run), "--resume", "--max-steps", "9", "-q")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert [r["step"] for r in losses(run)][-1] == 9
