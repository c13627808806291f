"""The neural cache (Grave et al. 2017): recent hidden states vote for the words that followed
them. Fitted on validation when training ends beside the unigram cache; evaluate and score read
with whichever validation chose, and always give the network's own figure beside it."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from rnncli.neural_cache import CACHE_FILE, NeuralCache, cache_probabilities, fit


def _by_hand(features: np.ndarray, targets: np.ndarray, window: int, theta: float) -> list[float]:
    """The definition, one position at a time."""
    out = []
    for t in range(len(targets)):
        history = range(max(0, t - window), t)
        weights = {i: math.exp(theta * float(features[t] @ features[i])) for i in history}
        total = sum(weights.values())
        out.append(sum(w for i, w in weights.items() if targets[i] == targets[t]) / total if total else 0.0)
    return out


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 700), window=st.integers(1, 300), theta=st.floats(0.01, 3.0), seed=st.integers(0, 99))
def test_cache_probabilities_follow_the_definition(n, window, theta, seed):
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(n, 6)).astype(np.float32)
    targets = rng.integers(0, 5, n)
    probs, seen = cache_probabilities(features, targets, window, (theta,))
    assert probs[0] == pytest.approx(_by_hand(features, targets, window, theta), abs=1e-5)
    assert seen.tolist() == [t > 0 for t in range(n)]


@settings(max_examples=40, deadline=None)
@given(history=st.lists(st.integers(0, 5), min_size=2, max_size=30), window=st.integers(1, 40),
       theta=st.floats(0.05, 2.0), weight=st.floats(0.01, 0.9))
def test_the_mixture_is_a_distribution(history, window, theta, weight):
    """Whatever came before, the mixture's probabilities of every possible next token sum to one."""
    vocab = 6
    rng = np.random.default_rng(len(history))
    network = rng.dirichlet(np.ones(vocab))
    features = rng.normal(size=(len(history), 4)).astype(np.float32)  # the states after each history token
    cache = NeuralCache(window, theta, weight)
    total = sum(math.exp(cache.mix(np.log(network[[w]]), np.array([*history, w]), len(history), features)[0])
                for w in range(vocab))
    assert total == pytest.approx(1.0, abs=1e-6)


def test_fit_finds_a_cache_where_similar_states_are_followed_by_the_same_word():
    """States that encode the current token, and a text where each token is followed by the same one
    within a paragraph: the cache learns what follows, the unigram cache only what occurs."""
    rng = np.random.default_rng(0)
    ids = []
    for _ in range(40):
        successor = {a: rng.integers(0, 300) for a in range(300)}
        token = int(rng.integers(0, 300))
        for _ in range(150):
            ids.append(token)
            token = int(successor[token]) if rng.random() < 0.8 else int(rng.integers(0, 300))
    ids = np.asarray(ids)
    features = np.eye(300, dtype=np.float32)[ids[:-1]] * 3.0
    network = np.full(len(ids) - 1, math.log(1 / 300))
    record = fit(ids, network, features, unigram_loss=float(-network.mean()) - 0.2)
    assert record["chosen"] and record["weight"] > 0.1
    assert record["valid_loss"] < record["valid_loss_unigram"] - 0.5
    assert NeuralCache(record["window"], record["theta"], record["weight"]).chosen


def test_fit_of_a_broken_network_is_no_cache():
    record = fit(np.arange(10), np.full(9, np.nan), np.zeros((9, 3), np.float32), None)
    assert record["weight"] == 0 and not record["chosen"]


def test_training_fits_it_and_evaluate_reads_with_the_chosen_cache(cli, cached_run):
    """Both fits are recorded; auto reads with the one validation chose and names it, the network's
    figure beside it; --cache neural and none read as asked."""
    record = json.loads((cached_run / "lm" / CACHE_FILE).read_text())
    assert record["weight"] > 0 and record["valid_loss"] < record["valid_loss_network"]
    test = cached_run / "test.txt"
    read = {cache: json.loads(cli.ok("evaluate", "-c", cached_run / "lm", test, "--json", "--cache", cache,
                                     "--device", "cpu").stdout) for cache in ("auto", "neural", "unigram", "none")}
    assert read["neural"]["neural_cache"] == {key: record[key] for key in ("window", "theta", "weight")}
    assert read["neural"]["network"]["loss"] == pytest.approx(read["none"]["loss"], rel=1e-6)
    assert read["neural"]["loss"] < read["none"]["loss"]
    chosen = "neural" if record["chosen"] else "unigram"
    assert f"{chosen}_cache" in read["auto"] and read["auto"]["loss"] == pytest.approx(read[chosen]["loss"], rel=1e-6)
    shown = cli.ok("evaluate", "-c", cached_run / "lm", test, "--cache", "neural", "--device", "cpu")
    assert shown.stdout == "" and "neural cache" in shown.stderr and "network alone" in shown.stderr


