"""What the training loop is told: the options of :class:`TrainOptions`, below both the loop
(rnncli.training) and the planner (rnncli.plan) that fills them in. No torch."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from rnncli.errors import ConfigError


@dataclass(frozen=True)
class TrainOptions:
    """What the training loop needs: stopping, optimiser, schedule, cadence, numerical policy."""

    epochs: int | None = None
    max_steps: int | None = None
    time_budget: float | None = None  # seconds of wall time for the whole command
    lr: float = 3e-3
    optimizer: str = "adamw"
    weight_decay: float = 0.01
    warmup: float = 0.0  # share of the run spent warming the learning rate up
    final_lr: float = 0.02  # share of --lr left at the end of the cosine decay
    clip: float = 1.0  # max gradient norm; 0 turns clipping off
    patience: int | None = None  # evaluations without improvement before stopping; None: never
    plateau_factor: float = 0.5  # the learning rate is multiplied by it at each evaluation without improvement
    min_delta: float = 1e-3  # a smaller gain of the validation score (nats, or F1) counts as no improvement
    cycle_steps: int | None = None  # the cosine schedule restarts every N steps, at half the last peak
    average: bool = False  # average the weights from the first evaluation without improvement (NT-ASGD's trigger)
    eval_every: int | None = None  # steps; default: about ten evaluations per run
    save_every: float = 300.0  # seconds between checkpoints (also saved at each evaluation)
    save_every_steps: int | None = None
    seed: int = 0
    on_nan: str = "stop"
    precision: str = "fp32"

    def check(self) -> "TrainOptions":
        rules = [(self.epochs is None or self.epochs >= 1, "--epochs must be at least 1"),
                 (self.max_steps is None or self.max_steps >= 1, "--max-steps must be at least 1"),
                 (self.time_budget is None or self.time_budget > 0, "--time-budget must be positive"),
                 (self.lr > 0 and math.isfinite(self.lr), "--lr must be a positive number"),
                 (self.clip >= 0, "--clip must be 0 (off) or positive"),
                 (self.on_nan in ("stop", "skip"), "--on-nan must be stop or skip"),
                 (self.optimizer in ("adamw", "sgd"), "--optimizer must be adamw or sgd"),
                 (self.eval_every is None or self.eval_every >= 1, "--eval-every must be at least 1"),
                 (self.patience is None or self.patience >= 1, "--patience must be at least 1"),
                 (self.cycle_steps is None or self.cycle_steps >= 1, "schedule cycles need at least one step"),
                 (0 <= self.warmup < 1, "warm-up share must be in [0, 1)")]
        for holds, message in rules:
            if not holds:
                raise ConfigError(message)
        return self

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
