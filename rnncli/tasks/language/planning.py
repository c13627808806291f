"""A language model's plan: its shapes, schedule and stopping rule, from the corpus and the machine.

Pure and torch-free like :mod:`rnncli.plan`, whose shared rules (the loop's options, the batch of
a distributed run, the softmax's cutoffs) it uses; docs/defaults.md gives the validation figures
behind each rule.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any

from rnncli.args import TrainArgs, flag
from rnncli.errors import ConfigError
from rnncli.models.config import ModelConfig
from rnncli.plan import (WEIGHT_DECAY, CorpusFacts, DataPlan, Machine, RunPlan, Shapes, TokenizerPlan, batch_size_of,
                         checked, embed_width, figure, given_or, loop_options, softmax_cutoffs)
from rnncli.scores import lm_score
from rnncli.tasks.language import TASK

if TYPE_CHECKING:
    import torch

CHAR_LEVEL_MAX_BYTES = 4_000_000
WORD_PATIENCE = 3
WORD_CYCLE_EPOCHS = 2
WORD_CYCLE_MIN_STEPS = 1000
CHAR_WEIGHT_DECAY = 0.1
TOKENS_PER_PARAMETER = 2.0  # what a time budget should let a character model see, at least
TRAIN_SHARE = 0.9  # of a time budget, what training gets (the rest: set-up, evaluations, saves)
LM_HOLDOUT_TOKENS = 100_000
UNBOUNDED_TOKENS = 3_000_000
NGRAM_CHAR_ORDER, NGRAM_WORD_ORDER = 5, 3


def default_lowercase(level: str) -> bool:
    """Words as written: a language model generates the case it learned."""
    return False


def default_level(corpus_bytes: int) -> str:
    """Characters for small and medium corpora, subwords beyond a few megabytes."""
    return "char" if corpus_bytes <= CHAR_LEVEL_MAX_BYTES else "bpe"



def lm_shapes(tokens: int, level: str, threads: int) -> Shapes:
    """Model and batch shapes for a language model of ``tokens`` training tokens on this machine.

    On a CPU the recurrence runs one time step after another, so a wider batch barely raises tokens
    per second on a few cores while it divides the number of updates: characters take small batches,
    and windows of 50 steps, which give twice the updates of 100 for the same tokens (25 spend more
    time per token than they gain).
    Words are another regime (the adaptive softmax makes each step dearer), with wider batches,
    windows of 70 (more tokens per second than 35, and no worse per update on validation), a
    full-width embedding and dropout only on small corpora, where it keeps them from memorising.
    The measurements behind these rules are in docs/defaults.md.
    """
    hidden = 128 if tokens < 30_000 else 256 if tokens < 300_000 else 512
    if level == "char":
        embed, dropout, lr = 64, 0.0 if tokens > 500_000 else 0.1, 6e-3
        batch, bptt = (16 if threads <= 4 else 32), 50
    else:
        embed, dropout, lr = hidden, 0.3 if tokens < 30_000 else 0.1 if tokens < 100_000 else 0.0, 3e-3
        batch, bptt = 32, 70
    while batch > 4 and tokens // batch < 4 * bptt:
        batch //= 2
    while bptt > 8 and tokens // batch < 2 * bptt:
        bptt //= 2
    return Shapes(embed=embed, hidden=hidden, dropout=dropout, batch_size=batch, bptt=bptt, lr=lr)



def weight_decay(level: str) -> float:
    """AdamW's weight decay: 0.1 for characters, whose models see a corpus several times within a
    budget and begin to memorise it; dropout costs them more updates than it gains, decay costs
    nothing per step. Word and subword models keep the common 0.01 (not measured there)."""
    return CHAR_WEIGHT_DECAY if level == "char" else WEIGHT_DECAY


AWD_AR, AWD_TAR = 2.0, 1.0  # activation and temporal activation regularisation of word and subword models


def regularisers(level: str, dropout: float) -> dict[str, Any]:
    """A language model's default regularisers: ``dropout`` (the corpus-size rule of lm_shapes) on
    the input and the output, plain, with AR and TAR for word and subword models. The rest of the
    AWD-LSTM set (locked dropout at its rates, whole words dropped, DropConnect) stays off: on the
    three corpora of bench/word_lm.py, 0.5 to 60 passes in 400 s, every rate tried read worse on
    validation than none (docs/defaults.md); the options turn each one on."""
    word = level != "char"
    return {"dropout": dropout, "dropout_input": dropout, "dropout_embed": 0.0, "dropout_weight": 0.0,
            "locked": False, "ar": AWD_AR if word else 0.0, "tar": AWD_TAR if word else 0.0}


def regularisers_of(args: TrainArgs, level: str, dropout: float) -> dict[str, Any]:
    """The defaults above, each replaced by the option the user gave."""
    given = {"dropout": args.dropout, "dropout_input": args.input_dropout, "dropout_embed": args.embed_dropout,
             "dropout_weight": args.weight_dropout, "locked": args.locked_dropout, "ar": args.ar, "tar": args.tar}
    defaults = regularisers(level, given_or(args.dropout, dropout))
    return {name: given_or(given[name], value) for name, value in defaults.items()}


def budget_candidates(args: TrainArgs, facts: CorpusFacts, threads: int) -> tuple[int, ...]:
    """Hidden sizes worth timing on this machine before a character model with a --time-budget and
    no --hidden: the corpus's own size and two narrower ones."""
    if facts.level != "char" or args.time_budget is None or args.hidden is not None or args.init_from:
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