def test_the_export_reads_with_the_same_neural_cache(cli, cached_run):
    """onnxruntime reads the graph's states and the manifest's cache: the same figure as torch."""
    from rnncli.onnxrun import current_export, read_manifest

    test = cached_run / "test.txt"
    torch_read = json.loads(cli.ok("evaluate", "-c", cached_run / "lm", test, "--json", "--cache", "neural",
                                   "--device", "cpu").stdout)
    served = cli.ok("evaluate", "-c", cached_run / "lm", test, "--json", "-v", "--cache", "neural")
    assert "onnxruntime" in served.stderr
    assert read_manifest(current_export(cached_run / "lm"))["neural_cache"]["window"] == \
        torch_read["neural_cache"]["window"]
    assert json.loads(served.stdout)["loss"] == pytest.approx(torch_read["loss"], rel=1e-4)


def test_scores_with_the_neural_cache_sum_to_evaluate(cli, cached_run, tmp_path):
    """Carried from line to line, the scores of a file are evaluate's figure read as one column."""
    text = tmp_path / "doc.txt"
    text.write_text("\n".join((cached_run / "test.txt").read_text().splitlines()[:60]) + "\n")
    scored = [json.loads(line) for line in cli.ok("score", "-c", cached_run / "lm", text, "--carry-state", "--cache",
                                                  "neural").stdout.splitlines()]
    report = json.loads(cli.ok("evaluate", "-c", cached_run / "lm", text, "--json", "--cache", "neural").stdout)
    assert -sum(r["logprob"] for r in scored) == pytest.approx(report["loss"] * (report["tokens"] - 1), rel=1e-4)
    lines = [json.loads(line) for line in cli.ok("score", "-c", cached_run / "lm", text, "--cache", "neural")
             .stdout.splitlines()]
    assert len(lines) == 60 and all(math.isfinite(r["logprob"]) for r in lines)


def test_a_run_without_a_neural_cache_says_so_in_one_line(cli, cached_run, tmp_path):
    import shutil

    from tests.conftest import assert_one_error

    run = tmp_path / "lm"
    shutil.copytree(cached_run / "lm", run, ignore=shutil.ignore_patterns("onnx"))
    (run / CACHE_FILE).unlink()
    assert_one_error(cli("evaluate", "-c", run, cached_run / "test.txt", "--cache", "neural", "--device", "cpu"), 1,
                     "no neural cache")
    auto = json.loads(cli.ok("evaluate", "-c", run, cached_run / "test.txt", "--json", "--device", "cpu").stdout)
    assert "neural_cache" not in auto
    (run / CACHE_FILE).write_text('{"window": 5, "theta": -1, "weight": 0.2, "chosen": true}')
    assert_one_error(cli("evaluate", "-c", run, cached_run / "test.txt", "--device", "cpu", "--weights", "last"), 1,
                     CACHE_FILE)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 60), window=st.integers(1, 30), theta=st.floats(0.05, 2.0), weight=st.floats(0.01, 0.9),
       seed=st.integers(0, 99))
def test_generation_samples_from_the_same_mixture_that_scoring_reads(n, window, theta, weight, seed):
    """The distribution generation draws the next token from, after any history, gives each token
    the probability that scoring gives it at that place; both caches, and it sums to one."""
    from rnncli.unigram_cache import UnigramCache

    rng = np.random.default_rng(seed)
    ids = rng.integers(0, 7, n)
    features = rng.normal(size=(n, 5)).astype(np.float32)
    table = np.log(rng.dirichlet(np.ones(7), size=n))  # the network's log P of every token after ids[:p + 1]
    picked = table[np.arange(n - 1), ids[1:]]
    for cache, states in ((UnigramCache(window, weight), None), (NeuralCache(window, theta, weight), features)):
        scored = cache.mix(picked, ids, features=None if states is None else features[:-1])
        for p in range(1, n):
            after = cache.next_log_probs(table[p - 1], ids[:p], None if states is None else states[:p])
            assert np.exp(after).sum() == pytest.approx(1.0, abs=1e-9)
            assert after[ids[p]] == pytest.approx(scored[p - 1], abs=1e-6)


