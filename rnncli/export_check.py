"""What quantisation costs: the same held-out file scored by an export's fp32 and int8 models."""

from __future__ import annotations

from typing import Iterator

from rnncli.infer.evaluation import EvaluateOptions, evaluate
from rnncli.onnxrun import open_export

NETWORK_ALONE = EvaluateOptions(cache="none")  # what quantisation costs the network, without a cache


def compare(directory: str, data: str, threads: int | None = None) -> Iterator[str]:
    """Lines for stderr: bpc and loss (language model, the network alone), accuracy and macro-F1
    (classifier), accuracy (tagger) or loss and BLEU (translation), fp32 then int8, and the difference."""
    figures = {}
    for variant in ("fp32", "int8"):
        figures[variant] = evaluate(open_export(directory, variant, threads), data, NETWORK_ALONE)
    keys = [k for k in ("bpc", "loss", "accuracy", "macro_f1", "bleu") if k in figures["fp32"]]
    for key in keys:
        before, after = figures["fp32"][key], figures["int8"][key]
        yield f"check on {data}: {key} fp32 {before:.4f}, int8 {after:.4f} ({after - before:+.4f})"
