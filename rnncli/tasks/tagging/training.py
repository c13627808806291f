"""Training a tagger (many-to-many): sentences batched by length, the loss over their real tokens,
and validation token accuracy (and entity F1 for BIO/BIOES tags), by which the best checkpoint is
chosen."""

from __future__ import annotations

from collections import Counter

import numpy as np
import torch
from torch import Tensor, nn

from rnncli.data import ClassBatches
from rnncli.distributed import current
from rnncli.infer.batching import INFERENCE_BATCH, pad
from rnncli.models.config import ModelConfig
from rnncli.models.tagger import Tagger
from rnncli.tasks.tagging.engine import TorchTagger
from rnncli.tasks.tagging.features import Encoded, batch_inputs
from rnncli.tasks.tagging.planning import score
from rnncli.text.vocab import UNK
from rnncli.training import Task

SINGLETON_DROP = 0.5  # words seen once in training read as <unk> this often, so <unk> learns (Lample et al. 2016)


def build_model(config: ModelConfig) -> Tagger:
    return Tagger(config)


def _inputs(encoded: Encoded, tags: list[list[int]], chosen: list[int]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    tokens, lengths = pad([encoded.words[i] for i in chosen])
    return batch_inputs(encoded, chosen, tokens, lengths), pad([tags[i] for i in chosen])[0]


class TaggingTask(Task):
    unit = "tokens"

    def __init__(self, train: tuple[Encoded, list[list[int]]], valid: tuple[Encoded, list[list[int]]],
                 labels: list[str], batch_size: int, device: torch.device, precision: str, seed: int = 0) -> None:
        """``train`` and ``valid``: the encoded sentences and their tag ids."""
        from rnncli.tasks.tagging.scores import is_chunked

        self.train, self.valid, self.labels = train, valid, labels
        self.chunked = is_chunked(labels)  # BIO/BIOES: validation also scores entity F1
        words = train[0].words
        self.batches = ClassBatches(words, list(range(len(words))), batch_size, shuffle=True, seed=seed)
        self.device, self.precision, self.seed = device, precision, seed
        counts = Counter(i for sentence in words for i in sentence)
        self.singletons = torch.zeros(max(counts, default=0) + 1, dtype=torch.bool)
        self.singletons[[i for i, n in counts.items() if n == 1]] = True

    def steps_per_epoch(self) -> int:
        return len(self.batches)

    def train_step(self, model: nn.Module, epoch: int, index: int) -> tuple[Tensor, int]:
        dist = current()  # each rank takes every world-th sentence of the global batch, as classifiers do
        chosen = self.batches.batch(epoch, index, dist.rank, dist.world)[2].tolist()
        inputs, tags = _inputs(*self.train, chosen)
        tokens = torch.from_numpy(inputs["tokens"])
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch * 100_003 + index)
        drop = self.singletons[tokens] & (torch.rand(tokens.shape, generator=generator) < SINGLETON_DROP)
        inputs["tokens"] = tokens.masked_fill(drop, UNK)
        targets = torch.from_numpy(tags).to(self.device)
        lengths = torch.from_numpy(inputs["lengths"]).to(self.device)
        mask = torch.arange(tokens.shape[1], device=self.device)[None, :] < lengths[:, None]
        core = model.module if hasattr(model, "module") else model
        scores = model(*core.arguments(inputs, self.device))
        return core.loss(scores, targets, mask), int(mask.sum())

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        """Validation loss (nats per token, of the softmax or the CRF's sequences), accuracy of the
        decoded tags and, for BIO/BIOES tags, entity F1 (which then picks the best checkpoint),
        through the engine and the decoding that serve the model."""
        from rnncli.tasks.tagging.inference import best_path, scored_batches
        from rnncli.tasks.tagging.scores import entity_scores

        core = model.module if hasattr(model, "module") else model
        engine = TorchTagger(core, self.device, self.precision, labels=self.labels)
        crf = engine.crf()
        encoded, tags = self.valid
        total = right = 0
        loss = 0.0
        paths: list[list[int]] = [[] for _ in tags]
        for chosen, scores, lengths in scored_batches(engine, encoded, INFERENCE_BATCH):
            targets, _ = pad([tags[i] for i in chosen])
            mask = np.arange(scores.shape[1])[None, :] < lengths[:, None]
            with torch.no_grad():
                loss += float(core.loss(*(torch.from_numpy(a).to(self.device) for a in
                                          (scores.astype(np.float32), targets, mask)))) * int(mask.sum())
            for row, i in enumerate(chosen):
                paths[i] = best_path(scores[row, :lengths[row]], crf)
                right += sum(p == g for p, g in zip(paths[i], tags[i]))
            total += int(lengths.sum())
        metrics = {"val_loss": loss / max(1, total), "accuracy": right / max(1, total)}
        if self.chunked:
            gold, predicted = ([[self.labels[j] for j in sentence] for sentence in ids] for ids in (tags, paths))
            metrics["entity_f1"] = entity_scores(gold, predicted)["f1"]
        return metrics

    def score(self, metrics: dict[str, float]) -> float:
        return score(metrics)

    def eval_size(self) -> int:
        return sum(len(s) for s in self.valid[0].words)
