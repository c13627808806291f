"""Encode throughput (MB/s) beside sentencepiece's own encoder, and start-up time.

rnncli's side is the whole ``encode`` path (read the file in blocks, tokenise, format ids, write)
as the command runs it, in process; sentencepiece's side is ``SentencePieceProcessor.encode`` on
the same lines, already in memory, with its default threads. Both alternate, medians of repeats.
"""

from __future__ import annotations

import io
import sys
import tempfile
import time
from pathlib import Path

from common import DATA, Row, alternate, print_table


def run(quick: bool = False) -> list[Row]:
    """The rows of this benchmark, timed with the bench process's own objects out of the collector.

    Other benchmarks import torch (160,000 objects); each full collection would walk them all and
    charge whichever side allocates the most lists (sentencepiece's batch API returns a list per
    line), while `rnncli encode` itself never imports torch.
    """
    import gc

    gc.collect()
    gc.freeze()
    try:
        return _measure(quick)
    finally:
        gc.unfreeze()


def _encode_timer(vocab, path: Path):  # type: ignore[no-untyped-def]
    """A measurement: seconds for rnncli's whole encode path (read, encode, format, write) on ``path``."""
    from rnncli.text.reader import LineReader
    from rnncli.text.streams import EncodeOptions, encode_stream

    def measure() -> float:
        sink = io.StringIO()
        began = time.perf_counter()
        encode_stream(vocab, LineReader(str(path)), sink.write, EncodeOptions())
        return time.perf_counter() - began
    return measure


def _measure(quick: bool) -> list[Row]:
    from rnncli.text.build import VocabOptions, build_vocabulary

    source = DATA / "warpeace" / "train.txt"
    rows: list[Row] = []
    if not source.is_file():
        return [Row("encode", "skipped", f"{source} absent", None)]
    work = Path(tempfile.mkdtemp(prefix="rnncli-bench-"))
    text = source.read_bytes() * (2 if quick else 4)
    corpus = work / "corpus.txt"
    corpus.write_bytes(text)
    megabytes = len(text) / 1e6
    lines = corpus.read_text(encoding="utf-8").split("\n")
    vocabs = {level: build_vocabulary([str(source)], VocabOptions(level=level, vocab_size=8000)).vocab
              for level in ("word", "char", "bpe")}
    processor = vocabs["bpe"]._sp  # the peer: the same sentencepiece model, called directly

    def peer() -> float:
        began = time.perf_counter()
        processor.encode(lines)
        return time.perf_counter() - began

    repeats = 3 if quick else 5
    timers = {"sentencepiece": peer, **{level: _encode_timer(vocab, corpus) for level, vocab in vocabs.items()}}
    medians = 2 * repeats + 1  # a run takes about 0.4 s, and this machine's speed drifts by 10%
    times = alternate(timers, medians)
    peer_rate = megabytes / times["sentencepiece"]
    goals = {"word": ">= 0.5x", "bpe": ">= 0.9x", "char": ""}
    for level in ("word", "char", "bpe"):
        rate = megabytes / times[level]
        rows.append(Row(f"encode {level}, MB/s (War and Peace x{2 if quick else 4})", f"{rate:.1f}",
                        f"SentencePieceProcessor.encode {peer_rate:.1f}", rate / peer_rate, goals[level],
                        repeats=medians))
    rows.extend(_command_line(work, corpus, vocabs["bpe"], megabytes, repeats))
    rows.append(_linearity(work, text, vocabs["bpe"], repeats))
    return rows


def _linearity(work: Path, text: bytes, vocab, repeats: int) -> Row:  # type: ignore[no-untyped-def]
    """Encode time per megabyte on a text 4x larger, against the text itself: 1.0x is linear."""
    small, large = work / "small.txt", work / "large.txt"
    small.write_bytes(text)
    large.write_bytes(text * 4)
    times = alternate({"small": _encode_timer(vocab, small), "large": _encode_timer(vocab, large)}, repeats)
    per_mb = {name: times[name] / (path.stat().st_size / 1e6) for name, path in (("small", small), ("large", large))}
    return Row(f"encode bpe, s per MB on {len(text) * 4 / 1e6:.0f} MB", f"{per_mb['large']:.4f}",
               f"{per_mb['small']:.4f} on {len(text) / 1e6:.0f} MB", per_mb["large"] / per_mb["small"], "<= 1.1x",
               note="encode time linear in input size", repeats=repeats)


def _command_line(work: Path, corpus: Path, vocab, megabytes: float, repeats: int) -> list[Row]:  # type: ignore[no-untyped-def]
    """Command against command: `rnncli encode` beside Debian's `spm_encode` with the same model,
    file in, ids out, each process timed whole (start-up included)."""
    import shutil
    import subprocess

    spm = shutil.which("spm_encode")
    if spm is None:
        return [Row("encode bpe, rnncli encode vs spm_encode", "skipped", "spm_encode absent (bench/setup.sh)", None)]
    model, vocab_file = work / "bpe.model", work / "bpe.json"
    model.write_bytes(vocab.model)
    vocab.save(vocab_file)

    def command(argv: list[str], ids: Path):  # type: ignore[no-untyped-def]
        def measure() -> float:
            began = time.perf_counter()
            with open(corpus, "rb") as source, open(ids, "wb") as sink:
                subprocess.run(argv, stdin=source, stdout=sink, check=True)
            return time.perf_counter() - began
        return measure

    ours = command([sys.executable, "-m", "rnncli", "encode", "-v", str(vocab_file)], work / "ours.ids")
    theirs = command([spm, "--model", str(model), "--output_format=id"], work / "spm.ids")
    times = alternate({"ours": ours, "spm": theirs}, repeats)
    same = (work / "ours.ids").read_bytes() == (work / "spm.ids").read_bytes()
    return [Row("encode bpe, MB/s, command vs command (stdin to stdout)", f"{megabytes / times['ours']:.1f}",
                f"spm_encode {megabytes / times['spm']:.1f}", times["spm"] / times["ours"], ">= 0.9x",
                note="the same ids, byte for byte" if same else "ids DIFFER from spm_encode", repeats=repeats)]



if __name__ == "__main__":
    from common import machine

    print(machine())
    print_table("encode", run("--quick" in sys.argv))
