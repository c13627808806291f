"""rnncli demo: the README's first command, on the bundled Shakespeare, ending with the inspect page."""

from __future__ import annotations

from pathlib import Path

from rnncli.cli import demo as demo_module
from tests.conftest import ROOT, SAMPLE
from tests.test_inspect import page_data


def test_the_plays_are_bundled_ascii_text_and_the_validation_play_is_not_in_training():
    plays = (SAMPLE / "shakespeare.txt").read_text(encoding="ascii")
    valid = (SAMPLE / "shakespeare-valid.txt").read_text(encoding="ascii")
    assert len(plays) > 1_000_000 and len(valid) > 100_000
    assert plays.startswith("HAMLET") and valid.startswith("TWELFTH NIGHT")
    assert "If music be the food of love" in valid and "If music be the food of love" not in plays


def test_demo_trains_on_shakespeare_generates_and_writes_the_inspect_page(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    done = cli.ok("demo", "--seconds", "5", "--dir", tmp_path / "demo")
    out = done.stdout.splitlines()
    assert out[0].startswith("To be, or not")
    assert any(line.startswith("My lord,") for line in out)
    assert any("Jordan/" in line for line in out), "the tagger's sentence"
    page = Path(out[-1])
    assert page == tmp_path / "demo" / "lm-inside.html" and page.is_file()
    data = page_data(page.read_text(encoding="utf-8"))
    assert "".join(data["pieces"]).startswith("SCENE I. An Apartment in the DUKE'S Palace.")
    assert {unit["name"] for unit in data["units"]} and data["guesses"]
    assert "shakespeare.txt" in done.stderr and "== 6." in done.stderr
    assert "follows it best, correlation" in done.stderr
    assert "Traceback" not in done.stderr


def test_away_from_the_repository_the_language_model_reads_synthetic_english_and_says_so(tmp_path, monkeypatch,
                                                                                         capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "work").mkdir()
    files = demo_module._sample_files(tmp_path / "work")
    assert files["shakespeare.txt"] == tmp_path / "work" / "english.txt"
    assert files["shakespeare-valid.txt"].is_file()
    assert "synthetic English" in capsys.readouterr().err
