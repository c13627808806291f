"""--average: NT-ASGD's weight averaging, begun when validation first stops improving."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from rnncli.callbacks import Checkpointer
from rnncli.run.directory import RunDir
from rnncli.run.files import BEST
from rnncli.run.weights import load_checkpoint
from rnncli.trainoptions import TrainOptions
from rnncli.training import Callback, EvalCadence, Task, Trainer


class Regression(Task):
    """A fixed batch of a linear problem; validation scores follow a script, so that the first
    evaluation without improvement comes when the test says."""

    def __init__(self, scores: list[float]) -> None:
        generator = torch.Generator().manual_seed(0)
        self.x = torch.randn(16, 3, generator=generator)
        self.y = self.x @ torch.tensor([[1.0], [-2.0], [0.5]])
        self.scores = list(scores)

    def steps_per_epoch(self) -> int:
        return 4

    def train_step(self, model: nn.Module, epoch: int, index: int) -> tuple[torch.Tensor, int]:
        return nn.functional.mse_loss(model(self.x), self.y), len(self.x)

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        return {"val_loss": -self.scores.pop(0), "weight": float(model.weight.sum())}

    def score(self, metrics: dict[str, float]) -> float:
        return -metrics["val_loss"]


class Weights(Callback):
    """The weights after every step."""

    def __init__(self) -> None:
        self.seen: list[torch.Tensor] = []

    def on_step(self, trainer: Trainer, loss: float, grad_norm: float, lr: float) -> None:
        self.seen.append(trainer.module.weight.detach().clone())


def trained(scores: list[float], average: bool, steps: int = 12, run: Path | None = None) -> tuple[Trainer, Weights]:
    torch.manual_seed(0)
    weights = Weights()
    callbacks: list[Callback] = [weights]
    if run is not None:
        RunDir(run).create()
        callbacks.append(Checkpointer(RunDir(run)))
    trainer = Trainer(nn.Linear(3, 1, bias=False), Regression(scores), options(steps, average),
                      callbacks=callbacks, evaluation=EvalCadence())
    trainer.run()
    return trainer, weights


def options(steps: int, average: bool) -> TrainOptions:
    return TrainOptions(max_steps=steps, eval_every=4, lr=0.05, final_lr=1.0, average=average)  # a constant rate


def test_averaging_begins_at_the_first_evaluation_without_a_better_score():
    trainer, weights = trained([1.0, 0.5, 2.0], average=True)  # steps 4 (best), 8 (worse: begin), 12
    assert trainer.counters.averaged == 5  # the weights at step 8, and those of steps 9 to 12
    mean = torch.stack(weights.seen[7:12]).mean(0)
    assert torch.allclose(trainer.average[0], mean, atol=1e-6)
    assert trainer.metrics[-1]["weight"] == pytest.approx(float(mean.sum()), abs=1e-5)  # evaluated on the mean
    assert trainer.metrics[-1]["averaged"] == 5 and trainer.metrics[0]["averaged"] == 0
    assert torch.equal(trainer.module.weight, weights.seen[-1])  # training goes on from its own weights
    with trainer.evaluated_weights():
        assert torch.allclose(trainer.module.weight, mean, atol=1e-6)
    assert torch.equal(trainer.module.weight, weights.seen[-1])


def test_without_the_option_or_a_stall_nothing_is_averaged():
    plain = trained([1.0, 0.5, 2.0], average=False)[0]
    assert plain.average is None and "averaged" not in plain.metrics[-1]
    improving, _ = trained([1.0, 2.0, 3.0], average=True)
    assert improving.average is None and improving.counters.averaged == 0


def test_the_best_checkpoint_holds_the_average_and_a_resumed_run_goes_on_averaging(tmp_path):
    """best.safetensors keeps the weights validation read (the mean); a run stopped at step 10 and
    resumed from last.safetensors ends with the weights and the average of one that never stopped."""
    whole, _ = trained([1.0, 0.5, 2.0], average=True, run=tmp_path / "whole")
    best, _ = load_checkpoint(nn.Linear(3, 1, bias=False), tmp_path / "whole" / BEST)
    assert torch.allclose(best["model/weight"], whole.average[0], atol=1e-6)
    trained([1.0, 0.5, 0.0], average=True, steps=10, run=tmp_path / "part")
    resumed = Trainer(nn.Linear(3, 1, bias=False), Regression([2.0]), options(12, True), evaluation=EvalCadence())
    Checkpointer(RunDir(tmp_path / "part")).restore(resumed)
    assert resumed.counters.averaged == 3
    resumed.run()
    assert resumed.counters.averaged == whole.counters.averaged
    assert torch.allclose(resumed.average[0], whole.average[0], atol=1e-6)
    assert torch.allclose(resumed.module.weight, whole.module.weight, atol=1e-6)


def test_the_option_on_the_command_line(cli, tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("one two three four five six seven eight nine ten\n" * 100)
    run = tmp_path / "r"
    done = cli.ok("train", corpus, "-o", run, "--level", "word", "--hidden", "8", "--embed", "8", "--threads", "1",
                  "--precision", "fp32", "--max-steps", "6", "--average")
    assert done.stdout == ""
    config = json.loads((run / "config.json").read_text())
    assert config["plan"]["loop"]["average"] is True
    assert "averaged" in json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])
    refused = cli("train", corpus, "-o", tmp_path / "n", "--model", "ngram", "--average")
    assert refused.exit_code == 2 and "--average" in refused.stderr and refused.stdout == ""
