"""Sampling text from a language model, one token at a time with the state carried.

The prompt goes through the fused recurrent layer in one call; after that each token costs one
step of each layer (torch's native cell kernels on the fused weights) and one decoder product,
however long the text already is. Sampling (temperature, top-k, top-p) runs in numpy on the
logits, with its own seeded generator, so the same seed gives the same text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch
from torch import Tensor

from rnncli.errors import ConfigError
from rnncli.models.lm import LanguageModel
from rnncli.text.vocab import BOS, EOS, PAD, StreamDecoder, Vocab


@dataclass
class SamplingOptions:
    max_tokens: int = 300
    temperature: float = 0.8
    top_k: int | None = None
    top_p: float = 1.0
    seed: int | None = None
    stop_at_eos: bool = False

    def check(self) -> "SamplingOptions":
        if self.max_tokens < 0:
            raise ConfigError("--max-tokens must be 0 or more")
        if not (self.temperature >= 0 and np.isfinite(self.temperature)):
            raise ConfigError("--temperature must be 0 (greedy) or positive")
        if self.top_k is not None and self.top_k < 1:
            raise ConfigError("--top-k must be at least 1")
        if not (0 < self.top_p <= 1):
            raise ConfigError("--top-p must be in (0, 1]")
        return self


def sample_tokens(logits: np.ndarray, options: SamplingOptions, rng: np.random.Generator) -> np.ndarray:
    """One token per row of ``logits`` (batch, vocab)."""
    if options.temperature == 0:
        return logits.argmax(axis=1)
    z = logits / options.temperature
    vocab = z.shape[1]
    if options.top_k is not None and options.top_k < vocab:
        kth = np.partition(z, vocab - options.top_k, axis=1)[:, vocab - options.top_k][:, None]
        z = np.where(z < kth, -np.inf, z)
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    if options.top_p < 1.0:
        order = np.argsort(-p, axis=1)
        sorted_p = np.take_along_axis(p, order, axis=1)
        cumulative = np.cumsum(sorted_p, axis=1)
        total = cumulative[:, -1:]
        drop_sorted = (cumulative - sorted_p) >= options.top_p * total  # keeps at least the first
        drop = np.zeros_like(drop_sorted)
        np.put_along_axis(drop, order, drop_sorted, axis=1)
        p = np.where(drop, 0.0, p)
    cdf = np.cumsum(p, axis=1)
    u = rng.random(len(p)) * cdf[:, -1]
    return np.minimum((cdf < u[:, None]).sum(axis=1), vocab - 1)


INPUT_TABLE_LIMIT = 4_000_000  # entries of the per-token input-projection table (16 MB in fp32)


class Stepper:
    """Advance every layer by one token, straight on the fused model's weights.

    For one sample over a small vocabulary the first layer's input side, embedding times W_ih plus
    b_ih, is looked up from a table computed once: the cell then reads only W_hh (about 10% less
    time per token for a 512-unit char LSTM). Every cell adds that input term to its gates, so
    passing it as the input bias with an empty input gives the same result.
    """

    def __init__(self, model: LanguageModel) -> None:
        self.model = model
        self.kind = model.config.kind
        rnn = model.rnn
        self.weights = [tuple(getattr(rnn, f"{name}_l{k}") for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
                        for k in range(model.config.layers)]
        self.cell = {"lstm": torch.lstm_cell, "gru": torch.gru_cell, "rnn": torch.rnn_tanh_cell}[self.kind]
        self.embedding = model.embedding.weight
        self.decoder = model.decoder
        self.proj = model.proj
        self.table: Tensor | None = None
        w_ih, _, b_ih, _ = self.weights[0]
        if self.embedding.shape[0] * w_ih.shape[0] <= INPUT_TABLE_LIMIT:
            self.table = torch.addmm(b_ih, self.embedding, w_ih.t())
            self.no_input = self.embedding.new_zeros(1, 0)
            self.no_weight = w_ih.new_zeros(w_ih.shape[0], 0)

    def step(self, tokens: Tensor, state: list, single: int | None = None) -> tuple[Tensor, list]:  # type: ignore[type-arg]
        """``single``: the token id when there is one sample, which allows the table lookup."""
        if single is not None and self.table is not None:
            return self._layers(self.no_input, state, (self.no_weight, self.table[single]))
        return self._layers(self.embedding[tokens], state, None)

    def _layers(self, x: Tensor, state: list, first: tuple[Tensor, Tensor] | None) -> tuple[Tensor, list]:  # type: ignore[type-arg]
        new_state = []
        for k, ((w_ih, w_hh, b_ih, b_hh), layer_state) in enumerate(zip(self.weights, state)):
            if k == 0 and first is not None:
                w_ih, b_ih = first
            if self.kind == "lstm":
                h, c = self.cell(x, layer_state, w_ih, w_hh, b_ih, b_hh)
                new_state.append((h, c))
            else:
                h = self.cell(x, layer_state, w_ih, w_hh, b_ih, b_hh)
                new_state.append(h)
            x = h
        if self.proj is not None:
            x = self.proj(x)
        if self.decoder is not None:
            logits = torch.addmm(self.decoder.bias, x, self.decoder.weight.t())
        else:
            logits = self.model.log_probs(x)
        return logits, new_state

    def split_state(self, state) -> list:  # type: ignore[no-untyped-def]
        """The fused layer's (layers, batch, hidden) state as one entry per layer."""
        if self.kind == "lstm":
            h, c = state
            return [(h[k], c[k]) for k in range(h.shape[0])]
        return [state[k] for k in range(state.shape[0])]


