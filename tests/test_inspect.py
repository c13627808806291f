"""rnncli inspect: a trained network's units, guesses and evidence as a page a person looks at."""

from __future__ import annotations

import json
import re
import time

import numpy as np
import pytest
import torch

from rnncli.inside.features import Unit, best_units, bracket_depth, correlations, inside_quotes, line_position
from tests.conftest import SAMPLE, assert_one_error, shared

TINY = ["--threads", "1", "--precision", "fp32", "-q"]


@pytest.fixture(scope="module")
def char_lm(tmp_path_factory):
    from typer.testing import CliRunner

    from rnncli.cli import app

    run = tmp_path_factory.mktemp("inspect") / "lm"
    done = CliRunner().invoke(app, ["train", str(SAMPLE / "english.txt"), "-o", str(run), "--level", "char",
                                    "--max-steps", "40", "--hidden", "32", "--layers", "2", *TINY])
    assert done.exit_code == 0, done.stderr
    return run


def loads_nothing_from_the_network(page: str) -> bool:
    """No script, style sheet, font, image or frame from anywhere but the page itself."""
    outside = re.search(r"""(<script[^>]+src=|<link\b|@import|url\(|<img\b|<iframe\b|https?://)""", page, re.I)
    return outside is None


def page_data(page: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="rnncli-data">(.*?)</script>', page,
                                re.S).group(1).replace("<\\/", "</"))


# ----- features of a text, and the units that follow them ----------------------------------------

def test_text_features_one_value_per_character():
    text = 'say "hi (there)" now\nab'
    assert inside_quotes(text).tolist() == [0] * 4 + [1] * 12 + [0] * 7
    assert line_position(text).tolist() == list(range(21)) + [0, 1]
    assert bracket_depth(text).tolist() == [0] * 8 + [1] * 7 + [0] * 8
    assert inside_quotes('"open\n\nclosed').tolist() == [1] * 6 + [0] * 7  # a paragraph ends a quotation


def test_the_unit_that_follows_a_feature_is_found_whatever_its_sign():
    rng = np.random.default_rng(0)
    feature = (rng.random(500) > 0.5).astype(np.float32)
    units = {"h1": rng.normal(size=(500, 8)), "c2": rng.normal(size=(500, 8))}
    units["c2"][:, 5] = -feature + 0.1 * rng.normal(size=500)
    found = best_units(units, feature, 2)
    assert found[0][0] == Unit("c", 2, 5) and found[0][1] < -0.9 and abs(found[1][1]) < 0.3
    assert correlations(np.ones((5, 2)), np.arange(5.0)).tolist() == [0.0, 0.0]  # a constant unit: 0, not NaN


# ----- the language model ------------------------------------------------------------------------

def test_the_trace_reads_the_network_as_it_runs():
    """The hidden states are the fused module's; the cells recomputed from the gates end where the
    fused module's final cell state is; surprisal and guesses are the decoder's."""
    from rnncli.inside.lm import trace
    from rnncli.models.config import ModelConfig
    from rnncli.models.lm import LanguageModel
    from rnncli.text.vocab import EOS, CharVocab

    torch.manual_seed(0)
    vocab = CharVocab(list("abc \"'"))
    model = LanguageModel(ModelConfig(kind="lstm", vocab_size=len(vocab), embed=4, hidden=6, layers=2)).eval()
    found = trace(model, vocab, "ab ca\nbc\n", 1000, top=3)
    assert found.pieces == list("ab ca\nbc\n") and found.text == "ab ca\nbc\n"
    ids = torch.tensor([EOS] + [vocab.encode(c)[0] if c != "\n" else EOS for c in "ab ca\nbc\n"])[:, None]
    with torch.no_grad():
        out, (h, c) = model.rnn(model.embedding(ids))
        log_probs = model.log_probs(out)
    assert np.allclose(found.units["h2"], out[1:, 0].numpy(), atol=1e-5)
    assert np.allclose(found.units["c2"][-1], c[1, 0].numpy(), atol=1e-5)
    assert np.allclose(found.units["c1"][-1], c[0, 0].numpy(), atol=1e-5)
    bits = -log_probs[torch.arange(9), ids[1:, 0]].numpy() / np.log(2)
    assert np.allclose(found.surprisal, bits, atol=1e-4)
    assert [g[0] for g in found.guesses[0]] == [("\n" if i == EOS else vocab.tokens[i])
                                                for i in log_probs[1].topk(3).indices.tolist()]
    assert list(found.units) == ["h1", "c1", "h2", "c2"]


