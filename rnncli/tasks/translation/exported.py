"""The ONNX engine of a translation model: the encoder graph (the export's model) and the decoder
step graph (its ``decoder`` part; export.py), through onnxruntime; no torch."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from rnncli.onnxrun import Exported
from rnncli.tasks.translation.inference import Translating
from rnncli.text.vocab import Vocab, load_vocab


class ExportedTranslator(Exported, Translating):
    def __init__(self, directory: str | os.PathLike[str], variant: str | None = None,
                 threads: int | None = None) -> None:
        super().__init__(directory, variant, threads)
        self.decoder = self.open_part("decoder")
        target = self.manifest.get("target_vocab")
        self.target_vocab: Vocab = load_vocab(self.directory / target) if target else self.vocab
        self.wanted = [i.name for i in self.decoder.get_inputs()]

    def encode(self, tokens: np.ndarray, lengths: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
        names = [o.name for o in self.session.get_outputs()]
        outputs = dict(zip(names, self.session.run(names, {"tokens": tokens, "lengths": lengths})))
        state = outputs.pop("state")
        return outputs, state

    def step(self, tokens: np.ndarray, state: np.ndarray,
             context: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        feed = {"tokens": np.ascontiguousarray(tokens, dtype=np.int64), "state": np.ascontiguousarray(state),
                **{k: context[k] for k in self.wanted if k in context}}
        logp, state, attention = self.decoder.run(["logp", "state_out", "attention"], feed)
        return logp, state, attention


def open_exported(directory: str | os.PathLike[str], variant: str | None = None, threads: int | None = None) -> Any:
    return ExportedTranslator(directory, variant, threads)
