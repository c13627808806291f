"""The ONNX engine of a tagger: ``tokens``, ``chars`` and ``lengths`` in, ``scores`` out (see
export.py), through onnxruntime; no torch."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from rnncli.onnxrun import Exported


class ExportedTagger(Exported):
    @property
    def labels(self) -> list[str]:
        return list(self.manifest["labels"])

    def scores(self, tokens: np.ndarray, chars: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        feeds = {"tokens": tokens, "chars": chars, "lengths": lengths}
        wanted = {i.name for i in self.session.get_inputs()}
        return self.session.run(["scores"], {k: v for k, v in feeds.items() if k in wanted})[0]  # type: ignore[no-any-return]

    def crf(self) -> None:
        """CRF taggers are not exported (rnncli.export.exportable): an export is a softmax tagger's."""
        return None


def open_exported(directory: str | os.PathLike[str], variant: str | None = None, threads: int | None = None) -> Any:
    return ExportedTagger(directory, variant, threads)
