"""Training an encoder-decoder: pairs batched by source length, teacher forcing with label
smoothing, and validation loss and BLEU (greedy decoding, through the engine that serves the
model), by which the best checkpoint is chosen."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnncli.data import ClassBatches
from rnncli.distributed import current
from rnncli.infer.batching import pad
from rnncli.models.config import ModelConfig
from rnncli.models.seq2seq import Seq2Seq
from rnncli.tasks.translation.planning import LABEL_SMOOTHING, score
from rnncli.text.vocab import BOS, EOS, PAD, Vocab
from rnncli.training import Task

@dataclass
class Encoded:
    """Pairs as ids: each source, each target, and the raw target text (BLEU's reference)."""

    sources: list[list[int]]
    targets: list[list[int]]
    references: list[str]


def build_model(config: ModelConfig) -> Seq2Seq:
    return Seq2Seq(config)


def teacher_forcing(sources: list[list[int]], targets: list[list[int]],
                    device: torch.device) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(source, source lengths, decoder inputs ``<bos> y``, expected outputs ``y <eos>``) of a batch."""
    source, lengths = pad(sources)
    previous, _ = pad([[BOS, *t] for t in targets])
    expected, _ = pad([[*t, EOS] for t in targets])
    return (torch.from_numpy(source).to(device), torch.from_numpy(lengths), torch.from_numpy(previous).to(device),
            torch.from_numpy(expected).to(device))


class TranslationTask(Task):
    unit = "tokens"
    perplexity = True

    def __init__(self, train: Encoded, valid: Encoded, target_vocab: Vocab, batch_size: int, device: torch.device,
                 precision: str, seed: int = 0) -> None:
        self.train, self.valid, self.target_vocab = train, valid, target_vocab
        self.batches = ClassBatches(train.sources, list(range(len(train.sources))), batch_size, shuffle=True,
                                    seed=seed)
        self.device, self.precision = device, precision

    def steps_per_epoch(self) -> int:
        return len(self.batches)

    def train_step(self, model: nn.Module, epoch: int, index: int) -> tuple[Tensor, int]:
        dist = current()
        chosen = self.batches.batch(epoch, index, dist.rank, dist.world)[2].tolist()
        source, lengths, previous, expected = teacher_forcing(
            [self.train.sources[i] for i in chosen], [self.train.targets[i] for i in chosen], self.device)
        scores = model(source, lengths, previous)
        loss = F.cross_entropy(scores.flatten(0, 1).float(), expected.flatten(), ignore_index=PAD,
                               label_smoothing=LABEL_SMOOTHING)
        return loss, int((expected != PAD).sum())

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        """The references' loss (nats per target token, without smoothing) and the BLEU of greedy
        translations, through the torch engine that serves the model."""
        from rnncli.tasks.translation.engine import TorchTranslator
        from rnncli.tasks.translation.inference import bleu, reference_loss, translate_ids

        core = model.module if hasattr(model, "module") else model
        engine = TorchTranslator(core, self.device, self.precision, target_vocab=self.target_vocab)
        loss, total = reference_loss(engine, self.valid.sources, self.valid.targets)
        found = translate_ids(engine, self.valid.sources, beam=1)
        hypotheses = self.target_vocab.decode_batch([ids for ids, _, _ in found])
        return {"val_loss": loss / max(1, total), "bleu": bleu(hypotheses, self.valid.references)["bleu"]}

    def score(self, metrics: dict[str, float]) -> float:
        return score(metrics)

    def eval_size(self) -> int:
        """Greedy decoding costs about what scoring the references three times does."""
        return 4 * sum(len(t) + 1 for t in self.valid.targets)

