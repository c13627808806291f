"""Sentence pairs for translation: TSV and JSON lines, bad lines named as file:line, over-long
pairs counted, and pairs told from a classifier's label<TAB>text."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnncli.errors import ConfigError, InputError
from rnncli.text.pairs import PairReader, looks_paired, read_pairs

DATA = Path(os.environ.get("RNNCLI_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
MULTI30K = DATA / "multi30k"


def write(tmp_path: Path, name: str, text: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return str(path)


def test_tsv_and_json_lines_read_alike(tmp_path):
    tsv = write(tmp_path, "p.txt", "Ein Hund läuft .\tA dog runs .\n\nZwei Katzen\tTwo cats\n")
    jsonl = write(tmp_path, "p.data", json.dumps({"source": "Ein Hund läuft .", "target": "A dog runs ."}) + "\n\n"
                  + json.dumps({"source": "Zwei Katzen", "target": "Two cats", "id": 7}) + "\n")
    for path, fmt in ((tsv, "tsv"), (jsonl, "jsonl")):
        data = read_pairs(path)
        assert [(p.source, p.target, p.line) for p in data.pairs] == [("Ein Hund läuft .", "A dog runs .", 1),
                                                                      ("Zwei Katzen", "Two cats", 3)]
        assert data.format == fmt and data.skipped_long == 0


@pytest.mark.parametrize("name, text, message", [
    ("a.tsv", "ein Hund\ta dog\nkein Tab hier\n", "a.tsv:2: expected source<TAB>target, found 0 tab(s)"),
    ("b.tsv", "ein\tzwei\tdrei\n", "b.tsv:1: expected source<TAB>target, found more than one tab"),
    ("c.tsv", "ein Hund\t \n", "c.tsv:1: the target side is empty"),
    ("d.tsv", "\ta dog\n", "d.tsv:1: the source side is empty"),
    ("e.jsonl", '{"source": "x", "target": "y"}\n{"source": "x"\n', "e.jsonl:2: invalid JSON line"),
    ("f.jsonl", '{"source": "x", "target": 3}\n', "f.jsonl:1: expected an object with string"),
    ("g.jsonl", '{"source": "", "target": "y"}\n', "g.jsonl:1: the source side is empty"),
])
def test_a_bad_line_is_named(tmp_path, name, text, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_pairs(write(tmp_path, name, text))


def test_long_pairs_are_counted_and_bad_input_refused(tmp_path):
    path = write(tmp_path, "p.tsv", "a b c\tx y\na b c d e\tx\na\tv w x y z\n")
    data = read_pairs(path, max_length=3)
    assert [p.line for p in data.pairs] == [1] and data.skipped_long == 2
    with pytest.raises(InputError, match="every pair is longer than --max-length 1 words"):
        read_pairs(path, max_length=1)
    with pytest.raises(InputError, match="no sentence pairs"):
        read_pairs(write(tmp_path, "empty.tsv", "\n\n"))
    with pytest.raises(ConfigError, match="--max-length must be at least 1"):
        read_pairs(path, max_length=0)
    with pytest.raises(ConfigError, match="unknown pairs format"):
        PairReader(path, "csv")
    with pytest.raises(InputError, match="bad.tsv"):
        read_pairs(write(tmp_path, "bad.tsv", b"ein \xff Hund\ta dog\n"))
    assert read_pairs(write(tmp_path, "ok.tsv", b"ein \xff Hund\ta dog\n"), errors="replace").pairs[0].source == \
        "ein \ufffd Hund"


def test_pairs_are_told_from_labelled_text_and_prose(tmp_path):
    assert looks_paired(write(tmp_path, "a.tsv", "".join(f"Satz Nummer {i} .\tSentence number {i} .\n"
                                                         for i in range(50))))
    assert looks_paired(write(tmp_path, "b.jsonl", json.dumps({"source": "a", "target": "b"}) + "\n"))
    assert not looks_paired(write(tmp_path, "c.tsv", "".join(f"{'spam' if i % 3 else 'ham'}\tsome text {i}\n"
                                                             for i in range(50))))
    assert not looks_paired(write(tmp_path, "d.tsv", "".join(f"topic {i % 4}\tsome text {i}\n" for i in range(50))))
    assert not looks_paired(write(tmp_path, "e.txt", "a line of prose\n" * 20))
    assert not looks_paired(write(tmp_path, "f.jsonl", json.dumps({"text": "a", "label": "b"}) + "\n"))
    assert not looks_paired(str(tmp_path / "missing.tsv"))


sides = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=20).map(
    str.strip).filter(bool)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(sides, sides), min_size=1, max_size=5))
def test_written_pairs_read_back_in_both_formats(tmp_path_factory, pairs):
    root = tmp_path_factory.mktemp("pairs")
    texts = {"a.tsv": "".join(f"{s}\t{t}\n" for s, t in pairs),
             "a.jsonl": "".join(json.dumps({"source": s, "target": t}) + "\n" for s, t in pairs)}
    for name, text in texts.items():
        if name == "a.tsv" and any("\t" in s + t for s, t in pairs):
            continue
        data = read_pairs(write(root, name, text))
        assert [(p.source, p.target) for p in data.pairs] == pairs, name


@pytest.mark.skipif(not MULTI30K.is_dir(), reason="Multi30k not in ../shared/data")
def test_multi30k_pasted_reads_whole(tmp_path):
    de = (MULTI30K / "val.de").read_text(encoding="utf-8").splitlines()
    en = (MULTI30K / "val.en").read_text(encoding="utf-8").splitlines()
    path = write(tmp_path, "val.tsv", "".join(f"{a}\t{b}\n" for a, b in zip(de, en)))
    assert looks_paired(path) and len(read_pairs(path).pairs) == len(de) == 1014
