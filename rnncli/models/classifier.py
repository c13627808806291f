"""The classifier (many-to-one): embedding -> recurrent encoder over each text's true length ->
final hidden state (or mean / max pooling) -> linear -> softmax; and two baselines the course
draws before recurrent networks: the bag of words and the convolutional network (Kim 2014).

Sequences are packed (``pack_padded_sequence``), so padding never reaches the recurrence and a
text's prediction does not depend on what else is in its batch.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnncli.models.cells import fused
from rnncli.models.config import CNN_WIDTHS, ModelConfig
from rnncli.models.lm import init_recurrent


class Classifier(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = c = config
        self.drop = nn.Dropout(c.dropout)
        if c.kind == "bow":
            # fastText's model: the mean of word and hashed-bigram embeddings, then a linear layer
            self.bag = nn.EmbeddingBag(c.vocab_size + c.bigram_buckets, c.embed, mode="mean", padding_idx=0)
            nn.init.uniform_(self.bag.weight, -1 / c.embed, 1 / c.embed)
            with torch.no_grad():
                self.bag.weight[0].zero_()
            features = c.embed
        elif c.kind == "cnn":
            self.embedding = nn.Embedding(c.vocab_size, c.embed, padding_idx=0)
            self.convs = nn.ModuleList(nn.Conv1d(c.embed, c.hidden, width) for width in CNN_WIDTHS)
            features = c.hidden * len(CNN_WIDTHS)
        else:
            self.embedding = nn.Embedding(c.vocab_size, c.embed, padding_idx=0)
            self.rnn = fused(c.kind, c.embed, c.hidden, c.layers, c.dropout, c.bidirectional)
            init_recurrent(self.rnn, c.kind, c.hidden, forget_bias=1.0)
            features = c.hidden * (2 if c.bidirectional else 1)
        self.output = nn.Linear(features, c.num_labels)

    def forward(self, tokens: Tensor, lengths: Tensor) -> Tensor:
        """Logits (batch, labels) for padded ``tokens`` (batch, time) of the given lengths."""
        return self.output(self.drop(self.features(tokens, lengths)))

    def features(self, tokens: Tensor, lengths: Tensor) -> Tensor:
        """The text's vector the output layer reads: the pooled encoder state (or the bag's mean)."""
        if self.config.kind == "bow":
            return self.bag(self._with_bigrams(tokens, lengths))  # type: ignore[no-any-return]
        if self.config.kind == "cnn":
            return self._convolved(tokens, lengths)
        x = self.drop(self.embedding(tokens))
        packed = pack_padded_sequence(x, lengths.cpu().clamp(min=1), batch_first=True, enforce_sorted=False)
        out, state = self.rnn(packed)
        if self.config.pool == "last":
            h = state[0] if isinstance(state, tuple) else state
            return torch.cat([h[-2], h[-1]], dim=-1) if self.config.bidirectional else h[-1]
        padded, _ = pad_packed_sequence(out, batch_first=True)
        mask = (torch.arange(padded.shape[1], device=padded.device)[None, :]
                < lengths.to(padded.device)[:, None])[..., None]
        if self.config.pool == "mean":
            return (padded * mask).sum(1) / mask.sum(1).clamp(min=1)
        return padded.masked_fill(~mask, float("-inf")).max(1).values

    def _convolved(self, tokens: Tensor, lengths: Tensor) -> Tensor:
        """Each width's filters over every window that holds at least one of the text's tokens (the
        text padded with zeros on both sides), ReLU, the maximum over those windows (max-over-time
        pooling), the widths side by side. Windows past a text's end are left out, so its features
        do not depend on how long the other texts of its batch are."""
        x = self.embedding(tokens).transpose(1, 2)  # (batch, embed, time)
        pooled = []
        for width, conv in zip(CNN_WIDTHS, self.convs):
            out = F.relu(conv(F.pad(x, (width - 1, width - 1))))  # (batch, filters, time + width - 1)
            inside = torch.arange(out.shape[2], device=out.device)[None, :] \
                < (lengths.to(out.device).clamp(min=1) + width - 1)[:, None]
            pooled.append(out.masked_fill(~inside[:, None, :], 0.0).amax(2))
        return torch.cat(pooled, dim=1)

    def _with_bigrams(self, tokens: Tensor, lengths: Tensor) -> Tensor:
        """Each text's tokens followed by its hashed bigrams (fastText's), as one bag per row.

        Bigram ids lie in ``[vocab_size, vocab_size + buckets)``; pairs past a text's end are pads,
        which the bag leaves out of its mean.
        """
        buckets = self.config.bigram_buckets
        if buckets <= 0 or tokens.shape[1] < 2:
            return tokens
        pairs = (tokens[:, :-1] * 1_000_003 + tokens[:, 1:]) % buckets + self.config.vocab_size
        inside = (torch.arange(1, tokens.shape[1], device=tokens.device)[None, :]
                  < lengths.to(tokens.device)[:, None])
        return torch.cat([tokens, pairs.masked_fill(~inside, 0)], dim=1)
