"""A trained run as an ONNX model that runs without torch: the graph written op by op.

The recurrent layers map onto ONNX's own RNN, LSTM and GRU operators (their gates stacked in
another order than torch's: i, o, f, c for the LSTM, z, r, h for the GRU, which takes torch's
``linear_before_reset`` form), so onnxruntime runs each layer as one fused kernel. Writing the
graph from the weights, instead of tracing the module, keeps the exported interface explicit: each
task writes its graph (``rnncli/tasks/<task>/export.py``) from the pieces here, and says what
goes in and out.

The bag-of-words classifier (hashed bigrams in an EmbeddingBag) is not exported: its torch path
is already fast, and it says so.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from rnncli.run.files import BEST, TARGET_VOCAB, VOCAB
from rnncli.run.weights import LoadedRun
from rnncli.errors import ConfigError
from rnncli.tasks import task
from rnncli.fileio import fsync_dir, write_json
from rnncli.onnxrun import MANIFEST, MODEL_FILES, ONNX_DIR, ONNX_FORMAT, ONNX_VERSION, checkpoint_stamp

OPSET = 17
GATE_ORDER = {"lstm": (0, 3, 1, 2), "gru": (1, 0, 2), "rnn": (0,)}  # torch's gate chunks in ONNX's order
OPERATOR = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}


class Graph:
    """Nodes, initialisers and fresh names for one ONNX graph."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.count = 0

    def name(self, hint: str) -> str:
        self.count += 1
        return f"{hint}_{self.count}"

    def const(self, value: Any, hint: str = "c", dtype: Any = np.float32) -> str:
        name = self.name(hint)
        self.initializers.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def op(self, kind: str, inputs: list[str], outputs: int | list[str] = 1, **attrs: Any) -> Any:
        names = outputs if isinstance(outputs, list) else [self.name(kind.lower()) for _ in range(outputs)]
        self.nodes.append(helper.make_node(kind, inputs, names, **attrs))
        return names[0] if len(names) == 1 else names

    def linear(self, x: str, weight: np.ndarray, bias: np.ndarray | None, hint: str) -> str:
        """x @ weight.T (+ bias) for x of any rank."""
        y = self.op("MatMul", [x, self.const(weight.T, hint + "_w")])
        return y if bias is None else self.op("Add", [y, self.const(bias, hint + "_b")])


def _gates(tensor: np.ndarray, kind: str) -> np.ndarray:
    chunks = np.split(tensor, len(GATE_ORDER[kind]), axis=0)
    return np.concatenate([chunks[k] for k in GATE_ORDER[kind]], axis=0)


def recurrent_layers(g: Graph, x: str, weights: dict[str, np.ndarray], config: Any, layer_state: list[list[str]] | None,
                     sequence_lens: str = "", prefix: str = "rnn") -> tuple[str, list[list[str]]]:
    """The stacked layers over x (time, batch, features) whose weights are named ``prefix.weight_ih_l0``
    (torch's names) and whose shape is ``config``'s (kind, hidden, layers, bidirectional); returns
    the top layer's output (time, batch, directions * hidden) and each layer's final state outputs
    ([h] or [h, c], each (directions, batch, hidden))."""
    directions = 2 if config.bidirectional else 1
    finals = []
    for k in range(config.layers):
        suffixes = ("", "_reverse")[:directions]
        w = np.stack([_gates(weights[f"{prefix}.weight_ih_l{k}{s}"], config.kind) for s in suffixes])
        r = np.stack([_gates(weights[f"{prefix}.weight_hh_l{k}{s}"], config.kind) for s in suffixes])
        b = np.stack([np.concatenate([_gates(weights[f"{prefix}.bias_ih_l{k}{s}"], config.kind),
                                      _gates(weights[f"{prefix}.bias_hh_l{k}{s}"], config.kind)]) for s in suffixes])
        state = layer_state[k] if layer_state else ([""] * (2 if config.kind == "lstm" else 1))
        inputs = [x, g.const(w, "W"), g.const(r, "R"), g.const(b, "B"), sequence_lens, *state]
        attrs: dict[str, Any] = {"hidden_size": config.hidden,
                                 "direction": "bidirectional" if directions == 2 else "forward"}
        if config.kind == "gru":
            attrs["linear_before_reset"] = 1
        outputs = g.op(OPERATOR[config.kind], inputs, 3 if config.kind == "lstm" else 2, **attrs)
        y, final = outputs[0], list(outputs[1:])
        finals.append(final)
        y = g.op("Transpose", [y], perm=[0, 2, 1, 3])  # (time, batch, directions, hidden)
        x = g.op("Reshape", [y, g.const([0, 0, -1], "shape", np.int64)])
    return x, finals


