"""Language-model workflows on real text, one after the other on this machine:

- fine-tuning: 60 s on War and Peace starting from a tinyshakespeare character model
  (`--init-from`), beside 60 s from scratch; War and Peace validation bpc of both;
- scoring: a line of random characters planted in War and Peace's validation text, and where
  `rnncli score` ranks it by bpc.

    python bench/workflows.py [--quick] [--source RUN]   # RUN: a tinyshakespeare char run (else trained)
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
from pathlib import Path

from common import DATA, Row, print_table, rnncli


def _train(*args: str) -> None:
    done = rnncli("train", *args, "-q", "--force", text=True)
    if done.returncode:
        raise RuntimeError(done.stderr)


def _bpc(run: Path, text: Path) -> float:
    """The network's own bpc (each run's unigram cache was fitted on this validation text)."""
    return float(json.loads(rnncli("evaluate", "-c", str(run), str(text), "--json", "--cache", "none").stdout)["bpc"])


def workflows(work: Path, source: Path | None, quick: bool = False) -> list[Row]:
    ts, wp = DATA / "tinyshakespeare", DATA / "warpeace"
    if source is None:
        source = work / "ts"
        _train(str(ts / "train.txt"), "--valid", str(ts / "valid.txt"), "--level", "char", "--time-budget",
               "60" if quick else "120", "-o", str(source))
    common = [str(wp / "train.txt"), "--valid", str(wp / "valid.txt"), "--time-budget", "60"]
    _train(*common, "--level", "char", "-o", str(work / "scratch"))
    _train(*common, "--init-from", str(source), "-o", str(work / "tuned"))
    scratch, tuned = _bpc(work / "scratch", wp / "valid.txt"), _bpc(work / "tuned", wp / "valid.txt")
    lines = (wp / "valid.txt").read_text(encoding="utf-8").splitlines()
    rng = random.Random(0)
    planted = len(lines) // 2
    lines.insert(planted, "".join(rng.choice("abcdefghijklmnopqrstuvwxyz ,.;") for _ in range(80)))
    (work / "planted.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    scores = [json.loads(x)["bpc"] for x in rnncli("score", "-c", str(work / "tuned"), str(work / "planted.txt")).stdout
              .splitlines()]
    rank = sorted(range(len(scores)), key=lambda i: -scores[i]).index(planted) + 1
    return [Row("War and Peace char, 60 s: validation bpc fine-tuned from tinyshakespeare (--init-from)",
                f"{tuned:.4f}", f"60 s from scratch {scratch:.4f}", tuned / scratch, "<= 1.0x"),
            Row("a planted line of random letters in War and Peace valid: its rank by bpc (score)", f"{rank}",
                f"of {len(scores):,} lines", None, note=f"bpc {scores[planted]:.2f}; median line "
                f"{sorted(scores)[len(scores) // 2]:.2f}")]


def run(quick: bool = False) -> list[Row]:
    if not (DATA / "warpeace" / "train.txt").is_file() or not (DATA / "tinyshakespeare" / "train.txt").is_file():
        return [Row("language-model workflows", "skipped", "data absent", None)]
    return workflows(Path(tempfile.mkdtemp(prefix="rnncli-workflows-")), None, quick)


if __name__ == "__main__":
    from common import machine

    given = Path(sys.argv[sys.argv.index("--source") + 1]) if "--source" in sys.argv else None
    print(machine())
    print_table("language-model workflows", workflows(Path(tempfile.mkdtemp(prefix="rnncli-workflows-")), given,
                                                      "--quick" in sys.argv))
