"""A corpus as one stream of ids, without torch: what the token cache stores, what evaluation
reads, and what the exported models score (rnncli.onnxrun)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np

from rnncli.errors import InputError
from rnncli.text.reader import LineReader, check_inputs
from rnncli.text.streams import encoded_parts
from rnncli.text.vocab import EOS, Vocab


EVAL_COLUMN_TOKENS = 4096  # evaluation reads a text as parallel columns of at least this many tokens
LN2 = math.log(2)


@dataclass
class TokenText:
    """The ids of a corpus, with the character count that bits-per-character divides by."""

    ids: np.ndarray
    chars: int
    lines: int

    def __len__(self) -> int:
        return len(self.ids)


def id_dtype(vocab_size: int) -> np.dtype:
    return np.dtype(np.uint16) if vocab_size <= 65536 else np.dtype(np.int32)


def encode_corpus(paths: Iterable[str], vocab: Vocab, encoding: str = "utf-8", errors: str = "strict",
                  progress: Callable[[int], None] | None = None) -> TokenText:
    """Encode every line of the corpus, each followed by ``<eos>``, into one array of ids."""
    chunks: list[np.ndarray] = []
    chars = lines = 0
    for ids, block_chars, block_lines in encoded_blocks(paths, vocab, encoding, errors):
        chunks.append(ids)
        chars += block_chars
        lines += block_lines
        if progress is not None:
            progress(chars)
    ids = np.concatenate(chunks) if chunks else np.zeros(0, dtype=id_dtype(len(vocab)))
    return TokenText(ids, chars, lines)


def encoded_blocks(paths: Iterable[str], vocab: Vocab, encoding: str = "utf-8",
                   errors: str = "strict") -> Iterator[tuple[np.ndarray, int, int]]:
    """For each block of the corpus: its ids (every line followed by ``<eos>``), its characters
    (a newline counted per line) and its number of lines."""
    dtype = id_dtype(len(vocab))

    def flattened(lines: list[str], id_lists: list[list[int]]) -> np.ndarray:
        flat: list[int] = []
        for ids in id_lists:
            flat.extend(ids)
            flat.append(EOS)
        return np.asarray(flat, dtype=dtype)

    for path in check_inputs(paths):
        for lines, ids, _ in encoded_parts(vocab, LineReader(path, encoding, errors), flattened):
            yield ids, sum(map(len, lines)) + len(lines), len(lines)


def class_counts(ids: np.ndarray, vocab_size: int) -> np.ndarray:
    """How often each class of the vocabulary occurs in ``ids`` (int64, one per class)."""
    return np.bincount(np.asarray(ids), minlength=vocab_size)[:vocab_size].astype(np.int64)


def count_chars(ids: np.ndarray, vocab: Vocab) -> int:
    """Characters of the text behind a stream of ids, each ``<eos>`` standing for a newline."""
    ends = np.flatnonzero(ids == EOS)
    starts = np.concatenate([[0], ends + 1])
    stops = np.concatenate([ends, [len(ids)]])
    lines = [ids[a:b].tolist() for a, b in zip(starts, stops)]
    return sum(map(len, vocab.decode_batch(lines))) + len(ends)


def split_tail(text: TokenText, share: float, vocab: Vocab) -> tuple[TokenText, TokenText]:
    """Hold out the last ``share`` of the stream (cut at a line end) for validation."""
    n = len(text.ids)
    cut = int(n * (1 - share))
    look = max(0, cut - 1_000_000)  # find the line end before the cut without scanning it all
    ends = np.flatnonzero(np.asarray(text.ids[look:cut]) == EOS)
    if len(ends) and look + ends[-1] > n // 2:
        cut = look + int(ends[-1]) + 1
    head, tail = text.ids[:cut], text.ids[cut:]
    tail_chars = count_chars(tail, vocab)
    tail_lines = int(np.count_nonzero(tail == EOS))
    return (TokenText(head, text.chars - tail_chars, text.lines - tail_lines),
            TokenText(tail, tail_chars, tail_lines))


def eval_grid(ids: np.ndarray, columns: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inputs, targets and a mask (time, batch) so that every token but the first is predicted once.

    Column b covers tokens ``[b*L, (b+1)*L]``: its last target is the next column's first input,
    so the targets tile the stream exactly; the ragged end is masked. Each column starts from an
    empty state, so short texts get few columns.
    """
    n = len(ids)
    if n < 2:
        raise InputError("evaluation text is too short (fewer than 2 tokens)")
    columns = max(1, min(columns, n // 512))  # long columns: few tokens start without context
    length = math.ceil((n - 1) / columns)
    padded = np.zeros(columns * length + 1, dtype=np.int64)
    padded[:n] = ids
    starts = np.arange(columns) * length
    index = starts[:, None] + np.arange(length + 1)[None, :]
    grid = padded[index].T  # (length + 1, columns)
    return grid[:-1], grid[1:], (index[:, 1:] < n).T.copy()


def eval_column_count(tokens: int) -> int:
    """How many columns evaluation reads a text of ``tokens`` as: each at least EVAL_COLUMN_TOKENS
    long, at most 64."""
    return max(1, min(64, tokens // EVAL_COLUMN_TOKENS))


def stream_order(picked: np.ndarray, tokens: int) -> np.ndarray:
    """Figures of the targets of :func:`eval_grid` (time, columns), in the text's order: the
    ``tokens - 1`` predicted tokens, first to last (the padded end dropped); any further axes
    (a feature vector per target) are kept."""
    picked = np.asarray(picked)
    return np.ascontiguousarray(np.swapaxes(picked, 0, 1)).reshape(-1, *picked.shape[2:])[: tokens - 1]


def lm_figures(total_nll: float, predicted: int, chars: int) -> dict[str, float]:
    """Loss in nats per predicted token, perplexity, bits per character; the text's tokens (the
    first is never predicted) and characters."""
    loss = total_nll / max(1, predicted)
    return {"loss": loss, "ppl": math.exp(min(loss, 700.0)), "bpc": total_nll / LN2 / max(1, chars),
            "tokens": predicted + 1, "chars": chars}


def stream_figures(text: TokenText, log_probs: np.ndarray, cache: Any = None,
                   mixed: np.ndarray | None = None) -> dict[str, Any]:
    """The figures of ``text`` whose tokens after the first the network gave ``log_probs``; with a
    ``cache`` (unigram or neural) and the mixture's log-probabilities ``mixed``, those of the
    mixture, the network's own under ``network`` and the cache's parameters under its name."""
    network = lm_figures(-float(np.sum(log_probs, dtype=np.float64)), len(log_probs), text.chars)
    if cache is None or mixed is None:
        return network
    figures: dict[str, Any] = lm_figures(-float(np.sum(mixed, dtype=np.float64)), len(mixed), text.chars)
    figures["network"] = {key: network[key] for key in ("loss", "ppl", "bpc")}
    figures[cache.key] = cache.record()
    return figures


def featurize(vocab: Vocab, texts: Sequence[str], max_len: int) -> list[list[int]]:
    """Token ids of each text for a classifier, truncated to ``max_len``."""
    return [ids[:max_len] for ids in vocab.encode_batch(list(texts))]
