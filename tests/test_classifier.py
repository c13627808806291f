"""Classifiers with tiny models: word order needs a recurrent network; padding changes nothing."""

from __future__ import annotations

import json

import pytest
import torch

from rnncli.models.classifier import Classifier
from rnncli.models.config import ModelConfig
from rnncli.data import pad_batch
from tests.conftest import SAMPLE, assert_one_error

FAST = ["--threads", "1", "-q", "--embed", "24", "--hidden", "32", "--batch-size", "32"]


@pytest.fixture(scope="module")
def word_order_runs(tmp_path_factory):
    """The same command trains an LSTM and a bag of words on the word-order task."""
    from typer.testing import CliRunner

    from rnncli.cli import app

    root = tmp_path_factory.mktemp("order")
    runs = {}
    for kind in ("lstm", "bow"):
        run = root / kind
        result = CliRunner().invoke(app, ["train", str(SAMPLE / "word-order.tsv"), "-o", str(run), "--model", kind,
                                          "--task", "classify", "--epochs", "12", "--seed", "1", *FAST])
        assert result.exit_code == 0, result.stderr
        runs[kind] = run
    return runs


def test_word_order_lstm_near_perfect_bow_near_chance(word_order_runs, cli):
    scores = {}
    for kind, run in word_order_runs.items():
        report = json.loads(cli.ok("evaluate", "-c", run, SAMPLE / "word-order-test.tsv", "--json").stdout)
        scores[kind] = report["accuracy"]
    assert scores["lstm"] >= 0.95, scores
    assert 0.35 <= scores["bow"] <= 0.65, scores


def test_evaluate_json_has_the_documented_keys(word_order_runs, cli):
    report = json.loads(cli.ok("evaluate", "-c", word_order_runs["lstm"], SAMPLE / "word-order-test.tsv",
                               "--json").stdout)
    assert {"accuracy", "macro_f1", "per_label", "confusion"} <= set(report)
    assert set(report["per_label"]["red-first"]) == {"precision", "recall", "f1", "support"}
    assert sum(map(sum, report["confusion"])) == 400


def test_evaluate_tables_go_to_stderr(word_order_runs, cli):
    result = cli.ok("evaluate", "-c", word_order_runs["lstm"], SAMPLE / "word-order-test.tsv")
    assert result.stdout == ""
    assert "macro-F1" in result.stderr and "confusion" in result.stderr


def test_classify_one_line_per_input_line(word_order_runs, cli):
    run = word_order_runs["lstm"]
    texts = "the red road big blue tree\n\nthe blue road big red tree\n"
    out = cli.ok("classify", "-c", run, input=texts).stdout.split("\n")
    assert out[:3] == ["red-first", "", "blue-first"]
    top = cli.ok("classify", "-c", run, "-k", "2", input="a red b c blue\n").stdout.rstrip("\n").split("\t")
    assert top[0] == "red-first" and top[2] == "blue-first"
    assert abs(float(top[1]) + float(top[3]) - 1) < 1e-3
    row = json.loads(cli.ok("classify", "-c", run, "--format", "jsonl", input="a red b c blue\n").stdout)
    assert row["label"] == "red-first" and len(row["probs"]) == 1


def test_threshold_leaves_uncertain_lines_empty(word_order_runs, cli):
    """A line whose best label falls below --threshold is an empty line; at or above it, the label."""
    run, text = word_order_runs["lstm"], "red blue\nthe blue road big red tree\n"
    rows = [json.loads(line) for line in cli.ok("classify", "-c", run, "--format", "jsonl", input=text).stdout.splitlines()]
    first, second = rows[0]["probs"][0], rows[1]["probs"][0]
    assert first != second
    between = (first + second) / 2
    out = cli.ok("classify", "-c", run, "--threshold", f"{between:.6f}", input=text).stdout.split("\n")
    kept = [row["label"] if row["probs"][0] >= between else "" for row in rows]
    assert out[:2] == kept and kept.count("") == 1


@pytest.mark.parametrize("kind, pool", [(kind, pool) for kind in ("lstm", "gru", "rnn")
                                         for pool in ("last", "mean", "max")] + [("cnn", "max")])
def test_padding_never_changes_a_prediction(kind, pool):
    torch.manual_seed(0)
    model = Classifier(ModelConfig(task="classify", kind=kind, vocab_size=50, embed=8, hidden=12,
                                   num_labels=3, bidirectional=kind != "cnn", pool=pool)).eval()
    for short in ([5, 6, 7], [9]):  # shorter than the widest filter, and than every filter
        alone = model(*pad_batch([short]))
        beside_long = model(*pad_batch([short, list(range(4, 40))]))[:1]
        assert torch.allclose(alone, beside_long, atol=1e-6)


