"""Executing a training run: the run directory, the data, the plan, the model and the loop.

:func:`train` is what ``rnncli train`` and ``rnncli.train()`` call. It guards and locks the run
directory, reads and tokenizes the data, asks :func:`rnncli.plan.plan_run` for every choice, builds
the model and a :class:`~rnncli.training.Trainer` with a checkpointer, and runs it. Only rank 0 of
a distributed run writes files and reports; the others follow it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
import os
import shutil
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol, Sequence

import torch

from rnncli.args import LM, TrainArgs, check_bounds, flag, reapplied, refuse_inapplicable, resumed
from rnncli.callbacks import TENSORBOARD, Checkpointer, Sampler, TensorBoardLogger, require_tensorboard
from rnncli.run.files import BEST, CONFIG, LAST, VOCAB
from rnncli.run.directory import RunConfig, RunDir, fresh_run_dir
from rnncli.run.weights import build_model, load_checkpoint
from rnncli.corpus import TokenText, encode_corpus, split_tail
from rnncli.device import resolve_device, resolve_precision, set_threads
from rnncli.distributed import current, init_from_environment, shutdown
from rnncli.errors import ConfigError, InputError
from rnncli.models.config import ModelConfig
from rnncli.plan import (CorpusFacts, Machine, RunPlan, TokenizerPlan, budget_candidates, default_level, infer_task,
                         lm_holdout, lm_shapes, plan_run, plan_tokenizer, summary)
from rnncli.text.build import VocabOptions, VocabReport, build_from_texts, build_vocabulary
from rnncli.text.labelled import Example, looks_labelled, read_labelled
from rnncli.text.reader import STDIN, check_inputs
from rnncli.text.vocab import Vocab, load_vocab
from rnncli.training import Callback, EvalCadence, StopRequested, Task, Trainer

Report = Callable[[str], None]
RUNS_ROOT = "runs"


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
    finishes the step, saves and raises :class:`StopRequested`.
    """
    started = started or time.time()
    check_bounds(args)
    if args.config is not None:
        args = _from_config(args)
    if args.valid == STDIN:
        raise ConfigError("--valid cannot read stdin: give the validation text as a file")
    if args.log == TENSORBOARD:
        require_tensorboard()
    dist = init_from_environment("cuda" if args.device in ("auto", "cuda") and torch.cuda.is_available() else "cpu")
    clean = False
    try:
        if dist.enabled and (STDIN in args.corpus or not args.output):
            raise ConfigError("a distributed run needs --output and corpus files: every process reads them")
        with _stdin_file(args) as stdin_file:
            if not dist.is_main:  # rank 0 checks, locks and reports; the others follow it
                result = _train_here(args, stdin_file, _silent, (), started)
            else:
                result = _train_guarded(args, stdin_file, report, callbacks, started)
        clean = True
        return result
    finally:
        shutdown(clean)


def _from_config(args: TrainArgs) -> TrainArgs:
    """--config: the options another run was given, with those given now on top."""
    if args.resume:
        raise ConfigError("--config starts a new run and --resume continues one: give one of them")
    source = Path(args.config or "")
    run = RunDir(source if source.is_dir() else source.parent)
    if not source.exists():
        raise InputError(f"--config {source}: no such run directory or file")
    if source.is_file() and source.name != CONFIG:
        raise ConfigError(f"--config {source}: give a run directory or its {CONFIG}")
    run.require(CONFIG)
    return reapplied(run.load_config(type(args)).plan.args, args, str(run.file(CONFIG)))


@contextlib.contextmanager
def _stdin_file(args: TrainArgs) -> Iterator[str | None]:
    """Standard input read once into a file beside the token cache, when the corpus is ``-``."""
    if STDIN not in args.corpus:
        yield None
        return
    import sys

    from rnncli.fileio import spooled_stdin
    from rnncli.tokencache import cache_dir

    if sys.stdin is None or sys.stdin.isatty():
        raise ConfigError("the corpus is - (stdin), but stdin is a terminal: pipe the text in or name a file")
    with spooled_stdin(cache_dir()) as path:
        yield str(path)


