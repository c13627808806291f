"""The torch engine of a language model: it reads windows of a text, and steps one token at a time
with the state carried for generation (see rnncli.infer.sampling).

The prompt goes through the fused recurrent layer in one call; after that each token costs one
step of each layer (torch's native cell kernels on the fused weights) and one decoder product,
however long the text already is. Sampling (temperature, top-k, top-p) runs in numpy on the
logits (:mod:`rnncli.infer.sampling`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor

from rnncli.device import autocast, inference_precision
from rnncli.infer.reading import WINDOW
from rnncli.models.lm import LanguageModel
from rnncli.text.vocab import EOS, Vocab

if TYPE_CHECKING:
    from rnncli.run.weights import LoadedRun


INPUT_TABLE_LIMIT = 4_000_000  # entries of the per-token input-projection table (16 MB in fp32)


class Stepper:
    """Advance every layer by one token, straight on the fused model's weights.

    For one sample over a small vocabulary the first layer's input side, embedding times W_ih plus
    b_ih, is looked up from a table computed once: the cell then reads only W_hh, and a token at
    batch 1 costs about what reading the weights costs. Every cell adds that input term to its
    gates, so passing it as the input bias with an empty input gives the same result.
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

    def step(self, tokens: Tensor, state: list, single: int | None = None) -> tuple[Tensor, list, Tensor]:  # type: ignore[type-arg]
        """Logits, the state and the features the decoder read (what the neural cache keeps);
        ``single``: the token id when there is one sample, which allows the table lookup."""
        if single is not None and self.table is not None:
            return self._layers(self.no_input, state, (self.no_weight, self.table[single]))
        return self._layers(self.embedding[tokens], state, None)

    def _layers(self, x: Tensor, state: list, first: tuple[Tensor, Tensor] | None) -> tuple[Tensor, list, Tensor]:  # type: ignore[type-arg]
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
        return logits, new_state, x

    def split_state(self, state) -> list:  # type: ignore[no-untyped-def]
        """The fused layer's (layers, batch, hidden) state as one entry per layer."""
        if self.kind == "lstm":
            h, c = state
            return [(h[k], c[k]) for k in range(h.shape[0])]
        return [state[k] for k in range(state.shape[0])]


