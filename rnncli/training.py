"""One task-agnostic training loop: steps, clipping, schedule, evaluation cadence and stopping.

The loop knows nothing of language models or classifiers: a :class:`Task` supplies batches and
evaluation. Everything around the loop is a small object it calls: an :class:`EvalCadence` says when
to evaluate (none: never), callbacks save checkpoints, report progress or collect timings, and a
NaN policy decides what a non-finite step does. A benchmark builds a trainer with no run directory
and no evaluation; ``rnncli train`` adds a checkpointer and a progress reporter.
"""

from __future__ import annotations

import contextlib
import math
import time
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterator, Sequence

import torch
from torch import Tensor, nn

from rnncli.device import autocast
from rnncli.distributed import current
from rnncli.errors import StopRequested, TrainingError
from rnncli.trainoptions import TrainOptions
from rnncli.scores import best_of

__all__ = ["Callback", "Counters", "EvalCadence", "Event", "EventReporter", "StopRequested", "Task", "Trainer",
           "TrainOptions"]


class Task(ABC):
    """What the loop trains: batches, a loss, and an evaluation with a score to maximise."""

    unit = "tokens"
    perplexity = False  # whether exp(loss) means something: a language model's next-token perplexity
    closing_passes = 0  # evaluation passes the run makes after the loop, kept back from a time budget

    def closing_seconds(self, evaluation: float) -> float:
        """What :meth:`finish` takes, kept back from a time budget, given one evaluation's seconds."""
        return self.closing_passes * evaluation

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

    def setup_model(self, model: nn.Module, fresh: bool) -> None:
        """Fit the model to the training data before the first step (``fresh``) or a resumed one."""

    def finish(self, model: nn.Module, run: Any, report: Callable[[str], None]) -> None:
        """After the loop, given the run directory: what the task fits and keeps beside the weights
        (:meth:`closing_seconds` of it are kept back from a time budget)."""


@dataclass
class Event:
    kind: str  # "start", "step", "eval", "save", "nan", "done"
    data: dict[str, Any] = field(default_factory=dict)


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
    bad_evals: int = 0  # evaluations in a row without a better score
    lr_scale: float = 1.0  # the plateau reductions so far
    averaged: int = 0  # steps in the weight average (--average), 0 before it began


@dataclass
class Window:
    """Training figures since the last evaluation."""

    loss: float = 0.0
    steps: int = 0
    gnorm: float = 0.0
    gmax: float = 0.0

    def add(self, loss: float, gnorm: float) -> None:
        self.loss, self.steps = self.loss + loss, self.steps + 1
        self.gnorm, self.gmax = self.gnorm + gnorm, max(self.gmax, gnorm)


class Callback:
    """Hooks the loop calls; each callback does one thing (save, report, time)."""

    where: str | None = None  # the directory this callback keeps the run in, if it saves one

    def on_start(self, trainer: "Trainer") -> None: ...

    def on_step(self, trainer: "Trainer", loss: float, grad_norm: float, lr: float) -> None: ...

    def on_non_finite(self, trainer: "Trainer", what: str) -> None: ...

    def on_evaluation(self, trainer: "Trainer", record: dict[str, Any], improved: bool) -> None: ...

    def on_interrupt(self, trainer: "Trainer") -> None:
        """Before the loop leaves early (a signal, a numerical failure): the last chance to save."""

    def on_end(self, trainer: "Trainer", final: dict[str, Any]) -> None: ...