def _train_guarded(args: TrainArgs, stdin_file: str | None, report: Report, callbacks: Sequence[Callback],
                   started: float) -> TrainResult:
    created = not args.output
    if created:
        if args.resume:
            raise ConfigError("--resume needs --output / -o: the run to continue")
        args = args.with_values(output=str(fresh_run_dir(RUNS_ROOT, _run_name(args, stdin_file))))
        report(f"run directory: {args.output}")
    run = RunDir(args.output)
    if not args.resume and run.file(CONFIG).exists() and not args.force:
        raise ConfigError(f"{args.output} already holds a run: --resume to continue it, --force to replace it")
    if args.tune:
        _check_tune(args, stdin_file)
    created = created or not run.path.exists()
    run.create()
    try:
        with run.lock():
            if args.tune:
                return _tuned(args, run, report, started)
            return _train_here(args, stdin_file, report, callbacks, started)
    except StopRequested as stop:
        stop.path = args.output
        raise
    except BaseException:
        if created and not run.file(LAST).exists():
            shutil.rmtree(run.path, ignore_errors=True)
        raise


def _check_tune(args: TrainArgs, stdin_file: str | None) -> None:
    from rnncli.tune import check

    if stdin_file is not None:
        raise ConfigError("--tune reads the data once per trial: give a file, not stdin")
    check(args, args.task or _task(args, check_inputs(args.corpus), _silent))


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


def _run_name(args: TrainArgs, stdin_file: str | None) -> str:
    """``<model>-<level>-<date>-<time>``, with the level the run will build (or --vocab's)."""
    if args.vocab is not None:
        level = load_vocab(args.vocab).level
    else:
        corpus = _sources(check_inputs(args.corpus), stdin_file)
        level = args.level or default_level(_task(args, corpus, _silent), _bytes(corpus))
    return f"{args.model or 'lstm'}-{level}-{time.strftime('%Y%m%d-%H%M%S')}"


def _sources(corpus: list[str], stdin_file: str | None) -> list[str]:
    """The files to read: ``-`` stands for the copy of stdin."""
    if STDIN in corpus and stdin_file is None:
        raise ConfigError("the corpus is - (stdin): pipe it in again, or name the corpus files")
    return [stdin_file if p == STDIN and stdin_file else p for p in corpus]


def _train_here(args: TrainArgs, stdin_file: str | None, report: Report, callbacks: Sequence[Callback],
                started: float) -> TrainResult:
    prepared = prepare(args, report, callbacks, started, stdin_file)
    report(prepared.summary())
    trainer = prepared.trainer
    with graceful_stop(trainer, report):
        final = trainer.run()
    if prepared.plan.task == "lm":
        _fit_unigram_cache(trainer, prepared.run, report)
    return TrainResult(str(prepared.run.path), prepared.plan, final, trainer.best_record())


def _fit_unigram_cache(trainer: Any, run: RunDir, report: Report) -> None:
    """Fit the unigram cache (rnncli.unigram_cache) on validation with the best weights, and keep
    it in the run when it lowers the validation loss."""
    from rnncli import unigram_cache

    if isinstance(trainer, Trainer):
        if run.file(BEST).is_file():
            load_checkpoint(trainer.module, run.file(BEST))
        ids, log_probs = trainer.task.held_out_log_probs(trainer.module)
    else:
        ids, log_probs = trainer.held_out_log_probs()
    record = unigram_cache.fit(ids, log_probs)
    if current().is_main:
        unigram_cache.save(record, run.path)
    if record["weight"]:
        report(f"unigram cache: window {record['window']:,}, weight {record['weight']:g} (validation perplexity "
               f"{math.exp(record['valid_loss_network']):,.2f} -> {math.exp(record['valid_loss']):,.2f})")
    else:
        report("unigram cache: none helps on validation; the network reads alone")


