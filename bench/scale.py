"""Scale: distributed throughput (1 vs 2 gloo processes) and training on generated 0.1 GB and
1 GB corpora with bounded memory (peak RSS of each command, which must stay under 2 GB and not
grow with the corpus).

    python bench/scale.py            # both (about 10 minutes: the corpora are generated and tokenised)
    python bench/scale.py --quick    # distributed throughput only
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import DATA, ROOT, Row, print_table


def _torchrun(nproc: int, *args: str) -> float:
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}",
               "-m", "rnncli", *args]
    subprocess.run(command, check=True, capture_output=True, cwd=ROOT,
                   env={**os.environ, "OMP_NUM_THREADS": str(max(1, (os.cpu_count() or 2) // nproc))})
    out = args[args.index("-o") + 1]
    records = [json.loads(line) for line in Path(out, "metrics.jsonl").read_text().splitlines()]
    return records[-1]["tokens_per_sec"]


def distributed(work: Path) -> Row:
    args = ["train", "sample_data/english.txt", "--level", "char", "--batch-size", "32", "--bptt", "64",
            "--hidden", "256", "--max-steps", "60", "--eval-every", "60", "-q"]
    one = _torchrun(1, *args, "-o", str(work / "one"))
    two = _torchrun(2, *args, "-o", str(work / "two"))
    return Row("distributed training tokens/s, 2 gloo processes vs 1 (same global batch)", f"{two:,.0f}",
               f"1 process {one:,.0f}", two / one,
               note=f"{os.cpu_count()} cores shared by all processes: each gets fewer threads")


def _peak_mb(*args: str, env: dict[str, str], stdin: Path | None = None) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of one rnncli command, measured by the kernel for that process alone
    (``stdin``: a file piped into it through ``cat``, so that rnncli reads a pipe, not a file)."""
    probe = ("import resource, subprocess, sys; cat = subprocess.Popen(['cat', sys.argv[1]], "
             "stdout=subprocess.PIPE) if sys.argv[1] else None; "
             "subprocess.run(sys.argv[2:], check=True, stdin=cat.stdout if cat else None); "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", probe, str(stdin or ""), sys.executable, "-m", "rnncli", *args],
                          check=True, cwd=ROOT, env=env, capture_output=True, text=True)
    return time.perf_counter() - began, int(done.stdout.split()[-1]) / 1024


def _corpus(path: Path, gigabytes: float) -> float:
    began = time.perf_counter()
    subprocess.run([sys.executable, "-m", "rnncli", "sample-data", "english", "--lines", str(int(gigabytes * 1e9 / 77)),
                    "-o", str(path)], check=True, cwd=ROOT)
    return time.perf_counter() - began


def big_corpus(work: Path, gigabytes: float = 1.0) -> list[Row]:
    """A char LSTM on a generated corpus: vocabulary, tokenising into the cache, a minute of training."""
    env = {**os.environ, "RNNCLI_CACHE_DIR": str(work / "cache")}
    rows = []
    peaks = {}
    for size in (gigabytes / 10, gigabytes):
        corpus = work / f"big-{size:g}.txt"
        generated = _corpus(corpus, size)
        gb = corpus.stat().st_size / 1e9
        vocab = work / f"vocab-{size:g}.json"
        vocab_s, vocab_mb = _peak_mb("build-vocab", str(corpus), "--level", "char", "-o", str(vocab), "-q", env=env)
        common = ["train", str(corpus), "--vocab", str(vocab), "--model", "lstm", "-q"]
        first_s, first_mb = _peak_mb(*common, "-o", str(work / f"first-{size:g}"), "--max-steps", "20", env=env)
        train_s, train_mb = _peak_mb(*common, "-o", str(work / f"run-{size:g}"), "--time-budget", "60", env=env)
        steps = json.loads(Path(work / f"run-{size:g}" / "metrics.jsonl").read_text().splitlines()[-1])["step"]
        peak = max(vocab_mb, first_mb, train_mb)
        peaks[size] = peak
        rows.append(Row(f"peak RSS, char LSTM on a generated {gb:.2f} GB corpus, MB", f"{peak:,.0f}", "goal 2,048",
                        peak / 2048, "<= 1.0x",
                        note=f"{gb:.2f} GB generated in {generated:.0f}s; build-vocab {vocab_s:.0f}s, "
                             f"{vocab_mb:,.0f} MB; first train (tokenising into the cache, 20 steps) {first_s:.0f}s, "
                             f"{first_mb:,.0f} MB; --time-budget 60 reusing the cache: {steps} steps, "
                             f"{train_s:.0f}s, {train_mb:,.0f} MB"))
        corpus.unlink()
    small, big = peaks[gigabytes / 10], peaks[gigabytes]
    rows.append(Row("peak RSS growth with the corpus, 10x larger", f"{big:,.0f} MB", f"{small:,.0f} MB", big / small,
                    "<= 1.2x"))
    return rows


def from_a_pipe(work: Path) -> Row:
    """`rnncli train -` reading War and Peace from a pipe beside the same file by name: peak RSS of
    each (characters, 50 steps, each tokenising into its own empty cache)."""
    corpus = DATA / "warpeace" / "train.txt"
    options = ["--level", "char", "--max-steps", "50", "-q"]
    peaks = {}
    for name, source, stdin in (("pipe", "-", corpus), ("file", str(corpus), None)):
        env = {**os.environ, "RNNCLI_CACHE_DIR": str(work / f"cache-{name}")}
        peaks[name] = _peak_mb("train", source, *options, "-o", str(work / f"from-{name}"), env=env, stdin=stdin)[1]
    return Row("peak RSS, train - from a pipe vs the file (War and Peace, char, 50 steps), MB",
               f"{peaks['pipe']:,.0f}", f"from the file {peaks['file']:,.0f}", peaks["pipe"] / peaks["file"], "<= 1.1x")


def run(quick: bool = False) -> list[Row]:
    work = Path(tempfile.mkdtemp(prefix="rnncli-scale-"))
    rows = [distributed(work)]
    if (DATA / "warpeace" / "train.txt").is_file():
        rows.append(from_a_pipe(work))
    if not quick:
        rows.extend(big_corpus(work))
    return rows


if __name__ == "__main__":
    from common import machine

    print(machine())
    print_table("scale", run("--quick" in sys.argv))