class EventReporter(Callback):
    """Turns the loop's hooks into :class:`Event` objects for a progress display."""

    def __init__(self, on_event: Callable[[Event], None]) -> None:
        self.on_event = on_event

    def on_start(self, trainer: "Trainer") -> None:
        self.on_event(Event("start", {"steps_per_epoch": trainer.task.steps_per_epoch(),
                                      "total_steps": trainer.total_steps(), "unit": trainer.task.unit,
                                      "perplexity": trainer.task.perplexity}))

    def on_step(self, trainer: "Trainer", loss: float, grad_norm: float, lr: float) -> None:
        c = trainer.counters
        self.on_event(Event("step", {"step": c.step, "epoch": c.epoch, "loss": loss, "lr": lr, "grad_norm": grad_norm,
                                     "seen": c.seen, "train_seconds": c.train_seconds, "deadline": trainer.deadline}))

    def on_non_finite(self, trainer: "Trainer", what: str) -> None:
        if trainer.options.on_nan == "skip":
            c = trainer.counters
            self.on_event(Event("nan", {"step": c.step, "what": what, "skipped": c.nan_skipped}))

    def on_evaluation(self, trainer: "Trainer", record: dict[str, Any], improved: bool) -> None:
        self.on_event(Event("eval", {"best": improved, **record}))
        if trainer.plateaued():
            self.on_event(Event("plateau", {"step": record["step"], "evaluations": trainer.counters.bad_evals}))

    def on_end(self, trainer: "Trainer", final: dict[str, Any]) -> None:
        self.on_event(Event("done", dict(final)))


SAVE_BYTES_PER_PARAMETER = 16  # last (weights and two Adam moments) and best (weights), float32
SAVE_BYTES_PER_SECOND = 250e6  # packing, writing and fsyncing, before a save was timed
EVAL_SHARE = 0.02  # of a time budget, what evaluations may take
EVAL_SHARE_STOPPING = 0.10  # ... when validation decides when to stop (--patience)


