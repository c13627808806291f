"""Training an n-gram run: count the corpus, evaluate on the validation text, save the tables.
It stands where the training loop stands for the neural models (``run``, ``best_record``)."""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from rnncli.run.directory import RunDir
from rnncli.corpus import TokenText, lm_figures
from rnncli.run.files import NGRAM as NGRAM_FILE
from rnncli.tasks.language.ngram import KneserNey, save, stream_log_probs


class NGramCounter:
    def __init__(self, run: RunDir, order: int, vocab_size: int, train: TokenText, valid: TokenText) -> None:
        self.directory, self.order, self.vocab_size, self.train, self.valid = run, order, vocab_size, train, valid
        self.metrics: list[dict[str, Any]] = []
        self.model: KneserNey | None = None
        self.held_out: tuple[np.ndarray, np.ndarray] = (np.zeros(1, np.int64), np.zeros(0))
        self.stop_signal: int | None = None  # counting is not interrupted between steps: it has none

    def parameter_count(self) -> int:
        """Stored n-grams, known once counted."""
        return self.model.parameters() if self.model is not None else 0

    def run(self) -> dict[str, Any]:
        began = time.time()
        self.model = KneserNey.fit(np.asarray(self.train.ids), self.order, self.vocab_size)
        counted = time.time() - began
        self.held_out = (np.asarray(self.valid.ids), stream_log_probs(self.model, np.asarray(self.valid.ids)))
        picked = self.held_out[1]
        figures = lm_figures(-float(picked.astype(np.float64).sum()), len(picked), self.valid.chars)
        record = {"step": 1, "epoch": 1.0, "elapsed_s": round(counted, 3), "tokens_seen": len(self.train),
                  "val_loss": figures["loss"], "val_ppl": figures["ppl"], "val_bpc": figures["bpc"],
                  "ngrams": self.model.parameters(), "eval_s": round(time.time() - began - counted, 3)}
        save(self.model, self.directory.file(NGRAM_FILE))
        self.metrics = [record]
        self.directory.write_metrics(self.metrics)
        return record

    def finish(self, run: RunDir, report: Callable[[str], None]) -> None:
        """Fit the unigram cache on validation, as a trained model's run does."""
        from rnncli.unigram_cache import fit_and_keep

        fit_and_keep(*self.held_out, run.path, report)

    def best_record(self) -> dict[str, Any] | None:
        return self.metrics[-1] if self.metrics else None
