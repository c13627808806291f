"""--tune: spend a classifier's --time-budget on a search over the choices that matter, by
successive halving, and keep the best trial by validation macro-F1.

Six candidates (the defaults first, then five drawn by the seed from model kind incl. the bag of
words, width, learning rate, dropout and vocabulary level) train for a short budget each; the
better half trains again with twice the budget; the search takes half of the budget. The best
candidate then trains with all the time left and becomes the run: a winner trained briefly would
lose to the defaults trained with the whole budget. Every trial is a run directory under ``RUN/trials`` and a line of
``RUN/trials.jsonl``; all trials see the same validation examples (the same seed holds out the
same stratified tenth, or ``--valid``). A trial restarts from scratch with its larger budget: no
state carries over, so a trial's score depends on its budget only.
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

SPACE: dict[str, tuple[Any, ...]] = {
    "model": ("lstm", "gru", "bow"),
    "hidden": (64, 128, 256),
    "lr_scale": (0.5, 1.0, 2.0),
    "dropout": (0.1, 0.3, 0.5),
    "level": ("word", "bpe"),
}
CANDIDATES = 6
STAGE_BUDGETS = (1, 2)  # relative budget of a trial at each stage; candidates halve between stages
SEARCH_SHARE = 0.5  # of --time-budget, what the search takes; the winner's final run gets the rest
RUN_FILES = ("config.json", "vocab.json", "labels.json", "best.safetensors", "last.safetensors", "metrics.jsonl")


@dataclass
class Trial:
    number: int
    choices: dict[str, Any]
    stage: int = 0
    budget: float = 0.0
    macro_f1: float | None = None
    accuracy: float | None = None
    path: str = ""

    def record(self) -> dict[str, Any]:
        return {"trial": self.number, "stage": self.stage, "budget_s": round(self.budget, 1), **self.choices,
                "macro_f1": self.macro_f1, "accuracy": self.accuracy}


def candidates(seed: int, given: frozenset[str]) -> list[dict[str, Any]]:
    """The defaults first, then distinct draws; options the user gave are not searched."""
    rng = random.Random(seed)
    fixed = given | ({"level"} if "vocab" in given else set())
    searched = [k for k in SPACE if (k if k != "lr_scale" else "lr") not in fixed]
    chosen: list[dict[str, Any]] = [{}]
    for _ in range(100):
        if len(chosen) >= CANDIDATES or not searched:
            break
        draw = {k: rng.choice(SPACE[k]) for k in searched}
        if draw.get("model") == "bow":  # no recurrent layer to size or drop out
            draw = {k: v for k, v in draw.items() if k not in ("hidden", "dropout")}
        if draw not in chosen:
            chosen.append(draw)
    return chosen


def trial_args(args: TrainArgs, choices: dict[str, Any], output: Path, budget: float) -> TrainArgs:
    """The user's options with a candidate's choices, as a run of its own."""
    values = {name: getattr(args, name) for name in args.given if name not in ("tune", "output", "force")}
    values.update({k: v for k, v in choices.items() if k != "lr_scale"})
    if "lr_scale" in choices and choices["lr_scale"] != 1.0:
        default = 2e-2 if choices.get("model", args.model) == "bow" else 3e-3
        values["lr"] = default * choices["lr_scale"]
    values.update(output=str(output), time_budget=budget, task=CLASSIFY)
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
    """Successive halving within the budget; the winner's files become the run's."""
    trials = [Trial(k, c) for k, c in enumerate(candidates(args.seed, args.given))]
    budget = args.time_budget or 0.0
    unit = SEARCH_SHARE * budget / sum(b * max(1, len(trials) // 2 ** s) for s, b in enumerate(STAGE_BUDGETS))
    log: list[dict[str, Any]] = []
    alive = trials
    for stage, scale in enumerate(STAGE_BUDGETS):
        for trial in alive:
            trial.stage, trial.budget = stage, unit * scale
            _search(trial, args, run_dir, train, log, report)
        alive = sorted(alive, key=lambda t: t.macro_f1 if t.macro_f1 is not None else -1.0, reverse=True)
        alive = alive[: max(1, len(alive) // 2)]
    final = alive[0]
    final.stage, final.budget = len(STAGE_BUDGETS), max(unit, 0.95 * budget - (time.time() - started))
    _search(final, args, run_dir, train, log, report)
    best = final
    for name in RUN_FILES:
        source = Path(best.path) / name
        if source.is_file():
            shutil.copy2(source, run_dir / name)
    report(f"tuned: trial {best.number} ({_describe(best.choices)}), validation macro-F1 {best.macro_f1}")
    return best


def _search(trial: Trial, args: TrainArgs, run_dir: Path, train: Callable[[TrainArgs], Any],
            log: list[dict[str, Any]], report: Callable[[str], None]) -> None:
    _run(trial, args, run_dir, train)
    log.append(trial.record())
    _write_log(run_dir, log)
    report(f"trial {trial.number} (stage {trial.stage}, {trial.budget:.0f}s): {_describe(trial.choices)}: "
           f"macro-F1 {trial.macro_f1 if trial.macro_f1 is not None else 'n/a'}")


def _run(trial: Trial, args: TrainArgs, run_dir: Path, train: Callable[[TrainArgs], Any]) -> None:
    output = run_dir / "trials" / f"{trial.number:02d}-stage{trial.stage}"
    result = train(trial_args(args, trial.choices, output, trial.budget))
    best = result.best or {}
    trial.macro_f1, trial.accuracy, trial.path = best.get("macro_f1"), best.get("accuracy"), str(output)


def _write_log(run_dir: Path, log: list[dict[str, Any]]) -> None:
    import json

    from rnncli.fileio import write_bytes

    write_bytes(run_dir / "trials.jsonl", "".join(json.dumps(r) + "\n" for r in log).encode("utf-8"))


def _describe(choices: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in choices.items()) or "the defaults"