@contextlib.contextmanager
def graceful_stop(trainer: Any, report: Report) -> Iterator[None]:
    """First SIGINT/SIGTERM: finish the step, save, stop. A second SIGINT stops at once (files are
    written atomically, so nothing is left half-written)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        if trainer.stop_signal is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        trainer.stop_signal = signum
        report("stopping after this step and saving (Ctrl-C again to stop at once) ...")

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


# ----- set-up -----------------------------------------------------------------------------------

@dataclass
class Prepared:
    """A run ready to start: its plan, the facts it was made from, and the trainer."""

    plan: RunPlan
    facts: CorpusFacts
    trainer: Any  # a Trainer, or the NGramCounter of an n-gram run
    run: RunDir

    def summary(self) -> str:
        return summary(self.plan, self.facts, self.trainer.parameter_count())


class TaskData(Protocol):
    """The data of one task, read and tokenized: what the planner needs, then the loop's task."""

    vocab: Vocab
    facts: CorpusFacts
    labels: list[str]

    def task(self, plan: RunPlan, device: torch.device) -> Task: ...

    def train_ids(self) -> Any:
        """Every training token id, as one array."""


def prepare(args: TrainArgs, report: Report = _silent, callbacks: Sequence[Callback] = (),
            started: float | None = None, stdin_file: str | None = None) -> Prepared:
    """Everything a run needs before the loop starts (without the directory guard and lock);
    ``stdin_file`` holds what stdin gave when the corpus is ``-``."""
    started = started or time.time()
    run = RunDir(args.output)
    saved = _saved(run, args)
    if saved is not None:
        refuse_inapplicable(args, saved.task, None, building=False)
        args = resumed(saved.plan.args, args)
    if not args.corpus:
        raise ConfigError("no training data given" if args.task == "classify" else "no corpus given")
    corpus = _sources(check_inputs(args.corpus), stdin_file)
    source = init_source(args) if saved is None and args.init_from else None
    task = saved.task if saved else source.task if source else _task(args, corpus, report)
    machine, device = _machine(args)
    tokenizer = _tokenizer(args, task, corpus, saved, source)
    read = _lm_data if task == LM else functools.partial(_classifier_data, source=source)
    data = read(args, corpus, tokenizer, run, saved, report)
    if source is not None:
        _report_fallbacks(data, args.init_from or "", report)
    if saved is None and args.pretrained_vectors:
        args = _with_vector_width(args, data.vocab)
    if saved is None:
        machine = _measure(machine, device, args, task, data)
    plan = plan_run(args, task, tokenizer, data.facts, machine, saved.plan if saved else None,
                    source.model if source else None)
    for note in plan.notes:
        report(note)
    if plan.model.kind == "ngram":
        return _counted(plan, data, run)
    if plan.args.sample_every and current().is_main:
        callbacks = [*callbacks, Sampler(run, data.vocab, plan.args.sample_every, plan.args.sample_prompt,
                                         plan.args.sample_tokens, report)]
    trainer = _trainer(plan, data, run, device, callbacks, started, saved is not None, report)
    if current().is_main:
        run.save_config(RunConfig(plan, data.labels))
    return Prepared(plan, data.facts, trainer, run)


SHAPE = {"model": "kind", "embed": "embed", "hidden": "hidden", "layers": "layers", "tie_weights": "tie_weights",
         "bidirectional": "bidirectional", "pool": "pool"}
VOCAB_OPTIONS = ("vocab", "level", "split", "lowercase", "min_freq", "max_size", "vocab_size")


def init_source(args: TrainArgs) -> RunConfig:
    """--init-from: the run whose weights, vocabulary and model shape a new run starts from; a
    shape option that differs from that run's is refused (dropout may change)."""
    run = RunDir(args.init_from or "")
    run.require(CONFIG, VOCAB, BEST)
    source = run.load_config(type(args))
    given_vocab = [name for name in VOCAB_OPTIONS if name in args.given]
    if given_vocab:
        raise ConfigError(f"{flag(given_vocab[0])}: --init-from keeps the vocabulary of {args.init_from}")
    if args.task is not None and args.task != source.task:
        raise ConfigError(f"--task {args.task}: {args.init_from} trained a {source.task} model")
    for name, attr in SHAPE.items():
        value, theirs = getattr(args, name), getattr(source.model, attr)
        if name in args.given and value != theirs:
            raise ConfigError(f"{flag(name)} {value} conflicts with {args.init_from}, whose model has {theirs}")
    if "adaptive" in args.given and bool(args.adaptive) != bool(source.model.cutoffs):
        raise ConfigError(f"--adaptive conflicts with the output layer of {args.init_from}")
    if source.task == "classify":
        source.labels = run.load_labels(source.model.num_labels)
    return source


