"""A language model's data: the corpus tokenized once into the token cache (memory-mapped, so
memory stays flat), and the validation text: ``--valid``, else the held-out tail of the corpus."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from rnncli.corpus import TokenText, encode_corpus, split_tail
from rnncli.distributed import current
from rnncli.errors import InputError
from rnncli.plan import CorpusFacts, TokenizerPlan
from rnncli.tasks.language.planning import lm_holdout
from rnncli.text.build import build_vocabulary
from rnncli.text.reader import check_inputs
from rnncli.text.vocab import Vocab

if TYPE_CHECKING:
    import torch

    from rnncli.args import TrainArgs
    from rnncli.plan import RunPlan
    from rnncli.run.directory import RunConfig, RunDir
    from rnncli.training import Task

Report = Callable[[str], None]


@dataclass
class LMData:
    vocab: Vocab
    train: TokenText
    valid: TokenText
    facts: CorpusFacts
    labels: list[str] = field(default_factory=list)

    def train_ids(self) -> Any:
        return self.train.ids

    def task(self, plan: "RunPlan", device: "torch.device") -> "Task":
        from rnncli.tasks.language.training import LanguageModelTask

        return LanguageModelTask(self.train, self.valid, plan.data.batch_size, plan.data.bptt, device,
                                 plan.machine.precision, plan.data.shift_windows)

    def counter(self, plan: "RunPlan", run: "RunDir") -> Any:
        """What stands where the training loop stands for a model that is counted, not trained."""
        from rnncli.tasks.language.ngram_train import NGramCounter

        return NGramCounter(run, plan.model.order, plan.model.vocab_size, self.train, self.valid)


def read(args: "TrainArgs", corpus: list[str], tokenizer: TokenizerPlan, run: "RunDir", saved: "RunConfig | None",
         source: "RunConfig | None", report: Report) -> LMData:
    from rnncli.prepare import obtain_vocab
    from rnncli.tokencache import cached_corpus

    if args.valid is not None:
        check_inputs([args.valid])
    vocab = obtain_vocab(tokenizer, run, saved.model.vocab_size if saved else None,
                         lambda options: build_vocabulary(corpus, options), report)
    dist = current()
    if not dist.is_main:
        dist.barrier()  # rank 0 tokenises; the others map its cache entry
    text = cached_corpus(corpus, vocab, args.encoding, args.errors, _tokenizing_progress(report))
    if dist.is_main:
        dist.barrier()
    if len(text) < 2 or text.chars == 0:
        raise InputError("empty corpus: no text to train on")
    if args.valid is not None:
        valid = encode_corpus([args.valid], vocab, args.encoding, args.errors)
        if len(valid) < 2:
            raise InputError(f"{args.valid}: validation text is empty")
        train = text
    else:
        train, valid = split_tail(text, lm_holdout(len(text)), vocab)
        report(f"no --valid: holding out the last {len(valid):,} tokens for validation")
    return LMData(vocab, train, valid, CorpusFacts(len(train), len(valid), len(vocab), vocab.level))


def _tokenizing_progress(report: Report) -> Callable[[int, int], None]:
    """Report tokenisation of a large corpus every 10% (small ones finish before it matters)."""
    began, shown = time.time(), [0.1]

    def progress(done: int, total: int) -> None:
        if total < 50_000_000 or done < shown[0] * total:
            return
        shown[0] += 0.1
        rate = done / max(1e-9, time.time() - began) / 1e6
        report(f"tokenizing the corpus: {done / total:.0%} ({rate:.1f} MB/s)")

    return progress