def finish(g: Graph, inputs: list[Any], outputs: list[Any]) -> onnx.ModelProto:
    graph = helper.make_graph(g.nodes, "rnncli", inputs, outputs, g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="rnncli")
    model.ir_version = 8  # onnxruntime reads IR 8 from 1.10 on
    onnx.checker.check_model(model)
    return model


def exportable(config: Any) -> str | None:
    """Why a model cannot be exported, or None."""
    if config.kind in ("ngram", "hmm"):
        return f"an {config.kind} model is served from its tables, without torch, already"
    if config.multi_label:
        return "multi-label classifiers are not exported yet (their sigmoid outputs and threshold)"
    if config.kind == "bow":
        return ("the bag-of-words classifier is not exported (its hashed bigrams have no ONNX form here; "
                "its torch path is fast already)")
    return None


def export_run(loaded: LoadedRun, target: str | os.PathLike[str], quantize: str | None = None) -> Path:
    """Write ``model.onnx`` (and ``model.int8.onnx`` with ``quantize="int8"``), the vocabulary and
    ``manifest.json`` into the directory ``target``, replacing it as a whole (a reader never sees
    half an export)."""
    config = loaded.config.model
    why = exportable(config)
    if why:
        raise ConfigError(f"cannot export {loaded.run.path}: {why}")
    weights = {k: v.detach().float().cpu().numpy() for k, v in loaded.model.state_dict().items()}
    build = task(config.task).part("graph")
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        built = build(weights, config)
        graphs = built if isinstance(built, dict) else {"model": built}
        for name, model in graphs.items():
            files = part_files(name)
            onnx.save(model, staging / files["fp32"])
            if quantize == "int8":
                _quantize(staging / files["fp32"], staging / files["int8"])
        for name in (VOCAB, TARGET_VOCAB):
            if loaded.run.file(name).is_file():
                shutil.copyfile(loaded.run.file(name), staging / name)
        write_json(staging / MANIFEST, _manifest(loaded, quantize, [name for name in graphs if name != "model"]))
        _replace_dir(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def part_files(name: str) -> dict[str, str]:
    """The files of one graph of an export: the task's main graph is ``model`` (model.onnx), the
    others (a translation model's decoder step) are named after their part."""
    if name == "model":
        return dict(MODEL_FILES)
    return {"fp32": f"{name}.onnx", "int8": f"{name}.int8.onnx"}


def _quantize(source: Path, target: Path) -> None:
    """onnxruntime's dynamic quantisation: int8 weights, activations quantised at run time. Its
    advice to pre-process (shape inference for vision models) does not apply to these graphs."""
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.disable(logging.WARNING)
    try:
        quantize_dynamic(source, target, weight_type=QuantType.QInt8)
    finally:
        logging.disable(logging.NOTSET)


def _manifest(loaded: LoadedRun, quantize: str | None, parts: list[str]) -> dict[str, Any]:
    from rnncli.text.vocab import BOS, EOS, PAD, UNK
    from rnncli.unigram_cache import as_record, read as read_cache

    from rnncli.neural_cache import read as read_neural

    config, plan = loaded.config.model, loaded.config.plan
    cache, neural = read_cache(loaded.run.path), read_neural(loaded.run.path)
    return {"format": ONNX_FORMAT, "version": ONNX_VERSION, "opset": OPSET, "task": config.task,
            "kind": config.kind, "layers": config.layers, "hidden": config.hidden, "vocab_size": config.vocab_size,
            "state": ["h", "c"] if config.kind == "lstm" else ["h"],
            "labels": list(loaded.config.labels), "label_sep": plan.args.label_sep,
            "max_len": plan.data.max_len, "specials": {"pad": PAD, "unk": UNK, "bos": BOS, "eos": EOS},
            "models": {"fp32": MODEL_FILES["fp32"], **({"int8": MODEL_FILES["int8"]} if quantize == "int8" else {})},
            "serve": quantize or "fp32", "vocab": VOCAB, "checkpoint": checkpoint_stamp(loaded.run.file(BEST)),
            "unigram_cache": as_record(cache), "unigram_cache_fitted_on": cache.fitted_on if cache else None,
            "neural_cache": {**neural.record(), "chosen": neural.chosen, "fitted_on": neural.fitted_on} if neural else None,
            **({"parts": {name: {variant: file for variant, file in part_files(name).items()
                                 if variant == "fp32" or quantize == variant} for name in parts}} if parts else {}),
            **({"target_vocab": TARGET_VOCAB} if loaded.run.file(TARGET_VOCAB).is_file() else {})}


def _replace_dir(staging: Path, target: Path) -> None:
    """Swap a finished directory into place: the old export moves aside, the new one in, the old one goes."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
    os.replace(staging, target)
    fsync_dir(target.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def default_target(run: LoadedRun) -> Path:
    return run.run.file(ONNX_DIR)
