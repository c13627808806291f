"""Executing a training run: the guarded run directory, the data, the plan, the model and the loop.

:func:`train` is what ``rnncli train`` and ``rnncli.train()`` call. It guards and locks the run
directory (:mod:`rnncli.run.guard`), has the run's task read and tokenize its data (the task's
``data`` part, :mod:`rnncli.tasks`), asks :func:`rnncli.plan.plan_run` for every choice, builds
the model and a :class:`~rnncli.training.Trainer` with a checkpointer, runs it, and lets the task
finish (the language model's unigram cache). Only rank 0 of a distributed run writes files and
reports; the others follow it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import torch

from rnncli import prepare as prep
from rnncli.args import TrainArgs, check_bounds, refuse_inapplicable, resumed
from rnncli.callbacks import TENSORBOARD, Checkpointer, Sampler, TensorBoardLogger, require_tensorboard
from rnncli.distributed import current, init_from_environment, shutdown
from rnncli.errors import ConfigError
from rnncli.models import embedding_table
from rnncli.plan import CorpusFacts, RunPlan, plan_run, summary
from rnncli.run.directory import RunConfig, RunDir
from rnncli.run.files import BEST
from rnncli.run.guard import from_config, graceful_stop, run_directory, sources, stdin_file
from rnncli.run.weights import load_checkpoint
from rnncli.tasks import task as task_spec
from rnncli.text.reader import STDIN, check_inputs
from rnncli.training import Callback, EvalCadence, Trainer

Report = Callable[[str], None]


def _silent(message: str) -> None:
    pass


@dataclass(frozen=True)
class TrainResult:
    """What a finished run reports: its directory, plan, last evaluation and the best one."""

    path: str
    plan: RunPlan
    final: dict[str, Any]
    best: dict[str, Any] | None


def train(args: TrainArgs, report: Report = _silent, callbacks: Sequence[Callback] = (),
          started: float | None = None) -> TrainResult:
    """Train as ``rnncli train`` does: guard the run directory, hold its lock, run, report.

    Without ``output``, the run gets a new directory under ``runs/``. A corpus of ``-`` is read from
    stdin once, into a temporary file that lives as long as the set-up needs it. A new run directory
    is removed again if the run fails before its first checkpoint. A first SIGINT or SIGTERM
    finishes the step, saves and raises :class:`~rnncli.errors.StopRequested`.
    """
    started = started or time.time()
    check_bounds(args)
    if args.config is not None:
        args = from_config(args)
    if args.valid == STDIN:
        raise ConfigError("--valid cannot read stdin: give the validation text as a file")
    if args.log == TENSORBOARD:
        require_tensorboard()
    dist = init_from_environment("cuda" if args.device in ("auto", "cuda") and torch.cuda.is_available() else "cpu")
    clean = False
    try:
        if dist.enabled and (STDIN in args.corpus or not args.output):
            raise ConfigError("a distributed run needs --output and corpus files: every process reads them")
        with stdin_file(args) as stdin_copy:
            if not dist.is_main:  # rank 0 checks, locks and reports; the others follow it
                result = _train_here(args, stdin_copy, _silent, (), started)
            else:
                result = _train_guarded(args, stdin_copy, report, callbacks, started)
        clean = True
        return result
    finally:
        shutdown(clean)


def _train_guarded(args: TrainArgs, stdin_copy: str | None, report: Report, callbacks: Sequence[Callback],
                   started: float) -> TrainResult:
    if args.tune:
        _check_tune(args, stdin_copy)
    with run_directory(args, lambda: prep.run_name(args, stdin_copy), report) as (args, run):
        if args.tune:
            return _tuned(args, run, report, started)
        return _train_here(args, stdin_copy, report, callbacks, started)


def _check_tune(args: TrainArgs, stdin_copy: str | None) -> None:
    from rnncli.tune import check

    if stdin_copy is not None:
        raise ConfigError("--tune reads the data once per trial: give a file, not stdin")
    check(args, args.task or prep.task_of(args, check_inputs(args.corpus), _silent))


def _tuned(args: TrainArgs, run: RunDir, report: Report, started: float) -> TrainResult:
    """--tune: trials under RUN/trials; the best one's files become the run's."""
    from rnncli.scores import best_of, classifier_score
    from rnncli.tune import tune

    def trial(trial_args: TrainArgs) -> TrainResult:
        return _train_here(trial_args, None, _silent, (), time.time())

    tune(args, run.path, trial, report, started)
    records = run.read_metrics()
    return TrainResult(str(run.path), run.load_config(type(args)).plan, records[-1] if records else {},
                       best_of(records, classifier_score))


def _train_here(args: TrainArgs, stdin_copy: str | None, report: Report, callbacks: Sequence[Callback],
                started: float) -> TrainResult:
    prepared = prepare(args, report, callbacks, started, stdin_copy)
    report(prepared.summary())
    trainer = prepared.trainer
    with graceful_stop(trainer, report):
        final = trainer.run()
    trainer.finish(prepared.run, report)
    return TrainResult(str(prepared.run.path), prepared.plan, final, trainer.best_record())


@dataclass
class Prepared:
    """A run ready to start: its plan, the facts it was made from, and the trainer."""

    plan: RunPlan
    facts: CorpusFacts
    trainer: Any  # a Trainer, or what counts a counted model (its task's data.counter)
    run: RunDir

    def summary(self) -> str:
        return summary(self.plan, self.facts, self.trainer.parameter_count())


def prepare(args: TrainArgs, report: Report = _silent, callbacks: Sequence[Callback] = (),
            started: float | None = None, stdin_copy: str | None = None) -> Prepared:
    """Everything a run needs before the loop starts (without the directory guard and lock);
    ``stdin_copy`` holds what stdin gave when the corpus is ``-``."""
    started = started or time.time()
    run = RunDir(args.output)
    args, saved, source, corpus, task = _inputs(args, run, stdin_copy, report)
    machine, device = prep.machine_of(args)
    tokenizer = prep.tokenizer_plan(args, task, corpus, saved, source)
    data = task_spec(task).part("data")(args, corpus, tokenizer, run, saved, source, report)
    if source is not None:
        prep.report_fallbacks(data, args.init_from or "", report)
    if saved is None and args.pretrained_vectors:
        args = prep.with_vector_width(args, data.vocab)
    if saved is None:
        machine = task_spec(task).part("planning").measure(machine, device, args, data)
    plan = plan_run(args, task, tokenizer, data.facts, machine, saved.plan if saved else None,
                    source.model if source else None)
    for note in plan.notes:
        report(note)
    if plan.model.kind in task_spec(task).counted:
        return _counted(plan, data, run)
    if plan.args.sample_every and current().is_main:
        callbacks = [*callbacks, Sampler(run, data.vocab, plan.args.sample_every, plan.args.sample_prompt,
                                         plan.args.sample_tokens, report)]
    trainer = _trainer(plan, data, run, device, callbacks, started, saved is not None, report)
    if current().is_main:
        run.save_config(RunConfig(plan, data.labels))
    return Prepared(plan, data.facts, trainer, run)


def _inputs(args: TrainArgs, run: RunDir, stdin_copy: str | None,
            report: Report) -> tuple[TrainArgs, RunConfig | None, RunConfig | None, list[str], str]:
    """The arguments (a resumed run's, with what was given now), the run resumed or started from,
    the corpus files, and the task."""
    saved = prep.saved_config(run, args)
    if saved is not None:
        refuse_inapplicable(args, saved.task, None, building=False)
        args = resumed(saved.plan.args, args)
    if not args.corpus:
        raise ConfigError("no training data given" if args.task == "classify" else "no corpus given")
    corpus = sources(check_inputs(args.corpus), stdin_copy)
    source = prep.init_source(args) if saved is None and args.init_from else None
    task = saved.task if saved else source.task if source else prep.task_of(args, corpus, report)
    return args, saved, source, corpus, task


def _counted(plan: RunPlan, data: Any, run: RunDir) -> Prepared:
    """A counted model's run (the n-gram baseline): its counter stands where the training loop stands."""
    if current().enabled:
        raise ConfigError(f"--model {plan.model.kind} is counted in one process: run it without torchrun")
    run.save_config(RunConfig(plan, data.labels))
    return Prepared(plan, data.facts, data.counter(plan, run), run)


def _trainer(plan: RunPlan, data: Any, run: RunDir, device: torch.device, callbacks: Sequence[Callback],
             started: float, resume: bool, report: Report = _silent) -> Trainer:
    """The model and the loop; on --resume, the saved state and what is left of the time budget."""
    torch.manual_seed(plan.loop.seed)
    model = task_spec(plan.task).part("model")(plan.model).to(device)
    task = data.task(plan, device)
    if plan.args.init_from and not resume:
        load_checkpoint(model, RunDir(plan.args.init_from).file(BEST))
    if plan.args.pretrained_vectors and not resume:
        prep.load_vectors(model, data.vocab, plan.args.pretrained_vectors, report)
    if plan.args.freeze_embeddings:
        embedding_table(model).requires_grad_(False)
    task.setup_model(model, fresh=not resume and not plan.args.init_from)
    model = wrap(model, device, unused=bool(plan.model.cutoffs))
    checkpointer = Checkpointer(run, plan.loop.save_every, plan.loop.save_every_steps)
    if plan.args.log == TENSORBOARD and current().is_main:
        callbacks = [TensorBoardLogger(run.file(TENSORBOARD)), *callbacks]
    deadline = None if plan.loop.time_budget is None else started + plan.loop.time_budget
    trainer = Trainer(model, task, plan.loop, device, [checkpointer, *callbacks], EvalCadence(), deadline)
    if resume:
        checkpointer.restore(trainer)
        if deadline is not None:
            trainer.deadline = deadline - trainer.counters.train_seconds
    return trainer


def wrap(model: torch.nn.Module, device: torch.device, unused: bool = False) -> torch.nn.Module:
    """DistributedDataParallel in a torchrun process group; the model itself otherwise."""
    dist = current()
    if not dist.enabled:
        return model
    from torch.nn.parallel import DistributedDataParallel

    ids = [device.index if device.index is not None else dist.local_rank] if device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids, find_unused_parameters=unused)
