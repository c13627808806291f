"""The ONNX engine of a classifier: ``tokens`` (batch, time) and ``lengths`` in, ``probs`` out
(see export.py), through onnxruntime; no torch."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from rnncli.onnxrun import Exported


class ExportedClassifier(Exported):
    multi_label = False  # multi-label classifiers are not exported (rnncli.export.exportable)

    @property
    def labels(self) -> list[str]:
        return list(self.manifest["labels"])

    @property
    def max_len(self) -> int:
        return int(self.manifest["max_len"])

    @property
    def label_sep(self) -> str | None:
        return self.manifest.get("label_sep")

    def probs(self, tokens: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        return self.session.run(["probs"], {"tokens": tokens, "lengths": lengths})[0]  # type: ignore[no-any-return]

    def thresholds(self) -> float:
        return 0.5


def open_exported(directory: str | os.PathLike[str], variant: str | None = None, threads: int | None = None) -> Any:
    return ExportedClassifier(directory, variant, threads)
