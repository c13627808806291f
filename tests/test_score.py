"""score: one JSON line per input line, summing to what evaluate reports."""

from __future__ import annotations

import json
import random

import pytest

from tests.conftest import SAMPLE, assert_one_error

TINY = ["--hidden", "32", "--embed", "16", "--threads", "1", "--precision", "fp32", "--eval-every", "20", "-q"]


@pytest.fixture(scope="module")
def char_run(tmp_path_factory):
    from typer.testing import CliRunner

    from rnncli.cli import app

    run = tmp_path_factory.mktemp("score") / "lm"
    result = CliRunner().invoke(app, ["train", str(SAMPLE / "english.txt"), "-o", str(run), "--level", "char",
                                      "--max-steps", "60", *TINY])
    assert result.exit_code == 0, result.stderr
    return run


def records(result) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_scores_of_a_document_sum_to_evaluate(cli, char_run, tmp_path):
    text = tmp_path / "doc.txt"
    text.write_text("\n".join((SAMPLE / "english-valid.txt").read_text().splitlines()[:40]) + "\n")
    scored = records(cli.ok("score", "-c", char_run, text, "--carry-state"))
    report = json.loads(cli.ok("evaluate", "-c", char_run, text, "--json").stdout)
    total = -sum(r["logprob"] for r in scored)
    assert total == pytest.approx(report["loss"] * (report["tokens"] - 1), rel=1e-6)
    assert sum(r["tokens"] for r in scored) == report["tokens"] - 1


def test_each_line_scores_alone_whatever_it_is_batched_with(cli, char_run, tmp_path):
    lines = (SAMPLE / "english-valid.txt").read_text().splitlines()[:70]  # more than one block of 64
    together = records(cli.ok("score", "-c", char_run, input="\n".join(lines) + "\n"))
    alone = [records(cli.ok("score", "-c", char_run, input=line + "\n"))[0] for line in lines[60:70]]
    assert [r["text"] for r in together] == lines
    for a, b in zip(together[60:70], alone):
        assert a["logprob"] == pytest.approx(b["logprob"], rel=1e-5)
        assert a["tokens"] == len(b["text"]) + 1  # characters and the <eos> that ends the line


def test_per_token_surprisal_adds_up(cli, char_run):
    result = cli.ok("score", "-c", char_run, "--per-token", input="the river\n")
    assert result.stderr == ""
    (record,) = records(result)
    assert [t["token"] for t in record["per_token"]][:3] == ["t", "h", "e"]
    assert sum(t["logprob"] for t in record["per_token"]) == pytest.approx(record["logprob"], rel=1e-6)
    assert record["ppl"] > 1 and record["bpc"] > 0


def test_a_line_of_random_characters_scores_lowest(cli, char_run):
    rng = random.Random(0)
    lines = (SAMPLE / "english-valid.txt").read_text().splitlines()[:30]
    lines.insert(17, "".join(rng.choice("qxzjkvw#@%&*0123456789") for _ in range(60)))
    scored = records(cli.ok("score", "-c", char_run, input="\n".join(lines) + "\n"))
    assert max(range(len(scored)), key=lambda i: scored[i]["bpc"]) == 17


def test_score_needs_a_language_model(cli, tmp_path):
    cli.ok("train", SAMPLE / "topics.tsv", "-o", tmp_path / "clf", "--max-steps", "2", *TINY)
    assert_one_error(cli("score", "-c", tmp_path / "clf", input="x\n"), 1, "holds a classifier")
