"""Labelled data: every format reads the same examples; a line that does not fit is named."""

from __future__ import annotations

import json

import pytest

from rnncli.errors import InputError
from rnncli.text.labelled import looks_labelled, read_labelled

EXAMPLES = [("spam", "WIN a prize, call now"), ("ham", "see you at 5\twith tab"), ("ham", "ok")]


def write(path, fmt):
    if fmt == "tsv":
        path.write_text("".join(f"{label}\t{text}\n" for label, text in EXAMPLES))
    elif fmt == "fasttext":
        path.write_text("".join(f"__label__{label} {text}\n" for label, text in EXAMPLES))
    elif fmt == "jsonl":
        path.write_text("".join(json.dumps({"text": text, "label": label}) + "\n" for label, text in EXAMPLES))
    else:
        import csv

        with open(path, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", "label", "text"])
            for k, (label, text) in enumerate(EXAMPLES):
                writer.writerow([k, label, text])


@pytest.mark.parametrize("fmt, name", [("tsv", "d.tsv"), ("fasttext", "d.txt"), ("jsonl", "d.jsonl"),
                                       ("csv", "d.csv")])
def test_formats_round_trip(tmp_path, fmt, name):
    path = tmp_path / name
    write(path, fmt)
    data = read_labelled(str(path))
    got = [(e.label, e.text) for e in data.examples]
    if fmt == "fasttext":  # fastText's format is whitespace-separated: the tab becomes a space
        expected = [(label, " ".join(text.split())) for label, text in EXAMPLES]
    else:
        expected = EXAMPLES
    assert got == expected
    assert looks_labelled(str(path))


@pytest.mark.parametrize("content, message", [
    ("spam\tok\nno tab here\n", "d.tsv:2: expected label<TAB>text"),
    ("spam\tok\n\tno label\n", "d.tsv:2: missing label"),
])
def test_tsv_mismatch_names_file_and_line(tmp_path, content, message):
    path = tmp_path / "d.tsv"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        read_labelled(str(path))


def test_jsonl_missing_label_is_named(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"text": "a", "label": "x"}\n{"text": "b"}\n')
    with pytest.raises(InputError, match=r"d.jsonl:2: missing \"label\""):
        read_labelled(str(path))


def test_csv_columns_by_name_and_missing_column(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("body,category\nhello there,greeting\n")
    data = read_labelled(str(path), text_column="body", label_column="category")
    assert [(e.label, e.text) for e in data.examples] == [("greeting", "hello there")]
    with pytest.raises(InputError, match="no column 'text'"):
        read_labelled(str(path))


def test_empty_texts_are_skipped_and_counted(tmp_path):
    path = tmp_path / "d.tsv"
    path.write_text("a\thello\nb\t\n\nb\tworld\n")
    data = read_labelled(str(path))
    assert [e.text for e in data.examples] == ["hello", "world"]
    assert data.skipped_empty == 1


def test_plain_text_does_not_look_labelled(tmp_path):
    path = tmp_path / "story.txt"
    path.write_text("Once upon a time\nthere was a model.\n")
    assert not looks_labelled(str(path))


def test_lines_with_several_fasttext_labels_are_counted_not_silently_cut(tmp_path, cli):
    path = tmp_path / "multi.txt"
    lines = ["__label__a __label__b one text", "__label__a another", "__label__b __label__b same label twice",
             "__label__b __label__c __label__a three labels"] * 10
    path.write_text("\n".join(lines) + "\n")
    data = read_labelled(str(path))
    assert [e.labels for e in data.examples[:4]] == [("a", "b"), ("a",), ("b",), ("b", "c", "a")]
    assert data.multi_labelled == 20  # the repeated label is one label
    result = cli("train", path, "-o", tmp_path / "multi", "--max-steps", "2", "--hidden", "8", "--threads", "1")
    assert result.exit_code == 0, result.stderr
    assert "multi-label: 20 of 40 lines carry several labels" in result.stderr
    result = cli("train", path, "-o", tmp_path / "run", "--single-label", "--max-steps", "2", "--hidden", "8",
                 "--threads", "1")
    assert "20 lines carry several labels; --single-label keeps the first of each" in result.stderr
    shown = cli.ok("evaluate", "-c", tmp_path / "run", path)
    assert "20 lines carry several labels; only the first of each is scored" in shown.stderr