def test_a_language_model_page(char_lm, cli, tmp_path):
    text = 'Pavel said: "We must go." Anna (the baker) ran.\nThe end.\n'
    (tmp_path / "t.txt").write_text(text)
    done = cli.ok("inspect", "-c", char_lm, tmp_path / "t.txt", "--find", "quotes", "--find", "brackets",
                  "--unit", "h1:3")
    page = done.stdout
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert loads_nothing_from_the_network(page)
    assert page.count('<span class="t"') == len(text)  # one per character, the newlines included
    data = page_data(page)
    assert "".join(data["pieces"]) == text and len(data["guesses"]) == len(text) == len(data["surprisal"])
    assert all(len(g) == 5 and abs(sum(p for _, p in g)) <= 1.0001 for g in data["guesses"])
    names = [u["name"] for u in data["units"]]
    assert "h1:3" in names and len(names) == 48 and len(set(names)) == 48
    assert re.search(r'<option value="surprisal"', page) and page.count('<tr class="pick"') == 6
    assert "quotes: best unit" in done.stderr and "brackets: best unit" in done.stderr


def test_numbers_and_a_picture(char_lm, cli, tmp_path):
    text = "The quiet painter told the baker.\n" * 3
    (tmp_path / "t.txt").write_text(text)
    rows = [json.loads(line) for line in cli.ok("inspect", "-c", char_lm, tmp_path / "t.txt", "-f", "jsonl",
                                                "--find", "line-position").stdout.splitlines()]
    assert len(rows) == len(text) and [r["token"] for r in rows] == list(text)
    assert set(rows[0]) == {"i", "token", "surprisal_bits", "guesses", "units"} and len(rows[0]["units"]) == 48
    picture = tmp_path / "p.png"
    done = cli.ok("inspect", "-c", char_lm, tmp_path / "t.txt", "-o", picture, "--find", "line-position")
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and done.stdout == "" and "png written" in done.stderr


def test_a_long_text_is_cut_with_a_notice_and_a_page_stays_small_and_quick(tmp_path, cli):
    """10,000 characters through a network of the size a 120 s character model has: a page under
    5 MB in under 10 s; past --max-chars the text is cut at a line's end, and the page says so."""
    run = tmp_path / "big"
    cli.ok("train", SAMPLE / "english.txt", "-o", run, "--level", "char", "--max-steps", "1", "--hidden", "512",
           "--layers", "2", *TINY)
    text = (SAMPLE / "english.txt").read_text()[:30_000]
    (tmp_path / "t.txt").write_text(text)
    began = time.perf_counter()
    done = cli.ok("inspect", "-c", run, tmp_path / "t.txt", "-o", tmp_path / "p.html", "--find", "quotes")
    seconds = time.perf_counter() - began
    page = (tmp_path / "p.html").read_text()
    assert seconds < 10 and len(page.encode()) < 5_000_000, (seconds, len(page.encode()))
    shown = "".join(page_data(page)["pieces"])
    assert 9_000 < len(shown) <= 10_000 and shown.endswith("\n") and text.startswith(shown)
    assert "the text was cut" in done.stderr and "the text was cut" in page


def test_what_inspect_refuses(char_lm, cli, tmp_path):
    (tmp_path / "t.txt").write_text("abc\n")
    assert_one_error(cli("inspect", "-c", char_lm, tmp_path / "t.txt", "--find", "sentiment"), 1, "--find takes")
    (tmp_path / "f.txt").write_text("01")
    assert_one_error(cli("inspect", "-c", char_lm, tmp_path / "t.txt", "--find", tmp_path / "f.txt"), 1,
                     "2 values for a text of 4 characters")
    assert_one_error(cli("inspect", "-c", char_lm, tmp_path / "t.txt", "--unit", "x1"), 2, "--unit takes")
    assert_one_error(cli("inspect", "-c", char_lm, tmp_path / "t.txt", "--unit", "h9:1"), 2, "no such unit")
    assert_one_error(cli("inspect", "-c", char_lm, tmp_path / "t.txt", "-f", "png"), 2, "needs --output")
    assert_one_error(cli("inspect", "-c", char_lm, input="\n\n"), 1, "empty")
    counted = tmp_path / "ngram"
    cli.ok("train", SAMPLE / "english.txt", "-o", counted, "--model", "ngram", "--level", "char", "-q")
    assert_one_error(cli("inspect", "-c", counted, tmp_path / "t.txt"), 2, "counted")