@torch.inference_mode()
def generate(model: LanguageModel, prompt_ids: list[int], options: SamplingOptions, num_samples: int = 1,
             device: torch.device | str = "cpu") -> Iterator[np.ndarray]:
    """Yield, token by token, the next id of every sample (an array of ``num_samples`` ids).

    Samples that produced ``<eos>`` with ``stop_at_eos`` keep yielding ``<pad>`` until all stop.
    """
    options.check()
    if num_samples < 1:
        raise ConfigError("--num-samples must be at least 1")
    model.eval()
    rng = np.random.default_rng(options.seed)
    stepper = Stepper(model)
    context = torch.tensor([EOS] + list(prompt_ids), dtype=torch.long, device=device)
    features, state = model(context[:, None].expand(-1, num_samples), None)
    logits = _last_logits(model, features)
    layer_state = stepper.split_state(state)
    done = np.zeros(num_samples, dtype=bool)
    banned = [PAD, BOS]
    for _ in range(options.max_tokens):
        scores = logits.float().cpu().numpy()
        scores[:, banned] = -np.inf
        tokens = sample_tokens(scores, options, rng)
        if options.stop_at_eos:
            tokens = np.where(done, PAD, tokens)
            done |= tokens == EOS
        yield tokens
        if options.stop_at_eos and done.all():
            return
        single = int(tokens[0]) if num_samples == 1 else None
        logits, layer_state = stepper.step(torch.from_numpy(tokens).to(device), layer_state, single)


def sample_texts(model: LanguageModel, vocab: Vocab, prompt: str, options: SamplingOptions, num_samples: int = 1,
                 device: torch.device | str = "cpu") -> list[tuple[str, int]]:
    """Each sample's continuation of ``prompt`` (without it) and its number of tokens, sampled as one batch."""
    rows: list[list[int]] = [[] for _ in range(num_samples)]
    for tokens in generate(model, vocab.encode(prompt), options, num_samples, device):
        for row, token in zip(rows, tokens.tolist()):
            if token != PAD:
                row.append(token)
    texts = []
    for row in rows:
        decoder = StreamDecoder(vocab)
        texts.append(("".join(decoder.feed(t) for t in row) + decoder.flush(), len(row)))
    return texts


def _last_logits(model: LanguageModel, features: Tensor) -> Tensor:
    last = features[-1]
    if model.decoder is not None:
        return model.decoder(last)
    return model.log_probs(last)
