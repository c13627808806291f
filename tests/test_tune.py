"""--tune: successive halving over a classifier's settings within the budget."""

from __future__ import annotations

import json

from rnncli.args import TrainArgs
from rnncli.tune import CANDIDATES, candidates, trial_args
from tests.conftest import SAMPLE, assert_one_error


def test_candidates_start_with_the_defaults_and_leave_given_options_alone():
    drawn = candidates(0, frozenset())
    assert drawn[0] == {} and len(drawn) == CANDIDATES
    assert len({json.dumps(c, sort_keys=True) for c in drawn}) == CANDIDATES
    assert all("hidden" not in c and "dropout" not in c for c in drawn if c.get("model") == "bow")
    assert candidates(0, frozenset()) == drawn  # the seed decides
    fixed = candidates(1, frozenset({"model", "lr", "vocab"}))
    assert all(not {"model", "lr_scale", "level"} & set(c) for c in fixed)


def test_a_trial_is_the_users_run_with_the_candidates_choices(tmp_path):
    args = TrainArgs.of(corpus=["d.tsv"], output="run", time_budget=60.0, tune=True, seed=3)
    trial = trial_args(args, {"model": "bow", "lr_scale": 2.0, "level": "word"}, tmp_path / "t", 7.5)
    assert (trial.model, trial.level, trial.lr, trial.time_budget, trial.seed) == ("bow", "word", 4e-2, 7.5, 3)
    assert not trial.tune and trial.output == str(tmp_path / "t")


def test_tune_keeps_the_best_trial_as_the_run(cli, tmp_path):
    run = tmp_path / "run"
    result = cli("train", SAMPLE / "topics.tsv", "-o", run, "--tune", "--time-budget", "24", "--threads", "1")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    trials = [json.loads(line) for line in (run / "trials.jsonl").read_text().splitlines()]
    assert [t["stage"] for t in trials][:CANDIDATES] == [0] * CANDIDATES and len(trials) > CANDIDATES
    best = max((t for t in trials if t["stage"] == trials[-1]["stage"]), key=lambda t: t["macro_f1"])
    assert "tuned: trial" in result.stderr
    kept = max(json.loads(line)["macro_f1"] for line in (run / "metrics.jsonl").read_text().splitlines())
    assert kept == best["macro_f1"]
    assert cli.ok("classify", "-c", run, input="my refund please\n").stdout.strip()


def test_tune_needs_a_classifier_a_budget_and_files(cli, tmp_path):
    assert_one_error(cli("train", SAMPLE / "english.txt", "-o", tmp_path / "a", "--tune", "--time-budget", "10"),
                     2, "language models are not tuned")
    assert_one_error(cli("train", SAMPLE / "topics.tsv", "-o", tmp_path / "b", "--tune"), 2, "--tune needs --time-budget")
    assert_one_error(cli("train", "-", "-o", tmp_path / "c", "--tune", "--time-budget", "10",
                         input=(SAMPLE / "topics.tsv").read_text()), 2, "give a file, not stdin")
    assert not any((tmp_path / x).exists() for x in "abc")
