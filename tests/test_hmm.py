"""The HMM tagger: Viterbi finds the best path (checked by enumeration), unseen words are tagged by
their suffix, the tables round-trip, and on UD English LinES it tags as a TnT-style HMM does."""

from __future__ import annotations

import itertools
import os
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnncli.tasks.tagging import hmm

DATA = Path(os.environ.get("RNNCLI_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
LINES = DATA / "ud_english_lines"


def path_score(emissions: np.ndarray, transition: np.ndarray, path: tuple[int, ...]) -> float:
    edge = emissions.shape[1]
    states = [edge] * (transition.ndim - 1) + list(path) + [edge]
    score = sum(emissions[i, t] for i, t in enumerate(path))
    k = transition.ndim
    return float(score + sum(transition[tuple(states[i:i + k])] for i in range(len(states) - k + 1)))


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 4), st.integers(1, 3), st.sampled_from([2, 3]), st.integers(0, 2 ** 31 - 1))
def test_viterbi_finds_the_best_path(length, size, order, seed):
    rng = np.random.default_rng(seed)
    emissions = rng.normal(size=(length, size))
    transition = rng.normal(size=(size + 1,) * order)
    best = max(itertools.product(range(size), repeat=length), key=lambda p: path_score(emissions, transition, p))
    found = hmm.viterbi(emissions, transition)
    assert len(found) == length
    assert path_score(emissions, transition, tuple(found)) == pytest.approx(path_score(emissions, transition, best))


SENTENCES = [
    (["the", "can", "is", "red"], ["DET", "NOUN", "VERB", "ADJ"]),
    (["I", "can", "swim"], ["PRON", "AUX", "VERB"]),
    (["we", "can", "run", "quickly"], ["PRON", "AUX", "VERB", "ADV"]),
    (["the", "dog", "is", "running"], ["DET", "NOUN", "VERB", "VERB"]),
    (["they", "were", "walking", "slowly"], ["PRON", "AUX", "VERB", "ADV"]),
    (["a", "cat", "is", "sleeping"], ["DET", "NOUN", "VERB", "VERB"]),
]


@pytest.mark.parametrize("order", [2, 3])
def test_context_and_suffixes_decide(order):
    model = hmm.fit(SENTENCES, order)
    assert model.tag(["the", "can"]) == ["DET", "NOUN"] and model.tag(["we", "can"]) == ["PRON", "AUX"]
    assert model.tag(["they", "were", "jumping", "happily"]) == ["PRON", "AUX", "VERB", "ADV"]  # unseen words
    assert model.tag([]) == []


def test_the_tables_round_trip():
    model = hmm.fit(SENTENCES, 3)
    again = hmm.from_tables(hmm.tensors(model), hmm.meta(model))
    for words in (["the", "dog", "is", "jumping"], ["Zork", "can"]):
        assert again.tag(words) == model.tag(words)
    with pytest.raises(ValueError, match="order 2 or 3"):
        hmm.fit(SENTENCES, 4)
    with pytest.raises(ValueError, match="no tagged sentences"):
        hmm.fit([], 3)


@pytest.mark.skipif(not LINES.is_dir(), reason="UD English LinES not in ../shared/data")
def test_ud_english_lines_validation_accuracy():
    """Counted and applied to the validation split in seconds; TnT-level UPOS accuracy (0.937 here
    when written), with unseen words well above chance."""
    from rnncli.text.tagged import read_tagged

    began = time.perf_counter()
    model = hmm.fit([(s.tokens, s.tags) for s in read_tagged(str(LINES / "train.conllu"))], 3)
    dev = read_tagged(str(LINES / "dev.conllu"))
    pairs = [(w, g, p) for s in dev for w, g, p in zip(s.tokens, s.tags, model.tag(s.tokens))]
    assert time.perf_counter() - began < 10
    assert sum(g == p for _, g, p in pairs) / len(pairs) > 0.93
    unseen = [(g, p) for w, g, p in pairs if w not in model.words]
    assert sum(g == p for g, p in unseen) / len(unseen) > 0.65