def _tokenizer(args: TrainArgs, task: str, corpus: list[str], saved: RunConfig | None,
               source: RunConfig | None) -> TokenizerPlan:
    """The saved run's vocabulary on --resume, --init-from's run's, else the one planned here."""
    if saved is not None:
        return saved.plan.tokenizer
    if source is not None:
        return TokenizerPlan("file", str(RunDir(args.init_from or "").file(VOCAB)))
    return plan_tokenizer(args, task, _bytes(corpus))


def _report_fallbacks(data: "TaskData", source: str, report: Report) -> None:
    """How much of the new text the inherited vocabulary spells with <unk> or byte tokens."""
    import numpy as np

    from rnncli.text.vocab import BYTE_TOKENS, UNK

    spelled = np.array([t in BYTE_TOKENS for t in data.vocab.tokens] + [False])
    spelled[UNK] = True
    ids = data.train_ids()
    share = float(spelled[ids].mean()) if len(ids) else 0.0
    report(f"starting from {source}: {int(spelled[ids].sum()):,} of {len(ids):,} training tokens ({share:.2%}) are "
           "<unk> or byte fallbacks under its vocabulary")


def _counted(plan: RunPlan, data: "TaskData", run: RunDir) -> Prepared:
    """An n-gram run: its counter stands where the training loop stands."""
    from rnncli.ngram_train import NGramCounter

    if current().enabled:
        raise ConfigError("--model ngram is counted in one process: run it without torchrun")
    assert isinstance(data, LMData)
    run.save_config(RunConfig(plan, data.labels))
    return Prepared(plan, data.facts, NGramCounter(run, plan.model.order, plan.model.vocab_size, data.train,
                                                   data.valid), run)


def embedding_table(model: torch.nn.Module) -> torch.nn.Parameter:
    """The input embedding's weight (the bag of words': its first rows are the vocabulary's)."""
    holder = getattr(model, "embedding", None) or getattr(model, "bag")
    return holder.weight  # type: ignore[no-any-return]


def _with_vector_width(args: TrainArgs, vocab: Vocab) -> TrainArgs:
    """--pretrained-vectors: a word vocabulary, and an embedding as wide as the vectors."""
    from rnncli.text.vectors import vector_dim

    if vocab.level != "word":
        raise ConfigError(f"--pretrained-vectors needs a word vocabulary; this run's is {vocab.level}")
    dim = vector_dim(args.pretrained_vectors or "")
    if args.embed is not None and args.embed != dim:
        raise ConfigError(f"--embed {args.embed} differs from the {dim} dimensions of {args.pretrained_vectors}")
    return args if args.embed == dim else args.with_values(embed=dim)


def _load_vectors(model: torch.nn.Module, vocab: Vocab, path: str, report: Report) -> None:
    from rnncli.text.vectors import read_vectors

    found = read_vectors(path, {token: i for i, token in enumerate(vocab.tokens)})
    with torch.no_grad():
        embedding_table(model)[torch.from_numpy(found.ids)] = torch.from_numpy(found.rows)
    report(f"pretrained vectors: {len(found.ids):,} of {len(vocab):,} vocabulary words found in {path} "
           f"({found.read:,} vectors read); the other {len(vocab) - len(found.ids):,} rows stay random")


def _saved(run: RunDir, args: TrainArgs) -> RunConfig | None:
    if not args.resume:
        return None
    run.require(CONFIG, VOCAB, LAST)
    saved = run.load_config(type(args))
    if saved.task == "classify":
        saved.labels = run.load_labels(saved.model.num_labels)
    return saved


