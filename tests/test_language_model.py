"""Language models end to end with tiny models: train, evaluate, generate, resume, refuse bad input."""

from __future__ import annotations

import json
import math

import pytest

from tests.conftest import SAMPLE, assert_one_error

TINY = ["--hidden", "64", "--embed", "16", "--batch-size", "4", "--bptt", "32", "--threads", "1", "-q"]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A tiny corpus overfitted by a tiny LSTM (shared by the tests that only read it)."""
    from typer.testing import CliRunner

    from rnncli.cli import app

    root = tmp_path_factory.mktemp("lm")
    corpus = root / "corpus.txt"
    corpus.write_text("the cat sat on the mat.\nthe dog ate the bone.\n" * 40)
    run = root / "run"
    result = CliRunner().invoke(app, ["train", str(corpus), "--valid", str(corpus), "-o", str(run),
                                      "--level", "char", "--max-steps", "400", "--lr", "0.01",
                                      "--dropout", "0", "--weight-decay", "0", "--precision", "fp32", *TINY])
    assert result.exit_code == 0, result.stderr
    return root, corpus, run


def test_tiny_corpus_is_overfitted(tiny_run, cli):
    _, corpus, run = tiny_run
    report = json.loads(cli.ok("evaluate", "-c", run, corpus, "--json").stdout)
    assert set(report) == {"loss", "ppl", "bpc", "tokens", "chars"}
    assert report["loss"] < 0.1
    assert report["chars"] == corpus.stat().st_size


def test_run_directory_is_self_describing(tiny_run):
    _, _, run = tiny_run
    assert {p.name for p in run.iterdir()} >= {"config.json", "vocab.json", "best.safetensors",
                                                "last.safetensors", "metrics.jsonl"}
    config = json.loads((run / "config.json").read_text())
    assert config["format"] == "rnncli-run" and config["model"]["kind"] == "lstm"
    record = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])
    for key in ("step", "epoch", "elapsed_s", "tokens_seen", "tokens_per_sec", "train_loss",
                "val_loss", "val_ppl", "val_bpc", "lr", "grad_norm"):
        assert key in record


def test_generation_continues_the_prompt_and_repeats_with_a_seed(tiny_run, cli):
    _, _, run = tiny_run
    first = cli.ok("generate", "-c", run, "--prompt", "the d", "--max-tokens", "30", "--seed", "3").stdout
    again = cli.ok("generate", "-c", run, "--prompt", "the d", "--max-tokens", "30", "--seed", "3").stdout
    assert first == again
    assert first.startswith("the d")
    greedy = cli.ok("generate", "-c", run, "--prompt", "the d", "--max-tokens", "14", "--temperature", "0").stdout
    assert greedy.startswith("the dog ate the")


def test_generation_reads_prompts_from_stdin_and_batches_samples(tiny_run, cli):
    _, _, run = tiny_run
    out = cli.ok("generate", "-c", run, "--max-tokens", "5", "--format", "jsonl", "-n", "3",
                 input="the c\nthe d\n").stdout.splitlines()
    rows = [json.loads(line) for line in out]
    assert [(r["prompt"], r["sample"]) for r in rows] == [("the c", 0), ("the c", 1), ("the c", 2),
                                                          ("the d", 0), ("the d", 1), ("the d", 2)]


def test_stop_at_eos_ends_at_the_line_end(tiny_run, cli):
    _, _, run = tiny_run
    out = cli.ok("generate", "-c", run, "--prompt", "the cat", "--temperature", "0", "--stop-at-eos",
                 "--max-tokens", "200").stdout
    assert out == "the cat sat on the mat.\n"


def test_unknown_prompt_characters_are_spelled_as_bytes(tiny_run, cli):
    _, _, run = tiny_run
    out = cli.ok("generate", "-c", run, "--prompt", "Ünïcode 😀", "--max-tokens", "3", "--seed", "0").stdout
    assert out.startswith("Ünïcode 😀")


@pytest.mark.parametrize("args, code, message", [
    (["--temperature", "-1"], 2, "--temperature"),
    (["--top-p", "0"], 2, "--top-p"),
    (["--top-p", "1.5"], 2, "--top-p"),
    (["--top-k", "0"], 2, "--top-k"),
])
def test_bad_sampling_options(tiny_run, cli, args, code, message):
    _, _, run = tiny_run
    assert_one_error(cli("generate", "-c", run, "--prompt", "x", *args), code, message)


def test_missing_and_corrupt_run_files_are_named(tiny_run, cli, tmp_path):
    import shutil

    _, corpus, run = tiny_run
    broken = tmp_path / "broken"
    shutil.copytree(run, broken)
    (broken / "vocab.json").unlink()
    assert_one_error(cli("generate", "-c", broken, "--prompt", "x"), 1, "missing vocab.json")
    shutil.copy(run / "vocab.json", broken / "vocab.json")
    (broken / "best.safetensors").write_bytes(b"\x80\x04pickle payload")
    assert_one_error(cli("generate", "-c", broken, "--prompt", "x"), 1, "best.safetensors")
    assert_one_error(cli("evaluate", "-c", tmp_path / "nowhere", corpus), 1, "no such run directory")


def test_resume_continues_to_more_steps(tmp_path, cli):
    corpus = SAMPLE / "english.txt"
    run = tmp_path / "run"
    cli.ok("train", corpus, "-o", run, "--level", "char", "--max-steps", "6", "--eval-every", "3", *TINY)
    cli.ok("train", "-o", run, "--resume", "--max-steps", "9", "-q")
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == [3, 6, 9]


def test_resume_refuses_to_change_the_model(tmp_path, cli):
    run = tmp_path / "run"
    cli.ok("train", SAMPLE / "english.txt", "-o", run, "--level", "char", "--max-steps", "2", *TINY)
    assert_one_error(cli("train", "-o", run, "--resume", "--hidden", "99"), 2, "cannot change --hidden")


def test_time_budget_is_kept(tmp_path, cli):
    import time

    run = tmp_path / "run"
    began = time.time()
    cli.ok("train", SAMPLE / "english.txt", "-o", run, "--level", "char", "--time-budget", "4", *TINY)
    assert time.time() - began < 6
    assert (run / "best.safetensors").is_file()


def test_word_level_with_adaptive_softmax(tmp_path, cli):
    run = tmp_path / "run"
    cli.ok("train", SAMPLE / "english.txt", "-o", run, "--level", "word", "--adaptive", "--max-steps", "5",
           *TINY)
    config = json.loads((run / "config.json").read_text())
    assert config["model"]["cutoffs"]
    out = cli.ok("generate", "-c", run, "--prompt", "The", "--max-tokens", "5", "--seed", "0").stdout
    assert out.startswith("The")


def test_a_classifier_only_model_is_refused_for_language_models(tmp_path, cli):
    assert_one_error(cli("train", SAMPLE / "english.txt", "-o", tmp_path / "r", "--model", "bow",
                         "--task", "lm", "--level", "char"), 2, "bow")


def test_a_word_model_stops_when_validation_stops_improving(tmp_path, cli):
    corpus = tmp_path / "c.txt"
    corpus.write_text("one two three four five six seven eight nine ten\n" * 3000)  # learnt within a pass
    run = tmp_path / "run"
    result = cli.ok("train", corpus, "--valid", corpus, "-o", run, "--level", "word", "--time-budget", "60",
                    "--hidden", "16", "--embed", "8", "--batch-size", "2", "--bptt", "32", "--threads", "1",
                    "--eval-every", "25")
    assert "stop after 3 evaluations without a better validation loss" in result.stderr
    assert "no better validation score in 3 evaluations: stopping" in result.stderr
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert records[-1]["elapsed_s"] < 30
    assert [r["lr"] for r in records[-3:]] == sorted(r["lr"] for r in records[-3:])[::-1]  # halved at each
    assert json.loads((run / "config.json").read_text())["plan"]["loop"]["patience"] == 3


def test_the_last_schedule_cycle_anneals_by_the_end_of_the_budget():
    """A word model's cosine restarts every cycle of updates; a budget too short to finish a cycle
    ends it at the deadline, measured by the training rate so far."""
    from torch import nn

    from rnncli.trainoptions import TrainOptions
    from rnncli.training import Task, Trainer

    options = TrainOptions(lr=1.0, final_lr=0.0, cycle_steps=1000, time_budget=100)
    idle = type("Idle", (Task,), {name: lambda self, *args: None for name in Task.__abstractmethods__})()
    trainer = Trainer(nn.Linear(2, 1), idle, options)
    trainer.counters.step, trainer.counters.train_seconds = 100, 10.0  # 10 updates a second
    assert trainer.lr_at(trainer.progress()) == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.1)))  # no clock
    trainer.train_time_available = lambda: 20.0  # 10 s left: 100 more updates, the cycle ends at 200
    assert trainer.lr_at(trainer.progress()) == pytest.approx(0.5)
    trainer.counters.step, trainer.counters.train_seconds = 1100, 110.0  # the second cycle, at half the peak
    trainer.train_time_available = lambda: 1000.0
    assert trainer.lr_at(trainer.progress()) == pytest.approx(0.25 * (1 + math.cos(math.pi * 0.1)))


def test_evaluation_reads_long_columns_so_cold_starts_barely_count():
    """A network whose state needs a few tokens to warm up (an Elman unit that climbs towards its
    fixed point on a text of one repeated token) pays a cold start at the head of every column: read
    as many short columns it scores worse; read as the default columns, within 1e-3 nats of one
    column."""
    import numpy as np
    import torch

    from rnncli.corpus import TokenText
    from rnncli.models.config import ModelConfig
    from rnncli.models.lm import LanguageModel
    from rnncli.tasks.language.training import evaluate_lm

    model = LanguageModel(ModelConfig(task="lm", kind="rnn", vocab_size=20, embed=1, hidden=1, layers=1))
    with torch.no_grad():
        model.embedding.weight.fill_(1.0)
        model.rnn.weight_ih_l0.fill_(0.5)
        model.rnn.weight_hh_l0.fill_(1.0)
        model.rnn.bias_ih_l0.zero_()
        model.rnn.bias_hh_l0.zero_()
        model.decoder.weight.zero_()
        model.decoder.weight[5] = 5.0  # token 5 grows likelier as h climbs from 0 towards 0.96
        model.decoder.bias.zero_()
    text = TokenText(np.full(20_000, 5, dtype=np.uint16), 40_000, 1)
    default = evaluate_lm(model, text, torch.device("cpu"))
    one = evaluate_lm(model, text, torch.device("cpu"), columns=1)
    short = evaluate_lm(model, text, torch.device("cpu"), columns=64)
    assert default["tokens"] == one["tokens"] == short["tokens"] == 20_000
    assert short["loss"] - one["loss"] > 1e-3  # cold starts cost, and this model shows it
    assert 0 <= default["loss"] - one["loss"] < 1e-3


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_the_input_table_of_single_sample_generation_changes_nothing(kind, monkeypatch):
    """One sample looks its first layer's input projection up from a table; the text is the same."""
    import torch

    from rnncli.tasks.language import engine as generation
    from rnncli.tasks.language.engine import TorchLM
    from rnncli.infer.sampling import SamplingOptions, generate
    from rnncli.models.config import ModelConfig
    from rnncli.models.lm import LanguageModel

    torch.manual_seed(0)
    model = LanguageModel(ModelConfig(task="lm", kind=kind, vocab_size=30, embed=8, hidden=16, layers=2))
    options = SamplingOptions(max_tokens=200, temperature=1.0, seed=3)
    with_table = [int(t[0]) for t in generate(TorchLM(model), [5, 6], options)]
    monkeypatch.setattr(generation, "INPUT_TABLE_LIMIT", 0)
    without = [int(t[0]) for t in generate(TorchLM(model), [5, 6], options)]
    assert with_table == without
    assert len(set(with_table)) > 5


