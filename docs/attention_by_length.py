"""BLEU by source length for translation runs on the same pairs: where the fixed-vector
encoder-decoder falls behind the one with attention (Bahdanau et al. 2015, figure 2).

    python docs/attention_by_length.py PAIRS.tsv RUN [RUN ...] [--beam=5] [--plot=FILE.png]

Each run translates the sources of PAIRS.tsv (``rnncli.load(RUN).translate``); the pairs are
grouped by source length in words, and each group's sacrebleu BLEU is printed per run as a
markdown table (and drawn with --plot). Used by section 8 of docs/lecture.md (docs/make_figures.sh).
"""

from __future__ import annotations

import sys

import sacrebleu

import rnncli
from rnncli.text.pairs import read_pairs

GROUPS = ((1, 10), (11, 15), (16, 20), (21, 1000))


def main(pairs_path: str, runs: list[str], beam: int, plot: str | None) -> None:
    pairs = read_pairs(pairs_path).pairs
    groups = {g: [i for i, p in enumerate(pairs) if g[0] <= len(p.source.split()) <= g[1]] for g in GROUPS}
    names = [run.rstrip("/").rsplit("/", 1)[-1] for run in runs]
    scores: dict[str, list[float]] = {}
    for name, run in zip(names, runs):
        loaded = rnncli.load(run, device="cpu")
        hypotheses = loaded.translate([p.source for p in pairs], beam=beam)
        scores[name] = [sacrebleu.corpus_bleu([hypotheses[i] for i in chosen],
                                              [[pairs[i].target for i in chosen]]).score if chosen else 0.0
                        for chosen in groups.values()]
        scores[name].append(sacrebleu.corpus_bleu(hypotheses, [[p.target for p in pairs]]).score)
    labels = [f"{low}-{high}" if high < 1000 else f"{low}+" for low, high in GROUPS]
    counted = [f"{label}\n({len(chosen)} pairs)" for label, chosen in zip(labels, groups.values())]
    print(f"| source words | pairs | {' | '.join(names)} |")
    print("|---|---|" + "---|" * len(names))
    for k, (label, chosen) in enumerate(zip(labels, groups.values())):
        print(f"| {label} | {len(chosen)} | " + " | ".join(f"{scores[n][k]:.2f}" for n in names) + " |")
    print(f"| all | {len(pairs)} | " + " | ".join(f"{scores[n][-1]:.2f}" for n in names) + " |")
    if plot:
        _plot(counted, scores, plot)


def _plot(labels: list[str], scores: dict[str, list[float]], path: str) -> None:
    from rnncli.plots import _pyplot, _save

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for name, values in scores.items():
        ax.plot(labels, values[:-1], marker="o", linewidth=2, label=name)
    ax.set_xlabel("source sentence length (words)")
    ax.set_ylabel("BLEU (sacrebleu, cased)")
    ax.set_title("Translation quality by source length")
    ax.grid(True, alpha=0.3)
    ax.legend()
    _save(fig, path)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    options = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--") and "=" in a)
    if len(args) < 2:
        raise SystemExit(__doc__)
    main(args[0], args[1:], int(options.get("beam", 5)), options.get("plot"))
