"""The unigram cache: a language model's figures read with the words the text has just used,
fitted on validation when training ends, kept only when it helps there."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from rnncli.unigram_cache import CACHE_FILE, WEIGHTS, UnigramCache, fit, repeat_shares

def test_repeat_shares_by_hand():
    ids = np.array([5, 1, 5, 5, 2])
    # p=1: [5] has no 1; p=2: [5, 1] one 5 of 2; p=3: [1, 5] one of 2; p=4: [5, 5] no 2
    assert repeat_shares(ids, window=2).tolist() == [0.0, 0.5, 0.5, 0.0]
    # a wide window: p=3 reads [5, 1, 5], two fives of three
    assert repeat_shares(ids, window=10).tolist() == pytest.approx([0.0, 0.5, 2 / 3, 0.0])
    # history only before ``first``
    assert repeat_shares(ids, window=10, first=3).tolist() == pytest.approx([2 / 3, 0.0])
    with pytest.raises(ValueError):
        repeat_shares(ids, window=3, first=0)


@settings(max_examples=60, deadline=None)
@given(history=st.lists(st.integers(0, 6), min_size=1, max_size=40), window=st.integers(1, 50),
       weight=st.floats(0.01, 0.9))
def test_the_mixture_is_a_distribution(history, window, weight):
    """Whatever the history, the mixture's probabilities of every next token sum to one."""
    vocab = 7
    network = np.random.default_rng(len(history)).dirichlet(np.ones(vocab))
    cache = UnigramCache(window, weight)
    total = sum(math.exp(cache.mix(np.log(network[[w]]), np.array([*history, w]), len(history))[0])
                for w in range(vocab))
    assert total == pytest.approx(1.0, abs=1e-9)


def test_fit_keeps_the_network_alone_when_nothing_repeats():
    ids = np.arange(3000) % 1000  # no token comes back within any window but the widest
    record = fit(ids, np.full(len(ids) - 1, math.log(1 / 1000)))
    assert record["weight"] == 0 and record["valid_loss"] == record["valid_loss_network"]


def test_fit_of_a_broken_network_is_no_cache():
    record = fit(np.arange(10), np.full(9, np.nan))
    assert record["weight"] == 0 and record["valid_loss"] is None


def test_fit_finds_the_window_of_a_text_that_repeats_itself():
    rng = np.random.default_rng(0)
    topics = [rng.choice(500, 5) for _ in range(60)]
    ids = np.concatenate([rng.choice(topic, 100) for topic in topics])  # 100 tokens from 5 of 500
    record = fit(ids, np.full(len(ids) - 1, math.log(1 / 500)))  # a network that knows nothing
    assert record["weight"] == max(WEIGHTS)
    assert record["window"] <= 100
    assert record["valid_loss"] < record["valid_loss_network"] - 1.0


def test_training_fits_the_cache_on_validation_and_evaluate_reads_with_it(cli, cached_run):
    record = json.loads((cached_run / "lm" / CACHE_FILE).read_text())
    assert record["weight"] > 0 and record["valid_loss"] < record["valid_loss_network"]
    test = cached_run / "test.txt"
    mixed = json.loads(cli.ok("evaluate", "-c", cached_run / "lm", test, "--json", "--cache", "unigram").stdout)
    alone = json.loads(cli.ok("evaluate", "-c", cached_run / "lm", test, "--json", "--cache", "none").stdout)
    assert mixed["unigram_cache"] == {"window": record["window"], "weight": record["weight"]}
    assert mixed["network"] == pytest.approx({key: alone[key] for key in ("loss", "ppl", "bpc")}, rel=1e-6)
    assert "unigram_cache" not in alone
    assert mixed["ppl"] < alone["ppl"]
    shown = cli.ok("evaluate", "-c", cached_run / "lm", test, "--cache", "unigram")
    assert shown.stdout == "" and "unigram cache" in shown.stderr and "network alone" in shown.stderr


