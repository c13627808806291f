"""A classifier's data: labelled examples (TSV, fastText, CSV, JSON lines), single- or
multi-label, split into training and validation (``--valid``, else a stratified tenth); the
vocabulary is built on the training texts only."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from rnncli.distributed import current
from rnncli.errors import InputError
from rnncli.plan import CorpusFacts, TokenizerPlan
from rnncli.text.build import build_from_texts
from rnncli.text.labelled import Example, read_labelled
from rnncli.text.vocab import Vocab

if TYPE_CHECKING:
    import torch

    from rnncli.args import TrainArgs
    from rnncli.plan import RunPlan
    from rnncli.run.directory import RunConfig, RunDir
    from rnncli.training import Task

Report = Callable[[str], None]


@dataclass
class ClassifierData:
    vocab: Vocab
    train: list[Example]
    valid: list[Example]
    facts: CorpusFacts
    labels: list[str]

    def train_ids(self) -> Any:
        import numpy as np

        from rnncli.corpus import featurize

        return np.fromiter((i for ids in featurize(self.vocab, [e.text for e in self.train], 1 << 30) for i in ids),
                           dtype=np.int64)

    def task(self, plan: "RunPlan", device: "torch.device") -> "Task":
        import torch

        from rnncli.corpus import featurize
        from rnncli.tasks.classification.training import ClassificationTask

        index = {label: k for k, label in enumerate(self.labels)}
        multi = plan.model.multi_label
        targets = (lambda e: _multi_hot(e, index)) if multi else (lambda e: index[e.label])
        train_y = [targets(e) for e in self.train]
        weights = None
        if plan.data.class_weights == "auto" and not multi:
            counts = torch.bincount(torch.tensor(train_y), minlength=len(self.labels)).float().clamp(min=1)
            weights = counts.sum() / (len(self.labels) * counts)
        valid = (featurize(self.vocab, [e.text for e in self.valid], plan.data.max_len),
                 [targets(e) for e in self.valid])
        return ClassificationTask((featurize(self.vocab, [e.text for e in self.train], plan.data.max_len), train_y),
                                  valid, self.labels, plan.data.batch_size, device, plan.machine.precision, weights,
                                  plan.loop.seed, multi)


def read(args: "TrainArgs", corpus: list[str], tokenizer: TokenizerPlan, run: "RunDir", saved: "RunConfig | None",
         source: "RunConfig | None", report: Report) -> ClassifierData:
    from rnncli.prepare import obtain_vocab

    examples = _read_examples(args, corpus, report)
    known = saved or source
    multi = _multi_label(args, examples, saved or source, report)
    if not multi:
        examples = [dataclasses.replace(e, extra=()) for e in examples]
    labels = known.labels if known else sorted({label for e in examples for label in e.labels})
    if len(labels) < 2:
        raise InputError(f"a classifier needs at least 2 labels; the data has {len(labels)} ({', '.join(labels)})")
    unknown = sorted({label for e in examples for label in e.labels} - set(labels))
    if unknown:
        raise InputError(f"labels not in the run this one continues: {', '.join(unknown[:5])}")
    train, valid = _validation_split(args, examples, labels, report)
    vocab = obtain_vocab(tokenizer, run, saved.model.vocab_size if saved else None,
                         lambda options: build_from_texts([e.text for e in train], options), report)
    if saved is None and current().is_main:
        run.save_labels(labels)
    return ClassifierData(vocab, train, valid, CorpusFacts(len(train), len(valid), len(vocab), vocab.level,
                                                           len(labels), multi), labels)


def _read_examples(args: "TrainArgs", paths: list[str], report: Report) -> list[Example]:
    examples: list[Example] = []
    skipped = 0
    for path in paths:
        data = read_labelled(path, text_column=args.text_column, label_column=args.label_column, label_sep=args.label_sep,
                             encoding=args.encoding, errors=args.errors)
        examples.extend(data.examples)
        skipped += data.skipped_empty
    if skipped:
        report(f"warning: {skipped:,} lines with an empty text skipped")
    return examples


def _multi_label(args: "TrainArgs", examples: list[Example], known: "RunConfig | None", report: Report) -> bool:
    """Multi-label when the run already is, when --multi-label says so, or when lines carry several
    labels (said on stderr); --single-label keeps the first label of each line."""
    several = sum(1 for e in examples if e.extra)
    if known is not None:
        return known.model.multi_label
    if args.multi_label is not None:
        if several and not args.multi_label:
            report(f"warning: {several:,} lines carry several labels; --single-label keeps the first of each")
        return args.multi_label
    if several:
        report(f"multi-label: {several:,} of {len(examples):,} lines carry several labels; one sigmoid per label, "
               "a decision threshold chosen on validation (--single-label to keep the first label only)")
    return several > 0


def _multi_hot(example: Example, index: dict[str, int]) -> list[int]:
    row = [0] * len(index)
    for label in example.labels:
        if label in index:
            row[index[label]] = 1
    return row


def _validation_split(args: "TrainArgs", examples: list[Example], labels: list[str],
                      report: Report) -> tuple[list[Example], list[Example]]:
    """--valid (examples of labels the run does not know are dropped), else a stratified tenth."""
    from rnncli.tasks.classification.planning import CLASSIFIER_HOLDOUT

    known = set(labels)
    if args.valid is not None:
        data = read_labelled(args.valid, text_column=args.text_column, label_column=args.label_column,
                             label_sep=args.label_sep,
                             encoding=args.encoding, errors=args.errors)
        extra = sorted({e.label for e in data.examples} - known)
        if extra:
            report(f"warning: labels only in {args.valid}: {', '.join(extra[:5])} (ignored for validation)")
        train, valid = examples, [e for e in data.examples if e.label in known]
    else:
        index = {label: k for k, label in enumerate(labels)}
        train_idx, held_idx = stratified_split([index[e.label] for e in examples], CLASSIFIER_HOLDOUT, args.seed)
        train, valid = [examples[i] for i in train_idx], [examples[i] for i in held_idx]
        report(f"no --valid: holding out a stratified {len(valid):,} of {len(examples):,} examples")
    if not valid:
        raise InputError("no validation examples: give --valid or more data")
    return train, valid


def stratified_split(labels: list[int], share: float, seed: int) -> tuple[list[int], list[int]]:
    """Indices (train, held-out): ``share`` of each label held out, at least one where a label has two."""
    import random

    rng = random.Random(seed)
    by_label: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        by_label.setdefault(label, []).append(i)
    train, held = [], []
    for label in sorted(by_label):
        index = by_label[label]
        rng.shuffle(index)
        k = min(max(round(len(index) * share), 1), len(index) - 1) if len(index) >= 2 else 0
        held.extend(index[:k])
        train.extend(index[k:])
    return sorted(train), sorted(held)
