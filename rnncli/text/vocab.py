"""Vocabularies: word, char and sentencepiece (bpe / unigram), one JSON file each.

Every level shares the special tokens ``<pad>``=0, ``<unk>``=1, ``<bos>``=2, ``<eos>``=3. The
file is versioned JSON (``format``, ``version``); for bpe and unigram the trained sentencepiece
model is stored inside it (base64), so one file is the whole tokenizer.

Round trips: char, bpe and unigram reproduce any text exactly (unknown characters fall back to
their UTF-8 bytes); word level reproduces text up to the whitespace between tokens.
"""

from __future__ import annotations

import base64
import os
from abc import ABC, abstractmethod
from collections import Counter
from itertools import repeat
from typing import Any, Iterable, Sequence

from rnncli.errors import FormatError
from rnncli.fileio import MiB, read_json, write_json
from rnncli.text.words import SPLITS, WordJoiner, join_words, splitter

FORMAT = "rnncli-vocab"
VERSION = 1
LEVELS = ("word", "char", "bpe", "unigram")
SPECIALS = ("<pad>", "<unk>", "<bos>", "<eos>")
PAD, UNK, BOS, EOS = 0, 1, 2, 3
BYTE_TOKENS = tuple(f"<0x{b:02X}>" for b in range(256))
MAX_VOCAB_FILE = 512 * MiB
META_SPACE = "\u2581"  # sentencepiece's visible space


class Vocab(ABC):
    """A tokenizer with a fixed id space; ``tokens[i]`` is the token of id ``i``."""

    level: str
    tokens: list[str]
    encodes_without_gil = False  # whether encode_batch runs outside the GIL, so threads gain from it

    def __len__(self) -> int:
        return len(self.tokens)

    @abstractmethod
    def encode(self, line: str) -> list[int]:
        """Ids of one line of text (no newline inside)."""

    def encode_batch(self, lines: Sequence[str], threads: int = -1) -> list[list[int]]:
        """Ids of each line; ``threads`` matters only where ``encodes_without_gil``."""
        encode = self.encode
        return [encode(line) for line in lines]

    @abstractmethod
    def decode(self, ids: Sequence[int]) -> str:
        """Text of a sequence of ids; ``<pad>``, ``<bos>`` and ``<eos>`` are dropped."""

    def decode_batch(self, id_lists: Sequence[Sequence[int]]) -> list[str]:
        decode = self.decode
        return [decode(ids) for ids in id_lists]

    def pieces(self, ids: Sequence[int]) -> list[str]:
        """Printable form of each id, without spaces inside a piece."""
        tokens = self.tokens
        return [tokens[i] for i in ids]

    @abstractmethod
    def options(self) -> dict[str, Any]:
        """The options that shape encoding, saved with the vocabulary."""

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "level": self.level,
            "size": len(self.tokens),
            "specials": list(SPECIALS),
            "options": self.options(),
            "tokens": self.tokens,
        }

    def save(self, path: str | os.PathLike[str]) -> None:
        write_json(path, self.to_json(), indent=None)

    def describe(self) -> str:
        return f"{self.level} vocabulary of {len(self):,} tokens"


def _strip_specials(ids: Sequence[int]) -> list[int]:
    return [i for i in ids if i > EOS or i == UNK]


class WordVocab(Vocab):
    level = "word"

    def __init__(self, tokens: list[str], split: str = "punct", lowercase: bool = False,
                 counts: list[int] | None = None) -> None:
        if split not in SPLITS:
            raise FormatError(f"unknown word split {split!r}")
        self.tokens = tokens
        self.counts = counts
        self.split = split
        self.lowercase = lowercase
        self._split = splitter(split)
        self._index = {token: i for i, token in enumerate(tokens)}

    def options(self) -> dict[str, Any]:
        return {"split": self.split, "lowercase": self.lowercase}

    def to_json(self) -> dict[str, Any]:
        data = super().to_json()
        if self.counts is not None:
            data["counts"] = self.counts
        return data

    def words(self, line: str) -> list[str]:
        return self._split(line.lower() if self.lowercase else line)

    def encode(self, line: str) -> list[int]:
        ids = list(map(self._index.get, self.words(line)))
        if None in ids:
            return [UNK if i is None else i for i in ids]
        return ids  # type: ignore[return-value]

    def decode(self, ids: Sequence[int]) -> str:
        tokens = self.tokens
        return join_words([tokens[i] for i in _strip_specials(ids)], self.split)


