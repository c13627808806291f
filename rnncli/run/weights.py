"""Weights in safetensors: one blob of named tensor groups with JSON metadata (a checkpoint holds
the model, and ``last`` also the optimiser, RNG states and data position), read with size bounds
and checked against the configuration before any tensor is used; never a pickle. The model of a
run is built from its configuration and loaded here.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from rnncli.errors import FormatError, InputError
from rnncli.fileio import MiB, read_bounded
from rnncli.models.config import ModelConfig
from rnncli.run.directory import RunConfig, RunDir
from rnncli.run.files import CONFIG, MAX_HEADER, VOCAB
from rnncli.tasks import require, task
from rnncli.text.vocab import Vocab

CHECKPOINT_VERSION = 1  # safetensors files


def _tensor_bytes(tensors: dict[str, torch.Tensor]) -> int:
    return sum(t.numel() * t.element_size() for t in tensors.values())


def pack(groups: dict[str, dict[str, torch.Tensor]], metadata: dict[str, Any] | None = None) -> bytes:
    """One safetensors blob from named groups of tensors (``group/name`` keys) and JSON metadata."""
    from safetensors.torch import save

    flat = {f"{group}/{name}": t.detach().cpu().contiguous().clone()
            for group, tensors in groups.items() for name, t in tensors.items()}
    meta = {"format": "rnncli", "version": str(CHECKPOINT_VERSION)}
    if metadata is not None:
        meta["state"] = json.dumps(metadata, allow_nan=False)
    return save(flat, metadata=meta)


def read_safetensors(path: Path, limit: int) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Tensors and decoded metadata of a safetensors file, refusing anything malformed."""
    from safetensors.torch import load

    data = read_bounded(path, limit, "checkpoint")
    if len(data) < 8:
        raise FormatError(f"{path}: truncated checkpoint ({len(data)} bytes)")
    (header_len,) = struct.unpack("<Q", data[:8])
    if header_len > min(MAX_HEADER, len(data) - 8):
        raise FormatError(f"{path}: not a safetensors checkpoint (bad or truncated header)")
    try:
        header = json.loads(data[8 : 8 + header_len].decode("utf-8"))
        tensors = load(data)
    except Exception as exc:  # safetensors raises its own error type for every malformation
        raise FormatError(f"{path}: not a valid safetensors checkpoint ({_first_line(exc)})") from None
    meta = header.get("__metadata__") or {} if isinstance(header, dict) else {}
    if not isinstance(meta, dict) or meta.get("format") != "rnncli":
        raise FormatError(f"{path}: not an rnncli checkpoint")
    version = str(meta.get("version", "0") or "0")
    if not version.isascii() or not version.isdigit():
        raise FormatError(f"{path}: checkpoint format version {version[:20]!r} is not a number")
    if int(version) > CHECKPOINT_VERSION:
        raise FormatError(f"{path}: checkpoint format version {version} is newer than this rnncli reads")
    state: Any = {}
    if "state" in meta:
        try:
            state = json.loads(meta["state"])
        except json.JSONDecodeError:
            raise FormatError(f"{path}: checkpoint metadata is not valid JSON") from None
    if not isinstance(state, dict):
        raise FormatError(f"{path}: checkpoint metadata is not a JSON object")
    return tensors, state


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def group(tensors: dict[str, torch.Tensor], name: str) -> dict[str, torch.Tensor]:
    prefix = name + "/"
    return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}


def load_checkpoint(model: nn.Module, path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Load the ``model/`` weights of a checkpoint into ``model`` after checking every name and
    shape; returns all tensors of the file (optimiser, RNG, ...) and its metadata."""
    expected = model.state_dict()
    # weights, two Adam moments, and a little more: anything far larger is not ours
    limit = 4 * _tensor_bytes(expected) + 64 * MiB
    tensors, state = read_safetensors(path, limit)
    weights = group(tensors, "model")
    missing = sorted(set(expected) - set(weights))
    extra = sorted(set(weights) - set(expected))
    if missing or extra:
        what = f"missing {missing[:3]}" if missing else f"unexpected {extra[:3]}"
        raise FormatError(f"{path}: weights do not fit the model in config.json ({what})")
    for name, tensor in expected.items():
        if tuple(weights[name].shape) != tuple(tensor.shape):
            raise FormatError(
                f"{path}: weight {name} has shape {tuple(weights[name].shape)}, "
                f"config.json implies {tuple(tensor.shape)}")
        if weights[name].dtype != tensor.dtype:
            raise FormatError(f"{path}: weight {name} has dtype {weights[name].dtype}, expected {tensor.dtype}")
    model.load_state_dict(weights, strict=True)
    return tensors, state


@dataclass
class LoadedRun:
    run: RunDir
    config: RunConfig
    vocab: Vocab
    model: nn.Module
    weights: Path


def build_model(config: ModelConfig) -> nn.Module:
    """The network of a run's model configuration, built by its task."""
    spec = task(config.task)
    if config.kind in spec.counted:
        raise InputError(f"a {config.kind} run has no neural network: evaluate, generate and score serve its counts")
    return spec.part("model")(config)  # type: ignore[no-any-return]


def load_run(path: str | os.PathLike[str], which: str = "best", need: str | None = None) -> LoadedRun:
    """Everything needed to use a trained model, each file validated against the others; ``need``
    (a task name), if given, is required of the run."""
    run = RunDir(path)
    run.require(CONFIG, VOCAB)
    config = run.load_config()
    if need is not None:
        require(config.task, need, str(run.path))
    vocab = run.load_vocab(config.model.vocab_size)
    if config.model.num_labels:
        config.labels = run.load_labels(config.model.num_labels)
    weights = run.weights_file(which)
    model = build_model(config.model)
    load_checkpoint(model, weights)
    model.eval()
    return LoadedRun(run, config, vocab, model, weights)
