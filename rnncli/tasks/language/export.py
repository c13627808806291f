"""A language model's ONNX graph: ``tokens`` int64 (time, batch) and the state ``h`` (and ``c``)
of shape (layers, batch, hidden) in; ``log_probs`` (time, batch, vocab) and the new state out, so
a caller carries the state from call to call, and ``features`` (time, batch, d), the decoder's
input, for the neural cache. The adaptive softmax is written out cluster by
cluster."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper

from rnncli.export import Graph, finish, recurrent_layers


def _log_probs(g: Graph, features: str, weights: dict[str, np.ndarray], config: Any) -> str:
    """Log-probabilities over the vocabulary for features (n, d): full or adaptive softmax."""
    if not config.cutoffs:
        decoder = weights.get("decoder.weight", weights["embedding.weight"])
        return g.op("LogSoftmax", [g.linear(features, decoder, weights["decoder.bias"], "decoder")], axis=-1)
    shortlist = config.cutoffs[0]
    head = g.op("LogSoftmax", [g.linear(features, weights["adaptive.head.weight"], None, "head")], axis=-1)
    parts = [g.op("Slice", [head, g.const([0], "s", np.int64), g.const([shortlist], "e", np.int64),
                            g.const([1], "a", np.int64)])]
    for i in range(len(config.cutoffs)):
        hidden = g.linear(features, weights[f"adaptive.tail.{i}.0.weight"], None, f"tail{i}a")
        cluster = g.op("LogSoftmax", [g.linear(hidden, weights[f"adaptive.tail.{i}.1.weight"], None, f"tail{i}b")],
                       axis=-1)
        prior = g.op("Slice", [head, g.const([shortlist + i], "s", np.int64), g.const([shortlist + i + 1], "e", np.int64),
                               g.const([1], "a", np.int64)])
        parts.append(g.op("Add", [cluster, prior]))
    return g.op("Concat", parts, axis=-1)


def graph(weights: dict[str, np.ndarray], config: Any) -> onnx.ModelProto:
    g = Graph()
    lstm = config.kind == "lstm"
    names = ["h", "c"] if lstm else ["h"]
    split = g.const([1] * config.layers, "split", np.int64)
    pieces = [g.op("Split", [name, split], config.layers, axis=0) for name in names]
    pieces = [[p] if config.layers == 1 else list(p) for p in pieces]
    layer_state = [[pieces[j][k] for j in range(len(names))] for k in range(config.layers)]
    x = g.op("Gather", [g.const(weights["embedding.weight"], "embedding"), "tokens"])
    top, finals = recurrent_layers(g, x, weights, config, layer_state)
    if "proj.weight" in weights:
        top = g.linear(top, weights["proj.weight"], weights["proj.bias"], "proj")
    width = weights["embedding.weight"].shape[1] if "proj.weight" in weights else config.hidden
    g.op("Identity", [top], ["features"])  # the decoder's input, which the neural cache reads
    flat = g.op("Reshape", [top, g.const([-1, width], "shape", np.int64)])
    log_probs = _log_probs(g, flat, weights, config)
    time_batch = g.op("Slice", [g.op("Shape", ["tokens"]), g.const([0], "s", np.int64), g.const([2], "e", np.int64)])
    g.op("Reshape", [log_probs, g.op("Concat", [time_batch, g.const([-1], "v", np.int64)], axis=0)], ["log_probs"])
    for j, name in enumerate(names):
        g.op("Concat", [final[j] for final in finals], [f"{name}_out"], axis=0)
    state = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [config.layers, "batch", config.hidden]) for n in names]
    inputs = [helper.make_tensor_value_info("tokens", TensorProto.INT64, ["time", "batch"]), *state]
    outputs = [helper.make_tensor_value_info("log_probs", TensorProto.FLOAT, ["time", "batch", config.vocab_size]),
               *[helper.make_tensor_value_info(f"{n}_out", TensorProto.FLOAT, [config.layers, "batch", config.hidden])
                 for n in names],
               helper.make_tensor_value_info("features", TensorProto.FLOAT, ["time", "batch", width])]
    return finish(g, inputs, outputs)
