"""Inference from an exported run with onnxruntime and numpy only: torch is never imported.

An export is a directory (``RUN/onnx`` for the run's own, or wherever ``rnncli export -o`` put it)
holding ``model.onnx`` (and ``model.int8.onnx`` when quantised), ``vocab.json`` and
``manifest.json``. The run's own export serves its best checkpoint only while that checkpoint is
the one it was made from (size and modification time recorded in the manifest).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from rnncli.errors import FormatError, InputError
from rnncli.fileio import read_json
from rnncli.run.files import BEST, CONFIG, ONNX_DIR, VOCAB
from rnncli.text.vocab import Vocab, load_vocab

MANIFEST = "manifest.json"
MODEL_FILES = {"fp32": "model.onnx", "int8": "model.int8.onnx"}
ONNX_FORMAT, ONNX_VERSION = "rnncli-onnx", 1
# Texts per forward pass when classifying: batches are formed by length, so narrower batches waste
# less on padding, while below about 100 texts the per-call overhead grows (bench/serve.py).
INFERENCE_BATCH = 128


def checkpoint_stamp(path: Path) -> dict[str, Any]:
    """What identifies the checkpoint an export was made from."""
    st = path.stat()
    return {"file": path.name, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def onnxruntime_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None


def read_manifest(directory: Path) -> dict[str, Any]:
    manifest = read_json(directory / MANIFEST, what="export manifest")
    if not isinstance(manifest, dict) or manifest.get("format") != ONNX_FORMAT:
        raise FormatError(f"{directory / MANIFEST}: not an rnncli export manifest")
    if int(manifest.get("version", 0)) > ONNX_VERSION:
        raise FormatError(f"{directory / MANIFEST}: export format version {manifest['version']} is newer than "
                          "this rnncli reads")
    return manifest


def current_export(run: str | os.PathLike[str]) -> Path | None:
    """The run's own export when it matches the run's best checkpoint and the run is whole (else
    torch serves, and names what is missing or broken), and onnxruntime is here."""
    directory = Path(run) / ONNX_DIR
    best = Path(run) / BEST
    whole = all((Path(run) / name).is_file() for name in (CONFIG, VOCAB, BEST))
    if not whole or not (directory / MANIFEST).is_file() or not onnxruntime_available():
        return None
    try:
        manifest = read_manifest(directory)
    except FormatError:
        return None
    return directory if manifest.get("checkpoint") == checkpoint_stamp(best) else None


class Exported:
    """An exported model with its vocabulary and an onnxruntime session on every core."""

    def __init__(self, directory: str | os.PathLike[str], variant: str | None = None,
                 threads: int | None = None) -> None:
        import onnxruntime as ort

        self.directory = Path(directory)
        self.manifest = read_manifest(self.directory)
        self.variant = variant or self.manifest.get("serve", "fp32")
        models = self.manifest.get("models", {})
        if self.variant not in models:
            raise InputError(f"{self.directory}: no {self.variant} model in this export (it has {', '.join(models)})")
        self.vocab: Vocab = load_vocab(self.directory / self.manifest["vocab"])
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(self.directory / models[self.variant]), options,
                                            providers=["CPUExecutionProvider"])

    @property
    def task(self) -> str:
        return str(self.manifest["task"])


class ExportedClassifier(Exported):
    @property
    def labels(self) -> list[str]:
        return list(self.manifest["labels"])

    def predict_proba(self, sequences: Sequence[Sequence[int]], batch_size: int = INFERENCE_BATCH) -> np.ndarray:
        """Class probabilities (n, labels) in the order given; batches are formed by length, so
        little of each is padding."""
        order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
        out = np.zeros((len(sequences), len(self.labels)), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            chosen = order[start : start + batch_size]
            lengths = np.array([len(sequences[i]) for i in chosen], dtype=np.int64)
            tokens = np.zeros((len(chosen), max(1, int(lengths.max()))), dtype=np.int64)
            for row, i in enumerate(chosen):
                tokens[row, : lengths[row]] = sequences[i]
            out[chosen] = self.session.run(["probs"], {"tokens": tokens, "lengths": lengths})[0]
        return out

    def classify(self, texts: Sequence[str], top: int | None = None, threshold: float | None = None,
                 batch_size: int = INFERENCE_BATCH) -> list[list[tuple[str, float]]]:
        """As :meth:`rnncli.api.Run.classify`."""
        from rnncli.corpus import featurize

        sequences = featurize(self.vocab, texts, int(self.manifest["max_len"]))
        return top_labels(texts, self.predict_proba(sequences, batch_size), self.labels, top, threshold)

    def evaluate(self, data: str, encoding: str = "utf-8", errors: str = "strict", text_column: str = "text",
                 label_column: str = "label", warn: Any = lambda message: None, k: int | None = None) -> dict[str, Any]:
        """As :meth:`rnncli.api.Run.evaluate`."""
        from rnncli.evaluation import classifier_report

        return classifier_report(self.labels, self.vocab, int(self.manifest["max_len"]), self.predict_proba, data,
                                 encoding, errors, text_column, label_column, warn, k=k)


def top_labels(texts: Sequence[str], probs: np.ndarray, labels: Sequence[str], top: int | None,
               threshold: float | np.ndarray | None, multi_label: bool = False) -> list[list[tuple[str, float]]]:
    """The ``top`` most likely labels of each text (those at or above ``threshold``, one for all
    labels or one per label); none for an empty text. ``top`` defaults to one label, or to every
    label above the threshold of a multi-label classifier."""
    k = min(top or (len(labels) if multi_label else 1), len(labels))
    best = (-probs).argsort(axis=1, kind="stable")[:, :k]
    cut = np.broadcast_to(np.asarray(-np.inf if threshold is None else threshold, dtype=np.float64), (len(labels),))
    return [[] if not text.strip() else [(labels[j], float(row[j])) for j in order if row[j] >= cut[j]]
            for text, row, order in zip(texts, probs, best)]


class ExportedLanguageModel(Exported):
    """Steps token by token for :func:`rnncli.sampling.generate`, the state carried between calls."""

    def _run(self, tokens: np.ndarray, state: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
        names = self.manifest["state"]
        feeds = {"tokens": tokens, **dict(zip(names, state))}
        log_probs, *new_state = self.session.run(["log_probs", *(f"{n}_out" for n in names)], feeds)
        return log_probs, new_state

    def zero_state(self, batch: int) -> list[np.ndarray]:
        shape = (self.manifest["layers"], batch, self.manifest["hidden"])
        return [np.zeros(shape, dtype=np.float32) for _ in self.manifest["state"]]

    def start(self, prompt_ids: list[int], num_samples: int) -> tuple[np.ndarray, list[np.ndarray]]:
        tokens = np.repeat(np.asarray(prompt_ids, dtype=np.int64)[:, None], num_samples, axis=1)
        log_probs, state = self._run(tokens, self.zero_state(num_samples))
        return log_probs[-1], state

    def step(self, tokens: np.ndarray, state: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
        log_probs, state = self._run(np.asarray(tokens, dtype=np.int64)[None, :], state)
        return log_probs[0], state

    def select(self, state: list[np.ndarray], rows: np.ndarray) -> list[np.ndarray]:
        return [s[:, rows, :] for s in state]

    def log_probs(self, tokens: np.ndarray, state: list[np.ndarray] | None = None) -> tuple[np.ndarray, list[np.ndarray]]:
        """Log-probabilities (time, batch, vocab) after each token of ``tokens`` (time, batch)."""
        return self._run(np.asarray(tokens, dtype=np.int64), state or self.zero_state(tokens.shape[1]))

    @property
    def unigram_cache(self) -> Any:
        """The run's unigram cache (:mod:`rnncli.unigram_cache`), or None."""
        from rnncli.unigram_cache import from_record

        return from_record(self.manifest.get("unigram_cache"))

    def stream_log_probs(self, text: Any, window: int = 256) -> np.ndarray:
        """As :func:`rnncli.tasks.language.stream_log_probs`, on the same columns."""
        from rnncli.corpus import eval_column_count, eval_grid, stream_order

        inputs, targets, _ = eval_grid(np.asarray(text.ids), eval_column_count(len(text)))
        state, blocks = None, []
        for start in range(0, inputs.shape[0], window):
            log_probs, state = self.log_probs(inputs[start : start + window], state)
            blocks.append(np.take_along_axis(log_probs, targets[start : start + window, :, None], axis=2)[..., 0])
        return stream_order(np.concatenate(blocks), len(text))

    def evaluate(self, data: str, encoding: str = "utf-8", errors: str = "strict", *args: Any,
                 unigram_cache: bool = True, **kwargs: Any) -> dict[str, Any]:
        """As :meth:`rnncli.api.Run.evaluate` (the labelled-data options do not apply)."""
        from rnncli.evaluation import lm_report

        return lm_report(self.vocab, data, self.stream_log_probs, encoding, errors,
                         self.unigram_cache if unigram_cache else None)


def open_export(directory: str | os.PathLike[str], variant: str | None = None,
                threads: int | None = None) -> ExportedClassifier | ExportedLanguageModel:
    """The export in ``directory``, as a classifier or a language model."""
    task = read_manifest(Path(directory))["task"]
    return (ExportedLanguageModel if task == "lm" else ExportedClassifier)(directory, variant, threads)
