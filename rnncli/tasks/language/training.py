"""Training a language model: the autoregressive objective, sum over t of log P(x_t | x_<t)."""

from __future__ import annotations

import random
from typing import Any, Callable

import numpy as np
import torch
from torch import Tensor, nn

from rnncli.corpus import TokenText, class_counts, lm_figures
from rnncli.data import LMWindows
from rnncli.distributed import current
from rnncli.errors import FormatError
from rnncli.infer.reading import stream_log_probs, stream_log_probs_features, total_nll
from rnncli.models.config import ModelConfig
from rnncli.models.lm import LanguageModel, State
from rnncli.scores import lm_score
from rnncli.tasks.language.engine import TorchLM
from rnncli.training import Task
from rnncli import neural_cache, unigram_cache
from rnncli.unigram_cache import FIT_TOKENS


def detach(state: State | None) -> State | None:
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)  # type: ignore[return-value]
    return state.detach()


def build_model(config: ModelConfig) -> LanguageModel:
    return LanguageModel(config)


def evaluate_lm(model: nn.Module, text: TokenText, device: torch.device, precision: str = "fp32",
                columns: int | None = None) -> dict[str, float]:
    """Loss in nats per token, perplexity and bits per character over every token but the first,
    read as :mod:`rnncli.infer.reading` reads any engine (in a distributed run each rank reads its
    share of the columns and the sums are reduced)."""
    dist = current()
    total, count = total_nll(TorchLM(_lm(model), device, precision), np.asarray(text.ids), columns,
                             (dist.rank, dist.world))
    total, count = dist.sum([total, float(count)])
    return lm_figures(total, int(count), text.chars)


class LanguageModelTask(Task):
    unit = "tokens"
    perplexity = True
    closing_passes = 2  # the caches' fit on validation, after the loop (finish): two reads of it

    def closing_seconds(self, evaluation: float) -> float:
        """Two reads of validation (its first FIT_TOKENS), and the neural cache's fit on its first
        neural_cache.FIT_TOKENS."""
        fitted = min(len(self.valid), neural_cache.FIT_TOKENS)
        return self.closing_passes * evaluation + fitted * neural_cache.FIT_SECONDS_PER_TOKEN

    def __init__(self, train: TokenText, valid: TokenText, batch_size: int, bptt: int,
                 device: torch.device, precision: str, shift_windows: bool = False) -> None:
        dist = current()
        share = batch_size // dist.world
        self.columns = slice(dist.rank * share, (dist.rank + 1) * share)  # this rank's batch columns
        self.windows = LMWindows(train.ids, batch_size, bptt, self.columns)
        self.shift_windows = shift_windows
        self.train_ids = train.ids
        self.valid = valid
        self.device = device
        self.precision = precision
        self.state: State | None = None

    def steps_per_epoch(self) -> int:
        return len(self.windows)

    def setup_model(self, model: nn.Module, fresh: bool) -> None:
        """Output classes the training text never uses are held out of the way (see fit_output_to)."""
        counts = class_counts(self.train_ids, _lm(model).config.vocab_size)
        _lm(model).fit_output_to(torch.from_numpy(counts), fresh)

    def start_epoch(self, epoch: int) -> None:
        """Each epoch starts from a fresh state; with shifted windows, its boundaries are a function
        of the epoch alone (the first epoch keeps the plain ones), so a resumed run reads the same."""
        self.state = None
        if self.shift_windows:
            self.windows.shift(random.Random(epoch).randrange(self.windows.bptt) if epoch else 0)

    def train_step(self, model: nn.Module, epoch: int, index: int) -> tuple[Tensor, int]:
        x, y = self.windows.window(index)
        x, y = x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True)
        features, state = model(x, self.state)
        self.state = detach(state)
        lm = _lm(model)
        return lm.loss(features, y) + lm.penalty, y.numel()

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        result = evaluate_lm(model, self.valid, self.device, self.precision)  # type: ignore[arg-type]
        return {"val_loss": result["loss"], "val_ppl": result["ppl"], "val_bpc": result["bpc"]}

    def score(self, metrics: dict[str, float]) -> float:
        return lm_score(metrics)

    def eval_size(self) -> int:
        return len(self.valid)

    def engine(self, model: nn.Module) -> TorchLM:
        """The model as an inference engine (generation during training: --sample-every)."""
        return TorchLM(_lm(model), self.device, self.precision)

    def finish(self, model: nn.Module, run: Any, report: Callable[[str], None]) -> None:
        """Fit the unigram and the neural cache on validation with the best weights."""
        from rnncli.run.files import BEST
        from rnncli.run.weights import load_checkpoint

        if run.file(BEST).is_file():
            load_checkpoint(model, run.file(BEST))
        engine = TorchLM(_lm(model), self.device, self.precision)
        ids = np.asarray(self.valid.ids[: FIT_TOKENS + 1])
        log_probs = stream_log_probs(engine, ids)
        unigram = unigram_cache.fit_and_keep(ids, log_probs, run.path, report, keep=current().is_main)
        ids = ids[: neural_cache.FIT_TOKENS + 1]
        log_probs, features = stream_log_probs_features(engine, ids)
        unigram_loss = None
        if unigram is not None:
            unigram_loss = -float(np.mean(unigram.mix(log_probs, ids), dtype=np.float64))
        neural_cache.fit_and_keep(ids, log_probs, features, unigram_loss, run.path, report, keep=current().is_main)

    def state_tensors(self) -> dict[str, Tensor]:
        if self.state is None:
            return {}
        if isinstance(self.state, tuple):
            return {"h": self.state[0], "c": self.state[1]}
        return {"h": self.state}

    def load_state_tensors(self, tensors: dict[str, Tensor]) -> None:
        """The saved state covers every batch column; keep this rank's, in fp32 (a state saved under
        bf16 autocast is bf16, which oneDNN's LSTM refuses where the CPU cannot compute bf16)."""
        if "h" not in tensors:
            self.state = None
            return
        if tensors["h"].shape[1] != self.windows.grid.shape[0] * current().world:
            raise FormatError("the checkpoint's hidden state does not fit this batch size")
        parts = [tensors[k][:, self.columns].to(self.device, torch.float32) for k in ("h", "c") if k in tensors]
        self.state = (parts[0], parts[1]) if len(parts) == 2 else parts[0]

    def after_failed_step(self) -> None:
        self.state = None


def _lm(model: nn.Module) -> Any:
    return getattr(model, "module", model)



