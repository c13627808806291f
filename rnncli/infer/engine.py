"""The inference protocol: what an engine of each task gives, whatever computes it.

An engine also names its ``task`` (a name of :mod:`rnncli.tasks`), the ``vocab`` it reads and
``variant`` (what serves it: torch, fp32 or int8 ONNX, n-gram), which ``--verbose`` reports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, Sequence

import numpy as np

if TYPE_CHECKING:
    from rnncli.text.vocab import Vocab
    from rnncli.unigram_cache import UnigramCache


class Stepping(Protocol):
    """A language model as generation sees it: scores over the vocabulary (logits or
    log-probabilities, shape (samples, vocab)) and a state it carries."""

    def start(self, prompt_ids: list[int], num_samples: int) -> tuple[np.ndarray, Any]: ...

    def step(self, tokens: np.ndarray, state: Any) -> tuple[np.ndarray, Any]: ...

    def select(self, state: Any, rows: np.ndarray) -> Any:
        """The state of the given batch rows, in that order (beam search reorders its beams)."""


class LanguageEngine(Stepping, Protocol):
    task: str
    variant: str
    vocab: "Vocab"
    unigram_cache: "UnigramCache | None"
    columns: int | None  # how many columns a text is read as (.reading); None: as its length warrants
    window: int  # time steps read per call

    def target_log_probs(self, inputs: np.ndarray, targets: np.ndarray,
                         state: Any = None) -> tuple[np.ndarray, Any]:
        """log P of each of ``targets`` (time, batch) after ``inputs`` (time, batch) and ``state``
        (None: the start of a text), and the state after the inputs."""


class ClassifierEngine(Protocol):
    task: str
    variant: str
    vocab: "Vocab"
    labels: Sequence[str]
    max_len: int
    multi_label: bool
    label_sep: str | None

    def probs(self, tokens: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Label probabilities (batch, labels) of ``tokens`` (batch, time), padded with 0, each row
        read to its ``lengths`` (at least 1)."""

    def thresholds(self) -> float | np.ndarray:
        """A multi-label classifier's decision threshold, one for all labels or one per label."""


class TaggerEngine(Protocol):
    task: str
    variant: str
    vocab: "Vocab"
    labels: Sequence[str]

    def scores(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        """Each token's score per tag (batch, time, tags) of padded sentences: ``tokens`` (word ids,
        (batch, time)), ``chars`` (their characters' ids, (batch, time, characters)), ``affixes``
        ((batch, time, kinds)), 0 padding, and ``lengths``
        (rnncli.tasks.tagging.features.batch_inputs)."""

    def crf(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """A CRF tagger's start, transition and end scores; None where tags are chosen per token."""

    def tag(self, tokens: Sequence[Sequence[str]], batch_size: int, top: int = 1) -> list[Any]:
        """Each sentence's tags with their probabilities and the ``top`` alternatives: engines that
        score tokens call rnncli.tasks.tagging.inference.decode, a counted HMM decodes its own way."""
