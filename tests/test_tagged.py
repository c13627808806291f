"""Tagged sentences read from CoNLL-U, CoNLL columns and JSON lines; bad lines named as file:line."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rnncli.errors import ConfigError, InputError
from rnncli.text.tagged import iter_tagged, looks_tagged, read_tagged

DATA = Path(os.environ.get("RNNCLI_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
LINES = DATA / "ud_english_lines"

CONLLU = """# newdoc id = 1
# sent_id = 1
# text = Show All
1\tShow\tshow\tVERB\tIMP\tMood=Imp\t0\troot\t_\t_
2\tAll\tall\tPRON\tTOT-PL\tCase=Nom\t1\tobj\t_\t_

# sent_id = 2
1-2\tdon't\t_\t_\t_\t_\t_\t_\t_\t_
1\tdo\tdo\tAUX\tVBP\t_\t3\taux\t_\t_
2\tn't\tnot\tPART\tRB\t_\t3\tadvmod\t_\t_
3\tgo\tgo\tVERB\tVB\t_\t0\troot\t_\t_
3.1\tgone\tgo\tVERB\tVBN\t_\t_\t_\t3:conj\t_
"""


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_conllu_tags_the_syntactic_words_and_keeps_the_lines(tmp_path):
    first, second = read_tagged(write(tmp_path, "d.conllu", CONLLU))
    assert (first.tokens, first.tags, first.line) == (["Show", "All"], ["VERB", "PRON"], 1)
    assert (second.tokens, second.tags) == (["do", "n't", "go"], ["AUX", "PART", "VERB"])
    assert second.raw[0] == "# sent_id = 2" and [second.raw[i].split("\t")[0] for i in second.rows] == ["1", "2", "3"]
    xpos = read_tagged(write(tmp_path, "d.conllu", CONLLU), tag_column="xpos")
    assert xpos[1].tags == ["VBP", "RB", "VB"]
    feats = read_tagged(write(tmp_path, "d.conllu", CONLLU), tag_column="feats")  # "_": no features, a tag
    assert [s.tags for s in feats] == [["Mood=Imp", "Case=Nom"], ["_", "_", "_"]]
    with pytest.raises(InputError, match="d.conllu:1: no tag in the upos column"):
        read_tagged(write(tmp_path, "d.conllu", "1\tShow\tshow\t_\t_\t_\t0\troot\t_\t_\n"))


def test_conll_columns_tab_or_space_with_docstart(tmp_path):
    text = "-DOCSTART- -X- O O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\nPeter NNP B-NP B-PER\n"
    a, b = read_tagged(write(tmp_path, "train.txt", text))
    assert (a.tokens, a.tags, a.line) == (["EU", "rejects"], ["B-ORG", "O"], 3)
    assert (b.tokens, b.tags) == (["Peter"], ["B-PER"])
    assert read_tagged(write(tmp_path, "t.tsv", "the\tDET\ncat\tNOUN\n"))[0].tags == ["DET", "NOUN"]
    assert read_tagged(write(tmp_path, "train.txt", text), tag_column="1")[0].tags == ["NNP", "VBZ"]


def test_json_lines(tmp_path):
    path = write(tmp_path, "d.jsonl", json.dumps({"tokens": ["a", "b"], "tags": ["X", "Y"]}) + "\n\n")
    assert [(s.tokens, s.tags) for s in read_tagged(path)] == [(["a", "b"], ["X", "Y"])]


def test_untagged_input_for_the_tag_command(tmp_path):
    path = write(tmp_path, "u.jsonl", json.dumps({"tokens": ["a", "b"]}) + "\n")
    assert next(iter_tagged(path, require_tags=False)).tags is None
    conllu = CONLLU.replace("\tVERB\t", "\t_\t").replace("\tPRON\t", "\t_\t")
    first = next(iter_tagged(write(tmp_path, "u.conllu", conllu), require_tags=False))
    assert first.tokens == ["Show", "All"]


@pytest.mark.parametrize("name, text, message", [
    ("d.conllu", "1\tShow\tshow\tVERB\tIMP\t_\t0\troot\t_\n", "d.conllu:1: 9 tab-separated columns; CoNLL-U has 10"),
    ("d.conllu", "x\tShow\tshow\tVERB\tIMP\t_\t0\troot\t_\t_\n", "not a CoNLL-U token ID"),
    ("d.conllu", "# c\n1\tShow\tshow\t_\tIMP\t_\t0\troot\t_\t_\n", "d.conllu:2: no tag in the upos column"),
    ("d.txt", "the DET\ncat\n", "d.txt:2: a token without a tag"),
    ("d.txt", "the DET\ncat NOUN\n", ""),
    ("d.jsonl", '{"tokens": ["a", "b"], "tags": ["X"]}\n', "d.jsonl:1: \"tags\" must be a list of strings, one per"),
    ("d.jsonl", '{"tokens": ["a"]}\n', "d.jsonl:1: \"tags\""),
    ("d.jsonl", "{oops\n", "d.jsonl:1: invalid JSON line"),
])
def test_a_bad_line_is_named(tmp_path, name, text, message):
    path = write(tmp_path, name, text)
    if not message:
        assert read_tagged(path)[0].tokens == ["the", "cat"]
        return
    with pytest.raises(InputError, match=message):
        read_tagged(path)


def test_bad_options_and_empty_files(tmp_path):
    with pytest.raises(InputError, match="no tag column 5 on a line of 2 columns"):
        read_tagged(write(tmp_path, "d.txt", "the DET\n"), tag_column="5")
    with pytest.raises(ConfigError, match="--tag-column of CoNLL-U data must be one of upos, xpos, feats"):
        read_tagged(write(tmp_path, "d.conllu", CONLLU), tag_column="lemma")
    with pytest.raises(ConfigError, match="0-based column number"):
        read_tagged(write(tmp_path, "d.txt", "the DET\n"), tag_column="upos")
    with pytest.raises(InputError, match="no tagged sentences"):
        read_tagged(write(tmp_path, "e.conllu", ""))


def test_tagged_files_are_told_from_prose_and_labelled_text(tmp_path):
    assert looks_tagged(write(tmp_path, "a.conllu", CONLLU))
    assert looks_tagged(write(tmp_path, "a.txt", CONLLU))
    assert looks_tagged(write(tmp_path, "b.txt", "EU NNP B-ORG\nrejects VBZ O\n\nPeter NNP B-PER\n"))
    assert looks_tagged(write(tmp_path, "b.jsonl", json.dumps({"tokens": ["a"], "tags": ["X"]}) + "\n"))
    assert not looks_tagged(write(tmp_path, "c.txt", "The cat sat on the mat.\nIt was happy there.\n"))
    assert not looks_tagged(write(tmp_path, "c.tsv", "spam\tWIN a prize now\nham\tsee you at six\n"))
    assert not looks_tagged(write(tmp_path, "c.jsonl", json.dumps({"text": "a", "label": "x"}) + "\n"))
    assert not looks_tagged(write(tmp_path, "d.txt", "some text to learn\n" * 50))  # no sentence breaks
    assert not looks_tagged(write(tmp_path, "e.txt", "".join(f"Ann{i} Lee{i}\n\n" for i in range(50))))  # names


tokens = st.lists(st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp")), min_size=1,
                          max_size=8), min_size=1, max_size=6)


@settings(max_examples=60, deadline=None)
@given(st.lists(tokens, min_size=1, max_size=4))
@example([["{"]])
@example([["#", "0"]])
@example([['{"tokens":', "[]}"]])
def test_written_sentences_read_back_in_every_format(tmp_path_factory, sentences):
    """Sentences written as CoNLL columns, CoNLL-U or JSON lines read back as they were."""
    tagged = [(words, [f"T{len(w)}" for w in words]) for words in sentences]
    root = tmp_path_factory.mktemp("roundtrip")
    conll = "".join("".join(f"{w}\t{t}\n" for w, t in zip(*s)) + "\n" for s in tagged)
    conllu = "".join("".join(f"{i}\t{w}\t_\t{t}\t_\t_\t0\t_\t_\t_\n" for i, (w, t) in enumerate(zip(*s), 1)) + "\n"
                     for s in tagged)
    jsonl = "".join(json.dumps({"tokens": s[0], "tags": s[1]}) + "\n" for s in tagged)
    for name, text in (("a.tsv", conll), ("a.conllu", conllu), ("a.jsonl", jsonl)):
        path = root / name
        path.write_text(text, encoding="utf-8")
        assert [(s.tokens, s.tags) for s in read_tagged(str(path))] == tagged, name


@pytest.mark.skipif(not LINES.is_dir(), reason="UD English LinES not in ../shared/data")
def test_ud_english_lines_reads_whole():
    sentences = read_tagged(str(LINES / "dev.conllu"))
    assert len(sentences) > 500
    assert {tag for s in sentences for tag in s.tags} <= {"ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN",
                                                           "NUM", "PART", "PRON", "PROPN", "PUNCT", "SCONJ", "SYM",
                                                           "VERB", "X"}
    assert looks_tagged(str(LINES / "dev.conllu"))


def test_sample_data_entities_are_bio_tagged_sentences(cli, tmp_path):
    """`rnncli sample-data entities`: CoNLL columns in BIO tags, read back as tagged sentences, in
    which one name takes different types by its neighbours."""
    from rnncli.tasks.tagging.scores import entity_spans, is_chunked

    path = tmp_path / "e.txt"
    cli.ok("sample-data", "entities", "--lines", "200", "-o", path)
    sentences = read_tagged(str(path))
    assert len(sentences) == 200 and looks_tagged(str(path))
    assert is_chunked(t for s in sentences for t in s.tags)
    kinds = {(s.tokens[start], kind) for s in sentences for kind, start, _ in entity_spans(s.tags)}
    assert {("Jordan", "PER"), ("Jordan", "LOC"), ("Jordan", "ORG")} <= kinds
