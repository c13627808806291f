"""Language modelling: the autoregressive objective, sum over t of log P(x_t | x_<t)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from rnncli.corpus import TokenText, class_counts, eval_column_count, lm_figures, stream_order
from rnncli.data import LMWindows, eval_columns
from rnncli.device import autocast
from rnncli.distributed import current
from rnncli.errors import FormatError
from rnncli.models.lm import LanguageModel, State
from rnncli.scores import lm_score
from rnncli.training import Task
from rnncli.unigram_cache import FIT_TOKENS



def detach(state: State | None) -> State | None:
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)  # type: ignore[return-value]
    return state.detach()




@torch.no_grad()
def evaluate_lm(model: LanguageModel, text: TokenText, device: torch.device, precision: str = "fp32",
                columns: int | None = None, window: int = 256) -> dict[str, float]:
    """Loss in nats per token, perplexity and bits per character over every token but the first.

    The text is read as ``columns`` parallel streams, each starting from a zero state; by default
    each holds at least 4,096 tokens (at most 64 streams), so that cold starts barely weigh on the
    result (War and Peace test: 64 streams of 500 tokens read 1% worse than one stream).
    In a distributed run each rank evaluates its share of the columns and the sums are reduced.
    """
    dist = current()
    if columns is None:
        columns = eval_column_count(len(text))
    inputs, targets, mask = eval_columns(np.asarray(text.ids), columns)
    if dist.enabled:
        inputs, targets, mask = (t[:, dist.rank :: dist.world] for t in (inputs, targets, mask))
    total = 0.0
    count = 0
    for start, nll in _column_nll(model, inputs, targets, device, precision, window):
        keep = mask[start : start + window].to(device).reshape(-1)
        total += float(nll.reshape(-1)[keep].double().sum())
        count += int(keep.sum())
    total, count = dist.sum([total, float(count)])
    return lm_figures(total, int(count), text.chars)


@torch.no_grad()
def stream_log_probs(model: LanguageModel, ids: np.ndarray, device: torch.device, precision: str = "fp32",
                     window: int = 256) -> np.ndarray:
    """log P of every token of ``ids`` but the first, in the text's order, read on the columns of
    :func:`evaluate_lm` (so they sum to its figures); what a cache is fitted on and mixed with."""
    inputs, targets, _ = eval_columns(np.asarray(ids), eval_column_count(len(ids)))
    blocks = [-nll.float().cpu().numpy() for _, nll in _column_nll(model, inputs, targets, device, precision, window)]
    return stream_order(np.concatenate(blocks) if blocks else np.zeros((0, 1), np.float32), len(ids))


def _column_nll(model: LanguageModel, inputs: Tensor, targets: Tensor, device: torch.device, precision: str,
                window: int) -> Any:
    """(first time step, nll (time, columns)) of each window of the columns, the state carried."""
    state = None
    was_training = model.training
    model.eval()
    try:
        with autocast(device, precision):
            for start in range(0, inputs.shape[0] if inputs.shape[1] else 0, window):
                y = targets[start : start + window].to(device)
                features, state = model(inputs[start : start + window].to(device), state)
                yield start, model.token_nll(features, y).reshape(y.shape)
    finally:
        model.train(was_training)


class LanguageModelTask(Task):
    unit = "tokens"
    closing_passes = 1  # the unigram cache's fit on validation, after the loop (rnncli.execute)

    def __init__(self, train: TokenText, valid: TokenText, batch_size: int, bptt: int,
                 device: torch.device, precision: str) -> None:
        dist = current()
        share = batch_size // dist.world
        self.columns = slice(dist.rank * share, (dist.rank + 1) * share)  # this rank's batch columns
        self.windows = LMWindows(train.ids, batch_size, bptt, self.columns)
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
        self.state = None

    def train_step(self, model: nn.Module, epoch: int, index: int) -> tuple[Tensor, int]:
        x, y = self.windows.window(index)
        x, y = x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True)
        features, state = model(x, self.state)
        self.state = detach(state)
        return _lm(model).loss(features, y), y.numel()

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        result = evaluate_lm(model, self.valid, self.device, self.precision)  # type: ignore[arg-type]
        return {"val_loss": result["loss"], "val_ppl": result["ppl"], "val_bpc": result["bpc"]}

    def score(self, metrics: dict[str, float]) -> float:
        return lm_score(metrics)

    def eval_size(self) -> int:
        return len(self.valid)

    def held_out_log_probs(self, model: nn.Module) -> tuple[np.ndarray, np.ndarray]:
        """The validation ids the unigram cache is fitted on, and the model's log P of each after the first."""
        ids = np.asarray(self.valid.ids[: FIT_TOKENS + 1])
        return ids, stream_log_probs(_lm(model), ids, self.device, self.precision)

    def state_tensors(self) -> dict[str, Tensor]:
        if self.state is None:
            return {}
        if isinstance(self.state, tuple):
            return {"h": self.state[0], "c": self.state[1]}
        return {"h": self.state}

    def load_state_tensors(self, tensors: dict[str, Tensor]) -> None:
        """The saved state covers every batch column; keep this rank's."""
        if "h" not in tensors:
            self.state = None
            return
        if tensors["h"].shape[1] != self.windows.grid.shape[0] * current().world:
            raise FormatError("the checkpoint's hidden state does not fit this batch size")
        parts = [tensors[k][:, self.columns].to(self.device) for k in ("h", "c") if k in tensors]
        self.state = (parts[0], parts[1]) if len(parts) == 2 else parts[0]

    def after_failed_step(self) -> None:
        self.state = None


def _lm(model: nn.Module) -> Any:
    return getattr(model, "module", model)



