"""Taggers end to end with tiny models: train (task inferred from CoNLL-U), tag in every format,
evaluate, serve by ONNX as by torch, count an HMM, and refuse bad input with one error line."""

from __future__ import annotations

import json
import random

import pytest

from tests.conftest import assert_one_error

TINY = ["--embed", "16", "--hidden", "16", "--batch-size", "8", "--threads", "1", "-q"]
NOUNS, VERBS, ADJS = ["cat", "dog", "can", "mat", "bird"], ["sat", "ran", "saw", "can"], ["red", "big", "old"]


def sentence(rng: random.Random) -> list[tuple[str, str]]:
    """DET (ADJ) NOUN VERB DET NOUN . -- 'can' is a noun after a determiner and a verb after a noun."""
    words = [("the", "DET")] + ([(rng.choice(ADJS), "ADJ")] if rng.random() < 0.5 else [])
    words += [(rng.choice(NOUNS), "NOUN"), (rng.choice(VERBS), "VERB"), ("a", "DET"), (rng.choice(NOUNS), "NOUN")]
    return words + [(".", "PUNCT")]


def conllu(sentences: list[list[tuple[str, str]]]) -> str:
    return "".join(f"# sent_id = {k}\n" + "".join(f"{i}\t{w}\t_\t{t}\t_\t_\t0\t_\t_\t_\n"
                                                  for i, (w, t) in enumerate(s, 1)) + "\n"
                   for k, s in enumerate(sentences))


@pytest.fixture(scope="module")
def tagged(tmp_path_factory):
    """A tiny treebank, and a tagger trained on it (shared by the tests that only read it)."""
    from typer.testing import CliRunner

    from rnncli.cli import app

    root = tmp_path_factory.mktemp("tag")
    rng = random.Random(0)
    (root / "train.conllu").write_text(conllu([sentence(rng) for _ in range(300)]))
    (root / "dev.conllu").write_text(conllu([sentence(rng) for _ in range(40)]))
    run = root / "run"
    result = CliRunner().invoke(app, ["train", str(root / "train.conllu"), "--valid", str(root / "dev.conllu"),
                                      "-o", str(run), "--max-steps", "200", "--lr", "0.01", "--dropout", "0", *TINY])
    assert result.exit_code == 0, result.stderr
    config = json.loads((run / "config.json").read_text())
    assert config["task"] == "tag"  # inferred from the data
    assert config["plan"]["tokenizer"]["build"]["lowercase"] is True and config["model"]["affix_embed"] > 0
    assert config["model"]["crf"] is False  # part-of-speech tags: a softmax per token
    return root, run


def test_a_tagger_learns_context_and_spelling(tagged, cli):
    root, run = tagged
    out = cli.ok("tag", "-c", run, "--weights", "last", "--device", "cpu",
                 input="the can saw a cat .\nthe dog can a bird .\n")
    assert out.stdout == ("the/DET can/NOUN saw/VERB a/DET cat/NOUN ./PUNCT\n"
                          "the/DET dog/NOUN can/VERB a/DET bird/NOUN ./PUNCT\n")
    report = json.loads(cli.ok("evaluate", "-c", run, root / "dev.conllu", "--json").stdout)
    assert report["accuracy"] > 0.98 and report["tokens"] == sum(1 for line in (root / "dev.conllu").read_text()
                                                                   .splitlines() if line[:1].isdigit())
    assert set(report) >= {"accuracy", "unseen_accuracy", "per_tag", "confused"} and "entity" not in report


