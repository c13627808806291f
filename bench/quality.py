"""Quality in a time budget, beside the peer a user would run instead, measured in the same run.

tinyshakespeare: `rnncli train ... --level char --model lstm --time-budget B` and the plain script
../shared/peers/char_lstm.py with the same budget, alternating, each pair on the same machine;
validation loss in nats per character (the split has no test part), median over the pairs.
War and Peace: word level on whitespace tokens, vocabulary from all splits, `--time-budget 444`,
rnncli's defaults (chosen on validation); validation and test perplexity, over seeds.

    python bench/quality.py [--quick]
    python bench/quality.py --char-only [--precision fp32]   # tinyshakespeare 120 s, 3 pairs
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import DATA, PEERS, Row, print_table, rnncli

PEER = PEERS / "char_lstm.py"


def _rnncli_char(work: Path, budget: int, k: int, extra: tuple[str, ...] = ()) -> float:
    d = DATA / "tinyshakespeare"
    run = work / f"ts{k}"
    rnncli("train", str(d / "train.txt"), "--valid", str(d / "valid.txt"), "--level", "char", "--model", "lstm",
           "--time-budget", str(budget), "-o", str(run), "-q", *extra, check=True)
    # the network alone: the unigram cache is fitted on this same validation text
    return float(json.loads(rnncli("evaluate", "-c", str(run), str(d / "valid.txt"), "--json",
                                   "--cache", "none").stdout)["loss"])


def _peer_char(budget: int, seed: int) -> float:
    d = DATA / "tinyshakespeare"
    out = subprocess.run([sys.executable, str(PEER), str(d / "train.txt"), str(d / "valid.txt"), str(budget),
                          "--seed", str(seed)], capture_output=True, text=True, check=True).stdout
    return float(out.split("valid")[1].split()[0])


def tinyshakespeare(work: Path, budget: int, pairs: int, extra: tuple[str, ...] = ()) -> Row:
    """``extra``: options for rnncli's side (``--precision fp32`` plays a machine without bf16)."""
    results: dict[str, list[float]] = {"rnncli": [], "peer": []}
    for k in range(pairs):  # alternating, so that drifts of the machine weigh on both sides alike
        sides = [("rnncli", lambda: _rnncli_char(work, budget, k, extra)), ("peer", lambda: _peer_char(budget, k))]
        for name, measure in sides if k % 2 == 0 else sides[::-1]:
            results[name].append(measure())
    ours, theirs = statistics.median(results["rnncli"]), statistics.median(results["peer"])
    gap = ours - theirs
    return Row(f"tinyshakespeare char LSTM, --time-budget {budget}{' ' + ' '.join(extra) if extra else ''}: "
               "valid nats/char",
               f"{ours:.3f}", f"plain nn.LSTM script (shared/peers/char_lstm.py) {theirs:.3f}", ours / theirs,
               repeats=pairs, note=f"rnncli - peer = {gap:+.3f} nats (goal <= -0.08: {'met' if gap <= -0.08 else 'NOT met'}); "
                    f"rnncli {', '.join(f'{x:.3f}' for x in results['rnncli'])}; "
                    f"peer {', '.join(f'{x:.3f}' for x in results['peer'])}")