class CharVocab(Vocab):
    """Characters, with unknown characters spelled as their UTF-8 bytes (``<0xNN>``)."""

    level = "char"

    def __init__(self, chars: list[str], byte_fallback: bool = True,
                 counts: list[int] | None = None) -> None:
        self.chars = chars
        self.byte_fallback = byte_fallback
        self.counts = counts
        self.first_char = len(SPECIALS) + (len(BYTE_TOKENS) if byte_fallback else 0)
        self.tokens = list(SPECIALS) + (list(BYTE_TOKENS) if byte_fallback else []) + chars
        self._index = {c: i for i, c in enumerate(chars, self.first_char)}

    def options(self) -> dict[str, Any]:
        return {"byte_fallback": self.byte_fallback}

    def to_json(self) -> dict[str, Any]:
        data = super().to_json()
        if self.counts is not None:
            data["counts"] = self.counts
        return data

    def encode(self, line: str) -> list[int]:
        ids = list(map(self._index.get, line))
        if None not in ids:
            return ids  # type: ignore[return-value]
        out: list[int] = []
        for char, i in zip(line, ids):
            if i is not None:
                out.append(i)
            elif self.byte_fallback:
                out.extend(len(SPECIALS) + b for b in char.encode("utf-8", "surrogatepass"))
            else:
                out.append(UNK)
        return out

    def decode(self, ids: Sequence[int]) -> str:
        tokens = self.tokens
        first = self.first_char
        parts: list[str] = []
        pending = bytearray()
        for i in _strip_specials(ids):
            if len(SPECIALS) <= i < first:
                pending.append(i - len(SPECIALS))
                continue
            if pending:
                parts.append(pending.decode("utf-8", "replace"))
                pending.clear()
            parts.append(tokens[i])
        if pending:
            parts.append(pending.decode("utf-8", "replace"))
        return "".join(parts)

    def pieces(self, ids: Sequence[int]) -> list[str]:
        tokens = self.tokens
        return [_visible(tokens[i]) for i in ids]


def _visible(char: str) -> str:
    if char == " ":
        return META_SPACE
    if char.isspace() or not char.isprintable():
        return f"<U+{ord(char):04X}>"
    return char


class SentencePieceVocab(Vocab):
    """bpe or unigram pieces from a lossless sentencepiece model held in memory."""

    encodes_without_gil = True

    def __init__(self, level: str, model: bytes, requested_size: int | None = None) -> None:
        import sentencepiece as spm

        self.level = level
        self.model = model
        self.requested_size = requested_size
        try:  # a corrupt model may load and then fail on its pieces (invalid UTF-8, ...)
            self._sp = spm.SentencePieceProcessor(model_proto=model)
            self.tokens = [self._sp.id_to_piece(i) for i in range(self._sp.get_piece_size())]
        except Exception:
            raise FormatError("the embedded sentencepiece model is corrupt") from None
        if tuple(self.tokens[: len(SPECIALS)]) != SPECIALS:
            raise FormatError("the embedded sentencepiece model has other special tokens")
        meta = [self._sp.piece_to_id(f"<0x{b:02X}>") for b in META_SPACE.encode("utf-8")]
        if UNK in meta:
            raise FormatError("the embedded sentencepiece model lacks byte fallback")
        self._meta_space_ids = meta

    def options(self) -> dict[str, Any]:
        return {"requested_size": self.requested_size}

    def to_json(self) -> dict[str, Any]:
        data = super().to_json()
        data["model"] = base64.b64encode(self.model).decode("ascii")
        return data

    def encode(self, line: str) -> list[int]:
        if META_SPACE in line:
            return self._encode_meta(line)
        return self._sp.encode(line)

    def _encode_meta(self, line: str) -> list[int]:
        # sentencepiece shows spaces as U+2581 and would decode a literal U+2581 to a space;
        # spelling it as its bytes keeps the round trip exact.
        out: list[int] = []
        for k, part in enumerate(line.split(META_SPACE)):
            if k:
                out.extend(self._meta_space_ids)
            if part:
                out.extend(self._sp.encode(part))
        return out

    def encode_batch(self, lines: Sequence[str], threads: int = -1) -> list[list[int]]:
        """Ids of each line, on ``threads`` C++ threads (-1: one per core) without the GIL."""
        if not isinstance(lines, list):
            lines = list(lines)
        result = self._sp.encode(lines, num_threads=threads)
        if any(map(str.__contains__, lines, repeat(META_SPACE))):
            for k, line in enumerate(lines):
                if META_SPACE in line:
                    result[k] = self._encode_meta(line)
        return result

    def decode(self, ids: Sequence[int]) -> str:
        return self._sp.decode(_strip_specials(ids))

    def decode_batch(self, id_lists: Sequence[Sequence[int]]) -> list[str]:
        return self._sp.decode([_strip_specials(ids) for ids in id_lists])