class TorchLM:
    """A torch language model as an inference engine (:class:`rnncli.infer.engine.LanguageEngine`):
    generation steps token by token (in fp32), reading and scoring run in ``precision``."""

    task, variant = "lm", "torch"
    columns: int | None = None
    window = WINDOW

    def __init__(self, model: LanguageModel, device: torch.device | str = "cpu", precision: str = "fp32",
                 vocab: Vocab | None = None, unigram_cache: Any = None, neural_cache: Any = None) -> None:
        self.model, self.device, self.precision = model, torch.device(device), precision
        self.vocab, self.unigram_cache, self.neural_cache = vocab, unigram_cache, neural_cache
        self._stepper: Stepper | None = None

    @property
    def stepper(self) -> Stepper:
        if self._stepper is None:
            self._stepper = Stepper(self.model)
        return self._stepper

    def start(self, prompt_ids: list[int], num_samples: int) -> tuple[np.ndarray, list]:  # type: ignore[type-arg]
        logits, state, _ = self._begin(prompt_ids, num_samples)
        return logits, state

    def start_features(self, prompt_ids: list[int], num_samples: int) -> tuple[np.ndarray, list, np.ndarray]:  # type: ignore[type-arg]
        """:meth:`start`, and the features after each prompt token (time, samples, d)."""
        logits, state, features = self._begin(prompt_ids, num_samples)
        return logits, state, features.float().cpu().numpy()

    @torch.inference_mode()
    def _begin(self, prompt_ids: list[int], num_samples: int) -> tuple[np.ndarray, list, Tensor]:  # type: ignore[type-arg]
        self.model.eval()
        context = torch.tensor(prompt_ids, dtype=torch.long, device=self.device)
        features, state = self.model(context[:, None].expand(-1, num_samples), None)
        return _last_logits(self.model, features).float().cpu().numpy(), self.stepper.split_state(state), features

    def select(self, state: list, rows: np.ndarray) -> list:  # type: ignore[type-arg]
        index = torch.as_tensor(rows, device=self.device)
        return [tuple(t.index_select(0, index) for t in s) if isinstance(s, tuple) else s.index_select(0, index)
                for s in state]

    def step(self, tokens: np.ndarray, state: list) -> tuple[np.ndarray, list]:  # type: ignore[type-arg]
        logits, state, _ = self._advance(tokens, state)
        return logits.float().cpu().numpy(), state

    def step_features(self, tokens: np.ndarray, state: list) -> tuple[np.ndarray, list, np.ndarray]:  # type: ignore[type-arg]
        """:meth:`step`, and the features after the step's token (samples, d)."""
        logits, state, features = self._advance(tokens, state)
        return logits.float().cpu().numpy(), state, features.float().cpu().numpy()

    @torch.inference_mode()
    def _advance(self, tokens: np.ndarray, state: list) -> tuple[Tensor, list, Tensor]:  # type: ignore[type-arg]
        single = int(tokens[0]) if len(tokens) == 1 else None
        return self.stepper.step(torch.from_numpy(tokens).to(self.device), state, single)  # type: ignore[no-any-return]

    def target_log_probs(self, inputs: np.ndarray, targets: np.ndarray, state: Any = None) -> tuple[np.ndarray, Any]:
        """log P of ``targets`` after ``inputs`` (time, batch), the state carried; the model is read
        in eval mode and left in the mode it was in."""
        picked, _, state = self._read(inputs, targets, state)
        return picked, state

    def target_log_probs_features(self, inputs: np.ndarray, targets: np.ndarray,
                                  state: Any = None) -> tuple[np.ndarray, np.ndarray, Any]:
        """The same, and the states that predicted them (time, batch, d): the decoder's input."""
        picked, features, state = self._read(inputs, targets, state)
        return picked, features.float().cpu().numpy(), state

    @torch.inference_mode()
    def _read(self, inputs: np.ndarray, targets: np.ndarray, state: Any) -> tuple[np.ndarray, Tensor, Any]:
        was_training = self.model.training
        self.model.eval()
        try:
            with autocast(self.device, self.precision):
                x = torch.from_numpy(np.ascontiguousarray(inputs)).to(self.device)
                y = torch.from_numpy(np.ascontiguousarray(targets)).to(self.device)
                features, state = self.model(x, state)
                nll = self.model.token_nll(features, y).reshape(y.shape)
        finally:
            self.model.train(was_training)
        return -nll.float().cpu().numpy(), features, state

    @torch.inference_mode()
    def embed(self, texts: list[str], batch_size: int = 0) -> np.ndarray:
        """The top layer's state after each text, read after ``<eos>`` as training reads it."""
        self.model.eval()
        rows = []
        for ids in self.vocab.encode_batch(texts) if self.vocab is not None else []:
            _, state = self.model(torch.tensor([EOS, *ids], device=self.device)[:, None], None)
            h = state[0] if isinstance(state, tuple) else state
            rows.append(h[-1, 0].float().cpu().numpy())
        return np.stack(rows) if rows else np.zeros((0, 0), np.float32)


def open_torch(loaded: "LoadedRun", device: torch.device) -> TorchLM:
    """The engine of a loaded run, in the precision the run trained in where the device runs it."""
    from rnncli import neural_cache, unigram_cache

    return TorchLM(loaded.model.to(device), device, inference_precision(loaded.config.plan.machine.precision, device),
                   loaded.vocab, unigram_cache.read(loaded.run.path), neural_cache.read(loaded.run.path))


def _last_logits(model: LanguageModel, features: Tensor) -> Tensor:
    last = features[-1]
    if model.decoder is not None:
        return model.decoder(last)
    return model.log_probs(last)
