"""A linear-chain conditional random field over a tagger's per-token scores (Lafferty et al.,
2001; as the output layer of a BiLSTM, Huang et al. 2015 and Lample et al. 2016).

score(x, y) = start[y_1] + sum_i emissions[i, y_i] + sum_i transitions[y_{i-1}, y_i] + end[y_n];
training maximises log P(y | x) = score(x, y) - log Z(x), Z by the forward algorithm. Decoding
(Viterbi) is :func:`rnncli.tasks.tagging.inference.crf_viterbi`, for torch and ONNX alike. Batches
are padded, ``mask`` (batch, time) marks the real tokens (each row's a prefix).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class CRF(nn.Module):
    def __init__(self, tags: int) -> None:
        super().__init__()
        self.transitions = nn.Parameter(torch.zeros(tags, tags))  # [previous, next]
        self.start = nn.Parameter(torch.zeros(tags))
        self.end = nn.Parameter(torch.zeros(tags))

    def log_likelihood(self, emissions: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        """log P(tags | emissions) of each sequence: (batch,)."""
        return self._score(emissions, tags, mask) - self.log_partition(emissions, mask)

    def _score(self, emissions: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        mask_f = mask.to(emissions.dtype)
        emitted = emissions.gather(2, tags.unsqueeze(2)).squeeze(2)  # (batch, time)
        score = self.start[tags[:, 0]] + (emitted * mask_f).sum(1)
        moves = self.transitions[tags[:, :-1], tags[:, 1:]]  # (batch, time - 1)
        score = score + (moves * mask_f[:, 1:]).sum(1)
        last = tags.gather(1, (mask.sum(1) - 1).clamp(min=0).unsqueeze(1)).squeeze(1)
        return score + self.end[last]

    def log_partition(self, emissions: Tensor, mask: Tensor) -> Tensor:
        """log Z of each sequence by the forward algorithm: (batch,)."""
        alpha = self.start + emissions[:, 0]  # (batch, tags)
        for t in range(1, emissions.shape[1]):
            step = torch.logsumexp(alpha.unsqueeze(2) + self.transitions + emissions[:, t].unsqueeze(1), dim=1)
            alpha = torch.where(mask[:, t].unsqueeze(1), step, alpha)
        return torch.logsumexp(alpha + self.end, dim=1)