def test_formats_jsonl_and_conllu(tagged, cli):
    root, run = tagged
    row = json.loads(cli.ok("tag", "-c", run, "-f", "jsonl", "-k", "2", input="the old bird ran\n").stdout)
    assert row["tokens"] == ["the", "old", "bird", "ran"] and len(row["probs"]) == 4 and len(row["top"][0]) == 2
    assert row["top"][0][0] == [row["tags"][0], row["probs"][0]]
    blank = (root / "dev.conllu").read_text().replace("\tNOUN\t", "\t_\t")
    (root / "blank.conllu").write_text(blank)
    filled = cli.ok("tag", "-c", run, root / "blank.conllu").stdout
    assert filled.count("\n") == blank.count("\n") and "\tNOUN\t" in filled and filled.startswith("# sent_id = 0\n")
    assert cli.ok("tag", "-c", run, input="\n").stdout == "\n"


def test_the_export_serves_what_torch_serves(tagged, cli):
    root, run = tagged
    cli.ok("export", "-c", run)
    data = "the red mat sat a can .\nthe cat can\n"
    by_onnx = cli.ok("tag", "-c", run, "-f", "jsonl", input=data).stdout
    by_torch = cli.ok("tag", "-c", run, "-f", "jsonl", "--weights", "best", "--device", "cpu", input=data).stdout
    for a, b in zip(by_onnx.splitlines(), by_torch.splitlines()):
        a, b = json.loads(a), json.loads(b)
        assert a["tags"] == b["tags"] and a["probs"] == pytest.approx(b["probs"], abs=1e-4)


def test_a_crf_tagger_exports_and_decodes_as_torch_does(tagged, cli, tmp_path):
    """The CRF's transition scores travel in the ONNX model's metadata: Viterbi paths and marginals
    served without torch match torch's, for fp32 and (tags only) int8."""
    root, _ = tagged
    run = tmp_path / "crf"
    cli.ok("train", root / "train.conllu", "--valid", root / "dev.conllu", "-o", run, "--crf", "--max-steps", "40", "--precision", "fp32",
           "--lr", "0.01", *TINY)
    data = "the red mat sat a can .\nthe cat can\n"
    by_torch = [json.loads(x) for x in cli.ok("tag", "-c", run, "-f", "jsonl", "--weights", "best", "--device", "cpu",
                                              input=data).stdout.splitlines()]
    for quantize in ([], ["--quantize", "int8"]):
        cli.ok("export", "-c", run, *quantize)
        served = [json.loads(x) for x in cli.ok("tag", "-c", run, "-f", "jsonl", input=data).stdout.splitlines()]
        assert [row["tags"] for row in served] == [row["tags"] for row in by_torch], quantize
        if not quantize:
            for a, b in zip(served, by_torch):
                assert a["probs"] == pytest.approx(b["probs"], abs=1e-4)


def test_bio_tags_get_a_crf_by_default(cli, tmp_path):
    """Spans (BIO/BIOES tags) are read by a CRF unless --no-crf: it scored higher entity F1 on
    validation (docs/defaults.md); the plan says why."""
    data = tmp_path / "entities.txt"
    cli.ok("sample-data", "entities", "--lines", "60", "-o", data)
    for options, crf in (([], True), (["--no-crf"], False)):
        run = tmp_path / f"run{crf}"
        shown = cli.ok("train", data, "-o", run, "--max-steps", "2", *TINY[:-1], *options)
        assert json.loads((run / "config.json").read_text())["model"]["crf"] is crf
        assert ("a CRF over the tags: they are BIO/BIOES spans" in shown.stderr) is crf
        records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
        assert any("entity_f1" in r for r in records) and "best entity F1" in shown.stderr


def test_pretrained_vectors_fill_the_lowercased_word_table(tagged, cli, tmp_path):
    root, _ = tagged
    vectors = tmp_path / "v.vec"
    vectors.write_text("3 16\n" + "".join(f"{w} " + " ".join(["0.5"] * 16) + "\n" for w in ("the", "cat", "zebra")))
    shown = cli.ok("train", root / "train.conllu", "-o", tmp_path / "run", "--pretrained-vectors", vectors,
                   "--max-steps", "1", *TINY[:-1])
    assert "pretrained vectors: 2 of" in shown.stderr and shown.stdout == ""


