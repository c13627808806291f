"""How the tokens a model reads appear in the text a person reads. No torch."""

from __future__ import annotations

from rnncli.text.vocab import EOS, META_SPACE, Vocab


def surfaces(vocab: Vocab, line: str, ids: list[int]) -> list[str]:
    """How each token of ``line`` reads in the text: characters as they are, words with the space
    after them, subword pieces with their leading space."""
    if vocab.level == "word" and hasattr(vocab, "words"):
        words = vocab.words(line)  # type: ignore[attr-defined]
        if len(words) >= len(ids):  # one id per word; a classifier may have cut the text
            return [w + " " for w in words[: len(ids)]]
    if vocab.level == "char":
        pieces = []  # a character the vocabulary lacks is spelled as its bytes: itself on the first
        for char in line:
            pieces += [char] + [""] * (len(vocab.encode(char)) - 1)
        if len(pieces) == len(ids):
            return pieces
        return [vocab.tokens[i] for i in ids]
    return [vocab.tokens[i].replace(META_SPACE, " ") if i > EOS else vocab.tokens[i] for i in ids]


def tokens_of(vocab: Vocab, text: str, max_chars: int) -> tuple[list[int], list[str], int]:
    """The ids a language model reads for ``text`` (each line closed by ``<eos>``, shown as a
    newline), their surfaces, and how many characters past ``max_chars`` were left out (the text
    is cut at the end of the line where the limit falls, or at the limit)."""
    kept = text[:max_chars]
    if len(text) > max_chars and "\n" in kept:
        kept = kept[: kept.rindex("\n") + 1]
    ids: list[int] = []
    pieces: list[str] = []
    lines = kept.split("\n")
    for k, line in enumerate(lines):
        if k == len(lines) - 1 and not line:
            break
        line_ids = vocab.encode(line)
        ids += line_ids
        pieces += surfaces(vocab, line, line_ids)
        if k < len(lines) - 1:
            ids.append(EOS)
            pieces.append("\n")
    return ids, pieces, len(text) - len(kept)
