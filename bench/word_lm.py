"""Word language models from a small corpus: rnncli beside pytorch/examples' word_language_model.

Three word corpora: War and Peace (../shared/data) and the two documentation corpora of
bench/stopping.py (about 200k and 2M words this kind of machine carries). Both programs read the
same tokens: whitespace words, every line closed by ``<eos>``, a vocabulary of every word of the
three splits (word_language_model's own rule; rnncli is given it with ``--vocab``, its only option
beyond ``--time-budget``). Each program gets the same wall-clock time in the same run:
``rnncli train --time-budget B``, and word_language_model with its defaults (2-layer LSTM of 200,
SGD from lr 20, dropout 0.2, batch 20 x 35) stopped by Ctrl-C at B seconds (it then tests the
checkpoint its validation chose; it validates at the end of each pass only). Where no pass ended
within B seconds it has saved nothing to test: its weights in memory at the deadline are then read
with its own ``evaluate`` on the validation split (see LAUNCH), so that it has a figure for the
same time.

Printed per corpus: the best validation perplexity of each program's network alone, rnncli's
with the cache its validation text chose, and training tokens/s. ``--test`` adds the test
figures (reports, read once after the choices). ``--variant NAME="OPTIONS"`` adds an rnncli run
with those train options (for docs/defaults.md's on/off decisions).

    python bench/word_lm.py [--budget 400] [--only war] [--test] [--no-peer] [--no-default] \
        [--variant plain="--ar 0"]

word_language_model is not part of rnncli: set RNNCLI_WORD_LM to a folder holding its main.py,
model.py and data.py (a checkout of github.com/pytorch/examples/word_language_model), or fetch
the repository into /work/.mirror; it is copied into a scratch folder and run there.
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import DATA, Row, machine, print_table, rnncli
from stopping import CORPORA, assemble

MIRROR = Path("/work/.mirror/pytorch+examples/repo")

# Runs word_language_model's main.py unchanged. Interrupted before its first pass ended, the script
# finds no saved model to test and stops on FileNotFoundError; its trained model, its validation
# tokens and its own evaluate() are still in the script's globals, so they give the deadline's figure.
LAUNCH = """
import math, sys
sys.argv = ["main.py", *sys.argv[1:]]
scope = {"__name__": "__main__", "__file__": "main.py"}
try:
    exec(compile(open("main.py").read(), "main.py", "exec"), scope)
except FileNotFoundError:
    print("deadline valid ppl", f"{math.exp(scope['evaluate'](scope['val_data'])):.2f}", flush=True)
"""


def word_lm_source(work: Path) -> Path | None:
    """A scratch copy of word_language_model, from RNNCLI_WORD_LM or the fetched repository."""
    target = work / "word_language_model"
    given = os.environ.get("RNNCLI_WORD_LM")
    if given and (Path(given) / "main.py").is_file():
        shutil.copytree(given, target)
        return target
    if MIRROR.is_dir():
        target.mkdir(parents=True)
        for name in ("main.py", "model.py", "data.py"):
            text = subprocess.run(["git", f"--git-dir={MIRROR}", "show", f"HEAD:word_language_model/{name}"],
                                  capture_output=True, check=True).stdout
            (target / name).write_bytes(text)
        return target
    return None


def corpora(work: Path, only: str) -> dict[str, dict[str, Path]]:
    found = {}
    wp = DATA / "warpeace"
    if "war" in only.lower() or not only:
        if (wp / "test.txt").is_file():
            found["War and Peace"] = {part: wp / f"{part}.txt" for part in ("train", "valid", "test")}
    for k, (name, patterns) in enumerate(CORPORA.items()):
        if only and only not in name:
            continue
        paths = assemble(patterns, work / f"corpus{k}")
        if paths is not None:
            found[name] = paths
    return found


def peer(source: Path, paths: dict[str, Path], work: Path, budget: float) -> dict[str, float] | None:
    """word_language_model with its defaults, interrupted at ``budget`` seconds."""
    data = work / "data"
    data.mkdir(parents=True, exist_ok=True)
    for part, path in paths.items():
        shutil.copyfile(path, data / f"{part}.txt")
    began = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", LAUNCH, "--data", str(data), "--save", str(work / "model.pt")],
                               cwd=source, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               preexec_fn=_interruptible)
    try:
        out, _ = process.communicate(timeout=budget)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate()
    seconds = time.perf_counter() - began
    (work / "log.txt").write_text(out)  # its own report, test figure included, for reading later
    valid = [float(v) for v in re.findall(r"end of epoch.*valid ppl\s+([\d.]+)", out)]
    deadline = re.findall(r"deadline valid ppl\s+([\d.]+)", out)
    if not valid and not deadline:
        print(f"  word_language_model: no validation figure in {seconds:.0f} s ({work / 'log.txt'})")
        return None
    rates = [20 * 35 / (float(ms) / 1000) for ms in re.findall(r"ms/batch\s+([\d.]+)", out)]
    test = re.findall(r"test ppl\s+([\d.]+)", out)
    return {"valid": min(valid) if valid else float(deadline[0]), "passes": len(valid), "tokens_s": sorted(rates)[len(rates) // 2] if rates else math.nan,
            "test": float(test[-1]) if test else math.nan}


def _passes(result: dict[str, float]) -> str:
    if result["passes"]:
        return f"after {result['passes']:.0f} passes"
    return "no pass ended: its weights at the deadline"


def _interruptible() -> None:
    """Ctrl-C reaches the script even where this bench was started in the background (a shell
    starts background jobs with SIGINT ignored, and children inherit that)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def ours(paths: dict[str, Path], vocab: Path, run: Path, budget: float, options: list[str],
         test: bool) -> dict[str, float] | None:
    done = rnncli("train", str(paths["train"]), "--valid", str(paths["valid"]), "--vocab", str(vocab),
                  "--time-budget", str(budget), "-o", str(run), *options, text=True)
    if done.returncode:
        print(f"  rnncli {' '.join(options)}: failed: {done.stderr.strip().splitlines()[-1]}")
        return None
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    best = min(records, key=lambda r: r["val_loss"])
    summary = "; ".join(line for line in done.stderr.splitlines()
                        if "language model" in line or "regularisers for about" in line)
    result = {"valid": best["val_ppl"], "tokens_s": records[-1].get("tokens_per_sec", math.nan), "summary": summary}
    report = json.loads(rnncli("evaluate", "-c", str(run), str(paths["valid"]), "--json", text=True).stdout)
    result["valid_cached"], result["cache"] = report["ppl"], _cache_name(report)
    if test:
        report = json.loads(rnncli("evaluate", "-c", str(run), str(paths["test"]), "--json", text=True).stdout)
        result["test"], result["test_network"] = report["ppl"], report.get("network", report)["ppl"]
    return result


