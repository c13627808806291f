"""A run directory summarised: what ``rnncli info`` prints and ``rnncli.describe`` returns.

Everything comes from the files the run wrote (config.json, vocab.json, metrics.jsonl and the
safetensors headers), without building the model: the parameter count is the sum of the shapes in
the checkpoint's header, so it is what the weights hold, whatever version wrote them.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import Any

from rnncli.run.files import BEST, CONFIG, LAST, MAX_HEADER, METRICS, MODEL_GROUP, TARGET_VOCAB, VOCAB
from rnncli.run.directory import RunDir
from rnncli.errors import FormatError
from rnncli.plan import planning
from rnncli.scores import best_of
from rnncli import neural_cache
from rnncli.unigram_cache import read_record



def tensor_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    """The name and shape of every tensor in a safetensors file, from its header alone."""
    with open(path, "rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            raise FormatError(f"{path}: truncated checkpoint")
        (size,) = struct.unpack("<Q", head)
        if size > MAX_HEADER:
            raise FormatError(f"{path}: not a safetensors checkpoint (header of {size:,} bytes)")
        try:
            header = json.loads(handle.read(size).decode("utf-8"))
            return {name: tuple(int(d) for d in entry["shape"]) for name, entry in header.items()
                    if name != "__metadata__"}
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, AttributeError, ValueError):
            raise FormatError(f"{path}: not a safetensors checkpoint (unreadable header)") from None


def parameters(path: Path) -> int:
    """Model parameters in a checkpoint (its ``model/`` tensors)."""
    return sum(math.prod(shape) for name, shape in tensor_shapes(path).items() if name.startswith(MODEL_GROUP))


def _ngrams(run: RunDir) -> int | None:
    """A counted run's stored entries (its parameters, as it were): an n-gram run's n-grams and
    contexts, an HMM's table entries."""
    from rnncli.run.files import HMM_TABLES, NGRAM as NGRAM_FILE

    if run.file(HMM_TABLES).is_file():
        return sum(math.prod(shape) for shape in tensor_shapes(run.file(HMM_TABLES)).values())
    if not run.file(NGRAM_FILE).is_file():
        return None
    return sum(math.prod(shape) for name, shape in tensor_shapes(run.file(NGRAM_FILE)).items()
               if name.endswith("keys"))


def _export_state(path: Path) -> str | None:
    """``current`` (serves the best checkpoint), ``stale`` (made from an older one) or None."""
    from rnncli.onnxrun import MANIFEST, ONNX_DIR, current_export

    if not (path / ONNX_DIR / MANIFEST).is_file():
        return None
    return "current" if current_export(path) is not None else "stale"


def _vocabulary(vocab: Any) -> dict[str, Any]:
    return {"level": vocab.level, "size": len(vocab)}


def describe(path: str) -> dict[str, Any]:
    """Task, model, parameters, vocabulary, plan, progress, best and last metrics, files."""
    run = RunDir(path)
    run.require(CONFIG, VOCAB)
    config = run.load_config()
    plan, model = config.plan, config.model
    weights = next((run.file(n) for n in (BEST, LAST) if run.file(n).is_file()), None)
    records = run.read_metrics() if run.file(METRICS).is_file() else []
    last = records[-1] if records else None
    vocab = run.load_vocab(model.vocab_size)
    files = {p.name: p.stat().st_size for p in sorted(run.path.iterdir()) if p.is_file() and not p.name.startswith(".")}
    return {
        "path": str(run.path), "task": config.task, "model": model.to_json(),
        "parameters": parameters(weights) if weights is not None else _ngrams(run),
        "vocabulary": _vocabulary(vocab),
        **({"target_vocabulary": _vocabulary(run.load_vocab(model.target_vocab_size, TARGET_VOCAB))}
           if model.target_vocab_size else {}),
        "labels": run.load_labels(model.num_labels) if model.num_labels else None,
        "plan": plan.to_json(),
        "steps": int(last["step"]) if last else 0, "epochs": float(last.get("epoch", 0)) if last else 0.0,
        "train_seconds": float(last.get("elapsed_s", 0)) if last else 0.0,
        "seen": {k: v for k, v in (last or {}).items() if k.endswith("_seen")},
        "best": best_of(records, planning(config.task).score), "last": last,
        "files": files, "onnx": _export_state(run.path), "unigram_cache": read_record(run.path),
        "neural_cache": neural_cache.read_record(run.path),
    }
