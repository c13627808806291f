"""A classifier's ONNX graph: ``tokens`` int64 (batch, time), padded with 0, and ``lengths`` int64
(batch) in; ``probs`` (batch, labels) out. The layers read each text to its own length
(``sequence_lens``), as packed sequences do in torch, and pool the top layer (last state, mean or
max)."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper

from rnncli.export import Graph, finish, recurrent_layers


def graph(weights: dict[str, np.ndarray], config: Any) -> onnx.ModelProto:
    g = Graph()
    x = g.op("Transpose", [g.op("Gather", [g.const(weights["embedding.weight"], "embedding"), "tokens"])], perm=[1, 0, 2])
    one = g.const(1, "one", np.int64)
    sequence_lens = g.op("Cast", [g.op("Max", ["lengths", one])], to=TensorProto.INT32)
    top, finals = recurrent_layers(g, x, weights, config, None, sequence_lens)
    if config.pool == "last":
        h = g.op("Transpose", [finals[-1][0]], perm=[1, 0, 2])  # (batch, directions, hidden)
        features = g.op("Reshape", [h, g.const([0, -1], "shape", np.int64)])
    else:
        by_batch = g.op("Transpose", [top], perm=[1, 0, 2])  # (batch, time, features)
        steps = g.op("Gather", [g.op("Shape", ["tokens"]), g.const(1, "i", np.int64)])
        positions = g.op("Range", [g.const(0, "zero", np.int64), steps, one])
        row = g.op("Unsqueeze", [positions, g.const([0], "a", np.int64)])  # (1, time)
        column = g.op("Unsqueeze", ["lengths", g.const([1], "a", np.int64)])  # (batch, 1)
        inside = g.op("Unsqueeze", [g.op("Less", [row, column]), g.const([2], "a", np.int64)])
        if config.pool == "mean":
            total = g.op("ReduceSum", [g.op("Where", [inside, by_batch, g.const(0.0, "zero")]),
                                       g.const([1], "a", np.int64)], keepdims=0)
            count = g.op("Cast", [g.op("Max", [g.op("Unsqueeze", ["lengths", g.const([1], "a", np.int64)]), one])],
                         to=TensorProto.FLOAT)
            features = g.op("Div", [total, count])
        else:
            features = g.op("ReduceMax", [g.op("Where", [inside, by_batch, g.const(-np.inf, "neg")])], axes=[1],
                            keepdims=0)
    logits = g.linear(features, weights["output.weight"], weights["output.bias"], "output")
    g.op("Softmax", [logits], ["probs"], axis=-1)
    inputs = [helper.make_tensor_value_info("tokens", TensorProto.INT64, ["batch", "time"]),
              helper.make_tensor_value_info("lengths", TensorProto.INT64, ["batch"])]
    outputs = [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["batch", config.num_labels])]
    return finish(g, inputs, outputs)