def test_python_api(tagged, tmp_path):
    import rnncli

    root, run = tagged
    trained = rnncli.train(root / "train.conllu", tmp_path / "api", task="tag", max_steps=3, embed=8, hidden=8)
    assert trained.task == "tag" and len(trained.tag(["the cat sat"])[0]) == 3
    assert rnncli.load(run).tag(["the cat sat", ["a", "dog"]])[0] == [("the", "DET"), ("cat", "NOUN"),
                                                                      ("sat", "VERB")]


def test_the_hmm_is_counted_and_served_without_torch(tagged, cli, tmp_path):
    from tests.conftest import probe_command

    root, _ = tagged
    run = tmp_path / "hmm"
    result = cli.ok("train", root / "train.conllu", "--valid", root / "dev.conllu", "-o", run, "--model", "hmm", "-q")
    assert result.stdout == ""
    assert cli.ok("tag", "-c", run, input="the can saw a cat .\n").stdout == \
        "the/DET can/NOUN saw/VERB a/DET cat/NOUN ./PUNCT\n"
    assert json.loads(cli.ok("evaluate", "-c", run, root / "dev.conllu", "--json").stdout)["accuracy"] > 0.98
    out, modules = probe_command("tag", "-c", str(run), stdin="the dog ran\n")
    assert out == "the/DET dog/NOUN ran/VERB\n" and "torch" not in modules
    assert_one_error(cli("train", root / "train.conllu", "-o", tmp_path / "h2", "--model", "hmm", "--hidden", "8"),
                     2, "--hidden does not apply to --model hmm")


def test_unseen_tags_at_evaluate_are_counted_and_named(tagged, cli):
    root, run = tagged
    (root / "odd.conllu").write_text(conllu([[("the", "DET"), ("cat", "X-ODD")]]))
    result = cli.ok("evaluate", "-c", run, root / "odd.conllu", "--json")
    assert json.loads(result.stdout)["unknown_tags"] == {"X-ODD": 1}
    assert "X-ODD" in result.stderr and "never seen in training" in result.stderr


@pytest.mark.parametrize("text, message", [
    ("1\tthe\t_\tDET\t_\t_\t0\t_\t_\n", "d.conllu:1: 9 tab-separated columns; CoNLL-U has 10"),
    ("1\tthe\t_\t_\t_\t_\t0\t_\t_\t_\n", "d.conllu:1: no tag in the upos column"),
    ("", "no tagged sentences"),
])
def test_bad_training_data_is_one_error_and_writes_nothing(cli, tmp_path, text, message):
    data = tmp_path / "d.conllu"
    data.write_text(text)
    assert_one_error(cli("train", data, "-o", tmp_path / "run", "--task", "tag", *TINY), 1, message)
    assert not (tmp_path / "run").exists()


def test_bad_columns_are_one_error(cli, tmp_path):
    data = tmp_path / "d.txt"
    data.write_text("the DET\ncat NOUN\n\na DET\n")
    assert_one_error(cli("train", data, "-o", tmp_path / "run", "--task", "tag", "--tag-column", "4", *TINY),
                     1, "no tag column 4 on a line of 2 columns")
    data.write_text("the DET\ncat\n")
    assert_one_error(cli("train", data, "-o", tmp_path / "run", "--task", "tag", *TINY), 1, "a token without a tag")
    assert_one_error(cli("train", data, "-o", tmp_path / "run", "--level", "char", "--task", "tag", *TINY), 2,
                     "--level char does not apply")
    assert not (tmp_path / "run").exists()


def test_a_classifier_run_is_refused_by_tag(cli, tmp_path):
    from tests.conftest import SAMPLE

    run = tmp_path / "c"
    cli.ok("train", SAMPLE / "topics.tsv", "-o", run, "--max-steps", "2", *TINY)
    assert_one_error(cli("tag", "-c", run, input="a b\n"), 1, "holds a classifier; this command needs a tagger")