def _task(args: TrainArgs, corpus: list[str], report: Report) -> str:
    labelled = bool(corpus) and args.task is None and args.model != "bow" and all(looks_labelled(p) for p in corpus)
    task, why = infer_task(args, labelled)
    if why:
        report(why)
    return task


def _bytes(paths: list[str]) -> int:
    return sum(os.path.getsize(p) for p in paths if p != STDIN)


def _machine(args: TrainArgs) -> tuple[Machine, torch.device]:
    """Threads, device (each process of a distributed run on GPUs takes its own) and precision."""
    set_threads(args.threads)
    dist = current()
    device = resolve_device(args.device)
    if dist.enabled and device.type == "cuda":
        device = torch.device("cuda", dist.local_rank)
        torch.cuda.set_device(device)
    precision = resolve_precision(args.precision, device)
    return Machine(str(device), precision, torch.get_num_threads(), dist.world), device


def _measure(machine: Machine, device: torch.device, args: TrainArgs, task: str, data: TaskData) -> Machine:
    """Training speed of the sizes the planner may choose between for this budget (see fit_to_budget)."""
    from rnncli.calibrate import training_rate
    from rnncli.corpus import class_counts

    sizes = budget_candidates(args, task, data.facts, machine.threads)
    if not sizes:
        return machine
    shapes = lm_shapes(data.facts.train_items, data.facts.level, machine.threads)
    counts = class_counts(data.train_ids(), data.facts.vocab_size)
    rates = []
    for hidden in sorted(sizes):  # the smallest first: it also warms the process's kernels up
        config = ModelConfig(task=LM, kind=args.model or "lstm", vocab_size=data.facts.vocab_size, embed=shapes.embed,
                             hidden=hidden)
        batch, bptt = args.batch_size or shapes.batch_size, args.bptt or shapes.bptt
        rates.append((hidden, round(training_rate(config, batch, bptt, device, machine.precision, counts), 1)))
    return dataclasses.replace(machine, rates=tuple(rates))


def obtain_vocab(plan: TokenizerPlan, run: RunDir, resumed_size: int | None,
                 build: Callable[[VocabOptions], VocabReport], report: Report) -> Vocab:
    """The run's vocabulary: the saved one on --resume, else --vocab's or one built, saved into the
    run directory by rank 0 (the other ranks of a distributed run read it from there)."""
    dist = current()
    if resumed_size is not None:
        return run.load_vocab(resumed_size)
    if not dist.is_main:
        dist.barrier()
        return run.load_vocab()
    if plan.source == "file" and plan.path is not None:
        vocab = load_vocab(plan.path)
    else:
        assert plan.build is not None
        built = build(plan.build)
        for message in built.warnings:
            report(f"warning: {message}")
        vocab = built.vocab
        report(f"built a {vocab.describe()} from the corpus")
    run.create()
    vocab.save(run.file(VOCAB))
    dist.barrier()
    return vocab


def _trainer(plan: RunPlan, data: TaskData, run: RunDir, device: torch.device, callbacks: Sequence[Callback],
             started: float, resume: bool, report: Report = _silent) -> Trainer:
    """The model and the loop; on --resume, the saved state and what is left of the time budget."""
    torch.manual_seed(plan.loop.seed)
    model = build_model(plan.model).to(device)
    task = data.task(plan, device)
    if plan.args.init_from and not resume:
        load_checkpoint(model, RunDir(plan.args.init_from).file(BEST))
    if plan.args.pretrained_vectors and not resume:
        _load_vectors(model, data.vocab, plan.args.pretrained_vectors, report)
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


# ----- language models --------------------------------------------------------------------------

@dataclass
class LMData:
    vocab: Vocab
    train: TokenText
    valid: TokenText
    facts: CorpusFacts
    labels: list[str] = field(default_factory=list)

    def train_ids(self) -> Any:
        return self.train.ids

    def task(self, plan: RunPlan, device: torch.device) -> Task:
        from rnncli.tasks.language import LanguageModelTask

        return LanguageModelTask(self.train, self.valid, plan.data.batch_size, plan.data.bptt, device,
                                 plan.machine.precision)