def test_a_feature_file_of_zeros_and_ones(char_lm, cli, tmp_path):
    (tmp_path / "t.txt").write_text("abab\n")
    (tmp_path / "f.txt").write_text("1010\n0\n")
    done = cli.ok("inspect", "-c", char_lm, tmp_path / "t.txt", "--find", tmp_path / "f.txt", "-f", "jsonl")
    assert "f.txt: best unit" in done.stderr


# ----- classifiers --------------------------------------------------------------------------------

def test_a_classifiers_evidence_is_occlusion(tmp_path, cli):
    """Each token's effect is p(label | text) - p(label | text without it), from the served engine."""
    import rnncli
    from rnncli.inside.evidence import occlusion
    from rnncli.serving import serving

    run = tmp_path / "c"
    cli.ok("train", SAMPLE / "topics.tsv", "-o", run, "--epochs", "2", *TINY)
    texts = ["my card was charged twice", "the flight was late"]
    with serving(str(run), "classify") as engine:
        found = occlusion(engine, texts)
    classifier = rnncli.load(run)
    whole = classifier.engine.probs(*_padded([engine.vocab.encode(texts[0])]))[0]
    without = classifier.engine.probs(*_padded([engine.vocab.encode(" ".join(texts[0].split()[1:]))]))[0]
    assert found[0].pieces == texts[0].split() and np.allclose(found[0].probs, whole, atol=1e-4)
    assert np.allclose(found[0].effects[0], whole - without, atol=1e-4)
    page = cli.ok("inspect", "-c", run, input="\n".join(texts) + "\n").stdout
    assert loads_nothing_from_the_network(page) and "occlusion" in page
    assert page.count('<div class="row">') == 2 and "tokens that raise p(" in page
    rows = [json.loads(line) for line in cli.ok("inspect", "-c", run, "-f", "jsonl", input=texts[1]).stdout.splitlines()]
    assert rows[0]["tokens"] == texts[1].split() and set(rows[0]["effects"]) == set(rows[0]["probs"])
    assert_one_error(cli("inspect", "-c", run, "--find", "quotes", input="x\n"), 2, "language model")


def _padded(sequences):
    lengths = np.array([len(s) for s in sequences], dtype=np.int64)
    tokens = np.zeros((len(sequences), lengths.max()), dtype=np.int64)
    for row, ids in enumerate(sequences):
        tokens[row, :len(ids)] = ids
    return tokens, lengths


def test_the_words_that_make_a_message_spam_are_the_expected_ones(tmp_path, cli):
    """On sms_spam's test messages, the tokens whose removal lowers p(spam) most include the words a
    reader expects of spam."""
    from rnncli.inside.evidence import strongest_tokens
    from rnncli.inside.opening import inspect_run
    from rnncli.inside.report import InspectOptions

    data = shared("sms_spam", "test.tsv").parent
    run = tmp_path / "spam"
    cli.ok("train", data / "train.tsv", "-o", run, "--epochs", "3", "--threads", "2", "-q")
    found = inspect_run(str(run), (data / "test.tsv").read_text(), InspectOptions(max_chars=10_000_000))
    assert len(found.evidence) == len((data / "test.tsv").read_text().splitlines())
    top = [token for token, _, _ in strongest_tokens(found.evidence, found.labels.index("spam"), 25)]
    expected = {"free", "prize", "call", "txt", "txts", "text", "claim", "win", "won", "winner", "mobile", "cash",
                "urgent", "reply", "stop", "service", "services", "guaranteed", "award", "awarded", "tone",
                "ringtone", "nokia", "150p", "sms", "dating", "chat", "pobox", "freemsg", "landline", "selected"}
    assert len(expected & set(top)) >= 4, top