def test_the_export_carries_the_cache(cli, cached_run):
    """The first evaluate exported the run; onnxruntime then reads with the same cache."""
    from rnncli.onnxrun import current_export, read_manifest

    test = cached_run / "test.txt"
    first = json.loads(cli.ok("evaluate", "-c", cached_run / "lm", test, "--json", "-v", "--cache", "unigram").stdout)
    directory = current_export(cached_run / "lm")
    assert directory is not None
    assert read_manifest(directory)["unigram_cache"] == first["unigram_cache"]
    served = cli.ok("evaluate", "-c", cached_run / "lm", test, "--json", "-v", "--cache", "unigram")
    assert "onnxruntime" in served.stderr
    assert json.loads(served.stdout)["loss"] == pytest.approx(first["loss"], rel=1e-5)


def test_scores_with_the_cache_sum_to_evaluate(cli, cached_run, tmp_path):
    text = tmp_path / "doc.txt"
    text.write_text("\n".join((cached_run / "test.txt").read_text().splitlines()[:60]) + "\n")
    scored = [json.loads(line) for line in
              cli.ok("score", "-c", cached_run / "lm", text, "--carry-state", "--cache", "unigram").stdout.splitlines()]
    report = json.loads(cli.ok("evaluate", "-c", cached_run / "lm", text, "--json", "--cache", "unigram").stdout)
    assert "unigram_cache" in report
    assert -sum(r["logprob"] for r in scored) == pytest.approx(report["loss"] * (report["tokens"] - 1), rel=1e-6)
    alone = [json.loads(line) for line in
             cli.ok("score", "-c", cached_run / "lm", text, "--carry-state", "--cache", "none").stdout.splitlines()]
    assert sum(r["logprob"] for r in scored) > sum(r["logprob"] for r in alone)


def test_an_ngram_run_fits_its_cache_too(cli, cached_run):
    cli.ok("train", cached_run / "train.txt", "--valid", cached_run / "valid.txt", "-o", cached_run / "ng",
           "--model", "ngram", "--order", "3", "--level", "word", "-q")
    record = json.loads((cached_run / "ng" / CACHE_FILE).read_text())
    assert record["weight"] > 0
    mixed = json.loads(cli.ok("evaluate", "-c", cached_run / "ng", cached_run / "test.txt", "--json").stdout)
    assert "unigram_cache" in mixed and "neural_cache" not in mixed  # an n-gram model has no states to read
    assert mixed["ppl"] < mixed["network"]["ppl"]


def test_a_broken_cache_record_is_one_error(cli, cached_run, tmp_path):
    import shutil

    run = tmp_path / "lm"
    shutil.copytree(cached_run / "lm", run, ignore=shutil.ignore_patterns("onnx"))
    (run / CACHE_FILE).write_text('{"window": -3, "weight": 0.2}')
    from tests.conftest import assert_one_error

    assert_one_error(cli("evaluate", "-c", run, cached_run / "test.txt", "--device", "cpu", "--weights", "last"), 1,
                     CACHE_FILE)


def test_evaluate_on_the_text_the_cache_was_fitted_on_says_so(cli, cached_run):
    """Validation chose the cache: read on validation, the cached figure is no held-out figure, and
    evaluate says so on stderr (and in the JSON), torch and ONNX alike; another text is not flagged."""
    for attempt in ("torch or onnx", "onnx"):
        valid = cli.ok("evaluate", "-c", cached_run / "lm", cached_run / "valid.txt", "--json", "--cache", "unigram")
        report = json.loads(valid.stdout)
        assert report["unigram_cache"]["fitted_here"] is True, attempt
        assert "the unigram cache was fitted on" in valid.stderr and "network" in report
    other = cli.ok("evaluate", "-c", cached_run / "lm", cached_run / "test.txt", "--json", "--cache", "unigram")
    assert "fitted_here" not in json.loads(other.stdout)["unigram_cache"]
    assert "fitted on" not in other.stderr
    shown = cli.ok("evaluate", "-c", cached_run / "lm", cached_run / "valid.txt", "--cache", "unigram")
    assert "(fitted on this text)" in shown.stderr and "network alone" in shown.stderr
