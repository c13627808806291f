"""Scale: distributed throughput (1 vs 2 gloo processes) and training on a generated 1 GB corpus
with bounded memory (peak RSS of the training process, which must stay under 2 GB and not grow
with the corpus).

    python bench/scale.py            # both (the 1 GB corpus takes several minutes to generate)
    python bench/scale.py --quick    # distributed throughput only
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, Row, print_table


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


def big_corpus(work: Path, gigabytes: float = 1.0) -> list[Row]:
    corpus = work / "big.txt"
    began = time.perf_counter()
    lines = int(gigabytes * 1e9 / 77)
    subprocess.run([sys.executable, "-m", "rnncli", "sample-data", "english", "--lines", str(lines), "-o", str(corpus)],
                   check=True, cwd=ROOT)
    generated = time.perf_counter() - began
    size = corpus.stat().st_size
    env = {**os.environ, "RNNCLI_CACHE_DIR": str(work / "cache")}
    began = time.perf_counter()
    subprocess.run([sys.executable, "-m", "rnncli", "train", str(corpus), "-o", str(work / "big"), "--level", "char",
                    "--time-budget", "60", "-q"], check=True, cwd=ROOT, env=env)
    first = time.perf_counter() - began
    peak_first = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    began = time.perf_counter()
    subprocess.run([sys.executable, "-m", "rnncli", "train", str(corpus), "-o", str(work / "big2"), "--level", "char",
                    "--time-budget", "60", "-q", "--vocab", str(work / "big" / "vocab.json")], check=True, cwd=ROOT, env=env)
    second = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return [Row(f"peak RSS training on a generated {size / 1e9:.2f} GB corpus, MB", f"{peak:,.0f}", "goal 2,048",
                peak / 2048, "<= 1.0x", note=f"generated in {generated:.0f}s; first run (vocabulary, tokenising, "
                f"60 s of training) {first:.0f}s with peak {peak_first:,.0f} MB; second run reusing the token cache "
                f"{second:.0f}s")]


def run(quick: bool = False) -> list[Row]:
    work = Path(tempfile.mkdtemp(prefix="rnncli-scale-"))
    rows = [distributed(work)]
    if not quick:
        rows.extend(big_corpus(work))
    return rows


if __name__ == "__main__":
    from common import machine

    print(machine())
    print_table("scale", run("--quick" in sys.argv))
