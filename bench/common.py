"""Shared helpers for the benchmarks: the machine, timing, and the result table."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("RNNCLI_SHARED_DATA", ROOT.parent / "shared" / "data"))
PEERS = DATA.parent / "peers"  # beside the data, so a worktree elsewhere finds both
sys.path.insert(0, str(ROOT))


@dataclass
class Row:
    measure: str
    rnncli: str
    peer: str
    ratio: float | None
    goal: str = ""
    note: str = ""
    repeats: int = 1  # the figures are medians of this many measurements, each side alike

    def runs(self) -> str:
        return "one run" if self.repeats == 1 else f"median of {self.repeats}"

    def met(self) -> str:
        if not self.goal or self.ratio is None:
            return ""
        op, value = self.goal.split(" ", 1)
        value = float(value.rstrip("x"))
        ok = self.ratio >= value if op == ">=" else self.ratio <= value
        return "yes" if ok else "NO"


def machine() -> str:
    import torch

    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo", encoding="ascii", errors="replace"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from rnncli.device import cpu_has_native_bf16

    return (f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__} with {torch.get_num_threads()} threads, "
            f"native bf16: {'yes' if cpu_has_native_bf16() else 'no'}, Python {platform.python_version()}")


def alternate(fns: dict[str, Callable[[], float]], repeats: int) -> dict[str, float]:
    """Run each measurement ``repeats`` times, interleaved, and return the medians."""
    results: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            results[name].append(fn())
    return {name: statistics.median(values) for name, values in results.items()}


def rnncli(*args: str, **kwargs) -> subprocess.CompletedProcess:  # type: ignore[no-untyped-def]
    return subprocess.run([sys.executable, "-m", "rnncli", *args], capture_output=True, cwd=ROOT, **kwargs)


def timed_rnncli(*args: str, data: str) -> Callable[[], float]:
    """A measurement for :func:`alternate`: the seconds of ``rnncli ARGS`` reading ``data`` on stdin."""
    def measure() -> float:
        began = time.perf_counter()
        done = rnncli(*args, input=data.encode())
        if done.returncode:
            raise RuntimeError(done.stderr.decode())
        return time.perf_counter() - began
    return measure


def print_table(title: str, rows: list[Row]) -> None:
    header = ("measure", "rnncli", "peer or baseline", "ratio", "runs", "goal", "met")
    cells = [header] + [(r.measure.replace("|", "\\|"), r.rnncli, r.peer, "" if r.ratio is None else f"{r.ratio:.2f}x",
                         "" if r.rnncli == "skipped" else r.runs(), r.goal, r.met()) for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    print(f"\n{title}")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells[1:]:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |")
    notes = [f"- {r.measure}: {r.note}" for r in rows if r.note]
    if notes:
        print("\n" + "\n".join(notes))  # a blank line: Markdown would read the notes as rows
    sys.stdout.flush()
