"""Quality per second: the language-model acceptance runs, beside the figures measured for peers.

tinyshakespeare: char LSTM with --time-budget 120 (60 with --quick), validation loss in nats/char;
for comparison on this machine: nanoGPT's CPU configuration 1.886 in 123 s, a plain one-layer
nn.LSTM script 1.546 in 120 s. War and Peace: word level on whitespace tokens, --time-budget 444
(rnncli's word models stop after two epochs, about 160 s here), test perplexity;
word_language_model's defaults reach 654 in one 444 s epoch.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from common import DATA, Row, print_table, rnncli


def tinyshakespeare(work: Path, budget: int) -> Row:
    d = DATA / "tinyshakespeare"
    began = time.perf_counter()
    rnncli("train", str(d / "train.txt"), "--valid", str(d / "valid.txt"), "--level", "char", "--model", "lstm",
           "--time-budget", str(budget), "-o", str(work / "ts"), "-q", check=True)
    seconds = time.perf_counter() - began
    loss = json.loads(rnncli("evaluate", "-c", str(work / "ts"), str(d / "valid.txt"), "--json").stdout)["loss"]
    return Row(f"tinyshakespeare char LSTM, --time-budget {budget}: valid nats/char", f"{loss:.3f} in {seconds:.0f}s",
               "plain nn.LSTM script 1.546 in 120s; nanoGPT CPU 1.886 in 123s", 1.546 / loss,
               note="goal (120 s): <= 1.52")


def war_and_peace(work: Path) -> Row:
    d = DATA / "warpeace"
    vocab = work / "wp.json"
    rnncli("build-vocab", str(d / "train.txt"), str(d / "valid.txt"), str(d / "test.txt"), "--level", "word",
           "--split", "whitespace", "-o", str(vocab), "-q", check=True)
    began = time.perf_counter()
    rnncli("train", str(d / "train.txt"), "--valid", str(d / "valid.txt"), "--vocab", str(vocab), "--model", "lstm",
           "--time-budget", "444", "-o", str(work / "wp"), "-q", check=True)
    seconds = time.perf_counter() - began
    ppl = json.loads(rnncli("evaluate", "-c", str(work / "wp"), str(d / "test.txt"), "--json").stdout)["ppl"]
    return Row("War and Peace word LSTM, --time-budget 444: test perplexity", f"{ppl:.0f} in {seconds:.0f}s",
               "word_language_model defaults 654 in 444s", 654 / ppl,
               note=f"goal: <= 400: {'met' if ppl <= 400 else 'NOT met'}")


def run(quick: bool = False) -> list[Row]:
    work = Path(tempfile.mkdtemp(prefix="rnncli-bench-"))
    rows = []
    if (DATA / "tinyshakespeare" / "train.txt").is_file():
        rows.append(tinyshakespeare(work, 60 if quick else 120))
    if (DATA / "warpeace" / "train.txt").is_file():
        rows.append(war_and_peace(work))
    return rows


if __name__ == "__main__":
    from common import machine

    print(machine())
    print_table("quality per second", run("--quick" in sys.argv))
