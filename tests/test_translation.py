"""Translation end to end with tiny models: train an encoder-decoder from sentence pairs (the task
inferred), translate greedy and with beams, evaluate with sacrebleu, serve the ONNX export as torch
serves, draw the alignment, and refuse bad input with one error line."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from tests.conftest import assert_one_error

WORDS = {"ein": "a", "hund": "dog", "katze": "cat", "läuft": "runs", "schläft": "sleeps", "rot": "red",
         "groß": "big", "klein": "small", "haus": "house", "im": "in the", "garten": "garden", "und": "and"}
TINY = ["--level", "word", "--embed", "32", "--hidden", "64", "--batch-size", "16", "--threads", "1", "-q"]


def pair(rng: random.Random) -> tuple[str, str]:
    """Each German word has its English words, in the same order: a task attention learns fast."""
    source = [rng.choice(sorted(WORDS)) for _ in range(rng.randint(2, 7))]
    return " ".join(source), " ".join(WORDS[w] for w in source)


def pairs_file(path, count: int, seed: int):
    rng = random.Random(seed)
    path.write_text("".join("\t".join(pair(rng)) + "\n" for _ in range(count)), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def translator(tmp_path_factory):
    """Pairs, and a translation model trained on them (shared by the tests that only read it)."""
    from typer.testing import CliRunner

    from rnncli.cli import app

    root = tmp_path_factory.mktemp("mt")
    pairs_file(root / "train.tsv", 600, 0)
    pairs_file(root / "valid.tsv", 40, 1)
    run = root / "run"
    result = CliRunner().invoke(app, ["train", str(root / "train.tsv"), "--valid", str(root / "valid.tsv"),
                                      "-o", str(run), "--max-steps", "250", "--lr", "0.01", "--dropout", "0",
                                      "--model", "gru", *TINY])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    config = json.loads((run / "config.json").read_text())
    assert config["task"] == "seq2seq"  # inferred from the data
    assert config["model"]["attention"] == "dot" and config["model"]["target_vocab_size"] > 0
    assert (run / "target-vocab.json").is_file()
    return root, run


def test_a_translator_learns_the_pairs_and_evaluate_scores_it_with_sacrebleu(translator, cli):
    root, run = translator
    out = cli.ok("translate", "-c", run, "--device", "cpu", input="ein hund läuft\nkatze im haus und garten\n")
    assert out.stdout == "a dog runs\ncat in the house and garden\n"
    assert out.stderr == ""
    report = json.loads(cli.ok("evaluate", "-c", run, root / "valid.tsv", "--json").stdout)
    assert {"bleu", "chrf", "loss", "ppl", "sacrebleu_signature", "length_ratio"} <= set(report)
    assert report["bleu"] > 75 and report["pairs"] == 40 and report["beam"] == 1
    assert "tok:13a" in report["sacrebleu_signature"] and "case:mixed" in report["sacrebleu_signature"]
    shown = cli.ok("evaluate", "-c", run, root / "valid.tsv", "--beam", "3")
    assert shown.stdout == "" and "BLEU" in shown.stderr and "beam 3" in shown.stderr


def test_beams_jsonl_alignment_and_generate_agree(translator, cli, tmp_path):
    root, run = translator
    lines = [pair(random.Random(k))[0] for k in range(5)]
    text = "".join(line + "\n" for line in lines)
    greedy = cli.ok("translate", "-c", run, input=text).stdout.splitlines()
    beams = cli.ok("translate", "-c", run, "--beam", "4", input=text).stdout.splitlines()
    assert len(greedy) == len(beams) == 5
    rows = [json.loads(r) for r in cli.ok("translate", "-c", run, "--beam", "4", "--format", "jsonl", "--attention",
                                          input=text).stdout.splitlines()]
    assert [r["translation"] for r in rows] == beams and [r["source"] for r in rows] == lines
    for row in rows:
        weights = np.array(row["attention"])
        assert weights.shape == (len(row["target_tokens"]), len(row["source_tokens"]))
        assert np.allclose(weights.sum(1), 1.0, atol=1e-3) and row["logprob"] <= 0
    generated = cli.ok("generate", "-c", run, "--beam", "4", input=text)
    assert generated.stdout.splitlines() == beams
    assert_one_error(cli("generate", "-c", run, "-n", "3", input=text), code=2, contains="--num-samples: a translation run")
    png = tmp_path / "align.png"
    drawn = cli.ok("translate", "-c", run, "--plot", png, input=text)
    assert drawn.stdout.splitlines() == greedy and png.read_bytes()[:4] == b"\x89PNG"


def test_python_api_translates_as_the_command(translator, cli):
    import rnncli

    _, run = translator
    sources = ["ein hund schläft", "klein katze läuft im garten"]
    loaded = rnncli.load(run, device="cpu")
    assert loaded.translate(sources, beam=3) == cli.ok("translate", "-c", run, "--beam", "3",
                                                       input="\n".join(sources) + "\n").stdout.splitlines()
    with pytest.raises(Exception, match="translation model"):
        loaded.generate("x")


def test_the_onnx_export_serves_as_torch_does(translator, tmp_path):
    """The encoder graph and the one-step decoder graph give torch's log-probabilities and its
    translations, greedy and with beams, without torch in the serving path."""
    import rnncli
    from rnncli.export import export_run
    from rnncli.tasks.translation.exported import ExportedTranslator
    from rnncli.tasks.translation.inference import reference_loss

    _, run = translator
    loaded = rnncli.load(run, device="cpu")
    exported = ExportedTranslator(export_run(loaded.loaded, tmp_path / "onnx"))
    torch_engine = loaded.engine
    torch_engine.precision = "fp32"
    sources = [pair(random.Random(k))[0] for k in range(20)] + ["hund " * 60]  # longer than any seen
    ids = torch_engine.vocab.encode_batch(sources)
    targets = torch_engine.target_vocab.encode_batch([pair(random.Random(k))[1] for k in range(20)] + ["dog"])
    assert reference_loss(exported, ids, targets)[0] == pytest.approx(reference_loss(torch_engine, ids, targets)[0],
                                                                     rel=1e-4)
    for beam in (1, 3):
        ours, theirs = (e.translate(sources, beam=beam, attention=True) for e in (exported, torch_engine))
        assert [t.text for t in ours] == [t.text for t in theirs]
        assert np.allclose([t.score for t in ours], [t.score for t in theirs], atol=1e-3)
        assert np.allclose(ours[0].attention, theirs[0].attention, atol=1e-4)


@pytest.mark.parametrize("shape", [("lstm", "2", "additive"), ("rnn", "1", "none"), ("gru", "2", "dot")])
def test_every_kind_layer_count_and_attention_exports_as_torch_computes(translator, cli, tmp_path, shape):
    import rnncli
    from rnncli.export import export_run
    from rnncli.tasks.translation.exported import ExportedTranslator
    from rnncli.tasks.translation.inference import reference_loss

    root, _ = translator
    kind, layers, attention = shape
    run = tmp_path / "run"
    cli.ok("train", root / "train.tsv", "-o", run, "--model", kind, "--layers", layers, "--attention", attention,
           "--max-steps", "3", *TINY)
    loaded = rnncli.load(run, device="cpu")
    loaded.engine.precision = "fp32"
    exported = ExportedTranslator(export_run(loaded.loaded, tmp_path / "onnx", quantize="int8"), "fp32")
    sources = [pair(random.Random(k))[0] for k in range(8)]
    ids = loaded.vocab.encode_batch(sources)
    targets = loaded.engine.target_vocab.encode_batch([pair(random.Random(k))[1] for k in range(8)])
    assert reference_loss(exported, ids, targets)[0] == pytest.approx(reference_loss(loaded.engine, ids, targets)[0],
                                                                     rel=1e-4)
    assert [t.text for t in exported.translate(sources, beam=2)] == [t.text for t in loaded.engine.translate(sources,
                                                                                                           beam=2)]
    quantized = ExportedTranslator(tmp_path / "onnx", "int8")
    assert len(quantized.translate(sources)) == 8


def test_the_export_serves_the_command_without_torch(translator, cli):
    from tests.conftest import probe_command

    _, run = translator
    first = cli.ok("translate", "-c", run, "--verbose", input="ein hund\n")  # the first call exports
    assert "onnx" in first.stderr
    out, modules = probe_command("translate", "-c", str(run), stdin="ein hund\n")
    assert out == first.stdout and "torch" not in modules


def test_batch_beam_search_is_greedy_at_one_beam_and_finds_the_likelier_sequence():
    """A toy model whose likelier first token leads to worse endings: greedy takes it, beams do not."""
    from rnncli.infer.search import batch_beam_search
    from rnncli.text.vocab import BOS, EOS

    a, b = 4, 5
    table = {(): {a: 0.6, b: 0.4}, (a,): {a: 0.3, b: 0.3, EOS: 0.4}, (b,): {EOS: 1.0}}

    def step(tokens, histories):
        """The state is each row's tokens so far; the next token's log-probabilities follow them."""
        histories = [h + ([] if t == BOS else [int(t)]) for h, t in zip(histories, tokens)]
        logp = np.full((len(histories), 7), -30.0)
        for row, history in enumerate(histories):
            for token, p in table.get(tuple(history), {EOS: 1.0}).items():
                logp[row, token] = np.log(p)
        return logp, histories, None

    def search(beam):
        return batch_beam_search(step, lambda state, rows: [state[r] for r in rows], [[]] * beam, 1, beam,
                                 np.array([5]))[0]

    assert search(1)[0].ids == [a]  # greedy: 0.6 * 0.4 = 0.24
    assert search(2)[0].ids == [b] and search(2)[0].total == pytest.approx(np.log(0.4))  # 0.4 * 1.0


def test_bad_pairs_give_one_error_line_and_no_run(cli, tmp_path):
    run = tmp_path / "run"
    cases = {
        "no-tab.tsv": ("ein hund\ta dog\nkein tab hier\n", "no-tab.tsv:2: expected source<TAB>target"),
        "empty.tsv": ("ein hund\ta dog\n\tthe target alone\n", "empty.tsv:2: the source side is empty"),
    }
    for name, (text, message) in cases.items():
        (tmp_path / name).write_text(text)
        assert_one_error(cli("train", tmp_path / name, "--task", "seq2seq", "-o", run, *TINY), contains=message)
        assert not run.exists()
    (tmp_path / "bytes.tsv").write_bytes(b"ein hund\ta dog\nein \xff\ta cat\n")
    assert_one_error(cli("train", tmp_path / "bytes.tsv", "--task", "seq2seq", "-o", run, *TINY),
                     contains="bytes.tsv:2: invalid utf-8")
    labelled = tmp_path / "labelled.tsv"
    labelled.write_text("".join(f"{'spam' if k % 3 else 'ham'}\tmessage number {k} here\n" for k in range(60)))
    assert_one_error(cli("train", labelled, "--task", "seq2seq", "-o", run, *TINY),
                     contains="a classifier's data")
    assert not run.exists()
    assert_one_error(cli("train", labelled, "--attention", "dot", "-o", run, *TINY), code=2,
                     contains="--attention applies to translation models only")


def test_resume_init_from_and_info_know_both_vocabularies(translator, cli, tmp_path):
    root, run = translator
    train = root / "train.tsv"
    first = tmp_path / "first"
    cli.ok("train", train, "-o", first, "--max-steps", "8", "--eval-every", "4", *TINY)
    cli.ok("train", train, "-o", first, "--resume", "--max-steps", "12", "-q")
    assert json.loads((first / "metrics.jsonl").read_text().splitlines()[-1])["step"] == 12
    tuned = tmp_path / "tuned"
    cli.ok("train", root / "valid.tsv", "-o", tuned, "--init-from", run, "--max-steps", "4", "-q", "--threads", "1")
    assert (tuned / "target-vocab.json").read_text() == (run / "target-vocab.json").read_text()
    assert cli.ok("translate", "-c", tuned, input="ein hund\n").stdout.count("\n") == 1
    info = json.loads(cli.ok("info", "-c", run, "--json").stdout)
    assert info["task"] == "seq2seq" and info["best"]["bleu"] > 75 and info["target_vocabulary"]["level"] == "word"
    shown = cli.ok("info", "-c", run)
    assert "dot attention" in shown.stdout + shown.stderr and "target side word" in shown.stdout + shown.stderr


def test_shared_vocabulary_shares_the_embedding(translator, cli, tmp_path):
    root, _ = translator
    run = tmp_path / "shared"
    cli.ok("train", root / "train.tsv", "-o", run, "--shared-vocab", "--max-steps", "4", *TINY)
    config = json.loads((run / "config.json").read_text())
    assert config["model"]["target_vocab_size"] == 0 and not (run / "target-vocab.json").exists()
    assert cli.ok("translate", "-c", run, input="ein hund\n\nkatze\n").stdout.count("\n") == 3  # the empty line too


def test_inspect_shows_the_attention_of_each_translation(translator, cli):
    root, run = translator
    page = cli.ok("inspect", "-c", run, input="ein hund läuft\n").stdout
    assert page.count("<table>") == 1 and "hund" in page and "https://" not in page
    [row] = [json.loads(line) for line in cli.ok("inspect", "-c", run, "-f", "jsonl",
                                                  input="ein hund läuft\n").stdout.splitlines()]
    weights = np.array(row["attention"])
    assert row["target_tokens"][-1] == "<eos>" and weights.shape == (len(row["target_tokens"]), len(row["source_tokens"]))
    assert np.allclose(weights.sum(1), 1, atol=1e-3)
