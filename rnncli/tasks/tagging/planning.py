"""A tagger's plan: its shapes and epochs from the number of training tokens; the HMM counted.

Pure and torch-free like :mod:`rnncli.plan`, whose shared rules it uses (docs/defaults.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rnncli.args import TrainArgs, flag
from rnncli.errors import ConfigError
from rnncli.models.config import ModelConfig
from rnncli.plan import (CorpusFacts, DataPlan, Machine, RunPlan, Shapes, TokenizerPlan, batch_size_of, checked,
                         figure, given_or, loop_options)
from rnncli.tasks.tagging import TASK
from rnncli.tasks.tagging.features import AFFIX_BUCKETS, AFFIX_KINDS

if TYPE_CHECKING:
    import torch

TAGGER_EPOCHS = 10
TAGGER_HOLDOUT = 0.1
HMM_ORDER = 3
CHAR_EMBED, CHAR_FILTERS = 32, 64
AFFIX_EMBED = 32  # each hashed affix's and the shape's embedding (features.py)
COUNTED_REFUSES = ("embed", "hidden", "layers", "dropout", "embed_dropout", "weight_dropout", "bidirectional",
                   "char_features", "crf", "batch_size", "lr", "optimizer", "weight_decay", "clip", "epochs", "max_steps", "patience", "average", "eval_every",
                   "save_every", "on_nan", "init_from", "time_budget", "precision", "pretrained_vectors")


def default_lowercase(level: str) -> bool:
    """Lowercased words: the word embedding is shared by "The" and "the", while the character CNN
    and the shape feature still read the case (docs/defaults.md)."""
    return level == "word"


def default_level(corpus_bytes: int) -> str:
    """Words: a tagger reads the tokens its data gives."""
    return "word"


def tagger_shapes(tokens: int) -> Shapes:
    """Word embedding 100 beside a character CNN of 64 filters and the affix embeddings (32 each),
    a bidirectional LSTM of 128 units per direction (256 beyond 500k training tokens), dropout
    0.33, 16 sentences a batch."""
    return Shapes(embed=100, hidden=128 if tokens < 500_000 else 256, dropout=0.33, batch_size=16, bptt=0, lr=2e-3,
                  bidirectional=True)


def plan(args: TrainArgs, tokenizer: TokenizerPlan, facts: CorpusFacts, machine: Machine) -> RunPlan:
    """A new tagger's plan: shapes from the number of training tokens, ten epochs without a clock."""
    kind = args.model or "lstm"
    if kind in ("ngram", "bow", "cnn"):
        raise ConfigError(f"--model {kind} does not tag; a tagger needs rnn, lstm, gru or hmm")
    if kind == "hmm":
        return _plan_hmm(args, tokenizer, facts, machine)
    if "order" in args.given:
        raise ConfigError("--order applies to --model hmm (and ngram) only")
    shapes = tagger_shapes(facts.train_items)
    chars = given_or(args.char_features, True) and facts.alphabet > 0
    model = checked(ModelConfig(
        task=TASK.name, kind=kind, vocab_size=facts.vocab_size, embed=args.embed or shapes.embed,
        hidden=args.hidden or shapes.hidden, layers=args.layers or shapes.layers,
        dropout=given_or(args.dropout, shapes.dropout), dropout_embed=given_or(args.embed_dropout, 0.0),
        dropout_weight=given_or(args.weight_dropout, 0.0), num_labels=facts.labels,
        bidirectional=given_or(args.bidirectional, shapes.bidirectional),
        char_vocab_size=facts.alphabet if chars else 0, char_embed=CHAR_EMBED if chars else 0,
        char_filters=CHAR_FILTERS if chars else 0, affix_embed=AFFIX_EMBED if chars else 0,
        affix_kinds=len(AFFIX_KINDS) if chars else 0, affix_buckets=AFFIX_BUCKETS if chars else 0,
        crf=given_or(args.crf, facts.chunked)))
    data = DataPlan(batch_size=batch_size_of(args, shapes, machine), valid=args.valid,
                    holdout=0.0 if args.valid else TAGGER_HOLDOUT)
    epochs = args.epochs
    notes: list[str] = []
    if args.crf is None and facts.chunked:
        notes.append("a CRF over the tags: they are BIO/BIOES spans (--no-crf for a softmax per token)")
    if epochs is None and args.max_steps is None and args.time_budget is None:
        epochs = TAGGER_EPOCHS
        notes.append(f"{epochs} epochs (no --epochs, --max-steps or --time-budget)")
    return RunPlan(TASK.name, args, tokenizer, model, data, loop_options(args, shapes.lr, epochs, machine, None),
                   machine, tuple(notes))