class EvalCadence:
    """When the loop evaluates: every ``--eval-every`` steps; else about ten times per planned run
    (by steps, or by time under a budget, never spending more than 2% of it evaluating, 10% when
    validation decides when to stop: a stopping rule needs evaluations to read), and at each
    quarter of a schedule cycle; else once per epoch."""

    def due(self, trainer: "Trainer") -> bool:
        c, o = trainer.counters, trainer.options
        if o.eval_every:
            return c.step - c.last_eval_step >= o.eval_every
        if o.cycle_steps and c.step % max(1, o.cycle_steps // 4) == 0 and c.step > c.last_eval_step:
            return True  # four times a schedule cycle, the last at its end; and as often as below
        total = trainer.total_steps()
        if total:
            return c.step - c.last_eval_step >= max(1, total // 10)
        if trainer.deadline is not None:
            available = trainer.train_time_available() or 0
            share = EVAL_SHARE_STOPPING if o.patience else EVAL_SHARE
            return c.train_seconds - c.last_eval_seconds >= max(available / 10, trainer.evaluation_seconds() / share)
        return c.step - c.last_eval_step >= trainer.task.steps_per_epoch()


def make_optimizer(model: nn.Module, options: TrainOptions) -> torch.optim.Optimizer:
    """AdamW (or plain SGD); weight decay on matrices only (not biases, norms or embeddings)."""
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        (decay if param.dim() >= 2 and "embedding" not in name else no_decay).append(param)
    groups = [{"params": decay, "weight_decay": options.weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    if options.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=options.lr)
    kwargs: dict[str, Any] = {"lr": options.lr, "betas": (0.9, 0.99)}
    device = next(model.parameters()).device
    if device.type in ("cpu", "cuda"):
        kwargs["fused"] = True
    return torch.optim.AdamW(groups, **kwargs)


class Trainer:
    """The loop. ``evaluation=None`` never evaluates (a benchmark of training steps)."""

    def __init__(self, model: nn.Module, task: Task, options: TrainOptions, device: torch.device | None = None,
                 callbacks: Sequence[Callback] = (), evaluation: EvalCadence | None = None,
                 deadline: float | None = None) -> None:
        self.model, self.task, self.options = model, task, options.check()
        self.device = device or next(model.parameters()).device
        self.callbacks = list(callbacks)
        self.evaluation = evaluation
        self.deadline = deadline
        self.dist = current()
        self.optimizer = make_optimizer(model, options)
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.average: list[Tensor] | None = None  # the running mean of self.params, once begun
        self.counters = Counters()
        self.metrics: list[dict[str, Any]] = []
        self.stop_signal: int | None = None
        self.eval_seconds: float | None = None
        self.save_seconds: float | None = None  # the last save's duration, once timed (Checkpointer)
        self.save_estimate = SAVE_BYTES_PER_PARAMETER * self.parameter_count() / SAVE_BYTES_PER_SECOND
        self.window = Window()

    # ----- schedule and budget ----------------------------------------------------------------
    def total_steps(self) -> int | None:
        o = self.options
        limits = [n for n in (o.max_steps, o.epochs and o.epochs * self.task.steps_per_epoch()) if n]
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
        """Warm-up, then cosine decay to ``final_lr`` over the run (or over each cycle, restarting at
        half the last peak), scaled down at each plateau. A cycle the run ends first (a corpus too
        large for the budget to finish one) ends with it, so the last cycle anneals instead of
        stopping at a high learning rate: ``progress`` of the run done after ``step`` updates
        leaves ``step * (1 - progress) / progress`` of them."""
        o, c = self.options, self.counters
        if o.warmup and progress < o.warmup:
            return o.lr * max(progress / o.warmup, 0.01)
        peak = o.lr * c.lr_scale
        if o.cycle_steps:
            cycle, into = divmod(c.step, o.cycle_steps)
            length = o.cycle_steps
            if 0 < progress and c.step >= 10:  # the rate is trusted after a few steps
                length = max(1, min(length, into + round(c.step * (1 - progress) / progress)))
            peak, progress = peak * 0.5 ** cycle, into / length
        span = (progress - o.warmup) / max(1e-9, 1 - o.warmup)
        return peak * (o.final_lr + (1 - o.final_lr) * 0.5 * (1 + math.cos(math.pi * min(1.0, span))))

    def evaluation_seconds(self) -> float:
        """What one evaluation takes: the last one's duration once timed, else an estimate from the
        training rate (a forward pass costs about a third of a training step), trusted only after
        a few steps and never more than a fifth of the budget, so that slow first steps cannot end
        a run early."""
        if self.eval_seconds is not None:
            return self.eval_seconds
        c = self.counters
        rate = c.seen / c.train_seconds if c.train_seconds > 0 and c.step >= 10 else 0
        evaluation = self.task.eval_size() / (2.5 * rate) if rate else 2.0
        if self.deadline is not None and self.options.time_budget:
            evaluation = min(evaluation, 0.2 * self.options.time_budget)
        return evaluation

    def reserve_seconds(self) -> float:
        """Time kept back at the end of a time budget for the last evaluation and save, and the
        passes the task makes after the loop. The save is the last one's duration once a save was
        timed, else estimated from the parameters (the resumable checkpoint holds the weights and
        two Adam moments; the best one, the weights)."""
        save = self.save_seconds if self.save_seconds is not None else self.save_estimate
        if self.evaluation is None:
            return 1.0 + save
        evaluation = self.evaluation_seconds()
        return 1.2 * evaluation + self.task.closing_seconds(evaluation) + 1.0 + save

    def plateaued(self) -> bool:
        """--patience evaluations in a row without a better validation score."""
        patience = self.options.patience
        return patience is not None and self.counters.bad_evals >= patience

    def _should_stop(self) -> bool:
        c = self.counters
        if self.plateaued():
            return True
        total = self.total_steps()
        if total is not None and c.step >= total:
            return True
        if self.deadline is not None and time.time() + self.reserve_seconds() >= self.deadline:
            return True
        return total is None and self.deadline is None and c.epoch >= 1 and c.index == 0

    # ----- the loop ---------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        c = self.counters
        if c.step == 0:
            torch.manual_seed(self.options.seed)
        self._call("on_start")
        self.model.train()
        while not self.dist.any(self._should_stop()):
            if self.dist.any(self.stop_signal is not None):
                self._call("on_interrupt")
                raise StopRequested(self.stop_signal or 2, c.step)
            if c.index == 0:
                self.task.start_epoch(c.epoch)
            began = time.perf_counter()
            stepped = self._step()
            c.train_seconds += time.perf_counter() - began
            if c.index >= self.task.steps_per_epoch():
                c.epoch, c.index = c.epoch + 1, 0
            if stepped is not None:
                self._call("on_step", *stepped)
            if self.evaluation is not None and self.dist.any(self.evaluation.due(self) and not self._should_stop()):
                self.evaluate()
        if self.evaluation is not None and (not self.metrics or self.metrics[-1]["step"] != c.step):
            self.evaluate()
        final = self.metrics[-1] if self.metrics else {"step": c.step}
        self._call("on_end", final)
        return final

    def _step(self) -> tuple[float, float, float] | None:
        """One update; (loss, gradient norm, learning rate), or None when the step was not finite."""
        c, o = self.counters, self.options
        lr = self.lr_at(self.progress())
        for group_ in self.optimizer.param_groups:
            group_["lr"] = lr
        with autocast(self.device, o.precision):
            loss, items = self.task.train_step(self.model, c.epoch, c.index)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        gnorm = float(torch.nn.utils.clip_grad_norm_(self.params, o.clip if o.clip > 0 else float("inf")))
        loss_value = float(loss.detach())
        if self.dist.enabled:  # every rank sees the same mean loss, so all agree on a failure
            loss_value = self.dist.sum([loss_value])[0] / self.dist.world
            items *= self.dist.world
        c.index += 1
        if not (math.isfinite(loss_value) and math.isfinite(gnorm)):
            self._non_finite(loss_value, gnorm)
            return None
        self.optimizer.step()
        c.step, c.seen = c.step + 1, c.seen + items
        if self.average is not None:
            c.averaged += 1
            with torch.no_grad():
                torch._foreach_lerp_(self.average, [p.detach() for p in self.params], 1.0 / c.averaged)
        self.window.add(loss_value, gnorm)
        return loss_value, gnorm, lr

    def _non_finite(self, loss: float, gnorm: float) -> None:
        """The NaN policy: skip the batch, or stop with the weights of the last good step saved."""
        c = self.counters
        self.optimizer.zero_grad(set_to_none=True)
        self.task.after_failed_step()
        what = "loss" if not math.isfinite(loss) else "gradient norm"
        if self.options.on_nan == "skip":
            c.nan_skipped += 1
            c.step += 1
            self._call("on_non_finite", what)
            return
        self._call("on_non_finite", what)
        self._call("on_interrupt")  # the weights have not been touched by this step: the last good state
        raise TrainingError(
            f"step {c.step + 1}: the {what} is not finite ({loss if what == 'loss' else gnorm}); training "
            f"stopped{self._saved_where()}. Try a lower --lr (now {self.options.lr:g}) or a tighter --clip "
            f"(now {self.options.clip:g}), or --on-nan skip")

    def _saved_where(self) -> str:
        where = next((cb.where for cb in self.callbacks if cb.where), None)
        return f", the last good checkpoint is in {where}" if where else ""

    # ----- evaluation -------------------------------------------------------------------------
    def evaluate(self) -> dict[str, Any]:
        c = self.counters
        began = time.perf_counter()
        self.model.eval()
        with torch.no_grad(), autocast(self.device, self.options.precision), self.evaluated_weights():
            metrics = self.task.evaluate(self.module)
        self.model.train()
        self.eval_seconds = time.perf_counter() - began
        record = self._record(metrics)
        self.window = Window()
        c.last_eval_step, c.last_eval_seconds = c.step, c.train_seconds
        self.metrics.append(record)
        score = self.task.score(metrics)
        improved = math.isfinite(score) and (c.best_score is None or score > c.best_score)
        if improved and (c.best_score is None or score > c.best_score + self.options.min_delta):
            c.bad_evals = 0
        elif self.options.patience is not None:  # reduce on plateau
            c.bad_evals, c.lr_scale = c.bad_evals + 1, c.lr_scale * self.options.plateau_factor
        if improved:
            c.best_score = score
        elif self.options.average and self.average is None:
            self.average, c.averaged = [p.detach().clone() for p in self.params], 1
        self._call("on_evaluation", record, improved)
        return record

    @contextlib.contextmanager
    def evaluated_weights(self) -> Iterator[None]:
        """The weights in the model while evaluating and keeping the best checkpoint: with
        --average, once it began (at the first evaluation without a better score, as NT-ASGD
        switches to averaged SGD: Merity, Keskar and Socher 2017), the mean of the weights of every
        step since; training goes on from its own weights."""
        if self.average is None:
            yield
            return
        own = [p.detach().clone() for p in self.params]
        with torch.no_grad():
            torch._foreach_copy_(self.params, self.average)
        try:
            yield
        finally:
            with torch.no_grad():
                torch._foreach_copy_(self.params, own)

    def _record(self, metrics: dict[str, float]) -> dict[str, Any]:
        c, w, unit = self.counters, self.window, self.task.unit
        return {
            "step": c.step, "epoch": round(c.epoch + c.index / max(1, self.task.steps_per_epoch()), 4),
            "elapsed_s": round(c.train_seconds, 3), f"{unit}_seen": c.seen,
            f"{unit}_per_sec": round(c.seen / c.train_seconds, 1) if c.train_seconds else 0.0,
            "train_loss": round(w.loss / w.steps, 6) if w.steps else None,
            **{k: _finite(v) for k, v in metrics.items()},
            "lr": self.optimizer.param_groups[0]["lr"],
            "grad_norm": round(w.gnorm / w.steps, 6) if w.steps else None,
            "grad_norm_max": round(w.gmax, 6) if w.steps else None,
            "clip": self.options.clip, "nan_skipped": c.nan_skipped, "eval_s": round(self.eval_seconds or 0.0, 3),
            **({"averaged": c.averaged} if self.options.average else {}),
        }

    def best_record(self) -> dict[str, Any] | None:
        """The evaluation with the best score (the one best.safetensors holds); None before any."""
        return best_of(self.metrics, self.task.score)

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.module.parameters())

    def finish(self, run: Any, report: Callable[[str], None]) -> None:
        """The task's closing work after the loop (:meth:`Task.finish`)."""
        self.task.finish(self.module, run, report)

    @property
    def module(self) -> nn.Module:
        """The model without its DistributedDataParallel wrapper."""
        return getattr(self.model, "module", self.model)

    def _call(self, hook: str, *args: Any) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(self, *args)

    # ----- state, for checkpoints -------------------------------------------------------------
    def state(self) -> tuple[dict[str, dict[str, Tensor]], dict[str, Any]]:
        """Everything that decides the trajectory (model, optimiser, schedule position, RNG, data
        position, carried state), as groups of tensors and JSON metadata; every rank takes part."""
        task_state = {name: self.dist.gather_tensor(t, dim=1 if t.dim() == 3 else 0)
                      for name, t in self.task.state_tensors().items()}
        rng_ranks = self.dist.gather_tensor(torch.get_rng_state()[None, :], dim=0)
        optimizer_tensors, optimizer_meta = _flatten_optimizer(self.optimizer.state_dict())
        rng = {"torch": torch.get_rng_state(), "ranks": rng_ranks}
        average = {str(k): t for k, t in enumerate(self.average or [])}
        if torch.cuda.is_available() and self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.device)
        meta = {"counters": asdict(self.counters), "optimizer": optimizer_meta, "eval_seconds": self.eval_seconds,
                "window": asdict(self.window), "world": self.dist.world}
        return {"model": self.module.state_dict(), "optim": optimizer_tensors, "rng": rng, "task": task_state,
                "average": average}, meta

    def load_state(self, groups: dict[str, dict[str, Tensor]], meta: dict[str, Any]) -> None:
        """Restore :meth:`state` (the model's weights are loaded by the caller, who checks them)."""
        self.counters = Counters(**meta["counters"])
        self.optimizer.load_state_dict(_unflatten_optimizer(groups["optim"], meta["optimizer"]))
        rng, ranks = groups["rng"], groups["rng"].get("ranks")
        if ranks is not None and int(meta.get("world", 1)) == self.dist.world:
            torch.set_rng_state(ranks[self.dist.rank].clone())
        elif self.dist.world == 1:
            torch.set_rng_state(rng["torch"])
        else:  # another world size: dropout noise restarts from a seed, the rest is exact
            torch.manual_seed(self.options.seed * 1000 + self.dist.rank + self.counters.step)
        self.eval_seconds = meta.get("eval_seconds")
        average = groups.get("average") or {}
        self.average = [average[str(k)].to(p.device, p.dtype, copy=True) for k, p in enumerate(self.params)] \
            if average else None
        window = meta.get("window")
        self.window = Window(**{k: v for k, v in window.items() if k in Window.__dataclass_fields__}) \
            if isinstance(window, dict) else Window()
        self.task.load_state_tensors(groups["task"])


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
    groups = [dict(g) for g in state["param_groups"]]
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
