"""Every option of ``rnncli train``, declared once.

Each option is a field of :class:`TrainArgs` whose metadata (an :class:`Opt`) holds its help, flags,
bounds and the rules that govern it. The command line, ``--help``, the Python API
(``rnncli.train(corpus, output, **options)``), the saved ``config.json``, the ``--resume`` check and
the refusal of options that do not apply to a task or vocabulary level all derive from these fields,
so adding an option is one field here plus its use.

``None`` means "not given: the planner picks a value from the corpus and the machine". Which
options the user gave is recorded explicitly in :attr:`TrainArgs.given` (the command line asks
click for each parameter's source), never guessed from the value.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from rnncli.errors import ConfigError
from rnncli.opts import flag, option, option_names, options

LM, CLASSIFY, TAG, SEQ2SEQ = "lm", "classify", "tag", "seq2seq"
SUBWORD = ("bpe", "unigram")
LEVELS = ("word", "char", *SUBWORD)


INPUT, TOKENIZER, MODEL, LOOP, MACHINE = "Input and output", "Tokenizer", "Model", "Training", "Machine"


@dataclass(frozen=True)
class TrainArgs:
    corpus: list[str] = option([], argument=True, panel=INPUT, help=(
        "Training text (language model), labelled data (classifier), tagged sentences (tagger) or sentence "
        "pairs, source<TAB>target (translation); - reads stdin once. "
        "Optional with --resume."))
    output: str = option("", flags=("--output", "-o"), record=False, panel=INPUT, complete="run", help=(
        "Run directory to create (or resume) [default: a new runs/<model>-<level>-<date>-<time>]."))
    print_run_dir: bool = option(False, record=False, panel=INPUT, help=(
        "Print the run directory on stdout at the end, for RUN=$(rnncli train ...)."))
    task: str | None = option(choices=(LM, CLASSIFY, TAG, SEQ2SEQ), fixed=True, panel=INPUT,
                              help="lm, classify, tag or seq2seq (translation) [default: from the data].")
    valid: str | None = option(panel=INPUT, help="Validation file [default: a held-out part of the data].")
    init_from: str | None = option(panel=INPUT, fixed=True, complete="run", help=(
        "Start from another run's best weights, vocabulary and model shape (fine-tuning), with a fresh "
        "optimiser and schedule."))
    config: str | None = option(panel=INPUT, complete="run", help=(
        "Start a new run with the options another run was given (its directory or config.json); "
        "options given here override them."))
    resume: bool = option(False, record=False, panel=INPUT,
                          help="Continue the run in --output from its last checkpoint.")
    force: bool = option(False, record=False, panel=INPUT, help="Replace a run already in --output.")
    text_column: str = option("text", tasks=(CLASSIFY,), panel=INPUT,
                              help="CSV data: the text column (a name or 0-based index).")
    label_column: str = option("label", tasks=(CLASSIFY,), panel=INPUT,
                               help="CSV data: the label column (a name or 0-based index).")
    label_sep: str | None = option(tasks=(CLASSIFY,), panel=INPUT, help=(
        "TSV/CSV data: the label field holds several labels separated by this (e.g. ,) [default: one label; "
        "fastText lines and JSON lists give several as they are]."))
    tag_column: str | None = option(tasks=(TAG,), fixed=True, panel=INPUT, help=(
        "Tagged data: the tag column, upos, xpos or feats of CoNLL-U, or the 0-based column of CoNLL columns "
        "[default: upos; the last column]."))
    max_length: int | None = option(min=1, tasks=(SEQ2SEQ,), panel=INPUT, help=(
        "Translation: leave out training pairs with a side longer than this many words (counted) "
        "[default: none left out]."))
    encoding: str = option("utf-8", panel=INPUT, help="Text encoding of the input.")
    errors: str = option("strict", choices=("strict", "replace"), panel=INPUT,
                         help="On undecodable bytes: stop (strict) or use U+FFFD.")

    vocab: str | None = option(flags=("--vocab", "-v"), fixed=True, panel=TOKENIZER, complete="vocab",
                               help="Use this vocabulary instead of building one.")
    level: str | None = option(choices=LEVELS, levels=LEVELS, fixed=True, panel=TOKENIZER, help=(
        "Vocabulary to build [default: language models char up to 4 MB of text, else bpe; classifiers word]."))
    split: str | None = option(choices=("punct", "whitespace"), levels=("word",), fixed=True, panel=TOKENIZER,
                               help="Word level: split off punctuation, or whitespace tokens [default: punct].")
    lowercase: bool | None = option(flags=("--lowercase/--no-lowercase",), levels=("word",), fixed=True,
                                    panel=TOKENIZER, help=(
                                        "Word level: lowercase the words [default: taggers yes (their character "
                                        "features keep the case), else no]."))
    min_freq: int | None = option(min=1, levels=("word", "char"), fixed=True, panel=TOKENIZER,
                                  help="Word and char level: minimum count [default: 1].")
    max_size: int | None = option(min=1, levels=("word", "char"), fixed=True, panel=TOKENIZER,
                                  help="Word and char level: keep the most frequent tokens only.")
    vocab_size: int | None = option(min=1, levels=SUBWORD, fixed=True, panel=TOKENIZER, help=(
        "bpe and unigram: vocabulary size [default: from the corpus size; translation: from each side's]."))
    shared_vocab: bool | None = option(flags=("--shared-vocab/--separate-vocab",), tasks=(SEQ2SEQ,), fixed=True,
                                       panel=TOKENIZER, help=(
                                           "Translation: one vocabulary (and embedding) for both sides "
                                           "[default: one per side]."))

    model: str | None = option(flags=("--model", "-m"), choices=("rnn", "lstm", "gru", "bow", "cnn", "ngram", "hmm"),
                               fixed=True, panel=MODEL, help=(
                                   "rnn, lstm, gru; bow and cnn (a convolutional network, Kim 2014), classifiers "
                                   "only; ngram (a Kneser-Ney language model) and hmm (a hidden Markov model "
                                   "tagger), both counted [default: lstm]."))
    order: int | None = option(min=1, max=20, tasks=(LM, TAG), fixed=True, panel=MODEL, help=(
        "--model ngram: the order n [default: 5 for characters, 3 for words and subwords]; --model hmm: 2 "
        "(bigram transitions) or 3 [default: 3]."))
    embed: int | None = option(min=1, max=65536, fixed=True, panel=MODEL,
                               help="Embedding size [default: from the corpus].")
    hidden: int | None = option(min=1, max=65536, fixed=True, panel=MODEL,
                                help="Hidden units per layer [default: from the corpus].")
    layers: int | None = option(min=1, max=64, fixed=True, panel=MODEL, help="Recurrent layers [default: 1].")
    dropout: float | None = option(min=0.0, max=0.99, fixed=True, panel=MODEL,
                                   help="Dropout [default: from the corpus].")
    input_dropout: float | None = option(min=0.0, max=0.99, tasks=(LM,), fixed=True, panel=MODEL, help=(
        "Language models: dropout on the embedded input [default: word and subword models by corpus size; "
        "characters: --dropout]."))
    embed_dropout: float | None = option(min=0.0, max=0.99, tasks=(LM, TAG, SEQ2SEQ), fixed=True, panel=MODEL, help=(
        "Drop whole words from the embedding (language models; taggers' and translation's source words) "
        "[default: word and subword language models by corpus size; otherwise 0]."))
    weight_dropout: float | None = option(min=0.0, max=0.99, tasks=(LM, TAG, SEQ2SEQ), fixed=True, panel=MODEL, help=(
        "DropConnect on the hidden-to-hidden weights (language models; taggers' and translation's encoders) "
        "[default: word and subword language models by corpus size; otherwise 0]."))
    locked_dropout: bool | None = option(flags=("--locked-dropout/--no-locked-dropout",), tasks=(LM,), fixed=True,
                                         panel=MODEL, help=(
                                             "Language models: one dropout mask per sequence for all its steps "
                                             "[default: word and subword models]."))
    ar: float | None = option(min=0.0, max=100.0, tasks=(LM,), fixed=True, panel=MODEL, help=(
        "Language models: activation regularisation, the weight of the top layer's squared outputs "
        "[default: word and subword models 2, characters 0]."))
    tar: float | None = option(min=0.0, max=100.0, tasks=(LM,), fixed=True, panel=MODEL, help=(
        "Language models: temporal activation regularisation, the weight of their squared change per step "
        "[default: word and subword models 1, characters 0]."))
    shift_windows: bool | None = option(flags=("--shift-windows/--fixed-windows",), tasks=(LM,), fixed=True,
                                        help=("Language models: move the training windows' boundaries from epoch to "
                                              "epoch [default: word and subword models]."))
    tie_weights: bool | None = option(flags=("--tie-weights",), tasks=(LM,), fixed=True, panel=MODEL,
                                      help="Share embedding and output weights.")
    adaptive: bool | None = option(flags=("--adaptive/--no-adaptive",), tasks=(LM,), fixed=True, panel=MODEL,
                                   help="Adaptive softmax [default: for vocabularies of 8,000+ tokens].")
    pretrained_vectors: str | None = option(fixed=True, panel=MODEL, help=(
        "Word vocabularies: start the embedding from a .vec file (fastText/word2vec text format); its "
        "dimension sets --embed; words it lacks keep random rows."))
    freeze_embeddings: bool | None = option(flags=("--freeze-embeddings",), fixed=True, panel=MODEL,
                                            help="Keep the embedding as it starts (with --pretrained-vectors).")
    bidirectional: bool | None = option(flags=("--bidirectional/--unidirectional",), tasks=(CLASSIFY, TAG),
                                        fixed=True, panel=MODEL,
                                        help="Read the text both ways [default: bidirectional].")
    pool: str | None = option(choices=("last", "mean", "max"), tasks=(CLASSIFY,), fixed=True, panel=MODEL, help=(
        "Final hidden state (last) or mean/max over time [default: max]."))
    multi_label: bool | None = option(flags=("--multi-label/--single-label",), tasks=(CLASSIFY,), fixed=True,
                                      panel=MODEL, help=(
                                          "One sigmoid per label for data whose lines carry several, with a decision "
                                          "threshold chosen on validation [default: from the data]."))
    char_features: bool | None = option(flags=("--char-features/--no-char-features",), tasks=(TAG,), fixed=True,
                                        panel=MODEL, help=(
                                            "Taggers: read each word's spelling (a character CNN, and hashed "
                                            "embeddings of its affixes and shape), so that words never seen are "
                                            "tagged from their spelling [default: on]."))
    crf: bool | None = option(flags=("--crf/--no-crf",), tasks=(TAG,), fixed=True, panel=MODEL, help=(
        "Taggers: a linear-chain CRF over the tag scores, Viterbi decoding [default: on for BIO/BIOES "
        "tags (entities, chunks), else a softmax per token]."))
    attention: str | None = option(choices=("additive", "dot", "none"), tasks=(SEQ2SEQ,), fixed=True,
                                   panel=MODEL, help=(
                                       "Translation: how the decoder reads the source: additive (Bahdanau), dot "
                                       "(Luong's general score), or none (one fixed vector) [default: dot]."))
    class_weights: str | None = option(choices=("auto", "none"), tasks=(CLASSIFY,), panel=MODEL,
                                       help="Weight the loss by inverse label frequency (auto) [default: none].")

    batch_size: int | None = option(min=1, max=1_000_000, fixed=True,
                                    help="Batch size [default: from the corpus and the machine].")
    bptt: int | None = option(min=1, max=100_000, tasks=(LM,), fixed=True,
                              help="Steps of truncated backpropagation through time [default: from the corpus].")
    lr: float | None = option(min=0.0, help="Peak learning rate (cosine decay) [default: by model; sgd 10].")
    optimizer: str = option("adamw", choices=("adamw", "sgd"), fixed=True, help=(
        "adamw, or plain sgd (no momentum: the course's update rule, where clipping matters most)."))
    weight_decay: float | None = option(min=0.0, help=(
        "AdamW weight decay on weight matrices [default: 0.1 for character language models, else 0.01]."))
    clip: float = option(1.0, min=0.0, help="Gradient-norm clipping threshold; 0 turns it off.")
    epochs: int | None = option(min=1, help=(
        "Passes over the data [default: 2 for word and subword language models, which overfit beyond; "
        "characters: as --time-budget allows; classifiers: 10]."))
    max_steps: int | None = option(min=1, help="Stop after this many steps.")
    patience: int | None = option(min=1, help=(
        "Stop after N evaluations in a row without a better validation score; each of them also halves "
        "the learning rate [default: 3 for word and subword language models, else none]."))
    average: bool | None = option(flags=("--average/--no-average",), fixed=True, help=(
        "From the first evaluation without a better validation score on, evaluate and keep the mean of the "
        "weights of every step since (NT-ASGD's averaging, with the optimiser kept) [default: off]."))
    time_budget: float | None = option(min=0.001, help=(
        "Seconds for the whole command: train, evaluate and save within it."))
    eval_every: int | None = option(min=1, help="Evaluate every N steps [default: about 10 times per run].")
    save_every: str | None = option(help=(
        "Checkpoint every N steps, or every Ns seconds (e.g. 500 or 120s) [default: 300s]."))
    tune: bool = option(False, record=False, tasks=(CLASSIFY,), help=(
        "Spend --time-budget on a search (model kind incl. bow, width, learning rate, dropout, level) by "
        "successive halving; the best trial by validation macro-F1 becomes the run (trials in RUN/trials)."))
    sample_every: int | None = option(min=1, tasks=(LM,), help=(
        "Print a short sample every N evaluations (also kept in RUN/samples.jsonl)."))
    sample_prompt: str = option("", tasks=(LM,), help="The prompt of those samples [default: none].")
    sample_tokens: int = option(200, min=1, max=100_000, tasks=(LM,), help="Tokens per sample.")
    log: str | None = option(choices=("tensorboard",), help=(
        "Also log the metrics to TensorBoard, in RUN/tensorboard (pip install 'rnncli[tensorboard]')."))
    seed: int = option(0, help="Random seed.")
    on_nan: str = option("stop", choices=("stop", "skip"), help=(
        "On a non-finite loss: stop (keeping the last good checkpoint) or skip the batch."))

    device: str = option("auto", choices=("auto", "cpu", "cuda", "mps"), panel=MACHINE, help="Where to train.")
    precision: str = option("auto", choices=("auto", "fp32", "bf16"), panel=MACHINE,
                            help="bf16 autocast where the hardware is fast at it.")
    threads: int | None = option(min=1, max=4096, panel=MACHINE, help="CPU threads.")

    given: frozenset[str] = field(default=frozenset(), compare=False)

    @classmethod
    def of(cls, **values: Any) -> "TrainArgs":
        """Arguments from keyword values: every name passed counts as given by the user."""
        unknown = sorted(set(values) - set(option_names(cls)))
        if unknown:
            raise ConfigError(f"unknown train option {unknown[0]!r}")
        return cls(**values, given=frozenset(values))

    def with_values(self, **values: Any) -> "TrainArgs":
        """A copy with ``values`` replaced; they join the given set."""
        return dataclasses.replace(self, **values, given=self.given | frozenset(values))

    def recorded(self) -> dict[str, Any]:
        """The options saved with a run, by name."""
        return {f.name: getattr(self, f.name) for f in options(type(self)) if f.metadata["opt"].record}


def check_bounds(args: TrainArgs) -> None:
    """Choices and bounds of every given option (the command line checks them too; the API relies on this)."""
    for f in options(type(args)):
        opt, value = f.metadata["opt"], getattr(args, f.name)
        if value is None or f.name not in args.given:
            continue
        if opt.choices and value not in opt.choices:
            raise ConfigError(f"{flag(f.name)} must be one of {', '.join(opt.choices)}, not {value!r}")
        if opt.min is not None and value < opt.min or opt.max is not None and value > opt.max:
            raise ConfigError(f"{flag(f.name)} {value} is out of range [{opt.min}, {opt.max}]")


def refuse_inapplicable(args: TrainArgs, task: str, level: str | None, building: bool = True) -> None:
    """Refuse a given option that does nothing for this task or vocabulary level.

    ``level`` is the level of the vocabulary this run builds, None when it builds none (``--vocab``);
    on ``--resume`` (``building=False``) only the task is checked: the tokenizer options are fixed.
    """
    from rnncli.tasks import task as spec

    for f in options(type(args)):
        opt = f.metadata["opt"]
        if f.name not in args.given:
            continue
        if opt.tasks and task not in opt.tasks:
            raise ConfigError(f"{flag(f.name)} applies to {spec(opt.tasks[0]).title}s only; this run trains "
                              f"a {spec(task).title}")
        if not opt.levels or not building:
            continue
        if level is None:
            raise ConfigError(f"{flag(f.name)} shapes the vocabulary that --vocab gives already")
        if level not in opt.levels:
            raise ConfigError(f"{flag(f.name)} applies to {' and '.join(opt.levels)} vocabularies; this run "
                              f"builds a {level} one (--level to choose)")


def resumed(saved: TrainArgs, now: TrainArgs) -> TrainArgs:
    """The saved run's arguments with what the user gave now applied.

    A ``fixed`` option given with another value than the run has is refused: it shapes the model or
    its data. The corpus may be given again (the same files or others for the remaining steps).
    """
    changes: dict[str, Any] = {}
    for f in options(type(now)):
        opt = f.metadata["opt"]
        if f.name not in now.given:
            continue
        value = getattr(now, f.name)
        if not opt.record:
            changes[f.name] = value
        elif value != getattr(saved, f.name):
            if opt.fixed:
                raise ConfigError(f"--resume cannot change {flag(f.name)} (the run has {getattr(saved, f.name)!r})")
            changes[f.name] = value
    return saved.with_values(**changes)


def reapplied(saved: TrainArgs, now: TrainArgs, source: str) -> TrainArgs:
    """A new run with the options ``saved`` was given (the planner chooses the rest again, for this
    corpus and machine), then those given ``now``; ``config`` records where they came from."""
    recorded = {f.name for f in options(type(now)) if f.metadata["opt"].record} - {"config"}
    values = {name: getattr(saved, name) for name in saved.given & recorded}
    values.update({name: getattr(now, name) for name in now.given})
    values["config"] = source
    return type(now).of(**values)  # type: ignore[no-any-return]


def from_record(cls: type, values: dict[str, Any], given: list[str]) -> TrainArgs:
    """Arguments saved in a run's config.json (unknown names, from another version, are dropped)."""
    known = set(option_names(cls))
    kept = {k: v for k, v in values.items() if k in known}
    return cls(**kept, given=frozenset(g for g in given if g in known))  # type: ignore[no-any-return]
