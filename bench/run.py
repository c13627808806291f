"""Every benchmark, one table: measure, rnncli, peer or baseline, ratio (measured in one run).

    python bench/run.py --quick     # about 45 minutes on a 2-core CPU (15 of them translate's)
    python bench/run.py             # longer repeats, tinyshakespeare with its full 120 s budget
    python bench/run.py --quick --skip tag,quality   # leave parts out (names as printed)
"""

from __future__ import annotations

import sys
import time

import classify
import encode
import generate
import quality
import serve
import serve_load
import tag
import train
import translate
import workflows
from common import machine, print_table


def main() -> None:
    quick = "--quick" in sys.argv
    skip = set(sys.argv[sys.argv.index("--skip") + 1].split(",")) if "--skip" in sys.argv else set()
    began = time.time()
    print(f"rnncli benchmarks{' (--quick)' if quick else ''}: {machine()}")
    rows = []
    for name, module in (("encode", encode), ("train", train), ("generate", generate),
                         ("classify", classify), ("serve", serve), ("serve_load", serve_load), ("tag", tag), ("translate", translate),
                         ("workflows", workflows),
                         ("quality", quality)):
        if name in skip:
            continue
        started = time.time()
        part = module.run(quick)
        print(f"[{name}: {time.time() - started:.0f}s]", file=sys.stderr, flush=True)
        rows.extend(part)
    print_table(f"all measures ({time.time() - began:.0f}s)", rows)


if __name__ == "__main__":
    main()