def war_and_peace(work: Path, seeds: int) -> Row:
    """Test perplexity of the defaults (the unigram cache included, fitted on validation), median
    over seeds; the network alone beside it, from the same runs."""
    d = DATA / "warpeace"
    vocab = work / "wp.json"
    rnncli("build-vocab", str(d / "train.txt"), str(d / "valid.txt"), str(d / "test.txt"), "--level", "word",
           "--split", "whitespace", "-o", str(vocab), "-q", check=True)
    runs = []
    for seed in range(seeds):
        run = work / ("wp" if seed == 0 else f"wp-seed{seed}")
        began = time.perf_counter()
        rnncli("train", str(d / "train.txt"), "--valid", str(d / "valid.txt"), "--vocab", str(vocab), "--model",
               "lstm", "--time-budget", "444", "--seed", str(seed), "-o", str(run), "-q", check=True)
        seconds = time.perf_counter() - began
        figures = {split: json.loads(rnncli("evaluate", "-c", str(run), str(d / f"{split}.txt"), "--json").stdout)
                   for split in ("valid", "test")}
        runs.append((seconds, figures))
    test = [f["test"]["ppl"] for _, f in runs]
    valid = [f["valid"]["ppl"] for _, f in runs]

    def network(split: str) -> str:
        return ", ".join(f"{f[split].get('network', f[split])['ppl']:.0f}" for _, f in runs)

    caches = ", ".join(f"{f['test']['unigram_cache']['window']}/{f['test']['unigram_cache']['weight']:g}"
                       if "unigram_cache" in f["test"] else "none" for _, f in runs)
    median = statistics.median(test)
    return Row("War and Peace word LSTM, --time-budget 444: test perplexity (a report: the test split has "
               "steered earlier choices; seeds)",
               f"{median:.0f} in {statistics.median(s for s, _ in runs):.0f}s",
               f"validation {statistics.median(valid):.0f} (its cache fitted there)", None, repeats=seeds,
               note=f"goal: test <= 360: {'met' if median <= 360 else 'NOT met'}; test by seed "
                    f"{', '.join(f'{x:.0f}' for x in test)}; the network alone: test {network('test')}, validation "
                    f"{network('valid')}; unigram cache window/weight {caches}")


def ngram_beside_lstm(work: Path) -> list[Row]:
    """The lecture's baseline: Kneser-Ney n-grams, counted, beside the LSTM runs above (validation)."""
    rows = []
    cases = [("tinyshakespeare", "char", "5", [], work / "ts0", "val_loss", "nats/char"),
             ("warpeace", "word", "3", ["--vocab", str(work / "wp.json")], work / "wp", "val_ppl", "perplexity")]
    for corpus, level, order, extra, lstm, key, unit in cases:
        d = DATA / corpus
        if not (lstm / "metrics.jsonl").is_file():
            continue
        run = work / f"ngram-{corpus}"
        began = time.perf_counter()
        options = extra or ["--level", level]
        rnncli("train", str(d / "train.txt"), "--valid", str(d / "valid.txt"), "--model", "ngram", "--order", order,
               *options, "-o", str(run), "-q", check=True)
        seconds = time.perf_counter() - began
        ours = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])[key]
        theirs = min(json.loads(line)[key] for line in (lstm / "metrics.jsonl").read_text().splitlines())
        rows.append(Row(f"{corpus} {level} {order}-gram (Kneser-Ney) vs the LSTM above: valid {unit}",
                        f"{ours:.3f} in {seconds:.0f}s", f"LSTM {theirs:.3f}", ours / theirs))
    return rows


def run(quick: bool = False) -> list[Row]:
    work = Path(tempfile.mkdtemp(prefix="rnncli-bench-"))
    rows = []
    if (DATA / "tinyshakespeare" / "train.txt").is_file() and PEER.is_file():
        rows.append(tinyshakespeare(work, 60 if quick else 120, 1 if quick else 3))
    else:
        rows.append(Row("tinyshakespeare against the plain script", "skipped", f"{PEER} or the data absent", None))
    if (DATA / "warpeace" / "train.txt").is_file():
        rows.append(war_and_peace(work, 1 if quick else 3))
    return rows + ngram_beside_lstm(work)


if __name__ == "__main__":
    from common import machine

    print(machine())
    if "--char-only" in sys.argv:  # python bench/quality.py --char-only [--precision fp32]
        extra = ("--precision", sys.argv[sys.argv.index("--precision") + 1]) if "--precision" in sys.argv else ()
        print_table("tinyshakespeare", [tinyshakespeare(Path(tempfile.mkdtemp(prefix="rnncli-bench-")), 120, 3, extra)])
    else:
        print_table("quality per second", run("--quick" in sys.argv))
