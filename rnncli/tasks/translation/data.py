"""A translation model's data: sentence pairs (rnncli.text.pairs), split into training and
validation (``--valid``, else a share of the pairs drawn by the seed), and a vocabulary per side
built on the training pairs only (``--shared-vocab``, or a ``--vocab`` file, gives one for both)."""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from rnncli.distributed import current
from rnncli.errors import ConfigError, InputError
from rnncli.plan import CorpusFacts, TokenizerPlan
from rnncli.run.files import TARGET_VOCAB
from rnncli.text.build import build_from_texts
from rnncli.text.pairs import Pair, looks_paired, read_pairs
from rnncli.text.vocab import Vocab

if TYPE_CHECKING:
    import torch

    from rnncli.args import TrainArgs
    from rnncli.plan import RunPlan
    from rnncli.run.directory import RunConfig, RunDir
    from rnncli.tasks.translation.training import Encoded
    from rnncli.training import Task

Report = Callable[[str], None]
TRAIN_MAX_LENGTH = 100  # words per side: longer training pairs are left out (and counted) without --max-length
MAX_HELD_OUT = 1000  # pairs held out for validation at most, without --valid


@dataclass
class TranslationData:
    vocab: Vocab  # the source side's (both sides' with a shared vocabulary)
    target_vocab: Vocab
    train: "Encoded"
    valid: "Encoded"
    facts: CorpusFacts
    labels: list[str] = dataclasses.field(default_factory=list)

    def train_ids(self) -> Any:
        import numpy as np

        return np.array([i for ids in self.train.sources for i in ids], dtype=np.int64)

    def task(self, plan: "RunPlan", device: "torch.device") -> "Task":
        from rnncli.tasks.translation.training import TranslationTask

        return TranslationTask(self.train, self.valid, self.target_vocab, plan.data.batch_size, device,
                               plan.machine.precision, plan.loop.seed)


def _encoded(vocab: Vocab, target_vocab: Vocab, pairs: list[Pair]) -> "Encoded":
    """The pairs' ids, each side by its vocabulary, and the targets as written."""
    from rnncli.tasks.translation.training import Encoded

    return Encoded(vocab.encode_batch([p.source for p in pairs]), target_vocab.encode_batch([p.target for p in pairs]),
                   [p.target for p in pairs])


def read(args: "TrainArgs", corpus: list[str], tokenizer: TokenizerPlan, run: "RunDir", saved: "RunConfig | None",
         source: "RunConfig | None", report: Report) -> TranslationData:
    from rnncli.prepare import obtain_vocab
    from rnncli.run.directory import RunDir

    if args.vocab and args.shared_vocab is False:
        raise ConfigError("--vocab gives one vocabulary for both sides: drop --separate-vocab")
    limit = args.max_length or TRAIN_MAX_LENGTH
    pairs = [p for path in corpus for p in _pairs(path, args, limit, report)]
    train, valid = _validation_split(args, pairs, report)
    known = saved or source
    shared = not known.model.target_vocab_size if known else bool(args.shared_vocab or args.vocab)

    def build(texts: list[str]) -> Callable[[Any], Any]:
        return lambda options: build_from_texts(texts, options)

    sources, targets = [p.source for p in train], [p.target for p in train]
    size = saved.model.vocab_size if saved else None
    vocab = obtain_vocab(tokenizer, run, size, build(sources + targets if shared else sources), report,
                         what="both sides" if shared else "the source side")
    if shared:
        target_vocab = vocab
    elif source is not None:
        target_vocab = RunDir(args.init_from or "").load_vocab(source.model.target_vocab_size, TARGET_VOCAB)
        if current().is_main:
            target_vocab.save(run.file(TARGET_VOCAB))
    else:
        target_size = saved.model.target_vocab_size if saved else None
        target_vocab = obtain_vocab(tokenizer, run, target_size, build(targets), report, name=TARGET_VOCAB,
                                    what="the target side")
    encoded = [_encoded(vocab, target_vocab, part) for part in (train, valid)]
    tokens = [sum(len(ids) + 1 for ids in part.targets) for part in encoded]  # with each <eos>, as the loss counts
    facts = CorpusFacts(tokens[0], tokens[1], len(vocab), vocab.level, target_vocab=0 if shared else len(target_vocab))
    return TranslationData(vocab, target_vocab, *encoded, facts)


def _pairs(path: str, args: "TrainArgs", limit: int, report: Report) -> list[Pair]:
    """The pairs of one file; a classifier's ``label<TAB>text`` is refused, not read as pairs."""
    if not looks_paired(path) and _looks_labelled(path):
        raise InputError(f"{path}: reads as label<TAB>text, a classifier's data (its left column repeats a few "
                         "short labels), not as source<TAB>target pairs: train it with --task classify")
    return _read(path, args, limit, report)


def _read(path: str, args: "TrainArgs", limit: int | None, report: Report) -> list[Pair]:
    """The pairs of a file, saying how many were left out and why."""
    read = read_pairs(path, encoding=args.encoding, errors=args.errors, max_length=limit)
    if read.skipped_tabs:
        report(f"warning: {read.source}: left out {read.skipped_tabs:,} lines of more than one tab (which one "
               f"separates the sides is unknown), the first at {read.first_skipped}")
    if read.skipped_long:
        report(f"{read.source}: left out {read.skipped_long:,} pairs with a side over {limit} words"
               f"{'' if args.max_length else ' (--max-length to change)'}")
    return read.pairs


def _looks_labelled(path: str) -> bool:
    from rnncli.text.labelled import looks_labelled

    return looks_labelled(path)


def _validation_split(args: "TrainArgs", pairs: list[Pair], report: Report) -> tuple[list[Pair], list[Pair]]:
    """--valid, else a share of the pairs drawn by the seed."""
    from rnncli.tasks.translation.planning import SEQ2SEQ_HOLDOUT

    if args.valid is not None:
        return pairs, _read(args.valid, args, None, report)
    if len(pairs) < 2:
        raise InputError("a translation model needs at least 2 pairs (one held out for validation), or --valid")
    order = list(range(len(pairs)))
    random.Random(args.seed).shuffle(order)
    held = set(order[:max(1, min(MAX_HELD_OUT, round(len(pairs) * SEQ2SEQ_HOLDOUT)))])
    report(f"no --valid: holding out {len(held):,} of {len(pairs):,} pairs for validation")
    return [p for i, p in enumerate(pairs) if i not in held], [p for i, p in enumerate(pairs) if i in held]
