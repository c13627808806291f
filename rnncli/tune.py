"""--tune: spend a classifier's --time-budget on a search over the choices that matter, and keep
the best trial by validation macro-F1 (validation loss breaks ties).

Six candidates: the defaults (the incumbent), then five drawn by the seed from model kind incl.
the bag of words and the convolutional network, width (a CNN's filters per width), learning rate,
dropout and vocabulary level; a kind that refuses an option the user gave is not drawn. Every trial is a run that
*continues* (``--resume`` with a larger budget) when it goes on, so no training is thrown away:

1. every candidate trains for one unit of time;
2. the defaults and the two best challengers train one unit more;
3. if the defaults lead, they train with all the time left. If a challenger leads, the lead of a
   model that learns fast in seconds often does not last (a wider model overtakes it later), so
   the challenger and the defaults each train with half the time left, and the better one at
   that equal budget wins; a tie goes to the defaults.

The search (steps 1 and 2) takes 40% of the budget. Every trial is a run directory under
``RUN/trials`` and its records are lines of ``RUN/trials.jsonl``; all trials see the same
validation examples (the same seed holds out the same stratified tenth, or ``--valid``).
"""

from __future__ import annotations

import random
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from rnncli.args import CLASSIFY, TrainArgs
from rnncli.errors import ConfigError
from rnncli.run.files import LAST, RUN_FILES, TRIALS, TRIALS_DIR

SPACE: dict[str, tuple[Any, ...]] = {
    "model": ("lstm", "gru", "bow", "cnn"),
    "hidden": (64, 128, 256),
    "lr_scale": (0.5, 1.0, 2.0),
    "dropout": (0.1, 0.3, 0.5),
    "level": ("word", "bpe"),
}
CANDIDATES = 6
CHALLENGERS_KEPT = 2  # challengers that train a second unit beside the defaults
SEARCH_SHARE = 0.4  # of --time-budget, what steps 1 and 2 take; the final step gets the rest


@dataclass
class Trial:
    number: int
    choices: dict[str, Any]
    stage: int = 0
    budget: float = 0.0  # wall seconds given to the trial so far, stage by stage
    trained: float = 0.0  # seconds its training loop has run (what --resume counts against --time-budget)
    macro_f1: float | None = None
    accuracy: float | None = None
    val_loss: float | None = None
    path: str = ""

    def record(self) -> dict[str, Any]:
        return {"trial": self.number, "stage": self.stage, "budget_s": round(self.budget, 1), **self.choices,
                "macro_f1": self.macro_f1, "accuracy": self.accuracy, "val_loss": self.val_loss}

    def rank(self) -> tuple[float, float]:
        """Higher is better: validation macro-F1, then lower validation loss."""
        loss = self.val_loss if self.val_loss is not None else float("inf")
        return (self.macro_f1 if self.macro_f1 is not None else -1.0, -loss)


def candidates(seed: int, given: frozenset[str]) -> list[dict[str, Any]]:
    """The defaults first, then distinct draws; options the user gave are not searched."""
    from rnncli.plan import planning

    refused_by_cnn = set(planning(CLASSIFY).CNN_REFUSES)
    rng = random.Random(seed)
    fixed = given | ({"level"} if "vocab" in given else set())
    searched = [k for k in SPACE if (k if k != "lr_scale" else "lr") not in fixed]
    space = {**SPACE, "model": tuple(m for m in SPACE["model"] if m != "cnn" or not fixed & refused_by_cnn)}
    chosen: list[dict[str, Any]] = [{}]
    for _ in range(100):
        if len(chosen) >= CANDIDATES or not searched:
            break
        draw = {k: rng.choice(space[k]) for k in searched}
        if draw.get("model") == "bow":  # no recurrent layer to size or drop out
            draw = {k: v for k, v in draw.items() if k not in ("hidden", "dropout")}
        if draw not in chosen:
            chosen.append(draw)
    return chosen


