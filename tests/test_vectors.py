"""Vectors in and out: pretrained word vectors, sentence vectors (embed), nearest neighbours."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from rnncli.text.vectors import read_vectors, write_vectors
from tests.conftest import SAMPLE, assert_one_error, shared

TINY = ["--hidden", "16", "--threads", "1", "--precision", "fp32", "--max-steps", "4", "-q"]


def vec_file(tmp_path, lines: list[str], header: str = "") -> str:  # type: ignore[no-untyped-def]
    path = tmp_path / "w.vec"
    path.write_text((header or f"{len(lines)} 4") + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_pretrained_rows_are_copied_counted_and_frozen(cli, tmp_path):
    vectors = vec_file(tmp_path, ["refund 1 2 3 4", "parcel -1 -2 -3 -4", "absent 9 9 9 9"])
    run = tmp_path / "run"
    result = cli("train", SAMPLE / "topics.tsv", "-o", run, "--level", "word", "--pretrained-vectors", vectors,
                 "--freeze-embeddings", *TINY[:-1])
    assert result.exit_code == 0, result.stderr
    assert "2 of" in result.stderr and "(3 vectors read)" in result.stderr
    tokens, table = vectors_of(cli, run)
    assert table.shape[1] == 4
    assert np.allclose(table[tokens.index("refund")], [1, 2, 3, 4])
    assert np.allclose(table[tokens.index("parcel")], [-1, -2, -3, -4])


def vectors_of(cli, run) -> tuple[list[str], np.ndarray]:  # type: ignore[no-untyped-def]
    """The embedding table as `embed --words` prints it, read back with the .vec reader."""
    path = run.parent / "out.vec"
    path.write_text(cli.ok("embed", "-c", run, "--words").stdout, encoding="utf-8")
    tokens = [line.split(" ")[0] for line in path.read_text(encoding="utf-8").splitlines()[1:]]
    found = read_vectors(path, {token: k for k, token in enumerate(tokens)})
    table = np.zeros((len(tokens), found.dim), np.float32)
    table[found.ids] = found.rows
    return tokens, table


@pytest.mark.parametrize("content, message", [
    ("not a header\nrefund 1 2 3 4\n", "w.vec:1: expected the header"),
    ("2 4\nrefund 1 2 3\n", "w.vec:2: expected a word and 4 numbers"),
    ("2 4\nrefund 1 2 3 4\nparcel 1 x 3 4\n", "w.vec:3: not a number"),
    ("1 4\nrefund 1 2 nan 4\n", "w.vec:2: a value of 'refund' is not finite"),
])
def test_bad_vector_files_are_named_by_line(cli, tmp_path, content, message):
    (tmp_path / "w.vec").write_text(content, encoding="utf-8")
    result = cli("train", SAMPLE / "topics.tsv", "-o", tmp_path / "run", "--pretrained-vectors", tmp_path / "w.vec",
                 *TINY)
    assert_one_error(result, 1, message)
    assert not (tmp_path / "run").exists()


def test_pretrained_vectors_need_a_word_vocabulary_of_their_width(cli, tmp_path):
    vectors = vec_file(tmp_path, ["refund 1 2 3 4"], "1 4")
    result = cli("train", SAMPLE / "english.txt", "-o", tmp_path / "a", "--level", "char", "--pretrained-vectors",
                 vectors)
    assert_one_error(result, 2, "needs a word vocabulary")
    result = cli("train", SAMPLE / "topics.tsv", "-o", tmp_path / "b", "--pretrained-vectors", vectors,
                 "--embed", "8")
    assert_one_error(result, 2, "--embed 8 differs from the 4 dimensions")


def test_the_vec_writer_and_reader_round_trip(tmp_path):
    table = np.random.default_rng(0).standard_normal((3, 5)).astype(np.float32)
    out = io.StringIO()
    write_vectors(["a", "b", "c"], table, out)
    path = tmp_path / "t.vec"
    path.write_text(out.getvalue())
    found = read_vectors(path, {"a": 0, "c": 2})
    assert list(found.ids) == [0, 2] and np.allclose(found.rows, table[[0, 2]], atol=1e-5)


def test_embed_prints_the_vector_the_output_layer_reads(cli, tmp_path):
    run = tmp_path / "clf"
    cli.ok("train", SAMPLE / "topics.tsv", "-o", run, *TINY)
    texts = "my invoice is wrong\nthe parcel is late\n"
    records = [json.loads(line) for line in cli.ok("embed", "-c", run, "-f", "jsonl", input=texts).stdout.splitlines()]
    plain = [[float(x) for x in line.split()] for line in cli.ok("embed", "-c", run, input=texts).stdout.splitlines()]
    assert [r["text"] for r in records] == texts.splitlines()
    assert len(records[0]["vector"]) == 2 * 16  # bidirectional, hidden 16
    assert np.allclose([r["vector"] for r in records], plain, atol=1e-5)
    import torch

    from rnncli.api import load

    trained = load(run)
    vectors = trained.embed(texts.splitlines())
    logits = trained.model.output(torch.from_numpy(vectors))
    probs = torch.softmax(logits, -1).detach().numpy()
    labels = [c[0][0] for c in trained.classify(texts.splitlines())]
    assert [trained.labels[i] for i in probs.argmax(1)] == labels


def test_neighbours_are_tab_separated_and_unknown_words_warned(cli, tmp_path):
    run = tmp_path / "clf"
    cli.ok("train", SAMPLE / "topics.tsv", "-o", run, *TINY)
    result = cli.ok("neighbours", "-c", run, "refund", "zzzz", "-k", "3")
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert len(rows) == 3 and all(r[0] == "refund" and r[1] != "refund" and -1 <= float(r[2]) <= 1 for r in rows)
    assert [float(r[2]) for r in rows] == sorted((float(r[2]) for r in rows), reverse=True)
    assert "'zzzz' is not in the vocabulary" in result.stderr


def test_sentence_vectors_carry_the_signal_on_sms_spam(cli, tmp_path):
    """A logistic regression on the vectors of the training texts classifies the test texts within
    0.02 of the model's own accuracy."""
    train, test = shared("sms_spam", "train.tsv"), shared("sms_spam", "test.tsv")
    run = tmp_path / "sms"
    cli.ok("train", train, "-o", run, "--task", "classify", "--time-budget", "30", "-q")
    own = json.loads(cli.ok("evaluate", "-c", run, test, "--json").stdout)["accuracy"]

    def read(path):  # type: ignore[no-untyped-def]
        pairs = [line.split("\t", 1) for line in path.read_text(encoding="utf-8").splitlines()]
        return [p[1] for p in pairs], [p[0] for p in pairs]

    from rnncli.api import load

    trained = load(run)
    (x_texts, y_train), (t_texts, y_test) = read(train), read(test)
    x, t = trained.embed(x_texts), trained.embed(t_texts)
    labels = sorted(set(y_train))
    y = np.array([labels.index(v) for v in y_train])
    mean, scale = x.mean(0), x.std(0) + 1e-6
    x, t = (x - mean) / scale, (t - mean) / scale
    w, b = np.zeros((x.shape[1], len(labels))), np.zeros(len(labels))
    onehot = np.eye(len(labels))[y]
    for _ in range(300):  # full-batch gradient descent on the softmax cross-entropy
        z = x @ w + b
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        w -= 0.5 * (x.T @ (p - onehot) / len(x) + 1e-4 * w)
        b -= 0.5 * (p - onehot).mean(0)
    accuracy = float(np.mean([labels[i] == g for i, g in zip((t @ w + b).argmax(1), y_test)]))
    assert accuracy >= own - 0.02, (accuracy, own)