def test_task_inferred_from_columns_and_jsonl(tmp_path):
    from rnncli.args import TrainArgs
    from rnncli.prepare import task_of

    rng = random.Random(1)
    columns = tmp_path / "d.txt"
    columns.write_text("".join("".join(f"{w} {t}\n" for w, t in sentence(rng)) + "\n" for _ in range(5)))
    lines = tmp_path / "d.jsonl"
    lines.write_text(json.dumps({"tokens": ["a"], "tags": ["DET"]}) + "\n")
    for path in (columns, lines):
        assert task_of(TrainArgs.of(corpus=[str(path)]), [str(path)], lambda message: None) == "tag"



def test_info_describes_taggers_and_embed_refuses_them(tagged, cli, tmp_path):
    root, run = tagged
    facts = json.loads(cli.ok("info", "-c", run, "--json").stdout)
    assert facts["task"] == "tag" and facts["labels"] == ["ADJ", "DET", "NOUN", "PUNCT", "VERB"]
    assert facts["best"]["accuracy"] > 0.9 and facts["parameters"] > 1000
    assert_one_error(cli("embed", "-c", run, input="the cat\n"), 1, "whose vectors are per token")
    assert cli.ok("embed", "-c", run, "--words").stdout.count("\n") > 10
    hmm = tmp_path / "hmm"
    cli.ok("train", root / "train.conllu", "-o", hmm, "--model", "hmm", "-q")
    facts = json.loads(cli.ok("info", "-c", hmm, "--json").stdout)
    assert facts["model"]["kind"] == "hmm" and facts["parameters"] > 100
    assert "counted (transitions interpolated" in cli.ok("info", "-c", hmm).stderr + cli.ok("info", "-c", hmm).stdout


@pytest.mark.parametrize("perplexity", [False, True])
def test_the_progress_line_shows_perplexity_for_language_models_only(capsys, perplexity):
    """exp(loss) is a language model's perplexity; for a tagger's or a classifier's loss it means nothing."""
    from rnncli.cli.progress import ProgressPrinter

    printer = ProgressPrinter(log_every=0)
    printer.on_start({"unit": "tokens", "perplexity": perplexity, "total_steps": 2})
    printer.on_step({"step": 1, "epoch": 0, "loss": 0.5, "seen": 10, "train_seconds": 1.0, "lr": 1e-3})
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("step 1/2  epoch 0  loss 0.5000  ")
    assert ("ppl 1.65" in captured.err) is perplexity


def test_tag_streams_and_ends_quietly_into_head(tagged, tmp_path):
    """A line written to tag's stdin is tagged while stdin is still open; a reader that stops
    early (| head -1) ends it without a traceback or a failing status."""
    from tests.conftest import answers_while_open, ends_quietly_into_head

    _, run = tagged
    lines = [b"the cat sat a dog .\n", b"a bird ran\n"]
    for line, answer in zip(lines, answers_while_open(["tag", "-c", str(run)], lines)):
        assert answer.startswith(line.split()[0] + b"/")
    big = tmp_path / "big.txt"
    big.write_text("the old dog saw a red cat .\n" * 50_000)
    ends_quietly_into_head(f"tag -c {run} {big}")


def test_inspect_shows_each_tag_and_how_sure_the_tagger_is(tagged, cli):
    root, run = tagged
    page = cli.ok("inspect", "-c", run, input="the can saw a cat .\n").stdout
    assert page.count('<span class="t"') == 6 and "<sub>NOUN</sub>" in page and "https://" not in page
    [row] = [json.loads(line) for line in cli.ok("inspect", "-c", run, "-f", "jsonl", "--top", "2",
                                                  input="the can saw a cat .\n").stdout.splitlines()]
    assert row["tokens"] == "the can saw a cat .".split() and row["tags"][0] == "DET" and 0 < row["probs"][0] <= 1
