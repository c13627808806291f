"""A tagger's ONNX graph: ``tokens`` int64 (batch, time), ``chars`` int64 (batch, time,
characters) and ``affixes`` int64 (batch, time, kinds), padded with 0, and ``lengths`` int64
(batch) in; ``scores`` (batch, time, tags) out.
The character CNN takes the max over each word's real characters, and the layers read each
sentence to its own length (``sequence_lens``), as packed sequences do in torch. A CRF tagger's
start, transition and end scores ride in the model's metadata (``crf``, JSON), where onnxruntime
reads them without the onnx package; Viterbi decoding is inference.py's, as for torch."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper

from rnncli.export import Graph, finish, recurrent_layers
from rnncli.models.tagger import CHAR_WIDTH
from rnncli.tasks.tagging.exported import CRF_KEY


def _spelling(g: Graph, weights: dict[str, np.ndarray]) -> str:
    """The character CNN: (batch, time, characters) ids -> (batch, time, filters)."""
    embedded = g.op("Gather", [g.const(weights["char_embedding.weight"], "char_embedding"), "chars"])
    shape = g.op("Shape", ["chars"])
    width = g.op("Gather", [shape, g.const(2, "i", np.int64)])
    embed = weights["char_embedding.weight"].shape[1]
    flat_shape = g.op("Concat", [g.const([-1], "a", np.int64), g.op("Unsqueeze", [width, g.const([0], "a", np.int64)]),
                                 g.const([embed], "a", np.int64)], axis=0)
    words = g.op("Transpose", [g.op("Reshape", [embedded, flat_shape])], perm=[0, 2, 1])  # (words, embed, chars)
    convolved = g.op("Conv", [words, g.const(weights["char_conv.weight"], "conv_w"),
                              g.const(weights["char_conv.bias"], "conv_b")],
                     kernel_shape=[CHAR_WIDTH], pads=[CHAR_WIDTH // 2, CHAR_WIDTH // 2])
    pads = g.op("Equal", [g.op("Reshape", ["chars", g.const([-1, 1, 0], "shape", np.int64)]),
                          g.const(0, "zero", np.int64)])  # (words, 1, chars)
    pooled = g.op("ReduceMax", [g.op("Where", [pads, g.const(-np.inf, "neg"), convolved])], axes=[2], keepdims=0)
    pooled = g.op("Where", [g.op("IsInf", [pooled]), g.const(0.0, "zero"), pooled])
    back = g.op("Concat", [g.op("Slice", [shape, g.const([0], "a", np.int64), g.const([2], "a", np.int64)]),
                           g.const([-1], "a", np.int64)], axis=0)
    return g.op("Reshape", [pooled, back])  # type: ignore[no-any-return]


def graph(weights: dict[str, np.ndarray], config: Any) -> onnx.ModelProto:
    g = Graph()
    x = g.op("Gather", [g.const(weights["embedding.weight"], "embedding"), "tokens"])
    if config.char_vocab_size:
        x = g.op("Concat", [x, _spelling(g, weights)], axis=2)
    if config.affix_embed:
        affixes = g.op("Gather", [g.const(weights["affix_embedding.weight"], "affix_embedding"), "affixes"])
        x = g.op("Concat", [x, g.op("Reshape", [affixes, g.const([0, 0, -1], "shape", np.int64)])], axis=2)
    one = g.const(1, "one", np.int64)
    sequence_lens = g.op("Cast", [g.op("Max", ["lengths", one])], to=TensorProto.INT32)
    top, _ = recurrent_layers(g, g.op("Transpose", [x], perm=[1, 0, 2]), weights, config, None, sequence_lens)
    features = g.op("Transpose", [top], perm=[1, 0, 2])  # (batch, time, directions * hidden)
    g.op("Identity", [g.linear(features, weights["output.weight"], weights["output.bias"], "output")], ["scores"])
    inputs = [helper.make_tensor_value_info("tokens", TensorProto.INT64, ["batch", "time"]),
              *([helper.make_tensor_value_info("chars", TensorProto.INT64, ["batch", "time", "characters"])]
                if config.char_vocab_size else []),
              *([helper.make_tensor_value_info("affixes", TensorProto.INT64, ["batch", "time", config.affix_kinds])]
                if config.affix_embed else []),
              helper.make_tensor_value_info("lengths", TensorProto.INT64, ["batch"])]
    outputs = [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", "time", config.num_labels])]
    model = finish(g, inputs, outputs)
    if config.crf:
        helper.set_model_props(model, {CRF_KEY: json.dumps({part: weights[f"crf.{part}"].tolist()
                                                            for part in ("start", "transitions", "end")})})
    return model
