"""The ONNX engine of a language model: ``tokens`` (time, batch) and the state in, ``log_probs``
(time, batch, vocab) and the new state out (see export.py), through onnxruntime; no torch."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from rnncli.infer.reading import WINDOW
from rnncli.onnxrun import Exported

LOG_PROB_FLOATS = 1 << 25  # log-probabilities one call may return (128 MB)


class ExportedLanguageModel(Exported):
    columns: int | None = None
    window = WINDOW

    def _outputs(self, tokens: np.ndarray, state: list[np.ndarray],
                 extra: tuple[str, ...]) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
        names = self.manifest["state"]
        feeds = {"tokens": tokens, **dict(zip(names, state))}
        log_probs, *rest = self.session.run(["log_probs", *(f"{n}_out" for n in names), *extra], feeds)
        return log_probs, rest[: len(names)], rest[len(names) :]

    def zero_state(self, batch: int) -> list[np.ndarray]:
        shape = (self.manifest["layers"], batch, self.manifest["hidden"])
        return [np.zeros(shape, dtype=np.float32) for _ in self.manifest["state"]]

    def start(self, prompt_ids: list[int], num_samples: int) -> tuple[np.ndarray, list[np.ndarray]]:
        log_probs, state, _ = self._prompt(prompt_ids, num_samples, ())
        return log_probs[-1], state

    def start_features(self, prompt_ids: list[int], num_samples: int) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
        """:meth:`start`, and the features after each prompt token (time, samples, d)."""
        log_probs, state, (features,) = self._prompt(prompt_ids, num_samples, ("features",))
        return log_probs[-1], state, features

    def step(self, tokens: np.ndarray, state: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
        log_probs, state, _ = self._outputs(np.asarray(tokens, dtype=np.int64)[None, :], state, ())
        return log_probs[0], state

    def step_features(self, tokens: np.ndarray, state: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
        """:meth:`step`, and the features after the step's token (samples, d)."""
        log_probs, state, (features,) = self._outputs(np.asarray(tokens, dtype=np.int64)[None, :], state, ("features",))
        return log_probs[0], state, features[0]

    def _prompt(self, prompt_ids: list[int], num_samples: int,
                extra: tuple[str, ...]) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
        tokens = np.repeat(np.asarray(prompt_ids, dtype=np.int64)[:, None], num_samples, axis=1)
        return self._outputs(tokens, self.zero_state(num_samples), extra)

    def select(self, state: list[np.ndarray], rows: np.ndarray) -> list[np.ndarray]:
        return [s[:, rows, :] for s in state]

    def target_log_probs(self, inputs: np.ndarray, targets: np.ndarray, state: Any = None) -> tuple[np.ndarray, Any]:
        picked, _, state = self._targets(inputs, targets, state, ())
        return picked, state

    def target_log_probs_features(self, inputs: np.ndarray, targets: np.ndarray,
                                  state: Any = None) -> tuple[np.ndarray, np.ndarray, Any]:
        """The same, and the states that predicted them (the graph's ``features``, the decoder's input)."""
        picked, (features,), state = self._targets(inputs, targets, state, ("features",))
        return picked, features, state

    def _targets(self, inputs: np.ndarray, targets: np.ndarray, state: Any,
                 extra: tuple[str, ...]) -> tuple[np.ndarray, list[np.ndarray], Any]:
        """log P of ``targets`` (time, batch) after ``inputs``, a few steps per call where the
        vocabulary is large: the graph gives every token's log-probability, and a window of 64
        columns over 235k words would hold 15 GB of them at once."""
        inputs, targets = np.asarray(inputs, dtype=np.int64), np.asarray(targets)
        state = state or self.zero_state(inputs.shape[1])
        steps = max(1, LOG_PROB_FLOATS // max(1, inputs.shape[1] * len(self.vocab)))
        picked, more = [], []
        for start in range(0, inputs.shape[0], steps):
            log_probs, state, rest = self._outputs(inputs[start : start + steps], state, extra)
            picked.append(np.take_along_axis(log_probs, targets[start : start + steps, :, None], axis=2)[..., 0])
            more.append(rest)
        return np.concatenate(picked), [np.concatenate(parts) for parts in zip(*more)], state

    @property
    def neural_cache(self) -> Any:
        """The run's neural cache (:mod:`rnncli.neural_cache`) when validation chose it and the
        graph gives the states it reads (exports made before it do not), else None."""
        from rnncli.neural_cache import from_record

        record = self.manifest.get("neural_cache")
        has_features = any(output.name == "features" for output in self.session.get_outputs())
        return from_record(record) if record and has_features else None

    @property
    def unigram_cache(self) -> Any:
        """The run's unigram cache (:mod:`rnncli.unigram_cache`), or None."""
        from rnncli.unigram_cache import from_record

        record = self.manifest.get("unigram_cache")
        return from_record({**record, "fitted_on": self.manifest.get("unigram_cache_fitted_on")} if record else None)


def open_exported(directory: str | os.PathLike[str], variant: str | None = None, threads: int | None = None) -> Any:
    return ExportedLanguageModel(directory, variant, threads)
