"""Multi-label classification: detected from the data, one sigmoid per label, a threshold chosen on
validation, and the metrics fastText users know, checked against hand computations."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rnncli.scores import (PER_LABEL_MIN_SUPPORT, at_k, choose_threshold, choose_thresholds, multilabel_metrics,
                           per_label_thresholds)
from tests.conftest import assert_one_error

LABELS = ["a", "b", "c"]


def test_multilabel_metrics_by_hand():
    gold = np.array([[1, 1, 0], [0, 1, 0], [0, 0, 0], [1, 0, 1]], bool)
    pred = np.array([[1, 0, 0], [0, 1, 1], [0, 0, 0], [1, 0, 1]], bool)
    m = multilabel_metrics(gold, pred, LABELS)
    # true positives 4 (a twice, b once, c once), predicted 5, gold 5
    assert m["micro_f1"] == pytest.approx(2 * 0.8 * 0.8 / 1.6)
    # a: P 1 R 1 F1 1; b: P 1 R 1/2 F1 2/3; c: P 1/2 R 1 F1 2/3
    assert m["macro_f1"] == pytest.approx((1 + 2 / 3 + 2 / 3) / 3)
    # rows: F1 2/3 (P 1, R 1/2), 2/3 (P 1/2, R 1), 1 (nothing either side), 1
    assert m["samples_f1"] == pytest.approx((2 / 3 + 2 / 3 + 1 + 1) / 4)
    assert m["exact_match"] == pytest.approx(2 / 4)
    assert m["per_label"]["b"] == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3), "support": 2}


def test_precision_and_recall_at_k_as_fasttext_counts_them():
    gold = np.array([[1, 0, 1], [0, 1, 0]], bool)
    probs = np.array([[0.9, 0.8, 0.1], [0.2, 0.7, 0.6]])
    assert at_k(gold, probs, 1) == pytest.approx((2 / 2, 2 / 3))  # a and b right, of 3 gold labels
    assert at_k(gold, probs, 2) == pytest.approx((2 / 4, 2 / 3))  # a, b right; b (row 0), c (row 1) wrong


def test_the_threshold_is_the_one_with_the_best_macro_f1():
    gold = np.array([[1, 0], [0, 1], [1, 1]], bool)
    probs = np.array([[0.32, 0.1], [0.2, 0.4], [0.34, 0.36]])
    assert choose_threshold(gold, probs) == 0.3


def test_per_label_thresholds_by_hand():
    rows = 2 * PER_LABEL_MIN_SUPPORT
    gold = np.zeros((rows, 3), bool)
    gold[:PER_LABEL_MIN_SUPPORT, 0] = gold[:PER_LABEL_MIN_SUPPORT, 1] = True
    gold[0, 2] = True  # label c: too few examples for a threshold of its own
    probs = np.zeros((rows, 3))
    probs[:, 0] = np.where(gold[:, 0], 0.72, 0.6)  # only a threshold in (0.6, 0.72] separates a
    probs[:, 1] = np.where(gold[:, 1], 0.12, 0.02)  # b: (0.02, 0.12]
    probs[:, 2] = 0.3
    chosen = per_label_thresholds(gold, probs, fallback=0.5)
    assert chosen[0] in (0.65, 0.7) and chosen[1] in (0.05, 0.1) and chosen[2] == 0.5
    assert chosen[0] == 0.65 and chosen[1] == 0.1  # among equals, the nearest to the fallback


def test_per_label_thresholds_only_when_they_hold_on_held_out_halves():
    rng = np.random.default_rng(0)
    gold = rng.random((400, 2)) < 0.3
    # label b is scored on a scale of its own: no single threshold serves a and b
    probs = np.stack([np.where(gold[:, 0], rng.uniform(0.5, 0.9, 400), rng.uniform(0.1, 0.5, 400)),
                      np.where(gold[:, 1], rng.uniform(0.1, 0.2, 400), rng.uniform(0.0, 0.1, 400))], axis=1)
    threshold, per_label = choose_thresholds(gold, probs)
    assert per_label is not None and per_label[0] == pytest.approx(0.5) and 0.05 <= per_label[1] <= 0.15
    # both labels on one scale: one threshold serves, and per-label ones would only fit noise
    same = np.where(gold, rng.uniform(0.5, 0.9, (400, 2)), rng.uniform(0.1, 0.5, (400, 2)))
    assert choose_thresholds(gold, same)[1] is None


def test_classify_and_evaluate_use_per_label_thresholds():
    from rnncli.tasks.classification.inference import run_threshold
    from rnncli.tasks.classification.inference import top_labels

    records = [{"step": 1, "macro_f1": 0.5, "val_loss": 1.0, "threshold": 0.4},
               {"step": 2, "macro_f1": 0.8, "val_loss": 0.9, "threshold": 0.5, "thresholds": [0.5, 0.1, 0.5]}]
    assert run_threshold(records).tolist() == [0.5, 0.1, 0.5]
    assert run_threshold(records[:1]) == 0.4
    probs = np.array([[0.6, 0.15, 0.3]])
    assert top_labels(["x"], probs, LABELS, None, run_threshold(records), multi_label=True) == [[("a", 0.6), ("b", 0.15)]]
    assert top_labels(["x"], probs, LABELS, None, 0.5, multi_label=True) == [[("a", 0.6)]]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    from typer.testing import CliRunner

    from rnncli.cli import app

    work = tmp_path_factory.mktemp("multi")
    runner = CliRunner()
    for name, lines, seed in (("train.txt", 2000, 0), ("test.txt", 300, 1)):
        result = runner.invoke(app, ["sample-data", "multi-label", "--lines", str(lines), "--seed", str(seed),
                                     "-o", str(work / name)])
        assert result.exit_code == 0
    result = runner.invoke(app, ["train", str(work / "train.txt"), "-o", str(work / "run"), "--max-steps", "200",
                                 "--threads", "1", "--hidden", "64"])
    assert result.exit_code == 0, result.stderr
    return work, result.stderr


def test_multi_label_data_is_detected_and_learnt(cli, corpus):
    work, shown = corpus
    assert "multi-label:" in shown and "one sigmoid per label" in shown
    report = json.loads(cli.ok("evaluate", "-c", work / "run", work / "test.txt", "--json", "-k", "2").stdout)
    assert report["micro_f1"] >= 0.95 and report["macro_f1"] >= 0.9
    assert {"samples_f1", "exact_match", "per_label", "precision_at_k", "recall_at_k"} <= set(report)
    assert ("threshold" in report) != ("thresholds" in report)  # one for all labels, or one per label
    config = json.loads((work / "run" / "config.json").read_text())
    assert config["model"]["multi_label"] is True


def test_classify_prints_every_label_above_the_threshold(cli, corpus):
    work, _ = corpus
    texts = "urgent: the refund and the parcel\nplease help with the login\n"
    shown = cli.ok("classify", "-c", work / "run", "-v", input=texts)
    first, second = shown.stdout.splitlines()
    assert set(first.split("\t")) == {"urgent", "billing", "shipping"}
    assert second.split("\t") == ["account"]
    assert "multi-label classifiers are not exported yet" in shown.stderr
    capped = cli.ok("classify", "-c", work / "run", "-k", "1", input=texts).stdout.splitlines()[0].split("\t")
    assert len(capped) == 1 and capped[0] in first.split("\t")  # -k caps the labels
    everything = cli.ok("classify", "-c", work / "run", "--threshold", "0", "-f", "jsonl", input=texts).stdout
    assert len(json.loads(everything.splitlines()[0])["labels"]) == 5


def test_single_label_keeps_the_first_label_and_says_so(cli, corpus, tmp_path):
    work, _ = corpus
    result = cli("train", work / "train.txt", "-o", tmp_path / "single", "--single-label", "--max-steps", "2",
                 "--threads", "1", "--hidden", "8")
    assert result.exit_code == 0, result.stderr
    assert "--single-label keeps the first of each" in result.stderr
    assert json.loads((tmp_path / "single" / "config.json").read_text())["model"]["multi_label"] is False


def test_multi_label_is_for_classifiers(cli, tmp_path):
    from tests.conftest import SAMPLE

    result = cli("train", SAMPLE / "english.txt", "-o", tmp_path / "r", "--multi-label")
    assert_one_error(result, 2, "--multi-label applies to classifiers only")


def test_label_lists_in_tsv_csv_and_json_lines(tmp_path):
    from rnncli.text.labelled import read_labelled

    (tmp_path / "d.tsv").write_text("a,b\tfirst text\nc\tsecond\nb, a ,b\tthird\n")
    (tmp_path / "d.csv").write_text("text,label\nfirst text,a;b\nsecond,c\n")
    (tmp_path / "d.jsonl").write_text('{"text": "first", "label": ["a", "b", "a"]}\n{"text": "second", "label": "c"}\n')
    assert [e.labels for e in read_labelled(str(tmp_path / "d.tsv"), label_sep=",").examples] == \
        [("a", "b"), ("c",), ("b", "a")]
    assert [e.labels for e in read_labelled(str(tmp_path / "d.tsv")).examples][0] == ("a,b",)
    assert [e.labels for e in read_labelled(str(tmp_path / "d.csv"), label_sep=";").examples] == [("a", "b"), ("c",)]
    assert [e.labels for e in read_labelled(str(tmp_path / "d.jsonl")).examples] == [("a", "b"), ("c",)]


def test_a_tsv_with_label_lists_trains_and_evaluates_multi_label(cli, corpus, tmp_path):
    work, _ = corpus
    rows = []
    for line in (work / "train.txt").read_text().splitlines()[:800]:
        words = line.split()
        labels = [w.removeprefix("__label__") for w in words if w.startswith("__label__")]
        rows.append(",".join(labels) + "\t" + " ".join(w for w in words if not w.startswith("__label__")))
    (tmp_path / "t.tsv").write_text("\n".join(rows) + "\n")
    result = cli("train", tmp_path / "t.tsv", "-o", tmp_path / "run", "--label-sep", ",", "--max-steps", "30",
                 "--threads", "1", "--hidden", "16")
    assert result.exit_code == 0, result.stderr
    assert "multi-label:" in result.stderr
    report = json.loads(cli.ok("evaluate", "-c", tmp_path / "run", tmp_path / "t.tsv", "--json").stdout)
    assert "micro_f1" in report and set(report["labels"]) == {"account", "billing", "shipping", "technical", "urgent"}
