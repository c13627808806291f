"""sample_data/ is what the generators write: regenerating gives the same bytes."""

from __future__ import annotations

import pytest

from rnncli.synthetic import GENERATORS
from tests.conftest import SAMPLE

FILES = [
    ("english.txt", "english", 3000, 0),
    ("english-valid.txt", "english", 300, 1),
    ("topics.tsv", "topics", 2000, 0),
    ("topics-test.tsv", "topics", 400, 1),
    ("word-order.tsv", "word-order", 2000, 0),
    ("word-order-test.tsv", "word-order", 400, 1),
]


@pytest.mark.parametrize("name, kind, lines, seed", FILES)
def test_sample_files_are_reproducible(name, kind, lines, seed):
    expected = "".join(row + "\n" for row in GENERATORS[kind](lines=lines, seed=seed))
    assert (SAMPLE / name).read_text(encoding="utf-8") == expected


def test_cli_writes_the_same_as_the_library(cli):
    result = cli.ok("sample-data", "long-range", "--lines", "3", "--distance", "5", "--seed", "4")
    assert result.stdout == "".join(r + "\n" for r in GENERATORS["long-range"](lines=3, seed=4, distance=5))
