"""A training run as a typed plan: what the user gave, what was derived from it, and why.

``plan_run(args, task, facts, machine)`` is pure: it reads the user's :class:`~rnncli.args.TrainArgs`,
the facts of the corpus (sizes, vocabulary, labels) and of the machine (device, precision, threads),
and returns a frozen :class:`RunPlan`. It imports no torch and opens no file, so every default and
every ``--resume`` rule is unit-tested in milliseconds. The plan is what ``config.json`` stores,
what the start-of-run summary prints, and all that :mod:`rnncli.execute` needs to run.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from rnncli.args import CLASSIFY, LM, TrainArgs, flag, from_record, refuse_inapplicable
from rnncli.errors import ConfigError, FormatError
from rnncli.models.config import ModelConfig, auto_cutoffs
from rnncli.text.build import VocabOptions
from rnncli.trainoptions import TrainOptions

CHAR_LEVEL_MAX_BYTES = 4_000_000
WORD_PATIENCE = 3
WORD_CYCLE_EPOCHS = 2
WORD_CYCLE_MIN_STEPS = 1000
TOKENS_PER_PARAMETER = 2.0  # what a time budget should let a character model see, at least
TRAIN_SHARE = 0.9  # of a time budget, what training gets (the rest: set-up, evaluations, saves)
UNBOUNDED_TOKENS = 3_000_000
CLASSIFIER_EPOCHS = 10
CLASSIFIER_HOLDOUT = 0.1
LM_HOLDOUT_TOKENS = 100_000
NGRAM_CHAR_ORDER, NGRAM_WORD_ORDER = 5, 3
SGD_LR = 10.0  # plain SGD's default learning rate (docs/defaults.md)


@dataclass(frozen=True)
class Machine:
    """Where the run executes, as measured by the executor."""

    device: str = "cpu"  # resolved: cpu, cuda, cuda:1, mps
    precision: str = "fp32"
    threads: int = 1
    world: int = 1  # processes of a distributed run
    rates: tuple[tuple[int, float], ...] = ()  # (hidden size, training tokens/s) measured here


@dataclass(frozen=True)
class CorpusFacts:
    """What the planner knows of the data once it is tokenized."""

    train_items: int  # tokens (language model) or examples (classifier)
    valid_items: int
    vocab_size: int
    level: str
    labels: int = 0
    multi_label: bool = False  # several labels per example (one sigmoid each)


@dataclass(frozen=True)
class TokenizerPlan:
    """Where the vocabulary comes from: a file (``--vocab``), the run itself (``--resume``), or built."""

    source: str  # "file", "run" or "build"
    path: str | None = None
    build: VocabOptions | None = None


@dataclass(frozen=True)
class DataPlan:
    batch_size: int
    bptt: int = 0  # language model
    max_len: int = 0  # classifier: tokens kept per text
    valid: str | None = None  # validation file, else a held-out part of the data
    holdout: float = 0.0  # share held out when there is no validation file
    class_weights: str = "none"


@dataclass(frozen=True)
class RunPlan:
    task: str
    args: TrainArgs
    tokenizer: TokenizerPlan
    model: ModelConfig
    data: DataPlan
    loop: TrainOptions
    machine: Machine
    notes: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        tokenizer = {"source": self.tokenizer.source, "path": self.tokenizer.path,
                     "build": asdict(self.tokenizer.build) if self.tokenizer.build else None}
        recorded = self.args.recorded()
        return {"args": recorded, "given": sorted(self.args.given & set(recorded)), "tokenizer": tokenizer,
                "data": asdict(self.data), "loop": self.loop.to_json(), "machine": asdict(self.machine),
                "notes": list(self.notes)}

    @classmethod
    def from_json(cls, data: Any, model: ModelConfig, args_class: type = TrainArgs) -> "RunPlan":
        try:
            build = data["tokenizer"]["build"]
            tokenizer = TokenizerPlan(data["tokenizer"]["source"], data["tokenizer"]["path"],
                                      VocabOptions(**build) if build else None)
            return cls(model.task, from_record(args_class, data["args"], data["given"]), tokenizer, model,
                       DataPlan(**data["data"]), TrainOptions(**data["loop"]), _machine(data["machine"]),
                       tuple(data.get("notes", ())))
        except (KeyError, TypeError) as exc:
            raise FormatError(f"invalid training plan ({exc})") from None


def _machine(data: dict[str, Any]) -> Machine:
    rates = tuple((int(h), float(r)) for h, r in data.get("rates", ()))
    return Machine(**{**data, "rates": rates})


# ----- the task and the tokenizer ---------------------------------------------------------------

def infer_task(args: TrainArgs, data_looks_labelled: bool) -> tuple[str, str | None]:
    """The task, and the reason when it was not given."""
    if args.task is not None:
        return args.task, None
    if args.model == "bow":
        return CLASSIFY, "task: classify (--model bow is a classifier)"
    if args.model == "ngram":
        return LM, None
    if data_looks_labelled:
        return CLASSIFY, "task: classify (the data reads as labelled text; --task lm to override)"
    return LM, None


def default_level(task: str, corpus_bytes: int) -> str:
    """Language models: characters for small and medium corpora, subwords beyond a few megabytes.
    Classifiers: words, which matched or beat subwords on validation (docs/defaults.md)."""
    if task == CLASSIFY:
        return "word"
    return "char" if corpus_bytes <= CHAR_LEVEL_MAX_BYTES else "bpe"


def plan_tokenizer(args: TrainArgs, task: str, corpus_bytes: int) -> TokenizerPlan:
    """The vocabulary of a new run; options that do not apply to it are refused."""
    if args.vocab is not None:
        refuse_inapplicable(args, task, None)
        return TokenizerPlan("file", args.vocab)
    level = args.level or default_level(task, corpus_bytes)
    refuse_inapplicable(args, task, level)
    options = VocabOptions(level=level, split=args.split or "punct", lowercase=bool(args.lowercase),
                           min_freq=args.min_freq or 1, max_size=args.max_size, vocab_size=args.vocab_size,
                           encoding=args.encoding, errors=args.errors)
    options.check()
    return TokenizerPlan("build", None, options)


# ----- shapes -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Shapes:
    """Model and batch shapes the planner picks when the user gives none."""

    embed: int
    hidden: int
    dropout: float
    batch_size: int
    bptt: int
    lr: float
    layers: int = 1
    bidirectional: bool = False
    pool: str = "last"
    max_len: int = 0
    buckets: int = 0


def lm_shapes(tokens: int, level: str, threads: int) -> Shapes:
    """Model and batch shapes for a language model of ``tokens`` training tokens on this machine.

    On a CPU the recurrence runs one time step after another, so a wider batch barely raises tokens
    per second on a few cores while it divides the number of updates: characters take small batches,
    and windows of 50 steps, which give twice the updates of 100 for the same tokens (25 spend more
    time per token than they gain).
    Words are another regime (the adaptive softmax makes each step dearer), with wider batches, a
    full-width embedding and dropout only on small corpora, where it keeps them from memorising.
    The measurements behind these rules are in docs/defaults.md.
    """
    hidden = 128 if tokens < 30_000 else 256 if tokens < 300_000 else 512
    if level == "char":
        embed, dropout, lr = 64, 0.0 if tokens > 500_000 else 0.1, 4e-3
        batch, bptt = (16 if threads <= 4 else 32), 50
    else:
        embed, dropout, lr = hidden, 0.3 if tokens < 30_000 else 0.1 if tokens < 100_000 else 0.0, 3e-3
        batch, bptt = 32, 35
    while batch > 4 and tokens // batch < 4 * bptt:
        batch //= 2
    while bptt > 8 and tokens // batch < 2 * bptt:
        bptt //= 2
    return Shapes(embed=embed, hidden=hidden, dropout=dropout, batch_size=batch, bptt=bptt, lr=lr)


def budget_candidates(args: TrainArgs, task: str, facts: CorpusFacts, threads: int) -> tuple[int, ...]:
    """Hidden sizes worth timing on this machine before a character model with a --time-budget and
    no --hidden: the corpus's own size and two narrower ones."""
    if task != LM or facts.level != "char" or args.time_budget is None or args.hidden is not None or args.init_from:
        return ()
    top = lm_shapes(facts.train_items, facts.level, threads).hidden
    return tuple(sorted({top, top * 3 // 4, top // 2}, reverse=True))


def lm_parameters(kind: str, vocab: int, embed: int, hidden: int, layers: int = 1) -> int:
    """Parameters of a full-softmax language model: embedding, recurrent layers, decoder."""
    gates = {"rnn": 1, "gru": 3, "lstm": 4}[kind]
    recurrent = sum(gates * hidden * ((embed if k == 0 else hidden) + hidden + 2) for k in range(layers))
    return vocab * embed + recurrent + (hidden + 1) * vocab


def fit_to_budget(shapes: Shapes, kind: str, facts: CorpusFacts, machine: Machine,
                  budget: float) -> tuple[Shapes, str | None]:
    """The widest measured size that the budget lets see 2 tokens per parameter.

    A slow machine that cannot train the corpus's default size long enough is better served by a
    narrower model that sees more tokens (and takes a higher learning rate, as narrower models
    do); a fast one keeps the default. See docs/defaults.md for the validation figures.
    """
    rates = dict(machine.rates)
    if not rates:
        return shapes, None
    seen = {h: rate * budget * TRAIN_SHARE / lm_parameters(kind, facts.vocab_size, shapes.embed, h)
            for h, rate in rates.items()}
    chosen = next((h for h in sorted(seen, reverse=True) if seen[h] >= TOKENS_PER_PARAMETER), min(seen))
    if chosen >= shapes.hidden:
        return shapes, None
    note = (f"hidden {chosen}: at {rates[chosen]:,.0f} tokens/s here, the budget shows it {seen[chosen]:.1f} "
            f"tokens per parameter (hidden {shapes.hidden} would see {seen.get(shapes.hidden, 0):.1f})")
    lr = shapes.lr * math.sqrt(shapes.hidden / chosen)
    return dataclasses.replace(shapes, hidden=chosen, lr=round(lr, 6)), note


def classifier_shapes(examples: int, kind: str) -> Shapes:
    """Shapes for a classifier of ``examples`` texts on a CPU; bag of words trains at a higher rate."""
    bow = kind == "bow"
    return Shapes(embed=64 if bow else 128, hidden=128 if examples < 20_000 else 256, dropout=0.0 if bow else 0.3,
                  batch_size=32 if examples < 50_000 else 64, bptt=0, lr=2e-2 if bow else 3e-3,
                  bidirectional=not bow, pool="max", max_len=400, buckets=1 << 17 if bow else 0)


def unbounded_epochs(tokens: int) -> int:
    """Without --epochs, --max-steps or --time-budget, about 3M tokens: at least one pass, at most 30."""
    return max(1, min(30, math.ceil(UNBOUNDED_TOKENS / max(1, tokens))))


def schedule_cycle(tokens: int, level: str, batch: int, bptt: int) -> int | None:
    """Word and subword models anneal their learning rate over two passes (at least 1,000 updates),
    then restart at half the peak for as long as validation improves and the budget lasts: a model
    that memorises its corpus within a few passes is at its best at the end of an annealed cycle.
    Characters anneal over the whole run."""
    if level == "char":
        return None
    return max(WORD_CYCLE_EPOCHS * max(1, tokens // (batch * bptt)), WORD_CYCLE_MIN_STEPS)


def default_patience(task: str, level: str) -> int | None:
    """Word and subword language models memorise a corpus of moderate size within a few passes, so
    validation decides when they stop; characters are far from memorised in any budget here, and
    classifiers keep their best checkpoint by validation, so they run their plan."""
    return WORD_PATIENCE if task == LM and level != "char" else None


def lm_holdout(tokens: int) -> float:
    """Without --valid, the last tenth of the corpus, at most 100,000 tokens."""
    return min(0.1, LM_HOLDOUT_TOKENS / max(1, tokens))


# ----- the run ----------------------------------------------------------------------------------

def plan_run(args: TrainArgs, task: str, tokenizer: TokenizerPlan, facts: CorpusFacts, machine: Machine,
             saved: RunPlan | None = None, base: ModelConfig | None = None) -> RunPlan:
    """Every choice of a run. On ``--resume`` (``saved``), the model and data shapes are the saved
    run's, and only the loop takes what the user gave now. With ``--init-from``, the model is that
    run's (``base``; its dropout may change), and the data and loop are planned for this corpus."""
    if saved is not None:
        epochs = args.epochs if args.epochs is not None else saved.loop.epochs
        loop = _loop(args, saved.loop.lr, epochs, machine, saved.loop.patience)
        loop = dataclasses.replace(loop, cycle_steps=saved.loop.cycle_steps)
        return dataclasses.replace(saved, args=args, loop=loop, machine=machine)
    planned = (_plan_lm if task == LM else _plan_classifier)(args, tokenizer, facts, machine)
    if base is None:
        return planned
    model = dataclasses.replace(base, dropout=_given(args.dropout, base.dropout))
    notes = tuple(n for n in planned.notes if not n.startswith("hidden ")) + (
        f"model from {args.init_from}: {base.kind}, embed {base.embed}, hidden {base.hidden} x {base.layers}",)
    return dataclasses.replace(planned, model=model, notes=notes)


NEURAL_ONLY = ("embed", "hidden", "layers", "dropout", "tie_weights", "adaptive", "batch_size", "bptt", "lr",
               "optimizer", "weight_decay", "clip", "epochs", "max_steps", "patience", "eval_every", "save_every",
               "on_nan", "sample_every", "init_from", "time_budget", "precision")


def _plan_ngram(args: TrainArgs, tokenizer: TokenizerPlan, facts: CorpusFacts, machine: Machine) -> RunPlan:
    """An n-gram model is counted, not trained: no shapes, no loop; options of the neural models are
    refused by name."""
    given = [name for name in NEURAL_ONLY if name in args.given]
    if given:
        raise ConfigError(f"{flag(given[0])} does not apply to --model ngram (it is counted, not trained)")
    order = args.order or (NGRAM_CHAR_ORDER if facts.level == "char" else NGRAM_WORD_ORDER)
    model = _check(ModelConfig(task=LM, kind="ngram", vocab_size=facts.vocab_size, embed=1, hidden=1, order=order))
    data = DataPlan(batch_size=1, bptt=1, valid=args.valid,
                    holdout=0.0 if args.valid else lm_holdout(facts.train_items + facts.valid_items))
    return RunPlan(LM, args, tokenizer, model, data, _loop(args, 1.0, 1, machine, None), machine,
                   (f"an interpolated Kneser-Ney model of order {order}, counted from the corpus",))


def _plan_lm(args: TrainArgs, tokenizer: TokenizerPlan, facts: CorpusFacts, machine: Machine) -> RunPlan:
    if args.model == "bow":
        raise ConfigError("--model bow is a classifier; a language model needs rnn, lstm, gru or ngram")
    if args.model == "ngram":
        return _plan_ngram(args, tokenizer, facts, machine)
    if "order" in args.given:
        raise ConfigError("--order applies to --model ngram only")
    shapes = lm_shapes(facts.train_items, facts.level, machine.threads)
    notes: list[str] = []
    if args.time_budget is not None and args.hidden is None:
        shapes, why = fit_to_budget(shapes, args.model or "lstm", facts, machine, args.time_budget)
        notes.extend([why] if why else [])
    model = _check(ModelConfig(task=LM, kind=args.model or "lstm", vocab_size=facts.vocab_size,
                               embed=_embed(args, shapes), hidden=args.hidden or shapes.hidden,
                               layers=args.layers or shapes.layers, dropout=_given(args.dropout, shapes.dropout),
                               tie_weights=bool(args.tie_weights), cutoffs=_cutoffs(args, facts.vocab_size)))
    batch = _batch_size(args, shapes, machine)
    bptt = args.bptt or shapes.bptt
    data = DataPlan(batch_size=batch, bptt=bptt, valid=args.valid,
                    holdout=0.0 if args.valid else lm_holdout(facts.train_items + facts.valid_items))
    loop = _loop(args, shapes.lr, _lm_epochs(args, facts), machine, default_patience(LM, facts.level))
    if args.epochs is None and args.max_steps is None:
        loop = dataclasses.replace(loop, cycle_steps=schedule_cycle(facts.train_items, facts.level, batch, bptt))
    if loop.patience is not None and "patience" not in args.given:
        notes.append(f"{facts.level}-level models stop after {loop.patience} evaluations without a better "
                     "validation loss (--patience)")
    return RunPlan(LM, args, tokenizer, model, data, loop, machine, tuple(notes))


def _plan_classifier(args: TrainArgs, tokenizer: TokenizerPlan, facts: CorpusFacts, machine: Machine) -> RunPlan:
    kind = args.model or "lstm"
    if kind == "ngram":
        raise ConfigError("--model ngram is a language model; a classifier needs rnn, lstm, gru or bow")
    shapes = classifier_shapes(facts.train_items, kind)
    notes: list[str] = []
    model = _check(ModelConfig(
        task=CLASSIFY, kind=kind, vocab_size=facts.vocab_size, embed=args.embed or shapes.embed,
        hidden=args.hidden or shapes.hidden, layers=args.layers or shapes.layers,
        dropout=_given(args.dropout, shapes.dropout), num_labels=facts.labels,
        bidirectional=_given(args.bidirectional, shapes.bidirectional) if kind != "bow" else False,
        pool=args.pool or shapes.pool, bigram_buckets=shapes.buckets, multi_label=facts.multi_label))
    data = DataPlan(batch_size=args.batch_size or shapes.batch_size, max_len=shapes.max_len, valid=args.valid,
                    holdout=0.0 if args.valid else CLASSIFIER_HOLDOUT, class_weights=args.class_weights or "none")
    epochs = args.epochs
    if epochs is None and args.max_steps is None and args.time_budget is None:
        epochs = CLASSIFIER_EPOCHS
        notes.append(f"{epochs} epochs (no --epochs, --max-steps or --time-budget)")
    loop = _loop(args, shapes.lr, epochs, machine, None)
    return RunPlan(CLASSIFY, args, tokenizer, model, data, loop, machine, tuple(notes))


def _given(value: Any, default: Any) -> Any:
    return default if value is None else value


def _embed(args: TrainArgs, shapes: Shapes) -> int:
    """A given --hidden narrower than the default embedding narrows the embedding too."""
    if args.embed is not None:
        return args.embed
    return shapes.embed if args.hidden is None else min(args.hidden, shapes.embed)


def _cutoffs(args: TrainArgs, vocab_size: int) -> tuple[int, ...]:
    adaptive = args.adaptive if args.adaptive is not None else vocab_size >= 8000
    cutoffs = tuple(auto_cutoffs(vocab_size, force=bool(args.adaptive))) if adaptive else ()
    if args.tie_weights and cutoffs:
        raise ConfigError("--tie-weights needs the full softmax: add --no-adaptive")
    return cutoffs


def _check(config: ModelConfig) -> ModelConfig:
    try:
        return config.check()
    except FormatError as exc:
        raise ConfigError(str(exc).replace("invalid model configuration", "invalid model options")) from None


def _batch_size(args: TrainArgs, shapes: Shapes, machine: Machine) -> int:
    """Each process of a distributed run takes the same number of batch columns."""
    batch = args.batch_size
    if batch is None:
        batch = max(shapes.batch_size, machine.world) // machine.world * machine.world
    if batch % machine.world:
        raise ConfigError(f"--batch-size {batch} must be a multiple of the {machine.world} processes: "
                          "each takes the same number of batch columns")
    return batch


def _lm_epochs(args: TrainArgs, facts: CorpusFacts) -> int | None:
    """--epochs; else as many as --time-budget allows; else (without a clock) about 3M tokens."""
    if args.epochs is not None or args.max_steps is not None or args.time_budget is not None:
        return args.epochs
    return unbounded_epochs(facts.train_items)


def _loop(args: TrainArgs, default_lr: float, epochs: int | None, machine: Machine,
          default_patience: int | None) -> TrainOptions:
    """The loop's options; the defaults given are those of the model kind (or of the saved run)."""
    every_s, every_steps = parse_save_every(args.save_every)
    default_lr = SGD_LR if args.optimizer == "sgd" else default_lr
    return TrainOptions(epochs=epochs, max_steps=args.max_steps, time_budget=args.time_budget,
                        lr=args.lr if args.lr is not None else default_lr, optimizer=args.optimizer,
                        weight_decay=args.weight_decay,
                        clip=args.clip, eval_every=args.eval_every,
                        patience=args.patience if args.patience is not None else default_patience,
                        save_every=300.0 if every_s is None else every_s, save_every_steps=every_steps,
                        seed=args.seed, on_nan=args.on_nan, precision=machine.precision).check()


def parse_save_every(value: str | None) -> tuple[float | None, int | None]:
    """``--save-every``: a number of steps (``500``) or of seconds (``120s``)."""
    if value is None:
        return None, None
    text = value.strip().lower()
    try:
        if text.endswith("s") and float(text[:-1]) > 0:
            return float(text[:-1]), None
        if not text.endswith("s") and int(text) > 0:
            return None, int(text)
    except ValueError:
        pass
    raise ConfigError(f"--save-every must be a number of steps or seconds like 120s, not {value!r}")


# ----- runs written before plans (format 1) -----------------------------------------------------

_LEGACY_UNSET = (None, [], "auto", "utf-8", "strict")


def legacy_plan(training: dict[str, Any], model: ModelConfig) -> RunPlan:
    """The plan of a run written by format 1, which stored the request with its derived values
    written back into it, and guessed "given" from sentinel values."""
    request = {k: v for k, v in dict(training.get("request", {})).items() if v is not None}
    request["model"] = request.pop("kind", model.kind)
    steps, seconds = request.pop("save_every_steps", None), request.pop("save_every", None)
    if steps or seconds:
        request["save_every"] = str(steps) if steps else f"{seconds:g}s"
    given = [k for k, v in request.items() if v not in _LEGACY_UNSET and (k, v) not in
             (("text_column", "text"), ("label_column", "label"))]
    args = from_record(TrainArgs, request, given)
    loop = {k: v for k, v in dict(training.get("options", {})).items() if k in TrainOptions.__dataclass_fields__}
    data = DataPlan(batch_size=int(request.get("batch_size", 1)), bptt=int(request.get("bptt", 0)),
                    max_len=int(training.get("max_len", 400 if model.task == CLASSIFY else 0)), valid=args.valid)
    tokenizer = TokenizerPlan("file", args.vocab) if args.vocab else TokenizerPlan("build")
    machine = Machine(device=str(training.get("device", "cpu")), precision=str(training.get("precision", "fp32")))
    return RunPlan(model.task, args, tokenizer, model, data, TrainOptions(**loop), machine)


def summary(plan: RunPlan, facts: CorpusFacts, parameters: int) -> str:
    """The start-of-run line: the model, its data and the machine."""
    m, d = plan.model, plan.data
    where = f"{plan.machine.device}, {plan.machine.precision}"
    if m.kind == "ngram":
        return (f"ngram language model of order {m.order}: {facts.level} level, vocabulary {m.vocab_size:,}; "
                f"{facts.train_items:,} training and {facts.valid_items:,} validation tokens; counted on the CPU")
    if plan.task == LM:
        softmax = f"adaptive softmax {list(m.cutoffs)}" if m.cutoffs else "full softmax"
        return (f"{m.kind} language model: {facts.level} level, vocabulary {m.vocab_size:,}, embed {m.embed}, "
                f"hidden {m.hidden} x {m.layers} layer(s), dropout {m.dropout}, {softmax}; {parameters:,} "
                f"parameters; batch {d.batch_size} x bptt {d.bptt}; {facts.train_items:,} training and "
                f"{facts.valid_items:,} validation tokens; {where}")
    if m.kind == "bow":
        body = f"bag of words + {m.bigram_buckets:,} hashed bigram buckets, embed {m.embed}"
    else:
        body = (f"{'bidirectional ' if m.bidirectional else ''}{m.kind} encoder, embed {m.embed}, "
                f"hidden {m.hidden} x {m.layers} layer(s), pool {m.pool}, dropout {m.dropout}")
    return (f"classifier ({m.num_labels} labels): {body}; {facts.level} vocabulary {m.vocab_size:,}; "
            f"{parameters:,} parameters; {facts.train_items:,} training and {facts.valid_items:,} validation "
            f"examples; batch {d.batch_size}; {where}")
