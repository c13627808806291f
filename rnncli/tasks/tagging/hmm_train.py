"""Training an HMM tagger: count the training sentences, tag the validation ones, save the tables.
It stands where the training loop stands for the networks (``run``, ``best_record``)."""

from __future__ import annotations

import time
from typing import Any, Callable

from rnncli.run.directory import RunDir
from rnncli.tasks.tagging.hmm import HMM, fit, save
from rnncli.text.tagged import Sentence


class HMMCounter:
    def __init__(self, run: RunDir, order: int, train: list[Sentence], valid: list[Sentence],
                 labels: list[str]) -> None:
        self.directory, self.order, self.train, self.valid, self.labels = run, order, train, valid, labels
        self.metrics: list[dict[str, Any]] = []
        self.model: HMM | None = None
        self.stop_signal: int | None = None  # counting is not interrupted between steps: it has none

    def parameter_count(self) -> int:
        """Table entries, known once counted."""
        m = self.model
        return 0 if m is None else int(m.emission.size + m.transition.size + m.suffix_probs.size)

    def run(self) -> dict[str, Any]:
        began = time.time()
        self.model = fit([(s.tokens, s.tags or []) for s in self.train], self.order)
        counted = time.time() - began
        pairs = [(g, p) for s in self.valid for g, p in zip(s.tags or [], self.model.tag(s.tokens))]
        record = {"step": 1, "epoch": 1.0, "elapsed_s": round(counted, 3),
                  "tokens_seen": sum(len(s.tokens) for s in self.train),
                  "accuracy": sum(g == p for g, p in pairs) / max(1, len(pairs)),
                  "eval_s": round(time.time() - began - counted, 3)}
        save(self.model, self.directory.path)
        self.metrics = [record]
        self.directory.write_metrics(self.metrics)
        return record

    def finish(self, run: RunDir, report: Callable[[str], None]) -> None:
        pass

    def best_record(self) -> dict[str, Any] | None:
        return self.metrics[-1] if self.metrics else None