class StreamDecoder:
    """Turns ids into text one at a time, for output that streams as it is generated.

    ``<eos>`` becomes a newline; ``<pad>`` and ``<bos>`` are dropped; byte pieces are held until
    they form a whole character.
    """

    def __init__(self, vocab: Vocab) -> None:
        self.vocab = vocab
        self.pending = bytearray()
        self.joiner = WordJoiner(vocab.split) if isinstance(vocab, WordVocab) else None
        self.byte_ids = {i: int(t[3:5], 16) for i, t in enumerate(vocab.tokens)
                         if len(t) == 6 and t.startswith("<0x") and t.endswith(">")}

    def _flush_bytes(self) -> str:
        if not self.pending:
            return ""
        text = self.pending.decode("utf-8", "replace")
        self.pending.clear()
        return text

    def feed(self, token_id: int) -> str:
        if token_id in (PAD, BOS):
            return ""
        if token_id == EOS:
            if self.joiner is not None:
                self.joiner.reset()
            return self._flush_bytes() + "\n"
        byte = self.byte_ids.get(token_id)
        if byte is not None and not isinstance(self.vocab, WordVocab):
            self.pending.append(byte)
            try:
                text = self.pending.decode("utf-8")
            except UnicodeDecodeError:
                if len(self.pending) >= 4:
                    return self._flush_bytes()
                return ""
            self.pending.clear()
            return text
        prefix = self._flush_bytes()
        token = self.vocab.tokens[token_id]
        if self.joiner is not None:
            return prefix + self.joiner.feed(token)
        if isinstance(self.vocab, SentencePieceVocab):
            return prefix + token.replace(META_SPACE, " ")
        return prefix + token

    def flush(self) -> str:
        return self._flush_bytes()


def vocab_from_json(data: Any, source: str = "vocabulary") -> Vocab:
    """Rebuild a vocabulary from its parsed JSON, validating every field it relies on."""
    level, options, tokens, counts = _checked_fields(data, source)
    build = {"word": _word_vocab, "char": _char_vocab}.get(level, _sentencepiece_vocab)
    vocab = build(data, source, level, options, tokens, counts)
    size = data.get("size", len(tokens))
    if size != len(vocab):
        raise FormatError(f"{source}: vocabulary says size {size} but holds {len(vocab)} tokens")
    return vocab


