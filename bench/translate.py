"""Translation on Multi30k German->English: rnncli's default encoder-decoder (`--task seq2seq
--time-budget 900`, nothing else) beside the plain GRU+attention script a tutorial writes
(shared/peers/seq2seq_attn.py) given the same seconds in the same run; the same budget without
attention; test BLEU and chrF (sacrebleu, cased), greedy and beam 5, BLEU on the sources over 20
words; sentences per second of `rnncli translate --beam 5` served by ONNX, and one line's start-up.

    python bench/translate.py [--quick]     # --quick: 300 s budgets instead of 900
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from common import DATA, PEERS, Row, alternate, print_table, rnncli, timed_rnncli

MULTI30K = DATA / "multi30k"
PEER = PEERS / "seq2seq_attn.py"
SPLITS = {"train": "train", "valid": "val", "test": "test_2016_flickr"}
LONG = 20  # source words: "long sentences" for the attention comparison


def pairs(work: Path) -> dict[str, Path]:
    """``paste X.de X.en`` of each split, as the README says."""
    paths = {}
    for name, stem in SPLITS.items():
        german = (MULTI30K / f"{stem}.de").read_text(encoding="utf-8").splitlines()
        english = (MULTI30K / f"{stem}.en").read_text(encoding="utf-8").splitlines()
        paths[name] = work / f"{name}.tsv"
        paths[name].write_text("".join(f"{d}\t{e}\n" for d, e in zip(german, english)), encoding="utf-8")
    return paths


def _train(run: Path, train: Path, budget: str, *options: str) -> dict:  # type: ignore[type-arg]
    done = rnncli("train", str(train), "--task", "seq2seq", "--time-budget", budget, "-o", str(run), "-q", "--force",
                  *options)
    if done.returncode:
        raise RuntimeError(done.stderr.decode())
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return {"tokens_per_sec": statistics.median(r["tokens_per_sec"] for r in records), "steps": records[-1]["step"]}


def _bleu(hypotheses: list[str], references: list[str]) -> tuple[float, float]:
    import sacrebleu

    return (sacrebleu.corpus_bleu(hypotheses, [references]).score,
            sacrebleu.corpus_chrf(hypotheses, [references]).score)


def _translations(run: Path, sources: Path, beam: int) -> list[str]:
    done = rnncli("translate", "-c", str(run), str(sources), "--beam", str(beam))
    if done.returncode:
        raise RuntimeError(done.stderr.decode())
    return done.stdout.decode("utf-8").splitlines()


def _peer(paths: dict[str, Path], budget: str) -> tuple[float, float, str] | None:
    done = subprocess.run([sys.executable, str(PEER), str(paths["train"]), str(paths["valid"]), str(paths["test"]),
                           budget], capture_output=True, text=True)
    found = re.search(r"test BLEU ([\d.]+) chrF ([\d.]+)", done.stdout)
    if done.returncode or not found:
        return None
    steps = re.search(r"steps (\d+)", done.stderr)
    return float(found.group(1)), float(found.group(2)), steps.group(1) if steps else "?"


def quality(work: Path, paths: dict[str, Path], budget: str) -> tuple[list[Row], Path]:
    sources = MULTI30K / f"{SPLITS['test']}.de"
    references = (MULTI30K / f"{SPLITS['test']}.en").read_text(encoding="utf-8").splitlines()
    long = [i for i, line in enumerate(sources.read_text(encoding="utf-8").splitlines()) if len(line.split()) > LONG]
    ours = _train(work / "dot", paths["train"], budget)
    greedy, beam = _translations(work / "dot", sources, 1), _translations(work / "dot", sources, 5)
    none = _train(work / "none", paths["train"], budget, "--attention", "none")
    fixed = _translations(work / "none", sources, 5)
    peer = _peer(paths, budget)
    (b_greedy, c_greedy), (b_beam, c_beam), (b_none, _) = (_bleu(h, references) for h in (greedy, beam, fixed))
    pick = lambda rows: [rows[i] for i in long]  # noqa: E731
    long_ours, long_none = _bleu(pick(beam), pick(references))[0], _bleu(pick(fixed), pick(references))[0]
    rows = []
    if peer is None:
        rows.append(Row("plain GRU+attention script", "skipped", "sacrebleu absent or the script failed", None))
    else:
        rows.append(Row(f"Multi30k de->en test BLEU, --time-budget {budget}, rnncli beam 5 vs the plain script (greedy)",
                        f"{b_beam:.2f} (chrF {c_beam:.2f}; {ours['steps']:,} updates, "
                        f"{ours['tokens_per_sec']:,.0f} target tokens/s)",
                        f"{peer[0]:.2f} (chrF {peer[1]:.2f}; {peer[2]} updates)", b_beam - peer[0], ">= 4",
                        note="ratio column: BLEU difference"))
    rows.append(Row("rnncli beam 5 vs greedy, test BLEU", f"{b_beam:.2f}", f"{b_greedy:.2f} (chrF {c_greedy:.2f})",
                    b_beam - b_greedy, ">= 0", note="ratio column: BLEU difference"))
    rows.append(Row(f"attention (dot) vs none, same {budget} s, beam 5, test BLEU; on the {len(long)} sources over "
                    f"{LONG} words", f"{long_ours:.2f} (all: {b_beam:.2f})", f"{long_none:.2f} (all: {b_none:.2f}; "
                    f"{none['steps']:,} updates)", long_ours - long_none, ">= 0.01", note="ratio column: BLEU difference"))
    return rows, work / "dot"


def throughput(run: Path) -> list[Row]:
    """Sentences per second of `rnncli translate --beam 5` served by the ONNX export (start-up
    excluded: the same command on one line is timed too, alternating), and one line's start-up."""
    rnncli("export", "-c", str(run))
    sources = (MULTI30K / f"{SPLITS['test']}.de").read_text(encoding="utf-8").splitlines()
    beams = ("translate", "-c", str(run), "--beam", "5")
    t = alternate({"many": timed_rnncli(*beams, data="\n".join(sources) + "\n"),
                   "one": timed_rnncli(*beams, data=sources[0] + "\n"),
                   "startup": timed_rnncli("generate", "-c", str(run), data=sources[0] + "\n")}, 3)
    rate = len(sources) / max(1e-9, t["many"] - t["one"])
    return [Row(f"translate sentences/s, beam 5, ONNX export ({len(sources):,} sentences, start-up excluded)",
                f"{rate:,.0f}", "goal 100", rate / 100, ">= 1.0x", repeats=3),
            Row("start-up: echo ... | rnncli generate -c RUN, ONNX export, s", f"{t['startup']:.3f}", "goal 0.5",
                t["startup"] / 0.5, "<= 1.0x", repeats=3)]


def run(quick: bool = False) -> list[Row]:
    if not (MULTI30K / "train.de").is_file():
        return [Row("translation", "skipped", "Multi30k absent", None)]
    work = Path(tempfile.mkdtemp(prefix="rnncli-translate-"))
    rows, best = quality(work, pairs(work), "300" if quick else "900")
    return rows + throughput(best)


if __name__ == "__main__":
    from common import machine

    print(machine())
    print_table("translation", run("--quick" in sys.argv))
