"""--tune beside the defaults on sms_spam, the same budget and seed, alternating, one pair per seed.

    python bench/tune.py [--budget 300] [--seeds 3]

Test accuracy and spam F1 of each side (median over the seeds, then each seed), and the
validation macro-F1 each side's kept checkpoint was chosen by. About 2 x budget x seeds seconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from classify import run_rnncli, spam_scores
from common import DATA, Row, machine, print_table


def _valid_f1(run: Path) -> float:
    return max(json.loads(line).get("macro_f1") or 0.0 for line in (run / "metrics.jsonl").read_text().splitlines())


def run(budget: float, seeds: int) -> list[Row]:
    if not (DATA / "sms_spam" / "train.tsv").is_file():
        return [Row("sms_spam --tune", "skipped", "data absent", None)]
    work = Path(tempfile.mkdtemp(prefix="rnncli-tune-"))
    sides: dict[str, list[tuple[float, float, float]]] = {"tune": [], "defaults": []}
    for seed in range(seeds):
        order = [("defaults", ()), ("tune", ("--tune",))]
        for name, extra in order if seed % 2 == 0 else order[::-1]:
            run_dir = work / f"{name}{seed}"
            report, _ = run_rnncli(run_dir, "lstm", budget, "--seed", str(seed), *extra) if name == "defaults" else \
                _tuned(run_dir, budget, seed)
            sides[name].append((*spam_scores(report), _valid_f1(run_dir)))

    def text(name: str) -> str:
        values = sides[name]
        return (f"{statistics.median(v[0] for v in values):.4f} / {statistics.median(v[1] for v in values):.4f} "
                f"(valid macro-F1 {statistics.median(v[2] for v in values):.4f})")

    def seeds_text(name: str) -> str:
        return ", ".join(f"{a:.4f}/{f:.4f} (valid macro-F1 {v:.4f})" for a, f, v in sides[name])

    ours, theirs = statistics.median(v[0] for v in sides["tune"]), statistics.median(v[0] for v in sides["defaults"])
    return [Row(f"sms_spam test accuracy / spam F1, --tune --time-budget {budget:g} beside the defaults (seeds)",
                text("tune"), f"defaults {text('defaults')}", (1 - ours) / max(1e-9, 1 - theirs), "<= 1.0x",
                repeats=seeds,
                note=f"error-rate ratio; by seed: tune {seeds_text('tune')}; defaults {seeds_text('defaults')}")]


def _tuned(run_dir: Path, budget: float, seed: int) -> tuple[dict, float]:  # type: ignore[type-arg]
    """The tuned run: rnncli picks the model, so no --model is given."""
    import time

    from common import rnncli

    began = time.perf_counter()
    done = rnncli("train", str(DATA / "sms_spam" / "train.tsv"), "-o", str(run_dir), "--task", "classify",
                  "--tune", "--time-budget", str(budget), "--seed", str(seed), "-q")
    if done.returncode:
        raise RuntimeError(done.stderr.decode())
    report = json.loads(rnncli("evaluate", "-c", str(run_dir), str(DATA / "sms_spam" / "test.tsv"), "--json").stdout)
    return report, time.perf_counter() - began


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=float, default=300.0)
    parser.add_argument("--seeds", type=int, default=3)
    options = parser.parse_args()
    print(machine())
    print_table("--tune", run(options.budget, options.seeds))