def test_the_convolutional_network_is_kims():
    """Filters of widths 3, 4 and 5 over the embedded text, ReLU, the maximum over every window
    that holds a token of the text, dropout, one linear layer."""
    torch.manual_seed(0)
    model = Classifier(ModelConfig(task="classify", kind="cnn", vocab_size=50, embed=8, hidden=6,
                                   num_labels=3, dropout=0.5)).eval()
    ids = [5, 6, 7, 8, 9, 10]
    x = model.embedding.weight[ids]
    pooled = []
    for conv in model.convs:
        width = conv.kernel_size[0]
        padded = torch.cat([torch.zeros(width - 1, 8), x, torch.zeros(width - 1, 8)])
        windows = torch.stack([padded[t:t + width].T.reshape(-1) for t in range(len(ids) + width - 1)])
        pooled.append(torch.relu(windows @ conv.weight.reshape(6, -1).T + conv.bias).max(0).values)
    assert [conv.kernel_size[0] for conv in model.convs] == [3, 4, 5]
    assert torch.allclose(model(*pad_batch([ids]))[0], model.output(torch.cat(pooled)), atol=1e-5)


def test_the_convolutional_network_from_the_command_line(tmp_path, cli):
    """Trained, evaluated, described and served from its ONNX export like the recurrent classifiers;
    the options of a recurrent encoder are refused by name."""
    run = tmp_path / "cnn"
    done = cli.ok("train", SAMPLE / "topics.tsv", "-o", run, "--model", "cnn", "--epochs", "3", "--threads", "1")
    assert done.stdout == "" and "convolutional network" in done.stderr and "filters of each width 3, 4, 5" in done.stderr
    report = json.loads(cli.ok("evaluate", "-c", run, SAMPLE / "topics.tsv", "--json").stdout)
    assert 0 <= report["accuracy"] <= 1
    labels = cli.ok("classify", "-c", run, input="my card was charged twice\n\n").stdout.split("\n")
    assert labels[0] and labels[1] == "" and (run / "onnx" / "model.onnx").is_file()
    assert "filters of each width" in cli.ok("info", "-c", run).stderr + cli.ok("info", "-c", run).stdout
    for option, value in (("--layers", "2"), ("--pool", "mean"), ("--bidirectional", None)):
        refused = cli("train", SAMPLE / "topics.tsv", "-o", tmp_path / "n", "--model", "cnn", option,
                      *([value] if value else []))
        assert_one_error(refused, 2, option)
    assert_one_error(cli("train", SAMPLE / "english.txt", "-o", tmp_path / "l", "--model", "cnn", "--task", "lm"),
                     2, "classifier")



def test_bag_of_words_is_the_mean_of_word_and_hashed_bigram_embeddings():
    """fastText's model: each text's bag holds its words and its hashed word pairs, whatever
    else is in the batch; pads (and pairs past a text's end) stay out of the mean."""
    torch.manual_seed(0)
    vocab_size, buckets = 50, 97
    model = Classifier(ModelConfig(task="classify", kind="bow", vocab_size=vocab_size, embed=8,
                                   num_labels=3, bigram_buckets=buckets)).eval()
    texts = [[5, 6, 7], [9], list(range(4, 40))]
    for k, ids in enumerate(texts):
        pairs = [vocab_size + (a * 1_000_003 + b) % buckets for a, b in zip(ids, ids[1:])]
        expected = model.output(model.bag.weight[ids + pairs].mean(0))
        assert torch.allclose(model(*pad_batch(texts))[k], expected, atol=1e-6)
        assert torch.allclose(model(*pad_batch([ids]))[0], expected, atol=1e-6)

def test_labelled_data_becomes_a_classifier_by_inference(tmp_path, cli):
    result = cli.ok("train", SAMPLE / "topics.tsv", "-o", tmp_path / "r", "--max-steps", "3", *FAST[:2])
    assert "task: classify" in result.stderr
    assert json.loads((tmp_path / "r" / "config.json").read_text())["task"] == "classify"


def test_label_only_in_evaluation_file_is_a_warning(word_order_runs, cli, tmp_path):
    data = tmp_path / "eval.tsv"
    data.write_text("red-first\tred a b c blue\npurple-first\tpurple a b c red\n")
    result = cli.ok("evaluate", "-c", word_order_runs["lstm"], data, "--json")
    assert "warning: label(s) only in" in result.stderr and "purple-first" in result.stderr
    assert json.loads(result.stdout)["per_label"]["purple-first"]["support"] == 1


def test_classify_on_a_language_model_is_refused(tmp_path, cli):
    run = tmp_path / "lm"
    cli.ok("train", SAMPLE / "english.txt", "-o", run, "--level", "char", "--max-steps", "1", *FAST)
    assert_one_error(cli("classify", "-c", run, input="x\n"), 1, "holds a language model")


def test_single_label_data_is_refused(tmp_path, cli):
    data = tmp_path / "one.tsv"
    data.write_text("a\thello\na\tworld\n")
    assert_one_error(cli("train", data, "-o", tmp_path / "r", "--task", "classify"), 1, "at least 2 labels")


def test_csv_training_and_evaluation_with_named_columns(tmp_path, cli):
    import csv

    rows = [line.split("\t", 1) for line in (SAMPLE / "topics.tsv").read_text().splitlines()[:300]]
    data = tmp_path / "topics.csv"
    with open(data, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["category", "message"])
        writer.writerows(rows)
    run = tmp_path / "r"
    cli.ok("train", data, "-o", run, "--task", "classify", "--text-column", "message", "--label-column", "category",
           "--max-steps", "20", *FAST)
    report = json.loads(cli.ok("evaluate", "-c", run, data, "--text-column", "message", "--label-column", "category",
                               "--json").stdout)
    assert report["examples"] == 300
