"""The hidden Markov model tagger, counted from tagged sentences: the lecture's baseline for
tagging, after TnT (Brants, 2000).

- Transitions P(t_i | t_{i-1}) (order 2) or P(t_i | t_{i-2}, t_{i-1}) (order 3), each interpolated
  with the lower orders down to P(t_i), the weights set by deleted interpolation; sentence start
  and end are states of their own.
- Emissions P(w | t) of the words seen in training, by relative frequency.
- Words never seen: P(t | suffix) of the rare training words (seen at most ``RARE`` times) by their
  last 1..``SUFFIX`` characters, each length smoothed towards the shorter one with the standard
  deviation of P(t) as weight, separately for capitalised and other words; then P(w | t) =
  P(t | suffix) / P(t) up to a factor that every tag shares.
- Viterbi decoding of the most likely tag sequence in log space.

numpy only, no torch; the tables are saved as safetensors and the word lists as JSON.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

RARE = 10
SUFFIX = 10
FLOOR = -30.0  # log-probability of an impossible event (keeps Viterbi finite)


@dataclass
class HMM:
    order: int
    tags: list[str]
    words: dict[str, int]  # word -> row of ``emission``
    emission: np.ndarray  # (words, tags) log P(w | t)
    transition: np.ndarray  # order 2: (S+1, S+1); order 3: (S+1, S+1, S+1); index S is start/end
    suffixes: dict[str, int]  # "<case><suffix>" -> row of ``suffix_probs``
    suffix_probs: np.ndarray  # (suffixes, tags) log P(t | suffix) - log P(t)
    unknown: np.ndarray  # (2, tags): the same for a word no suffix matches, by case

    def tag(self, tokens: Sequence[str]) -> list[str]:
        """The most likely tags of a sentence."""
        if not tokens:
            return []
        path = viterbi(self.emissions(tokens), self.transition)
        return [self.tags[i] for i in path]

    def emissions(self, tokens: Sequence[str]) -> np.ndarray:
        """(tokens, tags) log P(w | t) up to a factor per token that every tag shares."""
        rows = np.empty((len(tokens), len(self.tags)), dtype=np.float64)
        for i, word in enumerate(tokens):
            row = self.words.get(word)
            rows[i] = self.emission[row] if row is not None else self.unseen(word)
        return rows

    def unseen(self, word: str) -> np.ndarray:
        case = _case(word)
        for length in range(min(SUFFIX, len(word)), 0, -1):
            row = self.suffixes.get(case + word[-length:])
            if row is not None:
                return self.suffix_probs[row]  # type: ignore[no-any-return]
        return self.unknown[int(case)]  # type: ignore[no-any-return]


def _case(word: str) -> str:
    return "1" if word[:1].isupper() else "0"


def fit(sentences: Iterable[tuple[Sequence[str], Sequence[str]]], order: int = 3) -> HMM:
    """Count an HMM of ``order`` 2 (bigram transitions) or 3 (trigram) from (tokens, tags) pairs."""
    if order not in (2, 3):
        raise ValueError("an HMM tagger has order 2 or 3")
    pairs = [(list(w), list(t)) for w, t in sentences if w]
    if not pairs:
        raise ValueError("no tagged sentences to count")
    tags = sorted({t for _, ts in pairs for t in ts})
    index = {t: i for i, t in enumerate(tags)}
    tag_counts = Counter(t for _, ts in pairs for t in ts)
    word_tag = Counter((w, t) for ws, ts in pairs for w, t in zip(ws, ts))
    word_counts = Counter(w for ws, _ in pairs for w in ws)
    words = {w: i for i, w in enumerate(sorted(word_counts))}
    emission = np.full((len(words), len(tags)), FLOOR)
    for (w, t), n in word_tag.items():
        emission[words[w], index[t]] = math.log(n / tag_counts[t])
    sequences = [[index[t] for t in ts] for _, ts in pairs]
    transition = _transitions(sequences, len(tags), order)
    every = [(w, t) for ws, ts in pairs for w, t in zip(ws, ts)]
    rare = [(w, t) for w, t in every if word_counts[w] <= RARE]
    suffixes, suffix_probs, unknown = _suffix_model(rare or every, index)
    return HMM(order, tags, words, emission.astype(np.float32), transition.astype(np.float32), suffixes,
               suffix_probs.astype(np.float32), unknown.astype(np.float32))


def _transitions(sequences: list[list[int]], size: int, order: int) -> np.ndarray:
    """log P(t | history) interpolated over orders by deleted interpolation (TnT); state ``size``
    is the boundary, before the first tag and after the last."""
    edge = size
    uni, bi, tri = Counter(), Counter(), Counter()
    for seq in sequences:
        padded = [edge] * (order - 1) + seq + [edge]
        uni.update(padded[order - 1:])
        bi.update(zip(padded, padded[1:]))
        if order == 3:
            tri.update(zip(padded, padded[1:], padded[2:]))
    history = Counter()  # counts of each tag as a history (boundaries included)
    for (a, _), n in bi.items():
        history[a] += n
    pair_history = Counter()
    for (a, b, _), n in tri.items():
        pair_history[(a, b)] += n
    total = sum(uni.values())
    lambdas = _deleted_interpolation(uni, bi, tri, history, pair_history, total, order)
    p1 = np.array([uni[t] / total for t in range(size + 1)])
    p2 = np.zeros((size + 1, size + 1))
    for (a, b), n in bi.items():
        p2[a, b] = n / history[a]
    if order == 2:
        return np.log(np.maximum(lambdas[0] * p1[None, :] + lambdas[1] * p2, math.exp(FLOOR)))
    p3 = np.zeros((size + 1, size + 1, size + 1))
    for (a, b, c), n in tri.items():
        p3[a, b, c] = n / pair_history[(a, b)]
    mixed = lambdas[0] * p1[None, None, :] + lambdas[1] * p2[None, :, :] + lambdas[2] * p3
    return np.log(np.maximum(mixed, math.exp(FLOOR)))


def _deleted_interpolation(uni: Counter, bi: Counter, tri: Counter, history: Counter, pair_history: Counter,
                           total: int, order: int) -> list[float]:
    """Each n-gram's count goes to the order whose estimate, without that one occurrence, is best;
    each order starts from one count, so that no order's weight is zero (where the data never
    lets the lower orders win, an unseen history would otherwise be impossible)."""
    weights = [1.0] * order
    grams = tri if order == 3 else bi
    for gram, n in grams.items():
        c = gram[-1]
        estimates = [(uni[c] - 1) / (total - 1) if total > 1 else 0.0,
                     (bi[gram[-2:]] - 1) / (history[gram[-2]] - 1) if history[gram[-2]] > 1 else 0.0]
        if order == 3:
            estimates.append((n - 1) / (pair_history[gram[:2]] - 1) if pair_history[gram[:2]] > 1 else 0.0)
        weights[int(np.argmax(estimates))] += n
    norm = sum(weights) or 1.0
    return [w / norm for w in weights]


def _suffix_model(rare: list[tuple[str, str]], index: dict[str, int]) -> tuple[dict[str, int], np.ndarray, np.ndarray]:
    """log P(t | suffix) - log P(t) for every suffix of the rare words, by case (TnT's successive
    abstraction: each length smoothed towards the shorter with theta, the spread of P(t))."""
    size = len(index)
    prior = np.zeros(size)
    for _, t in rare:
        prior[index[t]] += 1
    prior = (prior + 1e-3) / (prior.sum() + 1e-3 * size)
    theta = float(np.std(prior, ddof=1)) if size > 1 else 1.0
    counts: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(size))
    for word, t in rare:
        case = _case(word)
        for length in range(1, min(SUFFIX, len(word)) + 1):
            counts[case + word[-length:]][index[t]] += 1
    smoothed: dict[str, np.ndarray] = {}
    for key in sorted(counts, key=len):  # shorter suffixes first: each longer one smooths towards them
        shorter = smoothed.get(key[:1] + key[2:]) if len(key) > 2 else None
        base = prior if shorter is None else shorter
        row = counts[key]
        smoothed[key] = (row / row.sum() + theta * base) / (1 + theta)
    keys = sorted(smoothed)
    table = np.log(np.array([smoothed[k] for k in keys]).reshape(len(keys), size)) - np.log(prior)[None, :]
    unknown = np.zeros((2, size))  # no suffix known: no evidence beyond the transitions
    return {k: i for i, k in enumerate(keys)}, table, unknown


def viterbi(emissions: np.ndarray, transition: np.ndarray) -> list[int]:
    """The best tag path for (tokens, tags) log emissions under log ``transition`` of order 2
    ((S+1, S+1)) or 3 ((S+1, S+1, S+1)), the last state being the sentence boundary."""
    size = emissions.shape[1]
    edge = size
    if transition.ndim == 2:
        score = transition[edge, :size] + emissions[0]
        back = []
        for e in emissions[1:]:
            candidates = score[:, None] + transition[:size, :size]  # (previous, current)
            back.append(candidates.argmax(0))
            score = candidates.max(0) + e
        last = int((score + transition[:size, edge]).argmax())
        path = [last]
        for pointers in reversed(back):
            path.append(int(pointers[path[-1]]))
        return path[::-1]
    # order 3: states are (previous tag, current tag); the start's previous tag is the boundary
    score = np.full((size + 1, size), -np.inf)
    score[edge] = transition[edge, edge, :size] + emissions[0]
    back3 = []
    for e in emissions[1:]:
        candidates = score[:, :, None] + transition[:, :size, :size]  # (prev2, prev1, current)
        back3.append(candidates.argmax(0))  # best prev2 for each (prev1, current)
        new = np.full((size + 1, size), -np.inf)
        new[:size] = candidates.max(0) + e[None, :]
        score = new
    final = score + transition[:, :size, edge]
    prev, cur = np.unravel_index(int(final.argmax()), final.shape)
    path = [int(cur), int(prev)]
    for pointers in reversed(back3):
        path.append(int(pointers[path[-1], path[-2]]))
    return path[::-1][1:]  # the first is the boundary before the sentence


def tensors(model: HMM) -> dict[str, np.ndarray]:
    return {"emission": model.emission, "transition": model.transition, "suffix_probs": model.suffix_probs,
            "unknown": model.unknown}


def from_tables(tables: dict[str, np.ndarray], meta: dict[str, Any]) -> HMM:
    """An HMM from its saved tables and its JSON (order, tags, words and suffixes in row order)."""
    return HMM(int(meta["order"]), list(meta["tags"]), {w: i for i, w in enumerate(meta["words"])},
               tables["emission"], tables["transition"], {s: i for i, s in enumerate(meta["suffixes"])},
               tables["suffix_probs"], tables["unknown"])


def meta(model: HMM) -> dict[str, Any]:
    return {"order": model.order, "tags": model.tags, "words": sorted(model.words, key=model.words.__getitem__),
            "suffixes": sorted(model.suffixes, key=model.suffixes.__getitem__)}


def save(model: HMM, directory: Path) -> None:
    """The tables as safetensors and the word and suffix lists as JSON (no pickle), written atomically."""
    from safetensors.numpy import save as pack

    from rnncli.fileio import write_bytes, write_json
    from rnncli.run.files import HMM_TABLES, HMM_WORDS

    write_bytes(directory / HMM_TABLES, pack(tensors(model), metadata={"format": "rnncli-hmm", "version": "1"}))
    write_json(directory / HMM_WORDS, meta(model), indent=None)


class HMMTagger:
    """A counted HMM as a tagger engine: it decodes whole sentences itself (Viterbi over its own
    transitions) and gives no probabilities."""

    task, variant = "tag", "hmm"

    def __init__(self, model: HMM, vocab: Any, labels: list[str]) -> None:
        self.model, self.vocab, self.labels = model, vocab, list(labels)

    def tag(self, tokens: Sequence[Sequence[str]], batch_size: int = 1, top: int = 1) -> list[Any]:
        """Each sentence's Viterbi path, in the form rnncli.tasks.tagging.inference.decode gives (no
        probabilities: the HMM's are joint, not per token)."""
        return [[(tag, None, []) for tag in self.model.tag(sentence)] if sentence else [] for sentence in tokens]

    def crf(self) -> None:
        return None


def open_counted(path: Path, config: Any) -> HMMTagger:
    """An HMM run's engine, read without torch, its files checked against config.json."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    from rnncli.errors import FormatError
    from rnncli.fileio import read_json
    from rnncli.run.directory import RunDir
    from rnncli.run.files import HMM_TABLES, HMM_WORDS, VOCAB
    from rnncli.text.vocab import load_vocab

    try:
        model = from_tables(load_file(str(path / HMM_TABLES)), read_json(path / HMM_WORDS))
    except (SafetensorError, KeyError, ValueError, TypeError, OSError) as exc:
        raise FormatError(f"{path}: not a valid HMM tagger ({str(exc).splitlines()[0][:200]})") from None
    labels = RunDir(path).load_labels(config.num_labels)
    if not set(model.tags) <= set(labels):
        raise FormatError(f"{path / HMM_WORDS} has tags its run does not list")
    return HMMTagger(model, load_vocab(path / VOCAB), labels)
