"""The ONNX engine of a tagger: ``tokens``, ``chars`` and ``lengths`` in, ``scores`` out (see
export.py), through onnxruntime; no torch."""

from __future__ import annotations

import json
import os
from functools import cached_property
from typing import Any, Sequence

import numpy as np

from rnncli.onnxrun import Exported
from rnncli.tasks.tagging.inference import Tagged, decode

CRF_KEY = "crf"  # the model metadata entry holding a CRF tagger's tables (export.py writes it)


class ExportedTagger(Exported):
    @property
    def labels(self) -> list[str]:
        return list(self.manifest["labels"])

    def scores(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        wanted = {i.name for i in self.session.get_inputs()}
        return self.session.run(["scores"], {k: v for k, v in inputs.items() if k in wanted})[0]  # type: ignore[no-any-return]

    def tag(self, tokens: Sequence[Sequence[str]], batch_size: int, top: int = 1) -> list[Tagged]:
        return decode(self, tokens, batch_size, top)

    def crf(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """A CRF tagger's start, transition and end scores, from the model's metadata; None for a
        softmax tagger."""
        return self._crf

    @cached_property
    def _crf(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        stored = self.session.get_modelmeta().custom_metadata_map.get(CRF_KEY)
        if stored is None:
            return None
        tables = json.loads(stored)
        return tuple(np.asarray(tables[k], dtype=np.float64) for k in ("start", "transitions", "end"))  # type: ignore[return-value]


def open_exported(directory: str | os.PathLike[str], variant: str | None = None, threads: int | None = None) -> Any:
    return ExportedTagger(directory, variant, threads)
