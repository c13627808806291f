"""A training run as a typed plan: what the user gave, what was derived from it, and why.

``plan_run(args, task, facts, machine)`` is pure: it reads the user's :class:`~rnncli.args.TrainArgs`,
the facts of the corpus (sizes, vocabulary, labels) and of the machine (device, precision, threads),
and returns a frozen :class:`RunPlan`. It imports no torch and opens no file, so every default and
every ``--resume`` rule is unit-tested in milliseconds. The plan is what ``config.json`` stores,
what the start-of-run summary prints, and all that :mod:`rnncli.execute` needs to run.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, field
from typing import Any

from rnncli.args import CLASSIFY, LM, SEQ2SEQ, TAG, TrainArgs, from_record, refuse_inapplicable
from rnncli.errors import ConfigError, FormatError
from rnncli.models.config import ModelConfig, auto_cutoffs
from rnncli.text.build import VocabOptions
from rnncli.trainoptions import TrainOptions

SGD_LR = 10.0  # plain SGD's default learning rate (docs/defaults.md)
WEIGHT_DECAY = 0.01  # AdamW's, on weight matrices, where a task's planner sets no other


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
    alphabet: int = 0  # taggers: characters of the training words (the character CNN's inputs)
    chunked: bool = False  # taggers: the tags are spans in BIO/BIOES (entities, chunks)
    target_vocab: int = 0  # translation: the target side's vocabulary size (0: one shared by both sides)


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
    shift_windows: bool = False  # language model: window boundaries move from epoch to epoch (LMWindows.shift)
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

def planning(task: str) -> Any:
    """The planning module of a task's folder (``rnncli/tasks/<folder>/planning.py``): its
    ``plan``, ``default_level``, ``default_lowercase``, ``score``, ``summary``, ``outcome`` and
    ``measure``."""
    from rnncli.tasks import task as spec

    return spec(task).part("planning")


def default_level(task: str, corpus_bytes: int) -> str:
    """The vocabulary level a new run of ``task`` builds when --level is not given."""
    return str(planning(task).default_level(corpus_bytes))


def infer_task(args: TrainArgs, data_looks_labelled: bool, data_looks_tagged: bool = False,
               data_looks_paired: bool = False) -> tuple[str, str | None]:
    """The task, and the reason when it was not given."""
    if args.task is not None:
        return args.task, None
    if args.model in ("bow", "cnn"):
        return CLASSIFY, f"task: classify (--model {args.model} is a classifier)"
    if args.model == "hmm":
        return TAG, "task: tag (--model hmm is a tagger)"
    if args.model == "ngram":
        return LM, None
    if data_looks_paired:
        return SEQ2SEQ, "task: seq2seq (the data reads as source<TAB>target sentence pairs; --task to override)"
    if data_looks_tagged:
        return TAG, "task: tag (the data reads as tagged sentences; --task lm to override)"
    if data_looks_labelled:
        return CLASSIFY, "task: classify (the data reads as labelled text; --task lm to override)"
    return LM, None


def plan_tokenizer(args: TrainArgs, task: str, corpus_bytes: int) -> TokenizerPlan:
    """The vocabulary of a new run; options that do not apply to it are refused."""
    if args.vocab is not None:
        refuse_inapplicable(args, task, None)
        return TokenizerPlan("file", args.vocab)
    level = args.level or default_level(task, corpus_bytes)
    refuse_inapplicable(args, task, level)
    lowercase = planning(task).default_lowercase(level) if args.lowercase is None else args.lowercase
    options = VocabOptions(level=level, split=args.split or "punct", lowercase=bool(lowercase),
                           min_freq=args.min_freq or 1, max_size=args.max_size, vocab_size=args.vocab_size,
                           encoding=args.encoding, errors=args.errors)
    options.check()
    return TokenizerPlan("build", None, options)


# ----- shared by the tasks' planning -------------------------------------------------------------

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


# ----- the run ----------------------------------------------------------------------------------

def plan_run(args: TrainArgs, task: str, tokenizer: TokenizerPlan, facts: CorpusFacts, machine: Machine,
             saved: RunPlan | None = None, base: ModelConfig | None = None) -> RunPlan:
    """Every choice of a run. On ``--resume`` (``saved``), the model and data shapes are the saved
    run's, and only the loop takes what the user gave now. With ``--init-from``, the model is that
    run's (``base``; its dropout may change), and the data and loop are planned for this corpus."""
    if saved is not None:
        epochs = args.epochs if args.epochs is not None else saved.loop.epochs
        loop = loop_options(args, saved.loop.lr, epochs, machine, saved.loop.patience, saved.loop.weight_decay)
        loop = dataclasses.replace(loop, cycle_steps=saved.loop.cycle_steps)
        return dataclasses.replace(saved, args=args, loop=loop, machine=machine)
    planned = planning(task).plan(args, tokenizer, facts, machine)
    if base is None:
        return planned
    model = dataclasses.replace(base, dropout=given_or(args.dropout, base.dropout))
    notes = tuple(n for n in planned.notes if not n.startswith("hidden ")) + (
        f"model from {args.init_from}: {base.kind}, embed {base.embed}, hidden {base.hidden} x {base.layers}",)
    return dataclasses.replace(planned, model=model, notes=notes)


