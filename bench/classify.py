"""Classification: quality and training time on sms_spam beside fastText, and classify lines/s;
with ``--lecture`` (or ``--lecture-only``), the bag of words, the convolutional network and the LSTM on the synthetic tasks
of docs/lecture.md (word order at two lengths, a key word 50 words back), the same budget each.

fastText is a peer installed only for benchmarking (Debian's ``fasttext`` package or the PyPI
``fasttext-wheel``; see bench/setup.sh); where it is absent its rows say so.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import DATA, Row, alternate, print_table, rnncli, timed_rnncli


def spam_scores(report: dict) -> tuple[float, float]:  # type: ignore[type-arg]
    return report["accuracy"], report["per_label"]["spam"]["f1"]


def run_rnncli(run: Path, model: str, budget: float, *options: str) -> tuple[dict, float]:  # type: ignore[type-arg]
    began = time.perf_counter()
    done = rnncli("train", str(DATA / "sms_spam" / "train.tsv"), "-o", str(run), "--task", "classify",
                  "--model", model, "--time-budget", str(budget), "-q", *options)
    seconds = time.perf_counter() - began
    if done.returncode:
        raise RuntimeError(done.stderr.decode())
    report = json.loads(rnncli("evaluate", "-c", str(run), str(DATA / "sms_spam" / "test.tsv"), "--json").stdout)
    return report, seconds


def fasttext_scores(work: Path, seed: int = 0) -> tuple[float, float, float] | None:
    """(accuracy, spam F1, training seconds) of fastText with 25 epochs, lr 1.0, bigrams, one thread
    per core and the given seed."""
    binary = shutil.which("fasttext")
    if binary is None:
        return None

    def convert(source: Path, target: Path) -> list[str]:
        gold = []
        with open(target, "w", encoding="utf-8") as out:
            for line in source.read_text(encoding="utf-8").splitlines():
                label, text = line.split("\t", 1)
                gold.append(label)
                out.write(f"__label__{label} {' '.join(text.split())}\n")
        return gold

    convert(DATA / "sms_spam" / "train.tsv", work / "ft_train.txt")
    gold = convert(DATA / "sms_spam" / "test.tsv", work / "ft_test.txt")
    began = time.perf_counter()
    subprocess.run([binary, "supervised", "-input", str(work / "ft_train.txt"), "-output", str(work / "ft"),
                    "-epoch", "25", "-lr", "1.0", "-wordNgrams", "2", "-verbose", "0", "-seed", str(seed)], check=True,
                   capture_output=True)
    seconds = time.perf_counter() - began
    predicted = subprocess.run([binary, "predict", str(work / "ft.bin"), str(work / "ft_test.txt")], check=True,
                               capture_output=True, text=True).stdout.split()
    predicted = [p.replace("__label__", "") for p in predicted]
    accuracy = sum(p == g for p, g in zip(predicted, gold)) / len(gold)
    tp = sum(p == g == "spam" for p, g in zip(predicted, gold))
    precision = tp / max(1, sum(p == "spam" for p in predicted))
    recall = tp / max(1, sum(g == "spam" for g in gold))
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return accuracy, f1, seconds


RATE_REPEATS = 7


def classify_rate(run: Path, lines: list[str], repeats: int = RATE_REPEATS) -> float:
    """Lines per second, start-up excluded: 10,000 lines timed against 1 line, alternating, medians.

    The difference of two whole processes is small beside their start-up for a fast model, so the
    two alternate (a drift of the machine's speed falls on both) and each is a median of 7.
    """
    times = alternate({"many": timed_rnncli("classify", "-c", str(run), data="\n".join(lines) + "\n"),
                       "one": timed_rnncli("classify", "-c", str(run), data=lines[0] + "\n")}, repeats)
    return (len(lines) - 1) / max(1e-9, times["many"] - times["one"])


def error_ratio(ours: float, theirs: float) -> float:
    """rnncli's error rate over the peer's: below 1 is better."""
    return (1 - ours) / max(1e-9, 1 - theirs)


def run(quick: bool = False) -> list[Row]:
    if not (DATA / "sms_spam" / "train.tsv").is_file():
        return [Row("sms_spam", "skipped", "data absent", None)]
    work = Path(tempfile.mkdtemp(prefix="rnncli-bench-"))
    rows: list[Row] = []
    seeds = range(1 if quick else 3)
    peers = [p for p in (fasttext_scores(work, seed) for seed in seeds) if p is not None]
    peer = tuple(statistics.median(p[i] for p in peers) for i in range(3)) if peers else None
    peer_text = "fastText not installed (bench/setup.sh)" if peer is None else \
        f"fastText {peer[0]:.4f} / {peer[1]:.4f} in {peer[2]:.1f}s"
    report, seconds = run_rnncli(work / "lstm", "lstm", 60)
    accuracy, f1 = spam_scores(report)
    rows.append(Row("sms_spam test accuracy / spam F1 (LSTM, --time-budget 60), error rate vs fastText",
                    f"{accuracy:.4f} / {f1:.4f} in {seconds:.0f}s", peer_text,
                    None if peer is None else error_ratio(accuracy, peer[0]), "<= 1.0x"))
    bows = [run_rnncli(work / f"bow{seed}", "bow", 20 if quick else 60, "--level", "word", "--seed", str(seed))
            for seed in seeds]
    bow = [spam_scores(r) for r, _ in bows]
    bow_accuracy, bow_f1 = statistics.median(a for a, _ in bow), statistics.median(f for _, f in bow)
    rows.append(Row("sms_spam word bag of words + bigrams vs fastText (seeds), error rate",
                    f"{bow_accuracy:.4f} / {bow_f1:.4f} in {statistics.median(s for _, s in bows):.0f}s", peer_text,
                    None if peer is None else error_ratio(bow_accuracy, peer[0]), "<= 1.0x",
                    note="like with like: fastText's own model (word and hashed-bigram embeddings, averaged)",
                    repeats=len(bows)))
    cnn, cnn_seconds = run_rnncli(work / "cnn", "cnn", 60)
    cnn_accuracy, cnn_f1 = spam_scores(cnn)
    rows.append(Row("sms_spam test accuracy / spam F1 (CNN, Kim 2014, --time-budget 60), error rate vs fastText",
                    f"{cnn_accuracy:.4f} / {cnn_f1:.4f} in {cnn_seconds:.0f}s", peer_text,
                    None if peer is None else error_ratio(cnn_accuracy, peer[0]), "",
                    note="the course's convolutional baseline, beside the LSTM above"))
    texts = [line.split("\t", 1)[1] for line in (DATA / "sms_spam" / "test.tsv").read_text().splitlines()]
    lines = (texts * (10_000 // len(texts) + 1))[:10_000]
    for model, run_dir, goal in (("lstm", work / "lstm", 5000), ("cnn", work / "cnn", 5000),
                                 ("bow", work / "bow0", 50000)):
        rate = classify_rate(run_dir, lines)
        rows.append(Row(f"classify lines/s ({model}, 10,000 sms_spam lines)", f"{rate:,.0f}", f"goal {goal:,}",
                        rate / goal, ">= 1.0x", repeats=RATE_REPEATS))
    return rows


LECTURE_TASKS = {"word order, 12 words": ("word-order", "--length", "12"),
                 "word order, 60 words": ("word-order", "--length", "60"),
                 "long range, key 50 words back": ("long-range", "--distance", "50")}


def lecture_tasks(budget: float = 40) -> list[Row]:
    """The course's baselines beside the LSTM on the synthetic tasks of docs/lecture.md, the same
    budget each: test accuracy of the bag of words, the convolutional network and the LSTM."""
    work = Path(tempfile.mkdtemp(prefix="rnncli-lecture-"))
    rows = []
    for name, (kind, flag, value) in LECTURE_TASKS.items():
        files = {}
        for part, lines, seed in (("train", 4000, 0), ("test", 500, 1)):
            files[part] = work / f"{kind}{value}-{part}.tsv"
            rnncli("sample-data", kind, flag, value, "--lines", str(lines), "--seed", str(seed), "-o",
                   str(files[part]), check=True)
        accuracy = {}
        for model in ("bow", "cnn", "lstm"):
            run = work / f"{kind}{value}-{model}"
            rnncli("train", str(files["train"]), "-o", str(run), "--task", "classify", "--model", model, "--level",
                   "word", "--time-budget", str(budget), "-q", check=True)
            report = json.loads(rnncli("evaluate", "-c", str(run), str(files["test"]), "--json").stdout)
            accuracy[model] = report["accuracy"]
        rows.append(Row(f"{name}: test accuracy, cnn (lstm / bow beside)", f"{accuracy['cnn']:.3f}",
                        f"lstm {accuracy['lstm']:.3f} / bow {accuracy['bow']:.3f}", None,
                        note=f"--time-budget {budget:g} each"))
    return rows


if __name__ == "__main__":
    from common import machine

    print(machine())
    if "--lecture-only" not in sys.argv:
        print_table("classification", run("--quick" in sys.argv))
    if "--lecture" in sys.argv or "--lecture-only" in sys.argv:
        print_table("the course's baselines on the lecture's tasks", lecture_tasks())
