"""The benchmarks call rnncli's library directly. Each of those calls runs here for a few steps on
sample data, so that a change to the library breaks the suite instead of the next benchmark run.
The figures themselves come from `python bench/run.py`."""

from __future__ import annotations

import dataclasses
import importlib
import shutil

import pytest
import torch

from rnncli.plan import Shapes
from tests.conftest import ROOT, SAMPLE

TINY_LM = Shapes(embed=8, hidden=16, dropout=0.0, batch_size=2, bptt=8, lr=1e-3)


@pytest.fixture
def bench(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "bench"))

    def load(name: str):  # type: ignore[no-untyped-def]
        return importlib.import_module(name)

    return load


def test_training_benchmarks_run_both_loops(bench):
    train = bench("train")
    vocab, text, _, _ = train._lm_setup(SAMPLE / "english.txt")
    for loop in (train.rnncli_lm, train.bare_lm):
        assert loop(vocab, text, TINY_LM, "fp32", steps=3) > 0
    assert train.rnncli_lm(vocab, text, TINY_LM, "fp32", steps=3, as_run=True) > 0
    assert train.matmul_peak(torch.float32, size=64, repeats=1) > 0


def test_classifier_training_benchmarks_run_both_loops(bench):
    train = bench("train")
    vocab, x, y, labels, shapes = train._classifier_setup(SAMPLE / "topics.tsv")
    shapes = dataclasses.replace(shapes, embed=8, hidden=8, batch_size=4, bidirectional=True)
    for loop in (train.rnncli_classifier, train.bare_classifier):
        assert loop(vocab, x, y, labels, shapes, "fp32", steps=3) > 0


def test_generation_benchmarks_run(bench):
    generate = bench("generate")
    model = generate._model()
    assert generate.rnncli_rate(model, 5) > 0
    assert generate.rnncli_rate(model, 5, samples=2) > 0
    assert generate.bare_rate(model, 5) > 0
    early, late = generate.per_token_cost(model, total=120)
    assert early > 0 and late > 0


def test_encode_benchmark_helpers_run(bench, tmp_path):
    from rnncli.text.build import VocabOptions, build_vocabulary

    encode = bench("encode")
    vocab = build_vocabulary([str(SAMPLE / "english.txt")], VocabOptions(level="char")).vocab
    text = (SAMPLE / "english.txt").read_bytes()[:20_000]
    row = encode._linearity(tmp_path, text, vocab, repeats=1)
    assert row.ratio is not None and row.ratio > 0


@pytest.mark.skipif(shutil.which("spm_encode") is None, reason="spm_encode absent (bench/setup.sh installs it)")
def test_encode_command_benchmark_gives_spm_encodes_ids(bench, tmp_path):
    from rnncli.text.subword import train_subword

    encode = bench("encode")
    lines = (SAMPLE / "english.txt").read_text(encoding="utf-8").splitlines()[:2000]
    vocab, _ = train_subword(lines, "bpe", 400)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    [row] = encode._command_line(tmp_path, corpus, vocab, corpus.stat().st_size / 1e6, repeats=1)
    assert row.note == "the same ids, byte for byte"
