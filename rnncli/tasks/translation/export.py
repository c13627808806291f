"""A translation model's ONNX graphs: the encoder (``model.onnx``) and one decoder step
(``decoder.onnx``), so that a search written once (inference.py) steps either engine.

Encoder: ``tokens`` int64 (batch, source), padded with 0, and ``lengths`` int64 (batch) in;
``memory`` (batch, source, hidden), ``keys`` (batch, source, hidden; not without attention),
``mask`` bool (batch, source) and the decoder's first ``state`` (states, layers, batch, hidden;
states is 2 for the LSTM's h and c, else 1) out. The layers read each source to its own length
(``sequence_lens``), as packed sequences do in torch.

Decoder step: ``tokens`` int64 (rows), ``state``, ``memory``, ``keys`` and ``mask`` in;
``logp`` (rows, target vocabulary) log-probabilities of the next token, the new ``state`` and the
``attention`` (rows, source) out.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper

from rnncli.export import Graph, finish, recurrent_layers
from rnncli.models.seq2seq import NEG

I64 = np.int64


def _states(config: Any) -> int:
    return 2 if config.kind == "lstm" else 1


def encoder_graph(weights: dict[str, np.ndarray], config: Any) -> onnx.ModelProto:
    g = Graph()
    half = SimpleNamespace(kind=config.kind, hidden=config.hidden // 2, layers=config.layers, bidirectional=True)
    x = g.op("Gather", [g.const(weights["source_embedding.weight"], "source_embedding"), "tokens"])
    lengths = g.op("Cast", [g.op("Max", ["lengths", g.const(1, "one", I64)])], to=TensorProto.INT32)
    top, finals = recurrent_layers(g, g.op("Transpose", [x], perm=[1, 0, 2]), weights, half, None, lengths,
                                   prefix="encoder")
    g.op("Transpose", [top], ["memory"], perm=[1, 0, 2])
    starts = []
    for final in finals:  # h of each layer: (2, batch, hidden / 2) -> (1, batch, hidden), forward then backward
        both = g.op("Reshape", [g.op("Transpose", [final[0]], perm=[1, 0, 2]), g.const([0, -1], "shape", I64)])
        bridged = g.op("Tanh", [g.linear(both, weights["bridge.weight"], weights["bridge.bias"], "bridge")])
        starts.append(g.op("Unsqueeze", [bridged, g.const([0], "axes", I64)]))
    start = g.op("Concat", starts, axis=0) if len(starts) > 1 else starts[0]  # (layers, batch, hidden)
    start = g.op("Unsqueeze", [start, g.const([0], "axes", I64)])
    if config.kind == "lstm":
        g.op("Concat", [start, g.op("Mul", [start, g.const(0.0, "zero")])], ["state"], axis=0)
    else:
        g.op("Identity", [start], ["state"])
    steps = g.op("Gather", [g.op("Shape", ["tokens"]), g.const(1, "i", I64)])
    positions = g.op("Range", [g.const(0, "zero", I64), steps, g.const(1, "one", I64)])
    g.op("Less", [g.op("Unsqueeze", [positions, g.const([0], "axes", I64)]),
                  g.op("Unsqueeze", ["lengths", g.const([1], "axes", I64)])], ["mask"])
    outputs = ["memory", "mask", "state"]
    if config.attention != "none":
        g.op("Identity", [g.linear("memory", weights["keys.weight"], weights.get("keys.bias"), "keys")], ["keys"])
        outputs.insert(1, "keys")
    inputs = [helper.make_tensor_value_info("tokens", TensorProto.INT64, ["batch", "source"]),
              helper.make_tensor_value_info("lengths", TensorProto.INT64, ["batch"])]
    return finish(g, inputs, [_value(name, config) for name in outputs])


def _value(name: str, config: Any) -> Any:
    shapes = {"memory": ["rows", "source", config.hidden], "keys": ["rows", "source", config.hidden],
              "mask": ["rows", "source"], "state": [_states(config), config.layers, "rows", config.hidden],
              "logp": ["rows", config.target_vocab_size or config.vocab_size], "attention": ["rows", "source"]}
    kind = TensorProto.BOOL if name == "mask" else TensorProto.FLOAT
    return helper.make_tensor_value_info(name, kind, shapes[name])


def _attention(g: Graph, h: str, weights: dict[str, np.ndarray], config: Any) -> str:
    """Attention weights (rows, source) of the decoder state ``h`` (rows, hidden)."""
    if config.attention == "none":
        mask = g.op("Cast", ["mask"], to=TensorProto.FLOAT)
        return g.op("Div", [mask, g.op("ReduceSum", [mask, g.const([1], "axes", I64)], keepdims=1)])  # type: ignore[no-any-return]
    if config.attention == "dot":
        scores = g.op("MatMul", ["keys", g.op("Unsqueeze", [h, g.const([2], "axes", I64)])])
    else:
        query = g.op("Unsqueeze", [g.linear(h, weights["query.weight"], None, "query"), g.const([1], "axes", I64)])
        scores = g.op("MatMul", [g.op("Tanh", [g.op("Add", ["keys", query])]), g.const(weights["energy.weight"].T, "v")])
    scores = g.op("Squeeze", [scores, g.const([2], "axes", I64)])
    return g.op("Softmax", [g.op("Where", ["mask", scores, g.const(NEG, "neg")])], axis=-1)  # type: ignore[no-any-return]


def decoder_graph(weights: dict[str, np.ndarray], config: Any) -> onnx.ModelProto:
    g = Graph()
    x = g.op("Unsqueeze", [g.op("Gather", [g.const(weights["target_embedding.weight"], "target_embedding"), "tokens"]),
                           g.const([0], "axes", I64)])  # (1, rows, embed)
    states = [g.op("Gather", ["state", g.const(s, "i", I64)], axis=0) for s in range(_states(config))]
    layer_state = [[g.op("Gather", [s, g.const([k], "k", I64)], axis=0) for s in states] for k in range(config.layers)]
    top, finals = recurrent_layers(g, x, weights, SimpleNamespace(kind=config.kind, hidden=config.hidden,
                                                                   layers=config.layers, bidirectional=False),
                                   layer_state, prefix="decoder")
    per_state = [g.op("Concat", [final[s] for final in finals], axis=0) if config.layers > 1 else finals[0][s]
                 for s in range(_states(config))]
    g.op("Concat", [g.op("Unsqueeze", [s, g.const([0], "axes", I64)]) for s in per_state], ["state_out"], axis=0)
    h = g.op("Squeeze", [top, g.const([0], "axes", I64)])  # (rows, hidden)
    attention = g.op("Identity", [_attention(g, h, weights, config)], ["attention"])
    context = g.op("Squeeze", [g.op("MatMul", [g.op("Unsqueeze", [attention, g.const([1], "axes", I64)]), "memory"]),
                               g.const([1], "axes", I64)])
    combined = g.op("Tanh", [g.linear(g.op("Concat", [h, context], axis=1), weights["combine.weight"],
                                      weights["combine.bias"], "combine")])
    scores = g.linear(combined, weights["target_embedding.weight"], weights["output_bias"], "output")
    g.op("LogSoftmax", [scores], ["logp"], axis=-1)
    inputs = [helper.make_tensor_value_info("tokens", TensorProto.INT64, ["rows"]), _value("state", config),
              _value("memory", config), *([_value("keys", config)] if config.attention != "none" else []),
              _value("mask", config)]
    outputs = [_value("logp", config), helper.make_tensor_value_info(
        "state_out", TensorProto.FLOAT, [_states(config), config.layers, "rows", config.hidden]),
        _value("attention", config)]
    return finish(g, inputs, outputs)


def graph(weights: dict[str, np.ndarray], config: Any) -> dict[str, onnx.ModelProto]:
    """The encoder (the export's model) and the decoder step."""
    return {"model": encoder_graph(weights, config), "decoder": decoder_graph(weights, config)}
