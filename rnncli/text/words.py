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


def join_words(tokens: Sequence[str], split: str) -> str:
    """Join tokens back into text: single spaces, with punctuation attached where English puts it."""
    if split == "whitespace":
        return " ".join(tokens)
    parts: list[str] = []
    glue_next = True
    open_quote = False
    for token in tokens:
        glue = glue_next
        glue_next = False
        if token in _QUOTES:
            if open_quote:
                glue = True
            else:
                glue_next = True
            open_quote = not open_quote
        elif token in _NO_SPACE_BEFORE:
            glue = True
        elif token in _NO_SPACE_AFTER:
            glue_next = True
        if parts and not glue:
            parts.append(" ")
        parts.append(token)
    return "".join(parts)