def trial_args(args: TrainArgs, choices: dict[str, Any], output: Path, budget: float,
               resume: bool = False) -> TrainArgs:
    """The user's options with a candidate's choices, as a run of its own (continued when ``resume``)."""
    values = {name: getattr(args, name) for name in args.given if name not in ("tune", "output", "force")}
    values.update({k: v for k, v in choices.items() if k != "lr_scale"})
    if "lr_scale" in choices and choices["lr_scale"] != 1.0:
        default = 2e-2 if choices.get("model", args.model) == "bow" else 3e-3
        values["lr"] = default * choices["lr_scale"]
    values.update(output=str(output), time_budget=budget, task=CLASSIFY, resume=resume)
    return type(args).of(**values)


def check(args: TrainArgs, task: str) -> None:
    if task != CLASSIFY:
        raise ConfigError("--tune searches classifiers' settings; language models are not tuned yet")
    if args.time_budget is None:
        raise ConfigError("--tune needs --time-budget SECONDS: the search spends it")
    if args.resume:
        raise ConfigError("--tune starts a new search; --resume continues a run: give one of them")


def tune(args: TrainArgs, run_dir: Path, train: Callable[[TrainArgs], Any], report: Callable[[str], None],
         started: float) -> Trial:
    """The search of the module's docstring; the winner's files become the run's."""
    trials = [Trial(k, c, path=str(run_dir / TRIALS_DIR / f"{k:02d}")) for k, c in enumerate(candidates(args.seed, args.given))]
    budget = args.time_budget or 0.0
    incumbent, challengers = trials[0], trials[1:]
    unit = SEARCH_SHARE * budget / (len(trials) + 1 + min(CHALLENGERS_KEPT, len(challengers)))
    log: list[dict[str, Any]] = []

    def step(trial: Trial, stage: int, seconds: float) -> None:
        trial.stage, trial.budget = stage, trial.budget + seconds
        _run(trial, args, train, seconds)
        log.append(trial.record())
        _write_log(run_dir, log)
        report(f"trial {trial.number} (stage {stage}, {trial.budget:.0f}s in all): {_describe(trial.choices)}: "
               f"macro-F1 {trial.macro_f1 if trial.macro_f1 is not None else 'n/a'}")

    for trial in trials:
        step(trial, 0, unit)
    kept = [incumbent, *sorted(challengers, key=Trial.rank, reverse=True)[:CHALLENGERS_KEPT]]
    for trial in kept:
        step(trial, 1, unit)
    leader = max(kept, key=Trial.rank)  # the defaults first among equals: max keeps the first
    left = max(unit, 0.95 * budget - (time.time() - started))
    finalists = [incumbent] if leader is incumbent else [leader, incumbent]
    for trial in finalists:
        step(trial, 2, left / len(finalists))
    best = max(reversed(finalists), key=Trial.rank)  # a tie goes to the defaults
    for name in RUN_FILES:
        source = Path(best.path) / name
        if source.is_file():
            shutil.copy2(source, run_dir / name)
    report(f"tuned: trial {best.number} ({_describe(best.choices)}), validation macro-F1 {best.macro_f1}")
    return best


def _run(trial: Trial, args: TrainArgs, train: Callable[[TrainArgs], Any], seconds: float) -> None:
    """Train the trial for ``seconds`` more of wall time: a continued run's budget counts the
    seconds its loop has already run."""
    path = Path(trial.path)
    resume = (path / LAST).is_file()
    result = train(trial_args(args, trial.choices, path, trial.trained + seconds if resume else seconds, resume))
    trial.trained = float(result.final.get("elapsed_s", trial.trained))
    best = result.best or {}
    trial.macro_f1, trial.accuracy, trial.val_loss = best.get("macro_f1"), best.get("accuracy"), best.get("val_loss")


def _write_log(run_dir: Path, log: list[dict[str, Any]]) -> None:
    import json

    from rnncli.fileio import write_bytes

    write_bytes(run_dir / TRIALS, "".join(json.dumps(r) + "\n" for r in log).encode("utf-8"))


def _describe(choices: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in choices.items()) or "the defaults"