def test_a_bf16_run_reads_in_fp32_on_a_cpu_without_bf16(tiny_run, cli, tmp_path, monkeypatch):
    """oneDNN's LSTM refuses bf16 on AVX2 CPUs: a run trained in bf16 on a newer machine is read there
    in fp32 (to the same loss as a fp32 read of it), and asking to train in bf16 there is an error."""
    import shutil

    import rnncli.device as device

    root, corpus, run = tiny_run
    moved = tmp_path / "moved"
    shutil.copytree(run, moved)
    config = json.loads((moved / "config.json").read_text())
    config["plan"]["machine"]["precision"] = "bf16"
    (moved / "config.json").write_text(json.dumps(config))
    expected = json.loads(cli.ok("evaluate", "-c", run, corpus, "--json").stdout)
    monkeypatch.setattr(device, "cpu_computes_bf16", lambda: False)
    assert json.loads(cli.ok("evaluate", "-c", moved, corpus, "--json").stdout)["loss"] == expected["loss"]
    assert cli.ok("generate", "-c", moved, "--prompt", "the", "-n", "5", "--seed", "1").stdout
    assert_one_error(cli("train", corpus, "-o", tmp_path / "bf", "--precision", "bf16", "--max-steps", "1", *TINY),
                     2, "cannot compute in bf16")
