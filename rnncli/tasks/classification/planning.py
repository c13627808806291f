"""A classifier's plan: its shapes and epochs from the number of examples.

Pure and torch-free like :mod:`rnncli.plan`, whose shared rules it uses (docs/defaults.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rnncli.args import TrainArgs
from rnncli.errors import ConfigError
from rnncli.models.config import CLASSIFIER_ONLY, CNN_WIDTHS, ModelConfig
from rnncli.plan import (CorpusFacts, DataPlan, Machine, RunPlan, Shapes, TokenizerPlan, checked, figure, given_or,
                         loop_options)
from rnncli.scores import classifier_score
from rnncli.tasks.classification import TASK

if TYPE_CHECKING:
    import torch

CLASSIFIER_EPOCHS = 10
CLASSIFIER_HOLDOUT = 0.1


def default_lowercase(level: str) -> bool:
    """Words as written: the case is part of what a classifier may read."""
    return False


def default_level(corpus_bytes: int) -> str:
    """Words, which matched or beat subwords on validation (docs/defaults.md)."""
    return "word"


CNN_REFUSES = ("layers", "bidirectional", "pool")  # one layer of filters, max over time: none applies


def classifier_shapes(examples: int, kind: str) -> Shapes:
    """Shapes for a classifier of ``examples`` texts on a CPU; bag of words trains at a higher rate;
    the convolutional network has Kim's (2014) 100 filters of each width and dropout 0.5."""
    bow, cnn = kind == "bow", kind == "cnn"
    hidden = 100 if cnn else 128 if examples < 20_000 else 256
    return Shapes(embed=64 if bow else 128, hidden=hidden, dropout=0.0 if bow else 0.5 if cnn else 0.3,
                  batch_size=32 if examples < 50_000 else 64, bptt=0, lr=2e-2 if bow else 3e-3,
                  bidirectional=not (bow or cnn), pool="max", max_len=400, buckets=1 << 17 if bow else 0)


def plan(args: TrainArgs, tokenizer: TokenizerPlan, facts: CorpusFacts, machine: Machine) -> RunPlan:
    """A new classifier's plan: shapes from the number of examples, ten epochs without a clock."""
    kind = args.model or "lstm"
    if kind == "ngram":
        raise ConfigError("--model ngram is a language model; a classifier needs rnn, lstm, gru, bow or cnn")
    refused = [name for name in CNN_REFUSES if name in args.given]
    if kind == "cnn" and refused:
        raise ConfigError(f"--{refused[0]} does not apply to --model cnn (one layer of filters, max over time)")
    shapes = classifier_shapes(facts.train_items, kind)
    notes: list[str] = []
    model = checked(ModelConfig(
        task=TASK.name, kind=kind, vocab_size=facts.vocab_size, embed=args.embed or shapes.embed,
        hidden=args.hidden or shapes.hidden, layers=args.layers or shapes.layers,
        dropout=given_or(args.dropout, shapes.dropout), num_labels=facts.labels,
        bidirectional=given_or(args.bidirectional, shapes.bidirectional) if kind not in CLASSIFIER_ONLY else False,
        pool=args.pool or shapes.pool, bigram_buckets=shapes.buckets, multi_label=facts.multi_label))
    data = DataPlan(batch_size=args.batch_size or shapes.batch_size, max_len=shapes.max_len, valid=args.valid,
                    holdout=0.0 if args.valid else CLASSIFIER_HOLDOUT, class_weights=args.class_weights or "none")
    epochs = args.epochs
    if epochs is None and args.max_steps is None and args.time_budget is None:
        epochs = CLASSIFIER_EPOCHS
        notes.append(f"{epochs} epochs (no --epochs, --max-steps or --time-budget)")
    loop = loop_options(args, shapes.lr, epochs, machine, None)
    return RunPlan(TASK.name, args, tokenizer, model, data, loop, machine, tuple(notes))


def score(record: dict[str, Any]) -> float:
    """The best validation macro-F1 is the best checkpoint (among equals, the lower loss)."""
    return classifier_score(record)


def summary(plan: RunPlan, facts: CorpusFacts, parameters: int) -> str:
    """The start-of-run line: the model, its data and the machine."""
    m, d = plan.model, plan.data
    if m.kind == "bow":
        body = f"bag of words + {m.bigram_buckets:,} hashed bigram buckets, embed {m.embed}"
    elif m.kind == "cnn":
        body = (f"convolutional network, embed {m.embed}, {m.hidden} filters of each width "
                f"{', '.join(map(str, CNN_WIDTHS))}, max over time, dropout {m.dropout}")
    else:
        body = (f"{'bidirectional ' if m.bidirectional else ''}{m.kind} encoder, embed {m.embed}, "
                f"hidden {m.hidden} x {m.layers} layer(s), pool {m.pool}, dropout {m.dropout}")
    return (f"classifier ({m.num_labels} labels): {body}; {facts.level} vocabulary {m.vocab_size:,}; "
            f"{parameters:,} parameters; {facts.train_items:,} training and {facts.valid_items:,} validation "
            f"examples; batch {d.batch_size}; {plan.machine.device}, {plan.machine.precision}")


def outcome(final: dict[str, Any], best: dict[str, Any]) -> str:
    """The end-of-run figures: those of the evaluation best.safetensors was saved at."""
    second = ("micro_f1", best.get("micro_f1")) if "micro_f1" in best else ("accuracy", best.get("accuracy"))
    return f"best macro_f1 {figure(best.get('macro_f1'))} ({second[0]} {figure(second[1])}) at step {best.get('step')}"


def measure(machine: Machine, device: "torch.device", args: TrainArgs, data: Any) -> Machine:
    """Nothing to time: a classifier's shapes do not depend on the machine's speed."""
    return machine
