"""Fuzzing the loaders of untrusted files: random or mutated bytes give a clean error or a valid load."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, example, given, settings, strategies as st

from rnncli.run.weights import load_checkpoint, pack
from rnncli.errors import RnncliError
from rnncli.models.config import ModelConfig
from rnncli.models.lm import LanguageModel
from rnncli.text.build import VocabOptions, build_vocabulary
from rnncli.text.vocab import load_vocab
from tests.conftest import SAMPLE

# RNNCLI_FUZZ_EXAMPLES=5000 for a longer hunt than the suite's
SETTINGS = settings(max_examples=int(os.environ.get("RNNCLI_FUZZ_EXAMPLES", "120")), deadline=None,
                    suppress_health_check=list(HealthCheck))
WORK = Path(tempfile.mkdtemp(prefix="rnncli-fuzz-"))


def _vocab_bytes(level: str) -> bytes:
    report = build_vocabulary([str(SAMPLE / "english-valid.txt")], VocabOptions(level=level, vocab_size=400))
    path = WORK / f"{level}.json"
    report.vocab.save(path)
    return path.read_bytes()


VOCABS = {level: _vocab_bytes(level) for level in ("word", "char", "bpe")}
MODEL = LanguageModel(ModelConfig(vocab_size=40, embed=4, hidden=6))
CHECKPOINT = pack({"model": MODEL.state_dict()}, {"counters": {"step": 1}})


def mutate(data: bytes, edits: list[tuple[int, int]], cut: int | None) -> bytes:
    buffer = bytearray(data)
    for position, value in edits:
        buffer[position % len(buffer)] = value
    return bytes(buffer[:cut] if cut is not None else buffer)


edits = st.lists(st.tuples(st.integers(0, 1 << 30), st.integers(0, 255)), max_size=8)
cuts = st.one_of(st.none(), st.integers(0, 1 << 20))


def _load_vocab(data: bytes) -> None:
    path = WORK / "fuzzed.json"
    path.write_bytes(data)
    try:
        vocab = load_vocab(path)
    except RnncliError:
        return
    vocab.decode(vocab.encode("a b c"))


@SETTINGS
@given(data=st.binary(max_size=2000))
def test_vocab_loader_on_random_bytes(data):
    _load_vocab(data)


@pytest.mark.parametrize("level", sorted(VOCABS))
@SETTINGS
@given(edit=edits, cut=cuts)
@example(edit=[(9618, 56)], cut=None)  # once made a bpe model piece invalid UTF-8 (UnicodeDecodeError)
def test_vocab_loader_on_mutated_files(level, edit, cut):
    _load_vocab(mutate(VOCABS[level], edit, cut))


def _load_checkpoint(data: bytes) -> None:
    path = WORK / "fuzzed.safetensors"
    path.write_bytes(data)
    model = LanguageModel(ModelConfig(vocab_size=40, embed=4, hidden=6))
    try:
        load_checkpoint(model, path)
    except RnncliError:
        return
    assert all(torch.is_tensor(p) for p in model.state_dict().values())


@SETTINGS
@given(data=st.binary(max_size=4000))
def test_checkpoint_loader_on_random_bytes(data):
    _load_checkpoint(data)


@SETTINGS
@given(edit=edits, cut=cuts)
def test_checkpoint_loader_on_mutated_files(edit, cut):
    _load_checkpoint(mutate(CHECKPOINT, edit, cut))


def test_oversized_header_is_refused_before_reading_it(tmp_path):
    import struct

    path = tmp_path / "huge.safetensors"
    path.write_bytes(struct.pack("<Q", 1 << 40) + b"{}")
    model = LanguageModel(ModelConfig(vocab_size=40, embed=4, hidden=6))
    with pytest.raises(RnncliError, match="header"):
        load_checkpoint(model, path)


@pytest.mark.parametrize("metadata, message", [
    ({"format": "rnncli", "version": " "}, "is not a number"),
    ({"format": "rnncli", "version": "99"}, "is newer"),
    ({"format": "rnncli", "version": "1", "state": "[1, 2]"}, "not a JSON object"),
    ({"format": "rnncli", "version": "1", "state": "{"}, "not valid JSON"),
])
def test_checkpoint_metadata_that_does_not_parse_is_refused(tmp_path, metadata, message):
    """Found by the fuzzer: a version field mutated to a space once escaped as a ValueError."""
    from safetensors.torch import save_file

    from rnncli.run.weights import read_safetensors

    path = tmp_path / "c.safetensors"
    save_file({"model/x": torch.zeros(2)}, str(path), metadata=metadata)
    with pytest.raises(RnncliError, match=message):
        read_safetensors(path, 1 << 20)
