"""Language-model workflows: samples while training, beam search and best-of-N, fine-tuning from
another run."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.conftest import SAMPLE, assert_one_error

TINY = ["--hidden", "32", "--embed", "16", "--threads", "1", "--precision", "fp32", "-q"]


@pytest.fixture(scope="module")
def char_run(tmp_path_factory):
    from typer.testing import CliRunner

    from rnncli.cli import app

    run = tmp_path_factory.mktemp("workflows") / "lm"
    result = CliRunner().invoke(app, ["train", str(SAMPLE / "english.txt"), "-o", str(run), "--level", "char",
                                      "--max-steps", "120", "--eval-every", "60", *TINY])
    assert result.exit_code == 0, result.stderr
    return run


# ----- samples while training -------------------------------------------------------------------

def test_samples_at_evaluations_go_to_stderr_and_samples_jsonl(cli, tmp_path):
    run = tmp_path / "run"
    result = cli("train", SAMPLE / "english.txt", "-o", run, "--level", "char", "--max-steps", "6", "--eval-every",
                 "2", "--sample-every", "2", "--sample-prompt", "The ", "--sample-tokens", "20",
                 "--hidden", "16", "--threads", "1")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    shown = [line for line in result.stderr.splitlines() if line.startswith("sample at step")]
    samples = [json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines()]
    assert [s["step"] for s in samples] == [4] and len(shown) == 1
    assert samples[0]["prompt"] == "The " and len(samples[0]["text"]) >= 10
    cli.ok("train", "-o", run, "--resume", "--max-steps", "8", "-q")
    steps = [json.loads(line)["step"] for line in (run / "samples.jsonl").read_text().splitlines()]
    assert steps == [4, 8]


def test_samples_are_for_language_models(cli, tmp_path):
    result = cli("train", SAMPLE / "topics.tsv", "-o", tmp_path / "clf", "--sample-every", "1")
    assert_one_error(result, 2, "--sample-every applies to language models only")


# ----- beam search and best of N ----------------------------------------------------------------

def test_beam_search_finds_likelier_text_than_greedy_and_is_deterministic(char_run):
    from rnncli.api import load
    from rnncli.tasks.language.engine import TorchLM
    from rnncli.infer.sampling import SamplingOptions, generate
    from rnncli.infer.search import beam_search, sequence_logprob

    trained = load(char_run)
    lm = TorchLM(trained.model)
    prompts = (SAMPLE / "english-valid.txt").read_text().split()[:20]
    greedy_options = SamplingOptions(max_tokens=25, temperature=0)
    wins, beam_sum, greedy_sum = 0, 0.0, 0.0
    for prompt in prompts:
        ids = trained.vocab.encode(prompt)
        greedy = [int(t[0]) for t in generate(lm, ids, greedy_options)]
        (best, total), *_ = beam_search(lm, ids, 5, 25, length_penalty=0.0)
        rescored, greedy_total = sequence_logprob(lm, ids, [best, greedy])
        assert total == pytest.approx(rescored, abs=1e-3)
        assert rescored >= greedy_total - 1e-4  # greedy is one of the paths the beam considered
        wins += rescored > greedy_total + 1e-4
        beam_sum, greedy_sum = beam_sum + rescored, greedy_sum + greedy_total
        assert beam_search(lm, ids, 5, 25, length_penalty=0.0)[0] == (best, total)
    assert wins >= 1 and beam_sum > greedy_sum


def test_generate_beam_and_best_of_from_the_command(cli, char_run):
    beams = [json.loads(line) for line in cli.ok("generate", "-c", char_run, "--prompt", "The ", "--beam", "3",
                                                 "--max-tokens", "20", "--format", "jsonl").stdout.splitlines()]
    assert [b["rank"] for b in beams] == [0, 1, 2]
    assert beams[0]["logprob"] >= beams[1]["logprob"] >= beams[2]["logprob"]
    text = cli.ok("generate", "-c", char_run, "--prompt", "The ", "--beam", "3", "--max-tokens", "20").stdout
    assert text == "The " + beams[0]["text"] + ("" if beams[0]["text"].endswith("\n") else "\n")
    best = [json.loads(line) for line in cli.ok("generate", "-c", char_run, "--prompt", "a", "--best-of", "4",
                                                "--seed", "2", "--max-tokens", "20", "-f", "jsonl").stdout.splitlines()]
    assert len(best) == 4 and np.all(np.diff([b["logprob"] for b in best]) <= 0)
    assert_one_error(cli("generate", "-c", char_run, "--beam", "2", "-n", "2"), 2, "--num-samples")


# ----- fine-tuning from another run -------------------------------------------------------------

def test_init_from_starts_where_the_other_run_ended(cli, char_run, tmp_path):
    best = min(json.loads(line)["val_loss"] for line in (char_run / "metrics.jsonl").read_text().splitlines())
    run = tmp_path / "tuned"
    result = cli("train", SAMPLE / "english.txt", "-o", run, "--init-from", char_run, "--max-steps", "1",
                 "--eval-every", "1", "--lr", "1e-9", "--threads", "1", "--precision", "fp32")
    assert result.exit_code == 0, result.stderr
    first = json.loads((run / "metrics.jsonl").read_text().splitlines()[0])
    assert first["val_loss"] == pytest.approx(best, abs=0.02)  # the same held-out text, one tiny step later
    config = json.loads((run / "config.json").read_text())
    assert config["model"]["hidden"] == 32 and config["plan"]["args"]["init_from"] == str(char_run)
    assert "starting from" in result.stderr and "<unk> or byte fallbacks" in result.stderr


def test_init_from_reads_new_text_through_the_old_vocabulary(cli, char_run, tmp_path):
    new_text = tmp_path / "new.txt"
    new_text.write_text("Ωμέγα and ßeta are not in the sample text. " * 300 + "\n")
    result = cli("train", new_text, "-o", tmp_path / "run", "--init-from", char_run, "--max-steps", "2",
                 "--threads", "1")
    assert result.exit_code == 0, result.stderr
    counted = next(line for line in result.stderr.splitlines() if line.startswith("starting from"))
    assert " 0 of" not in counted  # the Greek letters and ß are spelled as byte tokens
    vocab = json.loads((tmp_path / "run" / "vocab.json").read_text())
    assert vocab == json.loads((char_run / "vocab.json").read_text())


@pytest.mark.parametrize("option, value, message", [
    ("--hidden", "64", "--hidden 64 conflicts"), ("--model", "gru", "--model gru conflicts"),
    ("--level", "word", "keeps the vocabulary"), ("--task", "classify", "trained a lm model"),
])
def test_init_from_refuses_a_conflicting_shape(cli, char_run, tmp_path, option, value, message):
    result = cli("train", SAMPLE / "english.txt", "-o", tmp_path / "run", "--init-from", char_run, option, value)
    assert_one_error(result, 2, message)
    assert not (tmp_path / "run").exists()


def test_init_from_fine_tunes_a_classifier_on_its_labels(cli, tmp_path):
    cli.ok("train", SAMPLE / "topics.tsv", "-o", tmp_path / "base", "--max-steps", "20", *TINY)
    lines = (SAMPLE / "topics-test.tsv").read_text().splitlines()
    (tmp_path / "more.tsv").write_text("\n".join(lines[:200]) + "\n")
    cli.ok("train", tmp_path / "more.tsv", "-o", tmp_path / "tuned", "--init-from", tmp_path / "base",
           "--max-steps", "5", "-q")
    assert (json.loads((tmp_path / "tuned" / "labels.json").read_text())
            == json.loads((tmp_path / "base" / "labels.json").read_text()))
    (tmp_path / "odd.tsv").write_text("weather\tit will rain\nsports\tthe match\n" * 20)
    assert_one_error(cli("train", tmp_path / "odd.tsv", "-o", tmp_path / "odd", "--init-from", tmp_path / "base"),
                     1, "labels not in the run")
