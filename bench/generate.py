"""Generation: the cost per token early and late in a long text, and batched sampling
(--num-samples) against one sample; ``bare_rate`` is the loop people write, which bench/serve.py
sets beside rnncli's torch path and its ONNX export."""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np
import torch

from common import Row, alternate, print_table

VOCAB, EMBED, HIDDEN = 65 + 4 + 256, 64, 512


def _model():  # type: ignore[no-untyped-def]
    from rnncli.models.config import ModelConfig
    from rnncli.models.lm import LanguageModel

    torch.manual_seed(0)
    return LanguageModel(ModelConfig(vocab_size=VOCAB, embed=EMBED, hidden=HIDDEN)).eval()


def rnncli_rate(model, tokens: int, samples: int = 1) -> float:  # type: ignore[no-untyped-def]
    from rnncli.tasks.language.engine import TorchLM
    from rnncli.infer.sampling import SamplingOptions, generate

    stream = generate(TorchLM(model), [5, 6, 7], SamplingOptions(max_tokens=tokens + 1, temperature=0.8, seed=0), samples)
    next(stream)
    began = time.perf_counter()
    count = sum(1 for _ in stream)
    return count * samples / (time.perf_counter() - began)


@torch.inference_mode()
def bare_rate(model, tokens: int) -> float:  # type: ignore[no-untyped-def]
    """The loop people write: nn.Embedding, nn.LSTMCell, nn.Linear, softmax, multinomial, item."""
    cell = torch.nn.LSTMCell(model.rnn.input_size, model.rnn.hidden_size)
    cell.weight_ih.copy_(model.rnn.weight_ih_l0)
    cell.weight_hh.copy_(model.rnn.weight_hh_l0)
    cell.bias_ih.copy_(model.rnn.bias_ih_l0)
    cell.bias_hh.copy_(model.rnn.bias_hh_l0)
    embedding, decoder = model.embedding, model.decoder
    h = c = torch.zeros(1, model.rnn.hidden_size)
    token = torch.tensor([5])
    began = None
    for k in range(tokens + 1):
        if k == 1:
            began = time.perf_counter()
        h, c = cell(embedding(token), (h, c))
        probs = torch.softmax(decoder(h) / 0.8, dim=-1)
        token = torch.multinomial(probs, 1)[0]
        token.item()
    return tokens / (time.perf_counter() - began)


def per_token_cost(model, total: int = 10_100) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    from rnncli.tasks.language.engine import TorchLM
    from rnncli.infer.sampling import SamplingOptions, generate

    stamps = [time.perf_counter()]
    for _ in generate(TorchLM(model), [5], SamplingOptions(max_tokens=total, temperature=0.8, seed=0)):
        stamps.append(time.perf_counter())
    stamps = np.array(stamps)
    early = (stamps[110] - stamps[10]) / 100
    late = (stamps[total] - stamps[total - 100]) / 100
    return early, late


def run(quick: bool = False) -> list[Row]:
    """The cost per token late in a text against early, and batched sampling against one sample
    (the torch path beside the bare loop and the export is bench/serve.py's)."""
    model = _model()
    tokens = 1000 if quick else 3000
    repeats = 3 if quick else 5
    costs = [per_token_cost(model, 2_100 if quick else 10_100) for _ in range(repeats)]
    early, late = (statistics.median(c[i] for c in costs) for i in (0, 1))
    rows = [Row("cost per token, late vs early in one text", f"{late * 1e3:.3f} ms at the end",
                f"{early * 1e3:.3f} ms at token 10", late / early, "<= 1.2x", repeats=repeats,
                note="flat: the state is carried, nothing is recomputed")]
    for samples in (8, 64):
        rates = alternate({"one": lambda: rnncli_rate(model, tokens // 4),
                           "many": lambda s=samples: rnncli_rate(model, tokens // 4, s)}, repeats)
        rows.append(Row(f"batched generation, --num-samples {samples}, tokens/s", f"{rates['many']:,.0f}",
                        f"one sample {rates['one']:,.0f}", rates["many"] / rates["one"], repeats=repeats,
                        note="tokens of all samples per second"))
    return rows


if __name__ == "__main__":
    from common import machine

    print(machine())
    print_table("generation", run("--quick" in sys.argv))