def _plan_hmm(args: TrainArgs, tokenizer: TokenizerPlan, facts: CorpusFacts, machine: Machine) -> RunPlan:
    """A hidden Markov model is counted, not trained: options of the networks are refused by name."""
    given = [name for name in COUNTED_REFUSES if name in args.given]
    if given:
        raise ConfigError(f"{flag(given[0])} does not apply to --model hmm (it is counted, not trained)")
    order = args.order or HMM_ORDER
    if order not in (2, 3):
        raise ConfigError("--order of --model hmm is 2 (bigram transitions) or 3 (trigram)")
    model = checked(ModelConfig(task=TASK.name, kind="hmm", vocab_size=facts.vocab_size, embed=1, hidden=1,
                                order=order, num_labels=facts.labels))
    data = DataPlan(batch_size=1, valid=args.valid, holdout=0.0 if args.valid else TAGGER_HOLDOUT)
    return RunPlan(TASK.name, args, tokenizer, model, data, loop_options(args, 1.0, 1, machine, None), machine,
                   (f"a hidden Markov model of order {order} (TnT's smoothing), counted from the data",))


def score(record: dict[str, Any]) -> float:
    """The best checkpoint: the best validation entity F1 for BIO/BIOES tags (spans are what such
    taggers are judged by), else the best token accuracy; among equals, the lower loss."""
    return float(record.get("entity_f1", record["accuracy"])) - 1e-6 * float(record.get("val_loss", 0.0))


def summary(plan: RunPlan, facts: CorpusFacts, parameters: int) -> str:
    """The start-of-run line: the model, its data and the machine."""
    m, d = plan.model, plan.data
    data = (f"{facts.labels} tags, word vocabulary {m.vocab_size:,}; {facts.train_items:,} training and "
            f"{facts.valid_items:,} validation tokens")
    if m.kind == "hmm":
        return f"hmm tagger of order {m.order}: {data}; counted on the CPU"
    spelling = f" + character CNN ({m.char_filters} filters)" if m.char_vocab_size else ""
    spelling += f" + affixes ({m.affix_kinds} x {m.affix_embed})" if m.affix_embed else ""
    return (f"{'bidirectional ' if m.bidirectional else ''}{m.kind} tagger: embed {m.embed}{spelling}, hidden "
            f"{m.hidden} x {m.layers} layer(s), {m.encoder_dropout_summary()}, {'CRF' if m.crf else 'softmax'} output; "
            f"{parameters:,} parameters; {data}; batch {d.batch_size} sentences; {plan.machine.device}, "
            f"{plan.machine.precision}")


def outcome(final: dict[str, Any], best: dict[str, Any]) -> str:
    """The end-of-run figures: those of the evaluation best.safetensors was saved at."""
    entity = f"entity F1 {figure(best['entity_f1'])}, " if best.get("entity_f1") is not None else ""
    return f"best {entity}accuracy {figure(best.get('accuracy'))} at step {best.get('step')}"


def measure(machine: Machine, device: "torch.device", args: TrainArgs, data: Any) -> Machine:
    """Nothing to time: a tagger's shapes do not depend on the machine's speed."""
    return machine