def _lm_data(args: TrainArgs, corpus: list[str], tokenizer: TokenizerPlan, run: RunDir, saved: RunConfig | None,
             report: Report) -> LMData:
    """The corpus tokenized once into the token cache (memory-mapped, so memory stays flat), and
    the validation text: --valid, else the held-out tail of the corpus."""
    from rnncli.tokencache import cached_corpus

    if args.valid is not None:
        check_inputs([args.valid])
    vocab = obtain_vocab(tokenizer, run, saved.model.vocab_size if saved else None,
                         lambda options: build_vocabulary(corpus, options), report)
    dist = current()
    if not dist.is_main:
        dist.barrier()  # rank 0 tokenises; the others map its cache entry
    text = cached_corpus(corpus, vocab, args.encoding, args.errors, _tokenizing_progress(report))
    if dist.is_main:
        dist.barrier()
    if len(text) < 2 or text.chars == 0:
        raise InputError("empty corpus: no text to train on")
    if args.valid is not None:
        valid = encode_corpus([args.valid], vocab, args.encoding, args.errors)
        if len(valid) < 2:
            raise InputError(f"{args.valid}: validation text is empty")
        train = text
    else:
        train, valid = split_tail(text, lm_holdout(len(text)), vocab)
        report(f"no --valid: holding out the last {len(valid):,} tokens for validation")
    return LMData(vocab, train, valid, CorpusFacts(len(train), len(valid), len(vocab), vocab.level))


def _tokenizing_progress(report: Report) -> Callable[[int, int], None]:
    """Report tokenisation of a large corpus every 10% (small ones finish before it matters)."""
    began, shown = time.time(), [0.1]

    def progress(done: int, total: int) -> None:
        if total < 50_000_000 or done < shown[0] * total:
            return
        shown[0] += 0.1
        rate = done / max(1e-9, time.time() - began) / 1e6
        report(f"tokenizing the corpus: {done / total:.0%} ({rate:.1f} MB/s)")

    return progress


# ----- classifiers ------------------------------------------------------------------------------

@dataclass
class ClassifierData:
    vocab: Vocab
    train: list[Example]
    valid: list[Example]
    facts: CorpusFacts
    labels: list[str]

    def train_ids(self) -> Any:
        import numpy as np

        from rnncli.corpus import featurize

        return np.fromiter((i for ids in featurize(self.vocab, [e.text for e in self.train], 1 << 30) for i in ids),
                           dtype=np.int64)

    def task(self, plan: RunPlan, device: torch.device) -> Task:
        from rnncli.corpus import featurize
        from rnncli.tasks.classification import ClassificationTask

        index = {label: k for k, label in enumerate(self.labels)}
        multi = plan.model.multi_label
        targets = (lambda e: _multi_hot(e, index)) if multi else (lambda e: index[e.label])
        train_y = [targets(e) for e in self.train]
        weights = None
        if plan.data.class_weights == "auto" and not multi:
            counts = torch.bincount(torch.tensor(train_y), minlength=len(self.labels)).float().clamp(min=1)
            weights = counts.sum() / (len(self.labels) * counts)
        valid = (featurize(self.vocab, [e.text for e in self.valid], plan.data.max_len),
                 [targets(e) for e in self.valid])
        return ClassificationTask((featurize(self.vocab, [e.text for e in self.train], plan.data.max_len), train_y),
                                  valid, self.labels, plan.data.batch_size, device, plan.machine.precision, weights,
                                  plan.loop.seed, multi)


