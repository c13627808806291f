"""Validation-driven stopping on word corpora that are not bench corpora: the curves.

Two English corpora assembled from documentation this kind of machine carries (nothing is copied
into the project): about 200k words of Perl's pod pages and Rust's release notes, and about 2M words
of Vim's help files and Node.js's changelogs. Each is split by lines, every 20 lines 18 for training,
one for validation and one for test (so that all three read alike), and trained with
`rnncli train --level word --split whitespace --time-budget 444` and nothing else. The script prints
each evaluation (step, seconds, validation perplexity, learning rate), where the run stopped and
why, and the test perplexity of the checkpoint validation chose.

    python bench/stopping.py [--budget 444] [--only 2M] [-- TRAIN OPTIONS]

Options after ``--`` go to every ``rnncli train`` (to compare a default with an alternative).
"""

from __future__ import annotations

import glob
import json
import sys
import tempfile
from pathlib import Path

from common import rnncli

CORPORA = {
    "200k words (perl pods + rust release notes)": [
        "/usr/share/perl/5.*/pod/*.pod", "/usr/lib/x86_64-linux-gnu/perl/5.*/pod/*.pod",
        "/root/.rustup/toolchains/stable-*/share/doc/rust/html/releases.md"],
    "2M words (vim help + node.js changelogs)": [
        "/usr/share/vim/vim*/doc/*.txt", "/usr/share/doc/nodejs/changelogs/*.md"],
}


def assemble(patterns: list[str], target: Path) -> dict[str, Path] | None:
    files = sorted({f for p in patterns for f in glob.glob(p)})
    if not files:
        return None
    lines = [line for f in files for line in Path(f).read_text(encoding="utf-8", errors="replace").splitlines()
             if line.strip()]
    parts = {"train": [x for i, x in enumerate(lines) if i % 20 < 18], "valid": lines[18::20], "test": lines[19::20]}
    target.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, part in parts.items():
        paths[name] = target / f"{name}.txt"
        paths[name].write_text("\n".join(part) + "\n", encoding="utf-8")
    return paths


def curve(name: str, paths: dict[str, Path], run: Path, budget: int, extra: list[str]) -> None:
    words = len(paths["train"].read_text(encoding="utf-8").split())
    done = rnncli("train", str(paths["train"]), "--valid", str(paths["valid"]), "--level", "word", "--split",
                  "whitespace", "--time-budget", str(budget), "-o", str(run), *extra, text=True)
    if done.returncode:
        print(f"{name}: failed: {done.stderr.strip().splitlines()[-1]}")
        return
    print(f"\n{name}: {words:,} training words, --time-budget {budget} {' '.join(extra)}")
    for line in done.stderr.splitlines():
        if line.startswith(("lstm language model", "no better", "done")):
            print(f"  {line}")
    print("  step  seconds  epoch  val_ppl  lr")
    for record in (json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()):
        print(f"  {record['step']:>5}  {record['elapsed_s']:>7.0f}  {record['epoch']:>5.2f}  "
              f"{record['val_ppl']:>7.1f}  {record['lr']:.2e}")
    test = json.loads(rnncli("evaluate", "-c", str(run), str(paths["test"]), "--json").stdout)
    alone = f" (the network alone {test['network']['ppl']:.1f}; {_cache(test)})" if "network" in test else ""
    print(f"  test perplexity of the best checkpoint: {test['ppl']:.1f}{alone}")


def _cache(report: dict) -> str:  # type: ignore[type-arg]
    cache = report["unigram_cache"]
    return f"unigram cache window {cache['window']}, weight {cache['weight']:g}, fitted on validation"


def main() -> None:
    budget = int(sys.argv[sys.argv.index("--budget") + 1]) if "--budget" in sys.argv else 444
    work = Path(tempfile.mkdtemp(prefix="rnncli-stopping-"))
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else ""
    extra = sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else []
    for k, (name, patterns) in enumerate(CORPORA.items()):
        if only not in name:
            continue
        paths = assemble(patterns, work / f"corpus{k}")
        if paths is None:
            print(f"{name}: skipped, none of {patterns} on this machine")
            continue
        curve(name, paths, work / f"run{k}", budget, extra)


if __name__ == "__main__":
    main()
