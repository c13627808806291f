"""Corpora tokenised once, kept on disk as memory-mapped arrays of ids, reused by later runs.

A cache entry is keyed by the corpus content (a hash of every byte of every file, in order) and
the vocabulary (a hash of its JSON), so a changed corpus or vocabulary is a new entry. Encoding
streams block by block into a temporary file that is renamed into place when complete, so memory
stays bounded whatever the corpus size, and a crash leaves no half entry. Every training process
(every rank of a distributed run) maps the same file read-only.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from rnncli.corpus import TokenText, encoded_blocks, id_dtype
from rnncli.fileio import write_json
from rnncli.text.reader import STDIN
from rnncli.text.vocab import Vocab

FORMAT = "rnncli-token-cache"
VERSION = 1
HASH_BLOCK = 1 << 22


def cache_dir() -> Path:
    configured = os.environ.get("RNNCLI_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "rnncli" / "tokens"


def corpus_key(paths: Iterable[str], vocab: Vocab, encoding: str, errors: str) -> str:
    digest = hashlib.blake2b(digest_size=20)
    digest.update(json.dumps(vocab.to_json(), sort_keys=True, ensure_ascii=False).encode("utf-8"))
    digest.update(f"{encoding}/{errors}".encode())
    for path in paths:
        digest.update(b"\0file\0")
        with open(path, "rb") as handle:
            while True:
                block = handle.read(HASH_BLOCK)
                if not block:
                    break
                digest.update(block)
    return digest.hexdigest()


def _load(entry: Path) -> TokenText | None:
    meta_path = entry.with_suffix(".json")
    ids_path = entry.with_suffix(".ids")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT or meta.get("version") != VERSION:
            return None
        dtype = np.dtype(meta["dtype"])
        count = int(meta["tokens"])
        if ids_path.stat().st_size != count * dtype.itemsize:
            return None
        ids = np.memmap(ids_path, dtype=dtype, mode="r", shape=(count,)) if count else np.zeros(0, dtype)
        return TokenText(ids, int(meta["chars"]), int(meta["lines"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def encode_to_file(paths: list[str], vocab: Vocab, target: Path, encoding: str, errors: str,
                   progress: Callable[[int, int], None] | None = None) -> tuple[int, int, int]:
    """Stream the ids of every line (each followed by <eos>) into ``target``; returns
    (tokens, characters, lines)."""
    total_bytes = sum(os.path.getsize(p) for p in paths if p != STDIN)
    tokens = chars = lines = 0
    with open(target, "wb") as out:
        for ids, block_chars, block_lines in encoded_blocks(paths, vocab, encoding, errors):
            ids.tofile(out)
            tokens += len(ids)
            chars += block_chars
            lines += block_lines
            if progress is not None:
                progress(min(chars, total_bytes), total_bytes)
        out.flush()
        os.fsync(out.fileno())
    return tokens, chars, lines


def cached_corpus(paths: list[str], vocab: Vocab, encoding: str = "utf-8", errors: str = "strict",
                  progress: Callable[[int, int], None] | None = None, directory: Path | None = None) -> TokenText:
    """The corpus as a memory-mapped array of ids, tokenising it on first use."""
    directory = directory or cache_dir()
    key = corpus_key(paths, vocab, encoding, errors)
    entry = directory / key
    found = _load(entry)
    if found is not None:
        return found
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp_ids = tempfile.mkstemp(prefix=f".{key}.", suffix=".ids.tmp", dir=directory)
    os.close(fd)
    try:
        tokens, chars, lines = encode_to_file(paths, vocab, Path(tmp_ids), encoding, errors, progress)
        meta = {"format": FORMAT, "version": VERSION, "dtype": id_dtype(len(vocab)).name, "tokens": tokens,
                "chars": chars, "lines": lines, "vocab_size": len(vocab), "sources": [os.path.abspath(p) for p in paths]}
        os.replace(tmp_ids, entry.with_suffix(".ids"))
        write_json(entry.with_suffix(".json"), meta)  # last: an entry counts only once its ids are in place
    finally:
        if os.path.exists(tmp_ids):
            os.unlink(tmp_ids)
    loaded = _load(entry)
    assert loaded is not None
    return loaded