def _classifier_data(args: TrainArgs, corpus: list[str], tokenizer: TokenizerPlan, run: RunDir,
                     saved: RunConfig | None, report: Report, source: RunConfig | None = None) -> ClassifierData:
    """Labelled examples, split into training and validation; the vocabulary is built on the
    training texts only."""
    examples = _read_examples(args, corpus, report)
    known = saved or source
    multi = _multi_label(args, examples, saved or source, report)
    if not multi:
        examples = [dataclasses.replace(e, extra=()) for e in examples]
    labels = known.labels if known else sorted({label for e in examples for label in e.labels})
    if len(labels) < 2:
        raise InputError(f"a classifier needs at least 2 labels; the data has {len(labels)} ({', '.join(labels)})")
    unknown = sorted({label for e in examples for label in e.labels} - set(labels))
    if unknown:
        raise InputError(f"labels not in the run this one continues: {', '.join(unknown[:5])}")
    train, valid = _validation_split(args, examples, labels, report)
    vocab = obtain_vocab(tokenizer, run, saved.model.vocab_size if saved else None,
                         lambda options: build_from_texts([e.text for e in train], options), report)
    if saved is None and current().is_main:
        run.save_labels(labels)
    return ClassifierData(vocab, train, valid, CorpusFacts(len(train), len(valid), len(vocab), vocab.level,
                                                           len(labels), multi), labels)


def _read_examples(args: TrainArgs, paths: list[str], report: Report) -> list[Example]:
    examples: list[Example] = []
    skipped = 0
    for path in paths:
        data = read_labelled(path, text_column=args.text_column, label_column=args.label_column, label_sep=args.label_sep,
                             encoding=args.encoding, errors=args.errors)
        examples.extend(data.examples)
        skipped += data.skipped_empty
    if skipped:
        report(f"warning: {skipped:,} lines with an empty text skipped")
    return examples


def _multi_label(args: TrainArgs, examples: list[Example], known: RunConfig | None, report: Report) -> bool:
    """Multi-label when the run already is, when --multi-label says so, or when lines carry several
    labels (said on stderr); --single-label keeps the first label of each line."""
    several = sum(1 for e in examples if e.extra)
    if known is not None:
        return known.model.multi_label
    if args.multi_label is not None:
        if several and not args.multi_label:
            report(f"warning: {several:,} lines carry several labels; --single-label keeps the first of each")
        return args.multi_label
    if several:
        report(f"multi-label: {several:,} of {len(examples):,} lines carry several labels; one sigmoid per label, "
               "a decision threshold chosen on validation (--single-label to keep the first label only)")
    return several > 0


def _multi_hot(example: Example, index: dict[str, int]) -> list[int]:
    row = [0] * len(index)
    for label in example.labels:
        if label in index:
            row[index[label]] = 1
    return row


def _validation_split(args: TrainArgs, examples: list[Example], labels: list[str],
                      report: Report) -> tuple[list[Example], list[Example]]:
    """--valid (examples of labels the run does not know are dropped), else a stratified tenth."""
    from rnncli.plan import CLASSIFIER_HOLDOUT

    known = set(labels)
    if args.valid is not None:
        data = read_labelled(args.valid, text_column=args.text_column, label_column=args.label_column,
                             label_sep=args.label_sep,
                             encoding=args.encoding, errors=args.errors)
        extra = sorted({e.label for e in data.examples} - known)
        if extra:
            report(f"warning: labels only in {args.valid}: {', '.join(extra[:5])} (ignored for validation)")
        train, valid = examples, [e for e in data.examples if e.label in known]
    else:
        index = {label: k for k, label in enumerate(labels)}
        train_idx, held_idx = stratified_split([index[e.label] for e in examples], CLASSIFIER_HOLDOUT, args.seed)
        train, valid = [examples[i] for i in train_idx], [examples[i] for i in held_idx]
        report(f"no --valid: holding out a stratified {len(valid):,} of {len(examples):,} examples")
    if not valid:
        raise InputError("no validation examples: give --valid or more data")
    return train, valid


def stratified_split(labels: list[int], share: float, seed: int) -> tuple[list[int], list[int]]:
    """Indices (train, held-out): ``share`` of each label held out, at least one where a label has two."""
    import random

    rng = random.Random(seed)
    by_label: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        by_label.setdefault(label, []).append(i)
    train, held = [], []
    for label in sorted(by_label):
        index = by_label[label]
        rng.shuffle(index)
        k = min(max(round(len(index) * share), 1), len(index) - 1) if len(index) >= 2 else 0
        held.extend(index[:k])
        train.extend(index[k:])
    return sorted(train), sorted(held)
