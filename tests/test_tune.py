"""--tune: successive halving over a classifier's settings within the budget."""

from __future__ import annotations

import json
from pathlib import Path

from types import SimpleNamespace

import pytest

from rnncli.args import TrainArgs
from rnncli.tune import CANDIDATES, CHALLENGERS_KEPT, SEARCH_SHARE, candidates, trial_args, tune
from tests.conftest import SAMPLE, assert_one_error


def test_candidates_start_with_the_defaults_and_leave_given_options_alone():
    drawn = candidates(0, frozenset())
    assert drawn[0] == {} and len(drawn) == CANDIDATES
    assert len({json.dumps(c, sort_keys=True) for c in drawn}) == CANDIDATES
    assert all("hidden" not in c and "dropout" not in c for c in drawn if c.get("model") == "bow")
    assert candidates(0, frozenset()) == drawn  # the seed decides
    fixed = candidates(1, frozenset({"model", "lr", "vocab"}))
    assert all(not {"model", "lr_scale", "level"} & set(c) for c in fixed)


def test_the_convolutional_network_is_searched_with_its_filters_unless_an_option_it_refuses_was_given():
    drawn = [c for seed in range(20) for c in candidates(seed, frozenset())]
    cnn = [c for c in drawn if c.get("model") == "cnn"]
    assert cnn and all("hidden" in c and "dropout" in c for c in cnn)
    for refused in ("layers", "bidirectional", "pool"):
        assert not any(c.get("model") == "cnn" for seed in range(20) for c in candidates(seed, frozenset({refused})))


def test_a_trial_is_the_users_run_with_the_candidates_choices(tmp_path):
    args = TrainArgs.of(corpus=["d.tsv"], output="run", time_budget=60.0, tune=True, seed=3)
    trial = trial_args(args, {"model": "bow", "lr_scale": 2.0, "level": "word"}, tmp_path / "t", 7.5)
    assert (trial.model, trial.level, trial.lr, trial.time_budget, trial.seed) == ("bow", "word", 4e-2, 7.5, 3)
    assert not trial.tune and trial.output == str(tmp_path / "t") and not trial.resume
    assert trial_args(args, {}, tmp_path / "t", 20.0, resume=True).resume


def _fake_search(tmp_path, scores):
    """tune() with a stand-in for training: ``scores(trial number, loop seconds so far)`` is the
    trial's validation macro-F1; every call is recorded."""
    calls = []

    def train(trial):
        number = int(trial.output.rsplit("/", 1)[1])
        trained = trial.time_budget  # the loop runs to the budget
        calls.append((number, trial.resume, trial.time_budget))
        Path(trial.output).mkdir(parents=True, exist_ok=True)
        (Path(trial.output) / "last.safetensors").write_bytes(b"")
        (Path(trial.output) / "metrics.jsonl").write_text(f"{number}\n")
        return SimpleNamespace(final={"elapsed_s": trained},
                               best={"macro_f1": scores(number, trained), "accuracy": 0.9, "val_loss": 0.1})

    args = TrainArgs.of(corpus=["d.tsv"], output=str(tmp_path), time_budget=1000.0, tune=True)
    import time

    best = tune(args, tmp_path, train, lambda message: None, time.time())
    return best, calls


def test_the_search_continues_its_trials_and_the_defaults_keep_ties(tmp_path):
    unit = SEARCH_SHARE * 1000 / (CANDIDATES + 1 + CHALLENGERS_KEPT)
    best, calls = _fake_search(tmp_path, lambda n, t: 0.9)  # every trial alike
    assert [c[0] for c in calls[:CANDIDATES]] == list(range(CANDIDATES))
    assert all(not resume and budget == pytest.approx(unit) for _, resume, budget in calls[:CANDIDATES])
    # the defaults and two challengers continue (resumed, the budget counting the loop's seconds)
    assert [c[0] for c in calls[CANDIDATES:CANDIDATES + 3]] == [0, 1, 2]
    assert all(resume and budget == pytest.approx(2 * unit) for _, resume, budget in calls[CANDIDATES:CANDIDATES + 3])
    # nobody leads the defaults: they alone get the rest
    assert len(calls) == CANDIDATES + 4 and calls[-1][0] == 0 and best.number == 0
    assert (Path(tmp_path) / "metrics.jsonl").read_text() == "0\n"


def test_a_challengers_early_lead_must_last_at_an_equal_budget(tmp_path):
    # trial 3 learns fast, the defaults overtake it once both have trained long enough
    best, calls = _fake_search(tmp_path, lambda n, t: {0: 0.8 if t < 200 else 0.97, 3: 0.95}.get(n, 0.5))
    final = calls[CANDIDATES + 3:]
    assert [c[0] for c in final] == [3, 0] and final[0][2] == pytest.approx(final[1][2])
    assert best.number == 0
    best, calls = _fake_search(tmp_path / "b", lambda n, t: {0: 0.8, 3: 0.95}.get(n, 0.5))
    assert best.number == 3 and (tmp_path / "b" / "metrics.jsonl").read_text() == "3\n"


def test_tune_keeps_the_best_trial_as_the_run(cli, tmp_path):
    """On word-order data (the bag of words cannot tell red-first from blue-first, a recurrent
    encoder can) the trials differ; the run is the best trial of the last stage, its files and all."""
    run = tmp_path / "run"
    result = cli("train", SAMPLE / "word-order.tsv", "-o", run, "--tune", "--time-budget", "24", "--threads", "1")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    trials = [json.loads(line) for line in (run / "trials.jsonl").read_text().splitlines()]
    assert [t["stage"] for t in trials][:CANDIDATES] == [0] * CANDIDATES and len(trials) > CANDIDATES
    assert len({round(t["macro_f1"], 4) for t in trials}) > 1, "the trials must differ for the choice to mean anything"
    first = sorted((t for t in trials if t["stage"] == 0 and t["trial"] != 0), key=lambda t: (-t["macro_f1"], t["val_loss"]))
    assert {t["trial"] for t in trials if t["stage"] == 1} == {0, *(t["trial"] for t in first[:CHALLENGERS_KEPT])}
    last = [t for t in trials if t["stage"] == trials[-1]["stage"]]
    best = max(last, key=lambda t: t["macro_f1"])
    assert best["macro_f1"] == max(t["macro_f1"] for t in last) > min(t["macro_f1"] for t in trials)
    kept = max(json.loads(line)["macro_f1"] for line in (run / "metrics.jsonl").read_text().splitlines())
    assert kept == best["macro_f1"]
    chosen = int(result.stderr.split("tuned: trial", 1)[1].split()[0].strip(":,"))
    assert (run / "best.safetensors").read_bytes() == (run / "trials" / f"{chosen:02d}" / "best.safetensors").read_bytes()
    assert cli.ok("classify", "-c", run, input="the red road big blue tree\n").stdout.strip()


def test_tune_needs_a_classifier_a_budget_and_files(cli, tmp_path):
    assert_one_error(cli("train", SAMPLE / "english.txt", "-o", tmp_path / "a", "--tune", "--time-budget", "10"),
                     2, "language models are not tuned")
    assert_one_error(cli("train", SAMPLE / "topics.tsv", "-o", tmp_path / "b", "--tune"), 2, "--tune needs --time-budget")
    assert_one_error(cli("train", "-", "-o", tmp_path / "c", "--tune", "--time-budget", "10",
                         input=(SAMPLE / "topics.tsv").read_text()), 2, "give a file, not stdin")
    assert not any((tmp_path / x).exists() for x in "abc")
