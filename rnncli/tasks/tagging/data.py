"""A tagger's data: tagged sentences (CoNLL-U, CoNLL columns, JSON lines; rnncli.text.tagged),
split into training and validation (``--valid``, else a tenth of the sentences drawn by the seed);
the word vocabulary is built on the training tokens only."""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from rnncli.distributed import current
from rnncli.errors import ConfigError, InputError
from rnncli.plan import CorpusFacts, TokenizerPlan
from rnncli.tasks.tagging.features import CHAR_RESERVED, Encoded, alphabet, token_features, word_key
from rnncli.tasks.tagging.scores import is_chunked
from rnncli.text.build import build_from_texts
from rnncli.text.tagged import Sentence, read_tagged
from rnncli.text.vocab import Vocab

if TYPE_CHECKING:
    import torch

    from rnncli.args import TrainArgs
    from rnncli.plan import RunPlan
    from rnncli.run.directory import RunConfig, RunDir
    from rnncli.training import Task

Report = Callable[[str], None]


@dataclass
class TaggerData:
    vocab: Vocab
    train: list[Sentence]
    valid: list[Sentence]
    facts: CorpusFacts
    labels: list[str]

    def encoded(self, sentences: list[Sentence]) -> tuple[Encoded, list[list[int]]]:
        """The sentences' ids (words, characters, affixes) and their tag ids."""
        tags = {t: i for i, t in enumerate(self.labels)}
        return (token_features(self.vocab).encode([s.tokens for s in sentences]),
                [[tags[t] for t in s.tags or ()] for s in sentences])

    def train_ids(self) -> Any:
        import numpy as np

        features = token_features(self.vocab)
        return np.array([i for s in self.train for i in features.words(s.tokens)], dtype=np.int64)

    def task(self, plan: "RunPlan", device: "torch.device") -> "Task":
        from rnncli.tasks.tagging.training import TaggingTask

        return TaggingTask(self.encoded(self.train), self.encoded(self.valid), self.labels, plan.data.batch_size,
                           device, plan.machine.precision, plan.loop.seed)

    def counter(self, plan: "RunPlan", run: "RunDir") -> Any:
        """What stands where the training loop stands for the hidden Markov model: counting."""
        from rnncli.tasks.tagging.hmm_train import HMMCounter

        return HMMCounter(run, plan.model.order, self.train, self.valid, self.labels)


def read(args: "TrainArgs", corpus: list[str], tokenizer: TokenizerPlan, run: "RunDir", saved: "RunConfig | None",
         source: "RunConfig | None", report: Report) -> TaggerData:
    from rnncli.prepare import obtain_vocab

    if tokenizer.build is not None and tokenizer.build.level != "word":
        raise ConfigError(f"a tagger reads the words its data gives: --level {tokenizer.build.level} does not apply")
    sentences = [s for path in corpus for s in read_tagged(path, tag_column=args.tag_column, encoding=args.encoding,
                                                           errors=args.errors)]
    known = saved or source
    labels = known.labels if known else sorted({t for s in sentences for t in s.tags or ()})
    if len(labels) < 2:
        raise InputError(f"a tagger needs at least 2 tags; the data has {len(labels)} ({', '.join(labels)})")
    unknown = sorted({t for s in sentences for t in s.tags or ()} - set(labels))
    if unknown:
        raise InputError(f"tags not in the run this one continues: {', '.join(unknown[:5])}")
    train, valid = _validation_split(args, sentences, labels, report)
    vocab = obtain_vocab(tokenizer, run, saved.model.vocab_size if saved else None,
                         lambda options: build_from_texts(
                             [" ".join(word_key(t) for t in s.tokens) for s in train],
                             dataclasses.replace(options, split="whitespace")), report)
    if saved is None and current().is_main:
        run.save_labels(labels)
    facts = CorpusFacts(sum(len(s.tokens) for s in train), sum(len(s.tokens) for s in valid), len(vocab),
                        vocab.level, len(labels), alphabet=len(alphabet(vocab)) + CHAR_RESERVED,
                        chunked=is_chunked(labels))
    return TaggerData(vocab, train, valid, facts, labels)


def _validation_split(args: "TrainArgs", sentences: list[Sentence], labels: list[str],
                      report: Report) -> tuple[list[Sentence], list[Sentence]]:
    """--valid (sentences with a tag the run does not know are dropped, and counted), else a tenth
    of the sentences drawn by the seed."""
    from rnncli.tasks.tagging.planning import TAGGER_HOLDOUT

    if args.valid is not None:
        read = read_tagged(args.valid, tag_column=args.tag_column, encoding=args.encoding, errors=args.errors)
        known = set(labels)
        valid = [s for s in read if set(s.tags or ()) <= known]
        if len(valid) < len(read):
            report(f"warning: {len(read) - len(valid):,} validation sentences hold tags the training data lacks; "
                   "they are left out")
        if not valid:
            raise InputError(f"{args.valid}: no validation sentence with the training data's tags")
        return sentences, valid
    if len(sentences) < 2:
        raise InputError("a tagger needs at least 2 sentences (one held out for validation), or --valid")
    order = list(range(len(sentences)))
    random.Random(args.seed).shuffle(order)
    held = set(order[:max(1, round(len(sentences) * TAGGER_HOLDOUT))])
    report(f"no --valid: holding out {len(held):,} of {len(sentences):,} sentences for validation")
    return ([s for i, s in enumerate(sentences) if i not in held], [s for i, s in enumerate(sentences) if i in held])