def _cache_name(report: dict) -> str:  # type: ignore[type-arg]
    for key in ("neural_cache", "unigram_cache"):
        if key in report:
            return f"{key.replace('_', ' ')} " + ", ".join(f"{k} {v:g}" for k, v in report[key].items())
    return "no cache"


def _arguments(argv: list[str]) -> dict:  # type: ignore[type-arg]
    def value(flag: str, default: str) -> str:
        return argv[argv.index(flag) + 1] if flag in argv else default
    variants = [argv[i + 1].split("=", 1) for i, a in enumerate(argv) if a == "--variant"]
    return {"budget": float(value("--budget", "400")), "only": value("--only", ""), "test": "--test" in argv,
            "peer": "--no-peer" not in argv, "default": "--no-default" not in argv,
            "variants": {name: shlex.split(opts) for name, opts in variants}}


def main() -> None:
    a = _arguments(sys.argv[1:])
    work = Path(tempfile.mkdtemp(prefix="rnncli-word-lm-"))
    print(f"machine: {machine()}; --time-budget {a['budget']:g} s each, one run each")
    source = word_lm_source(work) if a["peer"] else None
    if a["peer"] and source is None:
        print("word_language_model: not found (set RNNCLI_WORD_LM); rnncli alone")
    rows = []
    found = corpora(work, a["only"])
    if not found:
        sys.exit(f"error: no corpus found (War and Peace in {DATA / 'warpeace'}, or the documentation of "
                 f"bench/stopping.py){' matching --only ' + a['only'] if a['only'] else ''}")
    for k, (name, paths) in enumerate(found.items()):
        vocab = work / f"vocab{k}.json"
        rnncli("build-vocab", *(str(paths[p]) for p in ("train", "valid", "test")), "--level", "word", "--split",
               "whitespace", "-o", str(vocab), "-q", check=True)
        print(f"\n{name}", flush=True)
        theirs = peer(source, paths, work / f"peer{k}", a["budget"]) if source else None
        runs = {**({"default": []} if a["default"] else {}), **a["variants"]}
        for variant, options in runs.items():
            result = ours(paths, vocab, work / f"run{k}-{variant}", a["budget"], options, a["test"])
            if result is None:
                continue
            print(f"  rnncli {variant}: {result['summary']}")
            print(f"    validation ppl: network {result['valid']:.1f}, with {result['cache']} "
                  f"{result['valid_cached']:.1f}; {result['tokens_s']:,.0f} tokens/s"
                  + (f"; test {result['test_network']:.1f} (network), {result['test']:.1f} (cached)"
                     if a["test"] else ""), flush=True)
            peer_text = f"{theirs['valid']:.1f} ({_passes(theirs)})" if theirs else "none"
            ratio = result["valid"] / theirs["valid"] if theirs else None
            rows.append(Row(f"{name}, validation ppl of the network, rnncli {variant}",
                            f"{result['valid']:.1f}", peer_text, ratio, "<= 0.80x" if variant == "default" else ""))
        if theirs:
            rate = (f"{theirs['tokens_s']:,.0f} tokens/s" if not math.isnan(theirs["tokens_s"])
                    else "tokens/s unknown: it logs every 200 batches and logged none")
            print(f"  word_language_model: validation ppl {theirs['valid']:.1f} ({_passes(theirs)}), {rate}"
                  + (f"; test {theirs['test']:.1f}" if a["test"] else ""), flush=True)
    print_table(f"word language models, --time-budget {a['budget']:g}", rows)


if __name__ == "__main__":
    main()
