"""A translation model's plan: its shapes from the number of training target tokens.

Pure and torch-free like :mod:`rnncli.plan`, whose shared rules it uses (docs/defaults.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rnncli.args import TrainArgs
from rnncli.errors import ConfigError
from rnncli.models.config import ModelConfig
from rnncli.plan import (CorpusFacts, DataPlan, Machine, RunPlan, Shapes, TokenizerPlan, batch_size_of, checked,
                         figure, given_or, loop_options)
from rnncli.tasks.translation import TASK

if TYPE_CHECKING:
    import torch

SEQ2SEQ_EPOCHS = 10
SEQ2SEQ_HOLDOUT = 0.05  # share of the pairs held out for validation without --valid
LABEL_SMOOTHING = 0.1  # of the training loss (Szegedy et al. 2016); validation reports the plain NLL


def default_lowercase(level: str) -> bool:
    """Words as written: a translation keeps the case of its target."""
    return False


def default_level(corpus_bytes: int) -> str:
    """Subwords (sentencepiece unigram): every word of a new sentence is spelt, none is <unk>."""
    return "unigram"


def seq2seq_shapes(tokens: int) -> Shapes:
    """Embedding 256, hidden 512 (each encoder direction 256), one layer, dropout 0.3, 64 pairs a
    batch; wider (embed 512, hidden 1024) from 5M training target tokens."""
    big = tokens >= 5_000_000
    return Shapes(embed=512 if big else 256, hidden=1024 if big else 512, dropout=0.3, batch_size=64, bptt=0,
                  lr=2e-3)


def plan(args: TrainArgs, tokenizer: TokenizerPlan, facts: CorpusFacts, machine: Machine) -> RunPlan:
    """A new encoder-decoder's plan."""
    kind = args.model or "lstm"
    if kind not in ("rnn", "lstm", "gru"):
        raise ConfigError(f"--model {kind} does not translate; an encoder-decoder is rnn, lstm or gru")
    shapes = seq2seq_shapes(facts.train_items)
    hidden = args.hidden or shapes.hidden
    if hidden % 2:
        raise ConfigError(f"--hidden {hidden}: an encoder-decoder's hidden size is even (each encoder direction "
                          "has half)")
    model = checked(ModelConfig(
        task=TASK.name, kind=kind, vocab_size=facts.vocab_size, embed=args.embed or shapes.embed, hidden=hidden,
        layers=args.layers or shapes.layers, dropout=given_or(args.dropout, shapes.dropout),
        dropout_embed=given_or(args.embed_dropout, 0.0), dropout_weight=given_or(args.weight_dropout, 0.0),
        target_vocab_size=facts.target_vocab, attention=args.attention or "dot"))
    data = DataPlan(batch_size=batch_size_of(args, shapes, machine), valid=args.valid,
                    holdout=0.0 if args.valid else SEQ2SEQ_HOLDOUT)
    epochs = args.epochs
    notes: list[str] = []
    if epochs is None and args.max_steps is None and args.time_budget is None:
        epochs = SEQ2SEQ_EPOCHS
        notes.append(f"{epochs} epochs (no --epochs, --max-steps or --time-budget)")
    return RunPlan(TASK.name, args, tokenizer, model, data, loop_options(args, shapes.lr, epochs, machine, None),
                   machine, tuple(notes))


def score(record: dict[str, Any]) -> float:
    """The best checkpoint: the best validation BLEU (greedy decoding); among equals, the lower loss."""
    return float(record.get("bleu", 0.0)) - 1e-6 * float(record.get("val_loss", 0.0))


def summary(plan: RunPlan, facts: CorpusFacts, parameters: int) -> str:
    """The start-of-run line: the model, its data and the machine."""
    m, d = plan.model, plan.data
    vocab = (f"shared vocabulary {m.vocab_size:,}" if not m.target_vocab_size
             else f"vocabularies {m.vocab_size:,} (source) and {m.target_vocab_size:,} (target)")
    return (f"{m.kind} encoder-decoder, {m.attention} attention: embed {m.embed}, hidden {m.hidden} x {m.layers} "
            f"layer(s), {m.encoder_dropout_summary()}; {parameters:,} parameters; {vocab}; {facts.train_items:,} training and "
            f"{facts.valid_items:,} validation target tokens; batch {d.batch_size} pairs; {plan.machine.device}, "
            f"{plan.machine.precision}")


def outcome(final: dict[str, Any], best: dict[str, Any]) -> str:
    """The end-of-run figures: those of the evaluation best.safetensors was saved at."""
    return f"best validation BLEU {figure(best.get('bleu'), '.2f')} (greedy) at step {best.get('step')}"


def measure(machine: Machine, device: "torch.device", args: TrainArgs, data: Any) -> Machine:
    """Nothing to time: the shapes do not depend on the machine's speed."""
    return machine
