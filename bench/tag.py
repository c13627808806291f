"""Tagging on UD English LinES (UPOS): rnncli's default tagger (--time-budget 300) and its HMM beside
two classical taggers trained on the same file in the same run (shared/peers/tag_peers.py: NLTK's
averaged perceptron and a CRFsuite CRF; bench/setup.sh installs them), and the throughput of
`rnncli tag` served by ONNX.

    python bench/tag.py [--quick]     # --quick: one seed, else the median of three
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import DATA, PEERS, Row, alternate, print_table, rnncli, timed_rnncli

LINES = DATA / "ud_english_lines"
TAG_PEERS = PEERS / "tag_peers.py"
BUDGET = "300"


def _train(run: Path, *options: str) -> float:
    began = time.perf_counter()
    done = rnncli("train", str(LINES / "train.conllu"), "--valid", str(LINES / "dev.conllu"), "-o", str(run), "-q",
                  "--force", *options)
    if done.returncode:
        raise RuntimeError(done.stderr.decode())
    return time.perf_counter() - began


def _test(run: Path) -> dict:  # type: ignore[type-arg]
    return json.loads(rnncli("evaluate", "-c", str(run), str(LINES / "test.conllu"), "--json").stdout)


def _peers() -> dict[str, dict]:  # type: ignore[type-arg]
    done = subprocess.run([sys.executable, str(TAG_PEERS), str(LINES / "train.conllu"), str(LINES / "test.conllu")],
                          capture_output=True, text=True)
    if done.returncode:
        return {}
    return {row["peer"]: row for row in map(json.loads, done.stdout.splitlines())}


def quality(work: Path, seeds: int) -> list[Row]:
    runs = [(_train(work / f"bilstm{s}", "--time-budget", BUDGET, "--seed", str(s)), _test(work / f"bilstm{s}"))
            for s in range(seeds)]
    accuracy = statistics.median(r["accuracy"] for _, r in runs)
    unseen = statistics.median(r["unseen_accuracy"] for _, r in runs)
    hmm_seconds = _train(work / "hmm", "--model", "hmm")
    hmm = _test(work / "hmm")
    peers = _peers()
    ours = f"{accuracy:.4f} (unseen words {unseen:.4f})"
    rows = []
    for name, row in peers.items():
        rows.append(Row(f"UD English LinES test UPOS accuracy, rnncli --time-budget {BUDGET} vs {name}, error rate",
                        ours, f"{row['accuracy']:.4f} (unseen {row['unseen_accuracy']:.4f}) in {row['seconds']:.0f}s",
                        (1 - accuracy) / max(1e-9, 1 - row["accuracy"]), "<= 1.0x", repeats=seeds,
                        note=f"unseen-word error rate ratio {(1 - unseen) / max(1e-9, 1 - row['unseen_accuracy']):.2f}x"))
    if not peers:
        rows.append(Row("tagging peers", "skipped", "nltk or python-crfsuite absent (bench/setup.sh)", None))
    rows.append(Row("UD English LinES test UPOS accuracy, rnncli --model hmm (counted) vs the BiLSTM",
                    f"{hmm['accuracy']:.4f} in {hmm_seconds:.1f}s", f"BiLSTM {accuracy:.4f}", hmm["accuracy"] / accuracy,
                    note=f"unseen words: HMM {hmm['unseen_accuracy']:.4f}, BiLSTM {unseen:.4f}; goal: HMM under 10 s"))
    return rows


def throughput(work: Path, run: Path) -> list[Row]:
    """Tokens per second of `rnncli tag` served by ONNX on the test sentences repeated (start-up
    excluded: the same command on one line is timed too, alternating), and one line's start-up."""
    rnncli("export", "-c", str(run))
    sentences = [line.split("\t")[1] for line in (LINES / "test.conllu").read_text(encoding="utf-8").splitlines()
                 if line[:1].isdigit() and "\t" in line and line.split("\t")[0].isdigit()]
    text = (" ".join(sentences) + "\n")
    lines = [" ".join(sentences[i:i + 20]) for i in range(0, len(sentences), 20)] * 5
    tokens = sum(len(line.split()) for line in lines)
    t = alternate({"many": timed_rnncli("tag", "-c", str(run), data="\n".join(lines) + "\n"),
                   "one": timed_rnncli("tag", "-c", str(run), data=text[:60] + "\n")}, 3)
    rate = tokens / max(1e-9, t["many"] - t["one"])
    return [Row(f"tag tokens/s, ONNX export ({tokens:,} tokens, start-up excluded)", f"{rate:,.0f}", "goal 20,000",
                rate / 20_000, ">= 1.0x", repeats=3),
            Row("start-up: echo ... | rnncli tag -c RUN, ONNX export, s", f"{t['one']:.3f}", "goal 0.5", t["one"] / 0.5,
                "<= 1.0x", repeats=3)]


def run(quick: bool = False) -> list[Row]:
    if not (LINES / "train.conllu").is_file():
        return [Row("tagging", "skipped", "UD English LinES absent", None)]
    work = Path(tempfile.mkdtemp(prefix="rnncli-tag-"))
    rows = quality(work, 1 if quick else 3)
    return rows + throughput(work, work / "bilstm0")


if __name__ == "__main__":
    from common import machine

    print(machine())
    print_table("tagging", run("--quick" in sys.argv))
