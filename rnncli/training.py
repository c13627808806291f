"""One task-agnostic training loop: steps, clipping, schedule, evaluation, stopping, checkpoints.

The loop knows nothing of language models or classifiers: a :class:`Task` supplies batches and
evaluation, the loop does the rest and reports progress through a callback (the CLI draws it).
Everything that decides the trajectory (model, optimiser, schedule position, RNG, data position,
carried state) is saved in one atomically written checkpoint, so a resumed run continues exactly
where it stopped.
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import torch
from torch import Tensor, nn

from rnncli.checkpoint import BEST, LAST, RunDir, group, load_checkpoint, pack
from rnncli.device import autocast
from rnncli.distributed import current
from rnncli.errors import ConfigError, FormatError, TrainingError


@dataclass
class TrainOptions:
    epochs: int | None = None
    max_steps: int | None = None
    time_budget: float | None = None  # seconds of wall time for the whole command
    lr: float = 3e-3
    weight_decay: float = 0.01
    warmup: float = 0.0  # share of the run spent warming the learning rate up (AdamW needs none here)
    final_lr: float = 0.02  # share of --lr left at the end of the cosine decay
    clip: float = 1.0  # max gradient norm; 0 turns clipping off
    eval_every: int | None = None  # steps; default: about ten evaluations per run
    save_every: float = 300.0  # seconds between checkpoints (also saved at each evaluation)
    save_every_steps: int | None = None
    seed: int = 0
    on_nan: str = "stop"
    precision: str = "fp32"
    log_every: float = 10.0  # seconds between progress lines when stderr is not a terminal

    def check(self) -> "TrainOptions":
        if self.epochs is not None and self.epochs < 1:
            raise ConfigError("--epochs must be at least 1")
        if self.max_steps is not None and self.max_steps < 1:
            raise ConfigError("--max-steps must be at least 1")
        if self.time_budget is not None and not self.time_budget > 0:
            raise ConfigError("--time-budget must be positive")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ConfigError("--lr must be a positive number")
        if not self.clip >= 0:
            raise ConfigError("--clip must be 0 (off) or positive")
        if self.on_nan not in ("stop", "skip"):
            raise ConfigError("--on-nan must be stop or skip")
        if self.eval_every is not None and self.eval_every < 1:
            raise ConfigError("--eval-every must be at least 1")
        if not 0 <= self.warmup < 1:
            raise ConfigError("warm-up share must be in [0, 1)")
        return self

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Task(ABC):
    """What the loop trains: batches, a loss, and an evaluation with a score to maximise."""

    unit = "tokens"

    @abstractmethod
    def steps_per_epoch(self) -> int: ...

    def start_epoch(self, epoch: int) -> None:
        """Called before the first step of each epoch (shuffle, reset carried state)."""

    @abstractmethod
    def train_step(self, model: nn.Module, epoch: int, index: int) -> tuple[Tensor, int]:
        """Forward one batch; returns the mean loss to minimise and the items it covered."""

    @abstractmethod
    def evaluate(self, model: nn.Module) -> dict[str, float]:
        """Validation metrics of ``model``, the bare model (the trainer unwraps DDP)."""

    @abstractmethod
    def score(self, metrics: dict[str, float]) -> float:
        """Higher is better; picks the best checkpoint."""

    def eval_size(self) -> int:
        """Items one evaluation processes (to budget its time)."""
        return 0

    def state_tensors(self) -> dict[str, Tensor]:
        return {}

    def load_state_tensors(self, tensors: dict[str, Tensor]) -> None:
        pass

    def after_failed_step(self) -> None:
        """Forget whatever a non-finite step may have poisoned (a carried hidden state)."""


@dataclass
class Event:
    kind: str  # "start", "step", "eval", "save", "done"
    data: dict[str, Any] = field(default_factory=dict)


class StopRequested(Exception):
    """Raised out of :meth:`Trainer.run` after a clean save when a signal asked to stop."""

    def __init__(self, signum: int, step: int) -> None:
        super().__init__(f"stopped by signal {signum} at step {step}")
        self.signum, self.step = signum, step


@dataclass
class Counters:
    step: int = 0
    epoch: int = 0
    index: int = 0  # next batch within the epoch
    seen: int = 0  # items (tokens or examples) trained on
    train_seconds: float = 0.0
    best_score: float | None = None
    nan_skipped: int = 0
    last_eval_step: int = 0
    last_eval_seconds: float = 0.0


def make_optimizer(model: nn.Module, options: TrainOptions) -> torch.optim.Optimizer:
    """AdamW; weight decay on matrices only (not biases, norms or embeddings)."""
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        (decay if param.dim() >= 2 and "embedding" not in name else no_decay).append(param)
    groups = [{"params": decay, "weight_decay": options.weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    kwargs: dict[str, Any] = {"lr": options.lr, "betas": (0.9, 0.99)}
    device = next(model.parameters()).device
    if device.type in ("cpu", "cuda"):
        kwargs["fused"] = True
    return torch.optim.AdamW(groups, **kwargs)


class Trainer:
    def __init__(self, model: nn.Module, task: Task, options: TrainOptions, run: RunDir,
                 device: torch.device, on_event: Callable[[Event], None] | None = None,
                 deadline: float | None = None) -> None:
        self.model, self.task, self.options, self.run_dir = model, task, options.check(), run
        self.device = device
        self.on_event = on_event or (lambda event: None)
        self.deadline = deadline
        self.dist = current()
        self.is_main = self.dist.is_main
        self.optimizer = make_optimizer(model, options)
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.counters = Counters()
        self.metrics: list[dict[str, Any]] = []
        self.stop_signal: int | None = None
        self._eval_seconds: float | None = None
        self._window: dict[str, float] = {"loss": 0.0, "steps": 0, "gnorm": 0.0, "gmax": 0.0, "seen": 0, "seconds": 0.0}

    # ----- schedule -------------------------------------------------------------------------
    def total_steps(self) -> int | None:
        o = self.options
        limits = []
        if o.max_steps:
            limits.append(o.max_steps)
        if o.epochs:
            limits.append(o.epochs * self.task.steps_per_epoch())
        return min(limits) if limits else None

    def train_time_available(self) -> float | None:
        if self.deadline is None:
            return None
        return self.counters.train_seconds + max(0.0, self.deadline - time.time() - self.reserve_seconds())

    def progress(self) -> float:
        """Share of the run done, by steps when they are known, else by time."""
        fractions = []
        total = self.total_steps()
        if total:
            fractions.append(self.counters.step / total)
        available = self.train_time_available()
        if available:
            fractions.append(self.counters.train_seconds / available)
        return min(1.0, max(fractions)) if fractions else 0.0

    def lr_at(self, progress: float) -> float:
        o = self.options
        if o.warmup and progress < o.warmup:
            return o.lr * max(progress / o.warmup, 0.01)
        span = (progress - o.warmup) / max(1e-9, 1 - o.warmup)
        return o.lr * (o.final_lr + (1 - o.final_lr) * 0.5 * (1 + math.cos(math.pi * min(1.0, span))))

    def reserve_seconds(self) -> float:
        """Time kept back at the end of a time budget for the last evaluation and save.

        Until an evaluation has been timed it is estimated from the training rate (a forward
        pass costs about a third of a training step), trusted only after a few steps and never
        more than a fifth of the budget, so that slow first steps cannot end a run early.
        """
        if self._eval_seconds is not None:
            evaluation = self._eval_seconds
        else:
            c = self.counters
            rate = c.seen / c.train_seconds if c.train_seconds > 0 and c.step >= 10 else 0
            evaluation = self.task.eval_size() / (2.5 * rate) if rate else 2.0
            if self.deadline is not None and self.options.time_budget:
                evaluation = min(evaluation, 0.2 * self.options.time_budget)
        return 1.2 * evaluation + 1.0

    # ----- the loop -------------------------------------------------------------------------
    def _due_eval(self) -> bool:
        c, o = self.counters, self.options
        last_eval_time, last_eval_step = c.last_eval_seconds, c.last_eval_step
        if o.eval_every:
            return c.step - last_eval_step >= o.eval_every
        total = self.total_steps()
        if total:
            return c.step - last_eval_step >= max(1, total // 10)
        if self.deadline is not None:
            available = self.train_time_available() or 0
            evaluation = self._eval_seconds if self._eval_seconds is not None else self.reserve_seconds()
            interval = max(available / 6, evaluation / 0.04)
            return c.train_seconds - last_eval_time >= interval
        return c.step - last_eval_step >= self.task.steps_per_epoch()

    def _should_stop(self) -> bool:
        c = self.counters
        total = self.total_steps()
        if total is not None and c.step >= total:
            return True
        if self.deadline is not None and time.time() + self.reserve_seconds() >= self.deadline:
            return True
        return total is None and self.deadline is None and c.epoch >= 1 and c.index == 0

    def run(self) -> dict[str, Any]:
        c = self.counters
        if c.step == 0:
            torch.manual_seed(self.options.seed)
        self.emit("start", steps_per_epoch=self.task.steps_per_epoch(), total_steps=self.total_steps())
        last_save = time.time()
        self.model.train()
        while not self.dist.any(self._should_stop()):
            if self.dist.any(self.stop_signal is not None):
                self.save_last()
                raise StopRequested(self.stop_signal or 2, c.step)
            if c.index == 0:
                self.task.start_epoch(c.epoch)
            began = time.perf_counter()
            self._step()
            c.train_seconds += time.perf_counter() - began
            if c.index >= self.task.steps_per_epoch():
                c.epoch, c.index = c.epoch + 1, 0
            if self.dist.any(self._due_eval() and not self._should_stop()):
                self.evaluate_and_save()
                last_save = time.time()
            elif self.dist.any(self._due_save(last_save)):
                self.save_last()
                last_save = time.time()
        if not self.metrics or self.metrics[-1]["step"] != c.step:
            self.evaluate_and_save()
        else:
            self.save_last()
        final = self.metrics[-1] if self.metrics else {}
        self.emit("done", **final)
        return final

    def _due_save(self, last_save: float) -> bool:
        o = self.options
        if o.save_every_steps:
            return self.counters.step % o.save_every_steps == 0
        return time.time() - last_save >= o.save_every

    def _step(self) -> None:
        c, o = self.counters, self.options
        lr = self.lr_at(self.progress())
        for group_ in self.optimizer.param_groups:
            group_["lr"] = lr
        with autocast(self.device, o.precision):
            loss, items = self.task.train_step(self.model, c.epoch, c.index)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        max_norm = o.clip if o.clip > 0 else float("inf")
        gnorm = float(torch.nn.utils.clip_grad_norm_(self.params, max_norm))
        loss_value = float(loss.detach())
        if self.dist.enabled:  # every rank sees the same mean loss, so all agree on a failure
            loss_value = self.dist.sum([loss_value])[0] / self.dist.world
            items *= self.dist.world
        c.index += 1
        if not (math.isfinite(loss_value) and math.isfinite(gnorm)):
            self._non_finite(loss_value, gnorm, lr)
            return
        self.optimizer.step()
        c.step += 1
        c.seen += items
        w = self._window
        w["loss"] += loss_value
        w["steps"] += 1
        w["gnorm"] += gnorm
        w["gmax"] = max(w["gmax"], gnorm)
        w["seen"] += items
        self.emit("step", step=c.step, epoch=c.epoch, loss=loss_value, lr=lr, grad_norm=gnorm,
                  seen=c.seen, train_seconds=c.train_seconds, deadline=self.deadline)

    def _non_finite(self, loss: float, gnorm: float, lr: float) -> None:
        c = self.counters
        self.optimizer.zero_grad(set_to_none=True)
        self.task.after_failed_step()
        what = "loss" if not math.isfinite(loss) else "gradient norm"
        if self.options.on_nan == "skip":
            c.nan_skipped += 1
            c.step += 1
            self.emit("nan", step=c.step, what=what, skipped=c.nan_skipped)
            return
        # The weights have not been touched by this step: they are the last good state.
        self.save_last()
        raise TrainingError(
            f"step {c.step + 1}: the {what} is not finite ({loss if what == 'loss' else gnorm}); "
            f"training stopped, the last good checkpoint is in {self.run_dir.path}. "
            f"Try a lower --lr (now {self.options.lr:g}) or a tighter --clip (now {self.options.clip:g}), "
            "or --on-nan skip")

    # ----- evaluation and checkpoints -------------------------------------------------------
    def evaluate_and_save(self) -> dict[str, Any]:
        c = self.counters
        began = time.perf_counter()
        self.model.eval()
        with torch.no_grad(), autocast(self.device, self.options.precision):
            metrics = self.task.evaluate(self.module)
        self.model.train()
        self._eval_seconds = time.perf_counter() - began
        w = self._window
        record: dict[str, Any] = {
            "step": c.step, "epoch": round(c.epoch + c.index / max(1, self.task.steps_per_epoch()), 4),
            "elapsed_s": round(c.train_seconds, 3),
            f"{self.task.unit}_seen": c.seen,
            f"{self.task.unit}_per_sec": round(c.seen / c.train_seconds, 1) if c.train_seconds else 0.0,
            "train_loss": round(w["loss"] / w["steps"], 6) if w["steps"] else None,
            **{k: _finite(v) for k, v in metrics.items()},
            "lr": self.optimizer.param_groups[0]["lr"],
            "grad_norm": round(w["gnorm"] / w["steps"], 6) if w["steps"] else None,
            "grad_norm_max": round(w["gmax"], 6) if w["steps"] else None,
            "clip": self.options.clip,
            "nan_skipped": c.nan_skipped,
            "eval_s": round(self._eval_seconds, 3),
        }
        self._window = {"loss": 0.0, "steps": 0, "gnorm": 0.0, "gmax": 0.0, "seen": 0, "seconds": 0.0}
        c.last_eval_step, c.last_eval_seconds = c.step, c.train_seconds
        self.metrics.append(record)
        score = self.task.score(metrics)
        improved = math.isfinite(score) and (c.best_score is None or score > c.best_score)
        if improved:
            c.best_score = score
        if self.is_main:
            if improved:
                self.save_weights(BEST)
            self.run_dir.write_metrics(self.metrics)
        self.save_last()
        self.emit("eval", best=improved, **record)
        return record

    @property
    def module(self) -> nn.Module:
        """The model without its DistributedDataParallel wrapper."""
        return getattr(self.model, "module", self.model)

    def save_weights(self, name: str) -> None:
        from rnncli.fileio import write_bytes

        write_bytes(self.run_dir.file(name), pack({"model": self.module.state_dict()}))

    def save_last(self) -> None:
        """Write the resumable checkpoint (rank 0), with every rank's share of the task state."""
        from rnncli.fileio import write_bytes

        task_state = {name: self.dist.gather_tensor(t, dim=1 if t.dim() == 3 else 0)
                      for name, t in self.task.state_tensors().items()}
        rng_ranks = self.dist.gather_tensor(torch.get_rng_state()[None, :], dim=0)
        if not self.is_main:
            return
        optimizer_tensors, optimizer_meta = _flatten_optimizer(self.optimizer.state_dict())
        rng = {"torch": torch.get_rng_state(), "ranks": rng_ranks}
        if torch.cuda.is_available() and self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.device)
        meta = {"counters": asdict(self.counters), "optimizer": optimizer_meta,
                "eval_seconds": self._eval_seconds, "window": self._window, "world": self.dist.world}
        blob = pack({"model": self.module.state_dict(), "optim": optimizer_tensors, "rng": rng,
                     "task": task_state}, meta)
        write_bytes(self.run_dir.file(LAST), blob)
        self.emit("save", step=self.counters.step)

    def resume(self) -> None:
        """Restore everything from the run directory's last checkpoint."""
        path = self.run_dir.file(LAST)
        if not path.is_file():
            raise FormatError(f"run directory {self.run_dir.path} is missing {LAST}: nothing to resume")
        tensors, meta = load_checkpoint(self.module, path)
        try:
            self.counters = Counters(**meta["counters"])
            self.optimizer.load_state_dict(_unflatten_optimizer(group(tensors, "optim"), meta["optimizer"]))
            rng = group(tensors, "rng")
            ranks = rng.get("ranks")
            if ranks is not None and int(meta.get("world", 1)) == self.dist.world:
                torch.set_rng_state(ranks[self.dist.rank].clone())
            elif self.dist.world == 1:
                torch.set_rng_state(rng["torch"])
            else:  # another world size: dropout noise restarts from a seed, the rest is exact
                torch.manual_seed(self.options.seed * 1000 + self.dist.rank + self.counters.step)
            self._eval_seconds = meta.get("eval_seconds")
            self._window = meta.get("window", self._window)
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            raise FormatError(f"{path}: checkpoint cannot be resumed ({exc})") from None
        self.task.load_state_tensors(group(tensors, "task"))
        self.metrics = [r for r in self.run_dir.read_metrics() if r.get("step", 0) <= self.counters.step]

    def emit(self, kind: str, **data: Any) -> None:
        if self.is_main:
            self.on_event(Event(kind, data))


def _finite(value: Any) -> Any:
    """Metrics go to JSON, which has no NaN or infinity: those become null."""
    if isinstance(value, float):
        return round(value, 6) if math.isfinite(value) else None
    return value


def _flatten_optimizer(state: dict[str, Any]) -> tuple[dict[str, Tensor], dict[str, Any]]:
    tensors: dict[str, Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, values in state["state"].items():
        for name, value in values.items():
            if isinstance(value, Tensor):
                tensors[f"{index}.{name}"] = value
            else:
                scalars.setdefault(str(index), {})[name] = value
    groups = [{k: v for k, v in g.items()} for g in state["param_groups"]]
    for g in groups:
        if isinstance(g.get("betas"), tuple):
            g["betas"] = list(g["betas"])
    return tensors, {"param_groups": groups, "scalars": scalars}


def _unflatten_optimizer(tensors: dict[str, Tensor], meta: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        index, name = key.split(".", 1)
        state.setdefault(int(index), {})[name] = value
    for index, values in meta.get("scalars", {}).items():
        state.setdefault(int(index), {}).update(values)
    groups = meta["param_groups"]
    for g in groups:
        if isinstance(g.get("betas"), list):
            g["betas"] = tuple(g["betas"])
    return {"state": state, "param_groups": groups}