def _checked_fields(data: Any, source: str) -> tuple[str, dict[str, Any], list[str], list[int] | None]:
    """The format, version, level, options, tokens and counts of a vocabulary file, each checked."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise FormatError(f"{source}: not an rnncli vocabulary (format field missing or foreign)")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise FormatError(f"{source}: vocabulary has no valid version field")
    if version > VERSION:
        raise FormatError(
            f"{source}: vocabulary format version {version} is newer than this rnncli reads "
            f"({VERSION}); upgrade rnncli"
        )
    if version < 1:
        raise FormatError(f"{source}: unsupported vocabulary format version {version}")
    level = data.get("level")
    if level not in LEVELS:
        raise FormatError(f"{source}: unknown vocabulary level {level!r}")
    options = data.get("options", {})
    tokens = data.get("tokens")
    if not isinstance(options, dict):
        raise FormatError(f"{source}: vocabulary options must be an object")
    if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
        raise FormatError(f"{source}: vocabulary tokens must be a list of strings")
    if tuple(tokens[: len(SPECIALS)]) != SPECIALS:
        raise FormatError(f"{source}: vocabulary must start with {', '.join(SPECIALS)}")
    counts = data.get("counts")
    if counts is not None and (
        not isinstance(counts, list) or len(counts) != len(tokens)
        or not all(isinstance(c, int) and not isinstance(c, bool) for c in counts)
    ):
        raise FormatError(f"{source}: vocabulary counts must be one integer per token")
    return level, options, tokens, counts


def _word_vocab(data: Any, source: str, level: str, options: dict[str, Any], tokens: list[str],
                counts: list[int] | None) -> Vocab:
    if len(set(tokens)) != len(tokens):
        raise FormatError(f"{source}: vocabulary has duplicate tokens")
    split = options.get("split", "punct")
    if split not in SPLITS:
        raise FormatError(f"{source}: unknown word split {split!r}")
    return WordVocab(tokens, split, bool(options.get("lowercase", False)), counts)


def _char_vocab(data: Any, source: str, level: str, options: dict[str, Any], tokens: list[str],
                counts: list[int] | None) -> Vocab:
    byte_fallback = bool(options.get("byte_fallback", True))
    first = len(SPECIALS) + (len(BYTE_TOKENS) if byte_fallback else 0)
    chars = tokens[first:]
    if byte_fallback and tuple(tokens[len(SPECIALS):first]) != BYTE_TOKENS:
        raise FormatError(f"{source}: char vocabulary lacks its byte tokens")
    if any(len(c) != 1 for c in chars) or len(set(chars)) != len(chars):
        raise FormatError(f"{source}: char vocabulary entries must be distinct single characters")
    return CharVocab(chars, byte_fallback, counts)


def _sentencepiece_vocab(data: Any, source: str, level: str, options: dict[str, Any], tokens: list[str],
                         counts: list[int] | None) -> Vocab:
    model_b64 = data.get("model")
    if not isinstance(model_b64, str):
        raise FormatError(f"{source}: {level} vocabulary has no embedded model")
    try:
        model = base64.b64decode(model_b64, validate=True)
    except ValueError:
        raise FormatError(f"{source}: the embedded model is not valid base64") from None
    try:
        vocab = SentencePieceVocab(level, model, options.get("requested_size"))
    except FormatError as exc:
        raise FormatError(f"{source}: {exc}") from None
    if vocab.tokens != tokens:
        raise FormatError(f"{source}: token list disagrees with the embedded model")
    return vocab


def load_vocab(path: str | os.PathLike[str]) -> Vocab:
    data = read_json(path, MAX_VOCAB_FILE, "vocabulary file")
    return vocab_from_json(data, str(path))


def most_common(counter: Counter[str], min_freq: int, max_size: int | None) -> list[tuple[str, int]]:
    """Tokens by falling count, ties alphabetical, so the same corpus gives the same ids."""
    items = sorted(
        ((t, c) for t, c in counter.items() if c >= min_freq and t not in SPECIALS),
        key=lambda tc: (-tc[1], tc[0]),
    )
    return items if max_size is None else items[:max_size]


def build_word_vocab(lines: Iterable[str], split: str = "punct", lowercase: bool = False,
                     min_freq: int = 1, max_size: int | None = None) -> tuple[WordVocab, Counter[str]]:
    words = splitter(split)
    counter: Counter[str] = Counter()
    update = counter.update
    for line in lines:
        update(words(line.lower() if lowercase else line))
    kept = most_common(counter, min_freq, max_size)
    tokens = list(SPECIALS) + [t for t, _ in kept]
    counts = [counter.get(t, 0) for t in SPECIALS] + [c for _, c in kept]
    return WordVocab(tokens, split, lowercase, counts), counter


def build_char_vocab(lines: Iterable[str], min_freq: int = 1, max_size: int | None = None,
                     byte_fallback: bool = True) -> tuple[CharVocab, Counter[str]]:
    counter: Counter[str] = Counter()
    update = counter.update
    for line in lines:
        update(line)
    kept = [(t, c) for t, c in most_common(counter, min_freq, max_size) if len(t) == 1]
    chars = [t for t, _ in kept]
    n_bytes = len(BYTE_TOKENS) if byte_fallback else 0
    counts = [0] * (len(SPECIALS) + n_bytes) + [c for _, c in kept]
    return CharVocab(chars, byte_fallback, counts), counter