def given_or(value: Any, default: Any) -> Any:
    return default if value is None else value


def embed_width(args: TrainArgs, shapes: Shapes) -> int:
    """A given --hidden narrower than the default embedding narrows the embedding too."""
    if args.embed is not None:
        return args.embed
    return shapes.embed if args.hidden is None else min(args.hidden, shapes.embed)


def softmax_cutoffs(args: TrainArgs, vocab_size: int) -> tuple[int, ...]:
    adaptive = args.adaptive if args.adaptive is not None else vocab_size >= 8000
    cutoffs = tuple(auto_cutoffs(vocab_size, force=bool(args.adaptive))) if adaptive else ()
    if args.tie_weights and cutoffs:
        raise ConfigError("--tie-weights needs the full softmax: add --no-adaptive")
    return cutoffs


def checked(config: ModelConfig) -> ModelConfig:
    try:
        return config.check()
    except FormatError as exc:
        raise ConfigError(str(exc).replace("invalid model configuration", "invalid model options")) from None


def batch_size_of(args: TrainArgs, shapes: Shapes, machine: Machine) -> int:
    """Each process of a distributed run takes the same number of batch columns."""
    batch = args.batch_size
    if batch is None:
        batch = max(shapes.batch_size, machine.world) // machine.world * machine.world
    if batch % machine.world:
        raise ConfigError(f"--batch-size {batch} must be a multiple of the {machine.world} processes: "
                          "each takes the same number of batch columns")
    return batch


def loop_options(args: TrainArgs, default_lr: float, epochs: int | None, machine: Machine,
                 default_patience: int | None, default_weight_decay: float = WEIGHT_DECAY) -> TrainOptions:
    """The loop's options; the defaults given are those of the model kind (or of the saved run)."""
    every_s, every_steps = parse_save_every(args.save_every)
    default_lr = SGD_LR if args.optimizer == "sgd" else default_lr
    return TrainOptions(epochs=epochs, max_steps=args.max_steps, time_budget=args.time_budget,
                        lr=args.lr if args.lr is not None else default_lr, optimizer=args.optimizer,
                        weight_decay=given_or(args.weight_decay, default_weight_decay),
                        clip=args.clip, eval_every=args.eval_every,
                        patience=args.patience if args.patience is not None else default_patience,
                        average=bool(args.average),
                        save_every=300.0 if every_s is None else every_s, save_every_steps=every_steps,
                        seed=args.seed, on_nan=args.on_nan, precision=machine.precision).check()


def figure(value: float | None, spec: str = ".4f") -> str:
    """A metric as the start and end lines print it ("n/a" when the run has none)."""
    return "n/a" if value is None else format(value, spec)


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
                    max_len=int(training.get("max_len", 400 if model.num_labels else 0)), valid=args.valid)
    tokenizer = TokenizerPlan("file", args.vocab) if args.vocab else TokenizerPlan("build")
    machine = Machine(device=str(training.get("device", "cpu")), precision=str(training.get("precision", "fp32")))
    return RunPlan(model.task, args, tokenizer, model, data, TrainOptions(**loop), machine)




def summary(plan: RunPlan, facts: CorpusFacts, parameters: int) -> str:
    """The start-of-run line: the model, its data and the machine, as the run's task writes it."""
    return str(planning(plan.task).summary(plan, facts, parameters))
