"""Where two taggers part on the same gold sentences: the tokens the first gets wrong and the
second right (and the reverse), counted by word and by gold tag, with examples in context.

    python docs/tag_contrast.py GOLD.conllu FIRST.conllu SECOND.conllu [--names=hmm,bilstm]

FIRST and SECOND are ``rnncli tag -c RUN GOLD.conllu`` outputs (the same sentences, the tag column
refilled). Used by section 7 of docs/lecture.md (docs/make_figures.sh).
"""

from __future__ import annotations

import sys
from collections import Counter

from rnncli.text.tagged import read_tagged


def main(gold_path: str, first_path: str, second_path: str, names: tuple[str, str]) -> None:
    gold, first, second = (read_tagged(p) for p in (gold_path, first_path, second_path))
    if not len(gold) == len(first) == len(second):
        raise SystemExit("error: the three files hold different numbers of sentences")
    only_second: Counter[tuple[str, str, str]] = Counter()
    only_first: Counter[tuple[str, str, str]] = Counter()
    examples: dict[tuple[str, str, str], str] = {}
    for g, a, b in zip(gold, first, second):
        for i, (word, truth, x, y) in enumerate(zip(g.tokens, g.tags or [], a.tags or [], b.tags or [])):
            if (x == truth) == (y == truth):
                continue
            key = (word.lower(), truth, x if x != truth else y)
            (only_second if y == truth else only_first)[key] += 1
            if key not in examples:
                examples[key] = " ".join(g.tokens[max(0, i - 6):i]) + f" [{word}] " + " ".join(g.tokens[i + 1:i + 4])
    total = sum(len(s.tokens) for s in gold)
    print(f"{total:,} tokens; {names[1]} right where {names[0]} is wrong: {sum(only_second.values()):,}; "
          f"the reverse: {sum(only_first.values()):,}")
    by_tag = Counter()
    for (_, truth, _), n in only_second.items():
        by_tag[truth] += n
    print("by gold tag:", ", ".join(f"{t} {n}" for t, n in by_tag.most_common(8)))
    print(f"most frequent (word, gold tag, {names[0]}'s tag), with an example:")
    for key, n in only_second.most_common(12):
        print(f"  {n:4d}  {key[0]:<10} {key[1]:<6} {key[2]:<6} {examples[key]}")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--names")]
    given = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--names=")), "first,second")
    if len(args) != 3:
        raise SystemExit(__doc__)
    main(*args, tuple(given.split(",", 1)))  # type: ignore[arg-type]