def test_the_cached_model_of_generation_mixes_by_the_recent_tokens():
    from rnncli.infer.caches import CachedStepping
    from rnncli.unigram_cache import UnigramCache

    class Uniform:
        def start(self, prompt_ids, num_samples):
            return np.zeros((num_samples, 10)), None

        def step(self, tokens, state):
            return np.zeros((len(tokens), 10)), None

        def select(self, state, rows):
            return state

    model = CachedStepping(Uniform(), UnigramCache(window=3, weight=0.5))
    first, _ = model.start([4, 5, 5, 7], 2)
    assert np.exp(first[0]) == pytest.approx(0.05 + 0.5 * np.bincount([5, 5, 7], minlength=10) / 3)
    after, _ = model.step(np.array([8, 5]), None)  # the window moves on: 5 7 8 and 5 7 5
    assert np.exp(after[0]) == pytest.approx(0.05 + 0.5 * np.bincount([5, 7, 8], minlength=10) / 3)
    assert np.exp(after[1]) == pytest.approx(0.05 + 0.5 * np.bincount([5, 7, 5], minlength=10) / 3)
    assert model.history.shape == (2, 4)  # the window and the present token, no more
    model.select(None, np.array([1, 1]))
    assert model.history.tolist() == [[5, 5, 7, 5], [5, 5, 7, 5]]  # beam search reorders the rows


def test_generate_samples_with_a_cache_only_when_asked(cli, cached_run):
    run = cached_run / "lm"
    common = ["generate", "-c", run, "--prompt", "the", "--max-tokens", "40", "--seed", "3", "--device", "cpu"]
    plain = cli.ok(*common).stdout
    assert cli.ok(*common, "--cache", "none").stdout == plain  # the default is the network alone
    for cache in ("unigram", "neural"):
        mixed = cli.ok(*common, "--cache", cache)
        assert mixed.stdout.startswith("the") and mixed.stdout != plain and mixed.stderr == ""
        assert cli.ok(*common, "--cache", cache).stdout == mixed.stdout  # the seed still decides
    served = cli.ok("generate", "-c", run, "--prompt", "the", "--max-tokens", "40", "--seed", "3", "--cache", "neural",
                    "-v")
    assert "onnxruntime" in served.stderr and served.stdout.startswith("the")
    beams = cli.ok(*common, "--cache", "unigram", "--beam", "3").stdout
    assert beams.startswith("the")


def test_generate_refuses_a_cache_the_run_does_not_have(cli, tmp_path):
    from tests.conftest import SAMPLE, assert_one_error

    run = tmp_path / "lm"
    cli.ok("train", SAMPLE / "english.txt", "-o", run, "--model", "ngram", "--level", "char", "-q")
    assert_one_error(cli("generate", "-c", run, "--prompt", "a", "--cache", "neural"), contains="no neural cache")
    refused = cli("generate", "-c", run, "--prompt", "a", "--cache", "sometimes")
    assert refused.exit_code == 2 and refused.stdout == ""


@pytest.mark.parametrize("which", ["unigram", "neural"])
def test_stepping_through_a_text_with_the_cache_reads_what_scoring_reads(cached_run, which):
    """Teacher-forced through the generation path (prompt, then one token a step, the states kept),
    each token's mixture probability is the one scoring gives it: the same states, aligned."""
    import rnncli
    from rnncli.infer.caches import CachedStepping, pick, read_with
    from rnncli.text.vocab import EOS

    run = rnncli.load(cached_run / "lm")
    engine = run.engine  # trained in fp32: reading and stepping share the precision
    ids = np.array([EOS, *run.vocab.encode((cached_run / "test.txt").read_text()[:1500])])
    cache = pick(engine, which)
    _, scored = read_with(engine, ids, cache)
    model = CachedStepping(engine, cache)
    scores, state = model.start(ids[:40].tolist(), 1)
    stepped = [scores[0][ids[40]]]
    for t in range(40, len(ids) - 1):
        scores, state = model.step(ids[t : t + 1], state)
        stepped.append(scores[0][ids[t + 1]])
    assert np.asarray(stepped) == pytest.approx(scored[39:], abs=1e-4)
