"""What a training run is made from, before its loop exists: its task, name and tokenizer, the
run it resumes or starts from (``--resume``, ``--init-from``), the vocabulary it builds or
inherits, pretrained vectors, and the machine it runs on with the speeds the planner weighs.
:func:`rnncli.execute.prepare` calls these in order."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any, Callable, Protocol

from rnncli.args import TrainArgs, flag
from rnncli.distributed import current
from rnncli.errors import ConfigError
from rnncli.models import embedding_table
from rnncli.plan import CorpusFacts, Machine, TokenizerPlan, default_level, infer_task, plan_tokenizer
from rnncli.run.directory import RunConfig, RunDir
from rnncli.run.files import BEST, CONFIG, LAST, VOCAB
from rnncli.run.guard import sources
from rnncli.text.build import VocabOptions, VocabReport
from rnncli.text.labelled import looks_labelled
from rnncli.text.pairs import looks_paired
from rnncli.text.tagged import looks_tagged
from rnncli.text.reader import STDIN, check_inputs
from rnncli.text.vocab import Vocab, load_vocab

if TYPE_CHECKING:
    import torch

    from rnncli.plan import RunPlan
    from rnncli.training import Task

Report = Callable[[str], None]


def _silent(message: str) -> None:
    pass


class TaskData(Protocol):
    """The data of one task, read and tokenized (each task's ``data`` part): what the planner
    needs, then the loop's task."""

    vocab: Vocab
    facts: CorpusFacts
    labels: list[str]

    def task(self, plan: "RunPlan", device: "torch.device") -> "Task": ...

    def train_ids(self) -> Any:
        """Every training token id, as one array."""


def run_name(args: TrainArgs, stdin_file: str | None) -> str:
    """``<model>-<level>-<date>-<time>``, with the level the run will build (or --vocab's)."""
    if args.vocab is not None:
        level = load_vocab(args.vocab).level
    else:
        corpus = sources(check_inputs(args.corpus), stdin_file)
        level = args.level or default_level(task_of(args, corpus, _silent), corpus_bytes(corpus))
    return f"{args.model or 'lstm'}-{level}-{time.strftime('%Y%m%d-%H%M%S')}"


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
    if source.model.num_labels:
        source.labels = run.load_labels(source.model.num_labels)
    return source


def tokenizer_plan(args: TrainArgs, task: str, corpus: list[str], saved: RunConfig | None,
               source: RunConfig | None) -> TokenizerPlan:
    """The saved run's vocabulary on --resume, --init-from's run's, else the one planned here."""
    if saved is not None:
        return saved.plan.tokenizer
    if source is not None:
        return TokenizerPlan("file", str(RunDir(args.init_from or "").file(VOCAB)))
    return plan_tokenizer(args, task, corpus_bytes(corpus))


def report_fallbacks(data: TaskData, source: str, report: Report) -> None:
    """How much of the new text the inherited vocabulary spells with <unk> or byte tokens."""
    import numpy as np

    from rnncli.text.vocab import BYTE_TOKENS, UNK

    spelled = np.array([t in BYTE_TOKENS for t in data.vocab.tokens] + [False])
    spelled[UNK] = True
    ids = data.train_ids()
    share = float(spelled[ids].mean()) if len(ids) else 0.0
    report(f"starting from {source}: {int(spelled[ids].sum()):,} of {len(ids):,} training tokens ({share:.2%}) are "
           "<unk> or byte fallbacks under its vocabulary")


def with_vector_width(args: TrainArgs, vocab: Vocab) -> TrainArgs:
    """--pretrained-vectors: a word vocabulary, and an embedding as wide as the vectors."""
    from rnncli.text.vectors import vector_dim

    if vocab.level != "word":
        raise ConfigError(f"--pretrained-vectors needs a word vocabulary; this run's is {vocab.level}")
    dim = vector_dim(args.pretrained_vectors or "")
    if args.embed is not None and args.embed != dim:
        raise ConfigError(f"--embed {args.embed} differs from the {dim} dimensions of {args.pretrained_vectors}")
    return args if args.embed == dim else args.with_values(embed=dim)


def load_vectors(model: "torch.nn.Module", vocab: Vocab, path: str, report: Report) -> None:
    from rnncli.text.vectors import read_vectors

    import torch

    found = read_vectors(path, {token: i for i, token in enumerate(vocab.tokens)})
    with torch.no_grad():
        embedding_table(model)[torch.from_numpy(found.ids)] = torch.from_numpy(found.rows)
    report(f"pretrained vectors: {len(found.ids):,} of {len(vocab):,} vocabulary words found in {path} "
           f"({found.read:,} vectors read); the other {len(vocab) - len(found.ids):,} rows stay random")


def saved_config(run: RunDir, args: TrainArgs) -> RunConfig | None:
    if not args.resume:
        return None
    run.require(CONFIG, VOCAB, LAST)
    saved = run.load_config(type(args))
    if saved.model.num_labels:
        saved.labels = run.load_labels(saved.model.num_labels)
    return saved


def task_of(args: TrainArgs, corpus: list[str], report: Report) -> str:
    guess = bool(corpus) and args.task is None and args.model not in ("bow", "cnn", "hmm", "ngram")
    paired = guess and all(looks_paired(p) for p in corpus)
    tagged = guess and not paired and all(looks_tagged(p) for p in corpus)
    labelled = guess and not paired and not tagged and all(looks_labelled(p) for p in corpus)
    task, why = infer_task(args, labelled, tagged, paired)
    if why:
        report(why)
    return task


def corpus_bytes(paths: list[str]) -> int:
    return sum(os.path.getsize(p) for p in paths if p != STDIN)


def machine_of(args: TrainArgs) -> tuple[Machine, "torch.device"]:
    """Threads, device (each process of a distributed run on GPUs takes its own) and precision."""
    import torch

    from rnncli.device import resolve_device, resolve_precision, set_threads

    set_threads(args.threads)
    dist = current()
    device = resolve_device(args.device)
    if dist.enabled and device.type == "cuda":
        device = torch.device("cuda", dist.local_rank)
        torch.cuda.set_device(device)
    precision = resolve_precision(args.precision, device)
    return Machine(str(device), precision, torch.get_num_threads(), dist.world), device


def obtain_vocab(plan: TokenizerPlan, run: RunDir, resumed_size: int | None,
                 build: Callable[[VocabOptions], VocabReport], report: Report, name: str = VOCAB,
                 what: str = "the corpus") -> Vocab:
    """The run's vocabulary (in ``name``, built from ``what``): the saved one on --resume, else
    --vocab's or one built, saved into the run directory by rank 0 (the other ranks of a
    distributed run read it from there)."""
    dist = current()
    if resumed_size is not None:
        return run.load_vocab(resumed_size, name)
    if not dist.is_main:
        dist.barrier()
        return run.load_vocab(None, name)
    if plan.source == "file" and plan.path is not None:
        vocab = load_vocab(plan.path)
    else:
        assert plan.build is not None
        built = build(plan.build)
        for message in built.warnings:
            report(f"warning: {message}")
        vocab = built.vocab
        report(f"built a {vocab.describe()} from {what}")
    run.create()
    vocab.save(run.file(name))
    dist.barrier()
    return vocab
