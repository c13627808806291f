"""The hyperparameters that rebuild a model, saved as JSON beside its weights."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from rnncli.errors import FormatError

TASKS = ("lm", "classify", "tag", "seq2seq")
KINDS = ("rnn", "lstm", "gru", "bow", "cnn", "ngram", "hmm")
CLASSIFIER_ONLY = ("bow", "cnn")  # the baselines without a recurrent layer
CNN_WIDTHS = (3, 4, 5)  # Kim (2014): filters reading 3, 4 and 5 tokens, ``hidden`` of each
COUNTED = {"ngram": "lm", "hmm": "tag"}  # counted kinds and the task each serves
POOLS = ("last", "mean", "max")
ATTENTIONS = ("additive", "dot", "none")  # rnncli.models.seq2seq


def auto_cutoffs(vocab_size: int, force: bool = False) -> list[int]:
    """Adaptive-softmax clusters: the 2,000 most frequent tokens in the head, then clusters up to
    10,000 and 50,000 (ids are frequency-ordered at word level). Below 8,000 tokens the full
    softmax is cheap enough, unless asked for."""
    cutoffs = [c for c in (2000, 10000, 50000) if c < vocab_size - 500]
    if vocab_size < 8000 and not force:
        return []
    if not cutoffs and vocab_size >= 8:
        cutoffs = [vocab_size // 4]
    return cutoffs


@dataclass(frozen=True)
class ModelConfig:
    task: str = "lm"
    kind: str = "lstm"
    vocab_size: int = 0
    embed: int = 64
    hidden: int = 512
    layers: int = 1
    dropout: float = 0.0  # language models: on the top layer's outputs and between layers
    dropout_input: float = 0.0  # language models: on the embedded input
    dropout_embed: float = 0.0  # whole words of the embedding (rnncli.models.regularise); LMs, taggers, encoders
    dropout_weight: float = 0.0  # DropConnect on the hidden-to-hidden weights; LMs, taggers, encoders
    locked: bool = False  # language models: one dropout mask per sequence (variational) instead of per step
    ar: float = 0.0  # language models: activation regularisation (the top layer's outputs' size)
    tar: float = 0.0  # language models: temporal activation regularisation (their change per step)
    tie_weights: bool = False
    cutoffs: tuple[int, ...] = ()  # adaptive softmax; empty = full softmax
    num_labels: int = 0
    bidirectional: bool = False
    pool: str = "last"
    bigram_buckets: int = 0
    order: int = 0  # the n-gram model's order; 0 for the neural models
    multi_label: bool = False  # classifiers: one sigmoid per label instead of a softmax
    char_vocab_size: int = 0  # taggers: the character CNN's alphabet (0: words alone)
    char_embed: int = 0
    char_filters: int = 0
    affix_embed: int = 0  # taggers: the width of each hashed affix's and shape's embedding (0: none)
    affix_kinds: int = 0  # how many per token (rnncli/tasks/tagging/features.py AFFIX_KINDS)
    affix_buckets: int = 0  # rows of their table, besides the padding row
    crf: bool = False  # taggers: a linear-chain CRF over the tag scores instead of a softmax per token
    target_vocab_size: int = 0  # encoder-decoders: the target side's vocabulary (0: the source's, shared)
    attention: str = "none"  # encoder-decoders: additive, dot or none (rnncli.models.seq2seq)

    def check(self) -> "ModelConfig":
        problems = []
        if self.task not in TASKS:
            problems.append(f"task {self.task!r}")
        counted = COUNTED.get(self.kind)
        if self.kind not in KINDS or (self.kind in CLASSIFIER_ONLY and self.task != "classify") or \
                (counted is not None) != (self.order >= 1) or (counted is not None and counted != self.task):
            problems.append(f"model kind {self.kind!r}")
        ints = {"vocab_size": (5, 50_000_000), "embed": (1, 65536), "hidden": (1, 65536),
                "layers": (1, 64), "bigram_buckets": (0, 50_000_000), "char_vocab_size": (0, 10_000_000),
                "char_embed": (0, 65536), "char_filters": (0, 65536), "affix_embed": (0, 65536),
                "affix_kinds": (0, 64), "affix_buckets": (0, 50_000_000),
                "target_vocab_size": (0, 50_000_000)}
        for name, (low, high) in ints.items():
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                problems.append(f"{name}={value!r}")
        for name in ("dropout", "dropout_input", "dropout_embed", "dropout_weight"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < 1:
                problems.append(f"{name}={value!r}")
        for name in ("ar", "tar"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 100:
                problems.append(f"{name}={value!r}")
        if not isinstance(self.locked, bool):
            problems.append(f"locked={self.locked!r}")
        if self.pool not in POOLS:
            problems.append(f"pool {self.pool!r}")
        if not isinstance(self.cutoffs, tuple) or not all(
            isinstance(c, int) and 0 < c < self.vocab_size for c in self.cutoffs
        ) or list(self.cutoffs) != sorted(set(self.cutoffs)):
            problems.append(f"cutoffs={self.cutoffs!r}")
        if self.attention not in ATTENTIONS:
            problems.append(f"attention {self.attention!r}")
        if self.task == "seq2seq" and (self.hidden % 2 or self.kind not in ("rnn", "lstm", "gru")):
            problems.append(f"hidden={self.hidden!r} (even: each encoder direction has half)")
        if self.task not in ("lm", "seq2seq") and not (isinstance(self.num_labels, int) and 2 <= self.num_labels <= 1_000_000):
            problems.append(f"num_labels={self.num_labels!r}")
        if problems:
            raise FormatError("invalid model configuration: " + ", ".join(problems))
        return self

    def dropout_summary(self) -> str:
        """The regularisers in a few words: plain dropout, or the AWD-LSTM set."""
        if not (self.locked or self.dropout_embed or self.dropout_weight or self.ar or self.tar) \
                and self.dropout_input == self.dropout:
            return f"dropout {self.dropout:g}"
        return (f"{'locked ' if self.locked else ''}dropout {self.dropout:g} (input {self.dropout_input:g}), words "
                f"dropped {self.dropout_embed:g}, DropConnect {self.dropout_weight:g}, AR {self.ar:g}, TAR {self.tar:g}")

    def encoder_dropout_summary(self) -> str:
        """A tagger's or an encoder-decoder's dropout, and the encoder's regularisers where on."""
        return f"dropout {self.dropout:g}" + (f", words dropped {self.dropout_embed:g}" if self.dropout_embed else "") \
            + (f", DropConnect {self.dropout_weight:g}" if self.dropout_weight else "")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["cutoffs"] = list(self.cutoffs)
        return data

    @classmethod
    def from_json(cls, data: Any) -> "ModelConfig":
        if not isinstance(data, dict):
            raise FormatError("invalid model configuration: not an object")
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise FormatError(f"invalid model configuration: unknown fields {sorted(unknown)}")
        values = dict(data)
        if "dropout_input" not in values:  # saved before the input had its own rate: it had --dropout's
            values["dropout_input"] = values.get("dropout", 0.0)
        if isinstance(values.get("cutoffs"), list):
            values["cutoffs"] = tuple(values["cutoffs"])
        return cls(**values).check()
