"""A classifier's ONNX graph: ``tokens`` int64 (batch, time), padded with 0, and ``lengths`` int64
(batch) in; ``probs`` (batch, labels) out. The layers read each text to its own length
(``sequence_lens``), as packed sequences do in torch, and pool the top layer (last state, mean or
max); the convolutional network pools each width's filters over the windows that hold the text."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper

from rnncli.export import Graph, finish, recurrent_layers
from rnncli.models.config import CNN_WIDTHS


def graph(weights: dict[str, np.ndarray], config: Any) -> onnx.ModelProto:
    g = Graph()
    embedded = g.op("Gather", [g.const(weights["embedding.weight"], "embedding"), "tokens"])
    one = g.const(1, "one", np.int64)
    features = _convolved(g, embedded, weights, one) if config.kind == "cnn" else _pooled(g, embedded, weights,
                                                                                         config, one)
    logits = g.linear(features, weights["output.weight"], weights["output.bias"], "output")
    g.op("Softmax", [logits], ["probs"], axis=-1)
    inputs = [helper.make_tensor_value_info("tokens", TensorProto.INT64, ["batch", "time"]),
              helper.make_tensor_value_info("lengths", TensorProto.INT64, ["batch"])]
    outputs = [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["batch", config.num_labels])]
    return finish(g, inputs, outputs)


def _convolved(g: Graph, embedded: str, weights: dict[str, np.ndarray], one: str) -> str:
    """models/classifier.Classifier._convolved: zero-padded convolutions, ReLU, the maximum over the
    windows that hold a token of the text."""
    x = g.op("Transpose", [embedded], perm=[0, 2, 1])  # (batch, embed, time)
    length = g.op("Unsqueeze", [g.op("Max", ["lengths", one]), g.const([1], "a", np.int64)])  # (batch, 1)
    pooled = []
    for k, width in enumerate(CNN_WIDTHS):
        out = g.op("Relu", [g.op("Conv", [x, g.const(weights[f"convs.{k}.weight"], f"conv{k}_w"),
                                          g.const(weights[f"convs.{k}.bias"], f"conv{k}_b")],
                                  pads=[width - 1, width - 1])])  # (batch, filters, time + width - 1)
        steps = g.op("Gather", [g.op("Shape", [out]), g.const(2, "i", np.int64)])
        row = g.op("Unsqueeze", [g.op("Range", [g.const(0, "zero", np.int64), steps, one]),
                                 g.const([0], "a", np.int64)])
        inside = g.op("Less", [row, g.op("Add", [length, g.const(width - 1, "w", np.int64)])])  # (batch, windows)
        kept = g.op("Where", [g.op("Unsqueeze", [inside, g.const([1], "a", np.int64)]), out, g.const(0.0, "zero")])
        pooled.append(g.op("ReduceMax", [kept], axes=[2], keepdims=0))
    return g.op("Concat", pooled, axis=1)


def _pooled(g: Graph, embedded: str, weights: dict[str, np.ndarray], config: Any, one: str) -> str:
    """The recurrent layers over each text's own length, pooled."""
    x = g.op("Transpose", [embedded], perm=[1, 0, 2])
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
    return features
