"""The n-gram baseline: interpolated Kneser-Ney by counting, checked against hand-computed
probabilities, normalised over the vocabulary, and served by evaluate, generate and score."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from rnncli.tasks.language.ngram import KneserNey, load, save, stream_log_probs
from rnncli.text.vocab import EOS
from tests.conftest import SAMPLE, assert_one_error

V = 8  # ids 0-3 are the special tokens; a, b, c are 4, 5, 6
A, B, C = 4, 5, 6


def test_bigram_probabilities_match_the_hand_computation():
    """Stream (after the <eos> that precedes it): a b a b a c <eos>."""
    model = KneserNey.fit(np.array([A, B, A, B, A, C, EOS]), 2, V)
    bigrams = {(EOS, A): 1, (A, B): 2, (B, A): 2, (A, C): 1, (C, EOS): 1}
    ones, twos = sum(c == 1 for c in bigrams.values()), sum(c == 2 for c in bigrams.values())
    d2 = ones / (ones + 2 * twos)
    continuation = {A: 2, B: 1, C: 1, EOS: 1}  # distinct left neighbours
    d1 = 3 / (3 + 2 * 1)  # every continuation count is 1 but a's (2): n1 = 3, n2 = 1
    total1, types1 = sum(continuation.values()), len(continuation)

    def unigram(w: int) -> float:
        return max(continuation.get(w, 0) - d1, 0) / total1 + d1 * types1 / total1 / V

    def bigram(h: int, w: int) -> float:
        total = sum(c for (x, _), c in bigrams.items() if x == h)
        types = sum(1 for (x, _) in bigrams if x == h)
        return max(bigrams.get((h, w), 0) - d2, 0) / total + d2 * types / total * unigram(w)

    for h, w in [(A, B), (A, C), (A, A), (B, A), (B, C), (EOS, A)]:
        got = math.exp(model.target_log_probs(np.array([[h]]), np.array([w]))[0])
        assert got == pytest.approx(bigram(h, w), rel=1e-12), (h, w)
    unseen_context = math.exp(model.target_log_probs(np.array([[7]]), np.array([A]))[0])
    assert unseen_context == pytest.approx(unigram(A), rel=1e-12)


@pytest.mark.parametrize("order", [1, 2, 3, 5])
def test_probabilities_sum_to_one_over_the_vocabulary(order):
    rng = np.random.default_rng(order)
    ids = rng.integers(4, 30, size=3000)
    ids[rng.random(3000) < 0.05] = EOS
    model = KneserNey.fit(ids, order, 30)
    contexts = np.concatenate([ids[100 : 100 + 20 * max(1, order - 1)].reshape(20, -1)[:, : order - 1],
                               rng.integers(0, 30, size=(20, max(0, order - 1)))])
    totals = np.exp(model.distribution(contexts)).sum(axis=1)
    assert np.allclose(totals, 1.0, atol=1e-9)


def test_tables_survive_a_round_trip_through_safetensors(tmp_path):
    ids = np.random.default_rng(0).integers(4, 50, size=2000)
    model = KneserNey.fit(ids, 3, 50)
    save(model, tmp_path / "t.safetensors")
    again = load(tmp_path / "t.safetensors", 3, 50)
    assert np.array_equal(stream_log_probs(model, ids[:300]), stream_log_probs(again, ids[:300]))


def test_an_order_too_high_for_the_vocabulary_is_refused():
    from rnncli.errors import ConfigError

    with pytest.raises(ConfigError, match="too high"):
        KneserNey.fit(np.array([4, 5]), 5, 50_000)


def test_the_commands_serve_an_ngram_run(cli, tmp_path):
    run = tmp_path / "ng"
    trained = cli.ok("train", SAMPLE / "english.txt", "--valid", SAMPLE / "english-valid.txt", "-o", run,
                     "--model", "ngram", "--order", "4", "--level", "char")
    assert trained.stdout == "" and "Kneser-Ney model of order 4" in trained.stderr
    record = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])
    report = json.loads(cli.ok("evaluate", "-c", run, SAMPLE / "english-valid.txt", "--json").stdout)
    assert report["loss"] == pytest.approx(record["val_loss"], rel=1e-9)
    scored = [json.loads(line) for line in cli.ok("score", "-c", run, SAMPLE / "english-valid.txt",
                                                  "--carry-state").stdout.splitlines()]
    assert -sum(r["logprob"] for r in scored) == pytest.approx(report["loss"] * (report["tokens"] - 1), rel=1e-9)
    text = cli.ok("generate", "-c", run, "--prompt", "The ", "--max-tokens", "50", "--seed", "1").stdout
    assert text.startswith("The ") and len(text) > 20
    assert text == cli.ok("generate", "-c", run, "--prompt", "The ", "--max-tokens", "50", "--seed", "1").stdout
    beams = cli.ok("generate", "-c", run, "--prompt", "The ", "--beam", "3", "--max-tokens", "10", "-f", "jsonl")
    assert len(beams.stdout.splitlines()) == 3
    facts = json.loads(cli.ok("info", "-c", run, "--json").stdout)
    assert facts["model"]["kind"] == "ngram" and facts["parameters"] == record["ngrams"]


def test_ngram_refuses_what_belongs_to_the_neural_models(cli, tmp_path):
    result = cli("train", SAMPLE / "english.txt", "-o", tmp_path / "r", "--model", "ngram", "--hidden", "64")
    assert_one_error(result, 2, "--hidden does not apply to --model ngram")
    result = cli("train", SAMPLE / "english.txt", "-o", tmp_path / "r", "--order", "3")
    assert_one_error(result, 2, "--order applies to --model ngram only")
    assert not (tmp_path / "r").exists()
