"""Callbacks the training loop calls: saving a run directory, logging to TensorBoard, timing steps."""

from __future__ import annotations

import importlib.util
import math
import time
from pathlib import Path
from typing import Any, Callable

from rnncli.run.files import BEST, LAST, SAMPLES
from rnncli.run.directory import RunDir
from rnncli.run.weights import group, load_checkpoint, pack
from rnncli.errors import ConfigError, FormatError
from rnncli.fileio import write_bytes
from rnncli.training import Callback, Trainer


class Checkpointer(Callback):
    """Keeps a run directory up to date.

    At each evaluation: ``best.safetensors`` when the score improved, ``metrics.jsonl``, and the
    resumable ``last.safetensors``; between evaluations, ``last`` every ``every_seconds`` (or
    ``every_steps``); and before the loop leaves early or ends. Every rank takes part in a save
    (each holds its share of the carried state); rank 0 writes.
    """

    def __init__(self, run: RunDir, every_seconds: float = 300.0, every_steps: int | None = None) -> None:
        self.run, self.where = run, str(run.path)
        self.every_seconds, self.every_steps = every_seconds, every_steps
        self.last_save = time.time()
        self.saved_step = -1

    def on_start(self, trainer: Trainer) -> None:
        self.last_save = time.time()

    def on_step(self, trainer: Trainer, loss: float, grad_norm: float, lr: float) -> None:
        step = trainer.counters.step
        due = step % self.every_steps == 0 if self.every_steps else time.time() - self.last_save >= self.every_seconds
        if trainer.dist.any(due):
            self.save_last(trainer)

    def on_evaluation(self, trainer: Trainer, record: dict[str, Any], improved: bool) -> None:
        if trainer.dist.is_main:
            if improved:
                with trainer.evaluated_weights():
                    write_bytes(self.run.file(BEST), pack({"model": trainer.module.state_dict()}))
            self.run.write_metrics(trainer.metrics)
        self.save_last(trainer)

    def on_interrupt(self, trainer: Trainer) -> None:
        self.save_last(trainer)

    def on_end(self, trainer: Trainer, final: dict[str, Any]) -> None:
        if self.saved_step != trainer.counters.step:
            self.save_last(trainer)

    def save_last(self, trainer: Trainer) -> None:
        began = time.perf_counter()
        groups, meta = trainer.state()
        self.last_save, self.saved_step = time.time(), trainer.counters.step
        if trainer.dist.is_main:
            write_bytes(self.run.file(LAST), pack(groups, meta))
            trainer.save_seconds = (time.perf_counter() - began) * 4 / 3  # and best, a third of its size

    def restore(self, trainer: Trainer) -> None:
        """Continue from the run directory's last checkpoint: weights, optimiser, RNG, data position,
        carried state and the metrics recorded up to it."""
        path = self.run.file(LAST)
        if not path.is_file():
            raise FormatError(f"run directory {self.run.path} is missing {LAST}: nothing to resume")
        tensors, meta = load_checkpoint(trainer.module, path)
        try:
            trainer.load_state({name: group(tensors, name) for name in ("optim", "rng", "task", "average")},
                               meta)
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            raise FormatError(f"{path}: checkpoint cannot be resumed ({exc})") from None
        self.saved_step = trainer.counters.step
        trainer.metrics = [r for r in self.run.read_metrics() if r.get("step", 0) <= trainer.counters.step]


TENSORBOARD = "tensorboard"


def require_tensorboard() -> None:
    """Refuse --log tensorboard up front, before any data is read, when the extra is missing."""
    if importlib.util.find_spec("tensorboard") is None:
        raise ConfigError("--log tensorboard needs the tensorboard package: pip install 'rnncli[tensorboard]'")


class TensorBoardLogger(Callback):
    """The scalars of metrics.jsonl, at each evaluation, as TensorBoard event files in ``directory``
    (``tensorboard --logdir RUN/tensorboard``). Rank 0 writes; a resumed run appends a new file."""

    def __init__(self, directory: Path) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(str(directory))

    def on_evaluation(self, trainer: Trainer, record: dict[str, Any], improved: bool) -> None:
        for key, value in record.items():
            if key != "step" and isinstance(value, (int, float)) and math.isfinite(value):
                self.writer.add_scalar(key, value, record["step"])
        self.writer.flush()

    def on_interrupt(self, trainer: Trainer) -> None:
        self.writer.flush()

    def on_end(self, trainer: Trainer, final: dict[str, Any]) -> None:
        self.writer.close()


class Sampler(Callback):
    """A short sample every ``every`` evaluations, on stderr and in ``samples.jsonl`` (rank 0),
    from the same prompt and seed each time, so the samples show what the model learned."""

    def __init__(self, run: RunDir, vocab: Any, every: int, prompt: str, tokens: int,
                 report: Callable[[str], None]) -> None:
        self.run, self.vocab, self.every, self.prompt, self.tokens, self.report = run, vocab, every, prompt, tokens, report
        self.samples = run.read_metrics(SAMPLES)

    def on_start(self, trainer: Trainer) -> None:
        self.samples = [s for s in self.samples if s.get("step", 0) <= trainer.counters.step]

    def on_evaluation(self, trainer: Trainer, record: dict[str, Any], improved: bool) -> None:
        if len(trainer.metrics) % self.every:
            return
        from rnncli.infer.sampling import SamplingOptions, sample_texts

        module = trainer.module
        training = module.training
        try:
            options = SamplingOptions(max_tokens=self.tokens, temperature=0.8, seed=0, stop_at_eos=False)
            text, _ = sample_texts(trainer.task.engine(module), self.vocab, self.prompt, options)[0]
        finally:
            module.train(training)
        self.samples.append({"step": record["step"], "val_loss": record.get("val_loss"), "prompt": self.prompt,
                             "text": text})
        self.run.write_metrics(self.samples, SAMPLES)
        self.report(f"sample at step {record['step']}: {self.prompt + text!r}")


class StepTimer(Callback):
    """The wall-clock time at which each step finished (a benchmark's view of the loop)."""

    def __init__(self) -> None:
        self.stamps: list[float] = []

    def on_step(self, trainer: Trainer, loss: float, grad_norm: float, lr: float) -> None:
        self.stamps.append(time.perf_counter())

    def items_per_second(self, items_per_step: int) -> float:
        """Throughput between the first and the last step (the first step's warm-up excluded)."""
        if len(self.stamps) < 2:
            return 0.0
        return items_per_step * (len(self.stamps) - 1) / (self.stamps[-1] - self.stamps[0])
