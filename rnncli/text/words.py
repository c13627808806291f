"""Word-level splitting and joining.

``punct`` splits punctuation from words (``"Hello," -> ["Hello", ","]``), keeping contractions
(``don't``) and decimal-free word characters together; ``whitespace`` keeps the tokens of a corpus
that is already tokenised, as research corpora are.
"""

from __future__ import annotations

import re
from typing import Callable, Sequence

WORD_PATTERN = re.compile(r"\w+(?:['’]\w+)*|[^\w\s]")
SPLITS = ("punct", "whitespace")

_NO_SPACE_BEFORE = frozenset(",.;:!?)]}%’”»…")
_NO_SPACE_AFTER = frozenset("([{$“«¿¡")
_QUOTES = frozenset("\"'")


def splitter(split: str) -> Callable[[str], list[str]]:
    if split == "punct":
        return WORD_PATTERN.findall
    if split == "whitespace":
        return str.split
    raise ValueError(f"unknown split {split!r}")


class WordJoiner:
    """Incremental form of :func:`join_words`: feed tokens one by one, get the text to append."""

    def __init__(self, split: str) -> None:
        self.split = split
        self.started = False
        self.glue_next = True
        self.open_quote = False

    def feed(self, token: str) -> str:
        if self.split == "whitespace":
            text = token if not self.started else " " + token
            self.started = True
            return text
        glue = self.glue_next
        self.glue_next = False
        if token in _QUOTES:
            if self.open_quote:
                glue = True
            else:
                self.glue_next = True
            self.open_quote = not self.open_quote
        elif token in _NO_SPACE_BEFORE:
            glue = True
        elif token in _NO_SPACE_AFTER:
            self.glue_next = True
        text = token if glue or not self.started else " " + token
        self.started = True
        return text

    def reset(self) -> None:
        """A new line starts: no space before its first token."""
        self.__init__(self.split)  # type: ignore[misc]


def join_words(tokens: Sequence[str], split: str) -> str:
    """Join tokens back into text: single spaces, with punctuation attached where English puts it."""
    if split == "whitespace":
        return " ".join(tokens)
    joiner = WordJoiner(split)
    return "".join(joiner.feed(token) for token in tokens)
