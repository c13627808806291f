"""Serving a trained run: start-up of the pipeline commands, classify throughput, generation speed
of the ONNX export beside the bare LSTMCell loop, and what int8 costs. Every figure is a ratio to a
baseline measured in this run.

    python bench/serve.py [--quick]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import DATA, ROOT, Row, alternate, print_table, rnncli

SAMPLE = ROOT / "sample_data"


def _seconds(command: list[str], stdin: bytes = b"") -> float:
    began = time.perf_counter()
    done = subprocess.run(command, input=stdin, capture_output=True, cwd=ROOT)
    if done.returncode:
        raise RuntimeError(done.stderr.decode())
    return time.perf_counter() - began


def train_run(run: Path, *args: str) -> Path:
    done = rnncli("train", *args, "-o", str(run), "-q", "--force")
    if done.returncode:
        raise RuntimeError(done.stderr.decode())
    return run


def startup(work: Path, classifier: Path, quick: bool) -> list[Row]:
    """Cold starts, each command interleaved with the others and a bare interpreter (a drift of the
    machine's speed falls on all alike), medians."""
    cli = [sys.executable, "-m", "rnncli"]
    vocab = work / "char.json"
    rnncli("build-vocab", str(SAMPLE / "english.txt"), "--level", "char", "-o", str(vocab), "-q")
    rnncli("export", "-c", str(classifier))
    commands = {"bare": ([sys.executable, "-c", "pass"], b""), "help": ([*cli, "--help"], b""),
                "encode": ([*cli, "encode", "-v", str(vocab)], b""),
                "onnx": ([*cli, "classify", "-c", str(classifier)], b"hi\n"),
                "torch": ([*cli, "classify", "-c", str(classifier), "--weights", "last"], b"hi\n")}
    repeats = 5 if quick else 10
    t = alternate({name: (lambda c=command, i=stdin: _seconds(c, i)) for name, (command, stdin) in commands.items()},
                  repeats)
    bare = f"python -c pass {t['bare']:.3f}s"
    return [Row("start-up: rnncli --help, s", f"{t['help']:.3f}s", bare, t["help"] / t["bare"],
                note="goal: under 0.3 s: " + ("met" if t["help"] < 0.3 else "NOT met"), repeats=repeats),
            Row("start-up: rnncli encode -v V < /dev/null, s", f"{t['encode']:.3f}s", bare, t["encode"] / t["bare"],
                note="goal: under 0.3 s: " + ("met" if t["encode"] < 0.3 else "NOT met"), repeats=repeats),
            Row("start-up: echo hi | rnncli classify -c RUN, ONNX export, s", f"{t['onnx']:.3f}s",
                f"the same served by torch {t['torch']:.3f}s", t["onnx"] / t["torch"], "<= 0.5x",
                note=f"goal: under 0.5 s; {bare}", repeats=repeats)]


def throughput(work: Path, classifier: Path) -> list[Row]:
    """Lines per second of classify on 10,000 sms_spam lines, start-up excluded (one line timed too)."""
    lines = (DATA / "sms_spam" / "test.tsv").read_text(encoding="utf-8").splitlines()
    texts = [line.split("\t", 1)[1] for line in lines]
    batch = "\n".join((texts * (10_000 // len(texts) + 1))[:10_000]).encode() + b"\n"
    timers = {}
    for name, extra in (("onnx", []), ("torch", ["--weights", "last"])):
        command = [sys.executable, "-m", "rnncli", "classify", "-c", str(classifier), *extra]
        timers[f"{name} one"] = lambda c=command: _seconds(c, texts[0].encode() + b"\n")
        timers[f"{name} many"] = lambda c=command: _seconds(c, batch)
    t = alternate(timers, 3)
    rates = {name: 9_999 / max(1e-9, t[f"{name} many"] - t[f"{name} one"]) for name in ("onnx", "torch")}
    return [Row("classify lines/s, sms_spam LSTM run, 10,000 lines (start-up excluded)", f"{rates['onnx']:,.0f}",
                f"served by torch {rates['torch']:,.0f}", rates["onnx"] / rates["torch"], repeats=3,
                note="goal: 5,000 lines/s")]


def generation(work: Path, quick: bool) -> list[Row]:
    """A char LSTM of 512 units, one sample: the torch path and the export (fp32, int8) beside one
    bare LSTMCell loop, all four interleaved."""
    sys.path.insert(0, str(ROOT / "bench"))
    from generate import bare_rate, rnncli_rate

    from rnncli.run.weights import load_run
    from rnncli.export import export_run
    from rnncli.infer.sampling import SamplingOptions, generate
    from rnncli.onnxrun import open_export

    run = train_run(work / "char512", str(DATA / "tinyshakespeare" / "train.txt"), "--level", "char", "--hidden",
                 "512", "--max-steps", "1")
    loaded = load_run(run)
    export_run(loaded, work / "fp32")
    export_run(loaded, work / "int8", "int8")
    tokens = 1000 if quick else 3000

    def exported(variant: str) -> float:
        model = open_export(work / variant, variant)
        stream = generate(model, [5, 6, 7], SamplingOptions(max_tokens=tokens + 1, temperature=0.8, seed=0))
        next(stream)
        began = time.perf_counter()
        count = sum(1 for _ in stream)
        return count / (time.perf_counter() - began)

    repeats = 3 if quick else 5
    rates = alternate({"torch": lambda: rnncli_rate(loaded.model, tokens), "fp32": lambda: exported("fp32"),
                       "int8": lambda: exported("int8"), "bare": lambda: bare_rate(loaded.model, tokens)}, repeats)
    bare = f"bare LSTMCell loop {rates['bare']:,.0f}"
    return [Row("generate tokens/s, torch path (char LSTM 512, one sample)", f"{rates['torch']:,.0f}", bare,
                rates["torch"] / rates["bare"], repeats=repeats,
                note="rnncli generate serves a run's ONNX export where there is one (the rows below)"),
            Row("generate tokens/s, ONNX export fp32 (char LSTM 512, one sample)", f"{rates['fp32']:,.0f}", bare,
                rates["fp32"] / rates["bare"], ">= 1.3x", repeats=repeats),
            Row("generate tokens/s, ONNX export int8 (char LSTM 512, one sample)", f"{rates['int8']:,.0f}", bare,
                rates["int8"] / rates["bare"], ">= 2.0x", repeats=repeats)]


def int8_cost(work: Path, quick: bool) -> list[Row]:
    """bpc of a tinyshakespeare character model on its validation text, fp32 export against int8."""
    d = DATA / "tinyshakespeare"
    run = train_run(work / "ts", str(d / "train.txt"), "--valid", str(d / "valid.txt"), "--level", "char",
                 "--time-budget", "60" if quick else "120")
    done = rnncli("export", "-c", str(run), "-o", str(work / "ts-int8"), "--quantize", "int8", "--check",
                  str(d / "valid.txt"), text=True)
    line = next(x for x in done.stderr.splitlines() if x.startswith("check on") and " bpc " in x)
    fp32, int8 = (float(line.split(f"{v} ")[1].split(",")[0].split(" ")[0]) for v in ("fp32", "int8"))
    return [Row("int8 export: tinyshakespeare valid bpc", f"{int8:.4f}", f"fp32 export {fp32:.4f}", int8 / fp32,
                note=f"cost {int8 - fp32:+.4f} bpc (goal: at most +0.02)")]


def run(quick: bool = False) -> list[Row]:
    if not (DATA / "sms_spam" / "train.tsv").is_file() or not (DATA / "tinyshakespeare").is_dir():
        return [Row("serving", "skipped", "data absent", None)]
    work = Path(tempfile.mkdtemp(prefix="rnncli-serve-"))
    classifier = train_run(work / "sms", str(DATA / "sms_spam" / "train.tsv"), "--task", "classify", "--time-budget",
                        "30" if quick else "60")
    return [*startup(work, classifier, quick), *throughput(work, classifier), *generation(work, quick),
            *int8_cost(work, quick)]


if __name__ == "__main__":
    from common import machine

    print(machine())
    print_table("serving", run("--quick" in sys.argv))