def schedule_cycle(tokens: int, level: str, batch: int, bptt: int) -> int | None:
    """Word and subword models anneal their learning rate over two passes (at least 1,000 updates),
    then restart at half the peak for as long as validation improves and the budget lasts: a model
    that memorises its corpus within a few passes is at its best at the end of an annealed cycle.
    Characters anneal over the whole run."""
    if level == "char":
        return None
    return max(WORD_CYCLE_EPOCHS * max(1, tokens // (batch * bptt)), WORD_CYCLE_MIN_STEPS)



def default_patience(level: str) -> int | None:
    """Word and subword language models memorise a corpus of moderate size within a few passes, so
    validation decides when they stop; characters are far from memorised in any budget here, and
    classifiers keep their best checkpoint by validation, so they run their plan."""
    return WORD_PATIENCE if level != "char" else None



def lm_holdout(tokens: int) -> float:
    """Without --valid, the last tenth of the corpus, at most 100,000 tokens."""
    return min(0.1, LM_HOLDOUT_TOKENS / max(1, tokens))



NEURAL_ONLY = ("embed", "hidden", "layers", "dropout", "input_dropout", "embed_dropout", "weight_dropout",
               "locked_dropout", "ar", "tar", "shift_windows", "tie_weights", "adaptive", "batch_size", "bptt", "lr",
               "optimizer", "weight_decay", "clip", "epochs", "max_steps", "patience", "average", "eval_every", "save_every",
               "on_nan", "sample_every", "init_from", "time_budget", "precision")



def plan_ngram(args: TrainArgs, tokenizer: TokenizerPlan, facts: CorpusFacts, machine: Machine) -> RunPlan:
    """An n-gram model is counted, not trained: no shapes, no loop; options of the neural models are
    refused by name."""
    given = [name for name in NEURAL_ONLY if name in args.given]
    if given:
        raise ConfigError(f"{flag(given[0])} does not apply to --model ngram (it is counted, not trained)")
    order = args.order or (NGRAM_CHAR_ORDER if facts.level == "char" else NGRAM_WORD_ORDER)
    model = checked(ModelConfig(task=TASK.name, kind="ngram", vocab_size=facts.vocab_size, embed=1, hidden=1, order=order))
    data = DataPlan(batch_size=1, bptt=1, valid=args.valid,
                    holdout=0.0 if args.valid else lm_holdout(facts.train_items + facts.valid_items))
    return RunPlan(TASK.name, args, tokenizer, model, data, loop_options(args, 1.0, 1, machine, None), machine,
                   (f"an interpolated Kneser-Ney model of order {order}, counted from the corpus",))



def plan(args: TrainArgs, tokenizer: TokenizerPlan, facts: CorpusFacts, machine: Machine) -> RunPlan:
    """A new language model's plan: shapes from the corpus's size and level, sized to the machine
    under a --time-budget; word and subword models stop on validation and anneal in cycles."""
    if args.model in ("bow", "cnn"):
        raise ConfigError(f"--model {args.model} is a classifier; a language model needs rnn, lstm, gru or ngram")
    if args.model == "ngram":
        return plan_ngram(args, tokenizer, facts, machine)
    if "order" in args.given:
        raise ConfigError("--order applies to --model ngram only")
    shapes = lm_shapes(facts.train_items, facts.level, machine.threads)
    notes: list[str] = []
    if args.time_budget is not None and args.hidden is None and facts.level == "char":
        shapes, why = fit_to_budget(shapes, args.model or "lstm", facts, machine, args.time_budget)
        notes.extend([why] if why else [])
    batch = batch_size_of(args, shapes, machine)
    bptt = args.bptt or shapes.bptt
    hidden = args.hidden or shapes.hidden
    model = checked(ModelConfig(task=TASK.name, kind=args.model or "lstm", vocab_size=facts.vocab_size,
                               embed=embed_width(args, shapes), hidden=hidden, layers=args.layers or shapes.layers,
                               **regularisers_of(args, facts.level, shapes.dropout),
                               tie_weights=bool(args.tie_weights), cutoffs=softmax_cutoffs(args, facts.vocab_size)))
    data = DataPlan(batch_size=batch, bptt=bptt, valid=args.valid,
                    holdout=0.0 if args.valid else lm_holdout(facts.train_items + facts.valid_items),
                    shift_windows=given_or(args.shift_windows, facts.level != "char"))
    loop = loop_options(args, shapes.lr, _epochs(args, facts), machine, default_patience(facts.level),
                        weight_decay(facts.level))
    if args.epochs is None and args.max_steps is None:
        loop = dataclasses.replace(loop, cycle_steps=schedule_cycle(facts.train_items, facts.level, batch, bptt))
    if loop.patience is not None and "patience" not in args.given:
        notes.append(f"{facts.level}-level models stop after {loop.patience} evaluations without a better "
                     "validation loss (--patience)")
    return RunPlan(TASK.name, args, tokenizer, model, data, loop, machine, tuple(notes))



def unbounded_epochs(tokens: int) -> int:
    """Without --epochs, --max-steps or --time-budget, about 3M tokens: at least one pass, at most 30."""
    return max(1, min(30, math.ceil(UNBOUNDED_TOKENS / max(1, tokens))))


def _epochs(args: TrainArgs, facts: CorpusFacts) -> int | None:
    """--epochs; else as many as --time-budget allows; else (without a clock) about 3M tokens."""
    if args.epochs is not None or args.max_steps is not None or args.time_budget is not None:
        return args.epochs
    return unbounded_epochs(facts.train_items)


def score(record: dict[str, Any]) -> float:
    """The lowest validation loss is the best checkpoint."""
    return lm_score(record)


def summary(plan: RunPlan, facts: CorpusFacts, parameters: int) -> str:
    """The start-of-run line: the model, its data and the machine."""
    m, d = plan.model, plan.data
    if m.kind == "ngram":
        return (f"ngram language model of order {m.order}: {facts.level} level, vocabulary {m.vocab_size:,}; "
                f"{facts.train_items:,} training and {facts.valid_items:,} validation tokens; counted on the CPU")
    softmax = f"adaptive softmax {list(m.cutoffs)}" if m.cutoffs else "full softmax"
    return (f"{m.kind} language model: {facts.level} level, vocabulary {m.vocab_size:,}, embed {m.embed}, "
            f"hidden {m.hidden} x {m.layers} layer(s), {m.dropout_summary()}, {softmax}; {parameters:,} "
            f"parameters; batch {d.batch_size} x bptt {d.bptt}; {facts.train_items:,} training and "
            f"{facts.valid_items:,} validation tokens; {plan.machine.device}, {plan.machine.precision}")


def outcome(final: dict[str, Any], best: dict[str, Any]) -> str:
    """The end-of-run figures: the last evaluation's."""
    return (f"val_loss {figure(final.get('val_loss'))}, val_ppl {figure(final.get('val_ppl'), '.2f')}, "
            f"val_bpc {figure(final.get('val_bpc'))}")


def measure(machine: Machine, device: "torch.device", args: TrainArgs, data: Any) -> Machine:
    """Training speed of the sizes the planner may choose between for this budget (see fit_to_budget)."""
    from rnncli.calibrate import training_rate
    from rnncli.corpus import class_counts

    sizes = budget_candidates(args, data.facts, machine.threads)
    if not sizes:
        return machine
    shapes = lm_shapes(data.facts.train_items, data.facts.level, machine.threads)
    counts = class_counts(data.train_ids(), data.facts.vocab_size)
    rates = []
    for hidden in sorted(sizes):  # the smallest first: it also warms the process's kernels up
        config = ModelConfig(task=TASK.name, kind=args.model or "lstm", vocab_size=data.facts.vocab_size,
                             embed=embed_width(args, shapes) if args.hidden else shapes.embed, hidden=hidden,
                             layers=args.layers or shapes.layers, cutoffs=softmax_cutoffs(args, data.facts.vocab_size))
        batch, bptt = args.batch_size or shapes.batch_size, args.bptt or shapes.bptt
        rates.append((hidden, round(training_rate(config, batch, bptt, device, machine.precision, counts), 1)))
    return dataclasses.replace(machine, rates=tuple(rates))
