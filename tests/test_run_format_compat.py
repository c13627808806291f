"""Run directories written by earlier versions keep working.

tests/fixtures/lm-v1 and classify-v1 were written by rnncli at commit 3020afc (run format 1):

    head -c 20000 sample_data/english.txt > e.txt
    rnncli train e.txt -o lm-v1 --level char --hidden 16 --embed 8 --max-steps 4 --batch-size 4 \
        --bptt 10 --seed 1
    head -200 sample_data/topics.tsv > t.tsv
    rnncli train t.tsv -o classify-v1 --level char --hidden 8 --embed 8 --max-steps 4 --batch-size 8

The figures asserted here are what that version printed for them (the classifier's probabilities
and confusion matrix read again with that commit's code in a scratch worktree).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE = Path(__file__).parent.parent / "sample_data"


@pytest.fixture
def old_runs(tmp_path, monkeypatch):
    for name in ("lm-v1", "classify-v1"):
        shutil.copytree(FIXTURES / name, tmp_path / name)
    (tmp_path / "e.txt").write_bytes((SAMPLE / "english.txt").read_bytes()[:20000])
    (tmp_path / "t.tsv").write_text("".join((SAMPLE / "topics.tsv").read_text().splitlines(True)[:200]))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_old_language_model_evaluates_as_before(old_runs, cli):
    report = json.loads(cli.ok("evaluate", "-c", "lm-v1", SAMPLE / "english-valid.txt", "--json").stdout)
    assert report["tokens"] == 23586 and report["chars"] == 23586
    assert report["loss"] == pytest.approx(5.7002, abs=0.01)


def test_old_language_model_generates(old_runs, cli):
    out = cli.ok("generate", "-c", "lm-v1", "--prompt", "The", "--temperature", "0", "--max-tokens", "20").stdout
    assert out.startswith("The") and out.endswith("\n")


def test_old_classifier_classifies_and_evaluates_as_before(old_runs, cli):
    rows = [json.loads(line) for line in cli.ok("classify", "-c", "classify-v1", "-k", "2", "--format", "jsonl",
                                                input="my card was charged twice\n").stdout.splitlines()]
    # read in bf16 where the CPU computes it, as that version did, else in fp32: equal to bf16's rounding
    assert [row["labels"] for row in rows] == [["billing", "technical"]]
    assert rows[0]["probs"] == pytest.approx([0.271695, 0.266961], abs=2e-4)
    test = old_runs / "tt.tsv"
    test.write_text("".join((SAMPLE / "topics-test.tsv").read_text().splitlines(True)[:50]))
    report = json.loads(cli.ok("evaluate", "-c", "classify-v1", test, "--json").stdout)
    assert report["examples"] == 50
    assert report["accuracy"] == pytest.approx(0.22, abs=1e-9)
    # every prediction as that version made it: not a constant classifier (two labels predicted)
    assert report["confusion"] == [[0, 7, 0, 4], [0, 3, 0, 6], [0, 3, 0, 13], [0, 6, 0, 8]]


@pytest.mark.parametrize("name", ["lm-v1", "classify-v1"])
def test_old_runs_resume(old_runs, cli, name):
    result = cli.ok("train", "-o", name, "--resume", "--max-steps", "6", "--quiet")
    assert result.stdout == ""
    records = [json.loads(line) for line in (old_runs / name / "metrics.jsonl").read_text().splitlines()]
    assert records[-1]["step"] == 6
