"""The encoder-decoder (Sutskever et al. 2014; Cho et al. 2014) with attention (Bahdanau et al.
2015; Luong et al. 2015): a bidirectional recurrent encoder reads the source into a memory, one
vector per source token; a recurrent decoder of the same kind, started from the encoder's final
states, reads the target so far; at each step attention weighs the memory against the decoder's
state into a context, and ``tanh(W [state; context])`` scores the next token through the tied
target embedding.

The attention reads the decoder's state after its step (Luong's order), so a whole target of
teacher forcing is one fused recurrent call and one batched attention: training runs at the speed
of the fused kernels instead of a Python loop per step. ``attention``: ``additive``
(v . tanh(W_k m + W_q h)), ``dot`` (Luong's general score, h . W_k m) or ``none``, the fixed-vector
model the attention paper improved on (the mean of the memory as every step's context).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnncli.models.cells import fused
from rnncli.models.config import ModelConfig
from rnncli.models.regularise import embedding_dropout, weight_dropped

NEG = -1e4  # the score of a padded source position (finite: fp16/bf16 safe)

Context = dict[str, Tensor]  # memory (batch, source, hidden), keys (batch, source, keys), mask (batch, source)


class Seq2Seq(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = c = config
        if c.hidden % 2:
            raise ValueError("an encoder-decoder's hidden size is even (each encoder direction has half)")
        self.drop = nn.Dropout(c.dropout)
        self.source_embedding = nn.Embedding(c.vocab_size, c.embed, padding_idx=0)
        self.target_embedding = (self.source_embedding if not c.target_vocab_size
                                 else nn.Embedding(c.target_vocab_size, c.embed, padding_idx=0))
        self.encoder = fused(c.kind, c.embed, c.hidden // 2, c.layers, c.dropout, bidirectional=True)
        self.decoder = fused(c.kind, c.embed, c.hidden, c.layers, c.dropout)
        self.bridge = nn.Linear(c.hidden, c.hidden)
        if c.attention != "none":
            self.keys = nn.Linear(c.hidden, c.hidden, bias=c.attention == "additive")
        if c.attention == "additive":
            self.query = nn.Linear(c.hidden, c.hidden, bias=False)
            self.energy = nn.Linear(c.hidden, 1, bias=False)
        self.combine = nn.Linear(2 * c.hidden, c.embed)
        self.output_bias = nn.Parameter(torch.zeros(self.target_embedding.num_embeddings))

    def encode(self, source: Tensor, lengths: Tensor) -> tuple[Context, Tensor]:
        """The memory of padded ``source`` ids (batch, time) read to each row's ``lengths`` (on the
        CPU), and the decoder's first state: (layers, batch, hidden) per state tensor, stacked."""
        c = self.config
        x = self.drop(embedding_dropout(self.source_embedding(source), source, c.vocab_size, c.dropout_embed,
                                        self.training))
        packed = pack_padded_sequence(x, lengths.cpu().clamp(min=1), batch_first=True, enforce_sorted=False)
        out, final = weight_dropped(self.encoder, c.dropout_weight, self.training, packed)
        memory, _ = pad_packed_sequence(out, batch_first=True, total_length=source.shape[1])
        h = final[0] if isinstance(final, tuple) else final  # (layers * 2, batch, hidden / 2)
        h = h.view(self.config.layers, 2, h.shape[1], -1).transpose(1, 2).flatten(2)  # (layers, batch, hidden)
        start = torch.tanh(self.bridge(h))
        mask = torch.arange(source.shape[1], device=source.device)[None, :] < lengths.to(source.device)[:, None]
        context = {"memory": memory, "mask": mask}
        if self.config.attention != "none":
            context["keys"] = self.keys(memory)
        state = torch.stack([start, torch.zeros_like(start)]) if self.config.kind == "lstm" else start[None]
        return context, state

    def attend(self, h: Tensor, context: Context) -> tuple[Tensor, Tensor]:
        """Context vectors (batch, time, hidden) and attention weights (batch, time, source) of the
        decoder states ``h`` (batch, time, hidden)."""
        memory, mask = context["memory"], context["mask"]
        if self.config.attention == "none":
            weights = mask[:, None, :].to(memory.dtype).expand(-1, h.shape[1], -1)
            weights = weights / weights.sum(-1, keepdim=True).clamp(min=1)
            return weights @ memory, weights
        keys = context["keys"]
        if self.config.attention == "dot":
            scores = h @ keys.transpose(1, 2)
        else:
            scores = self.energy(torch.tanh(keys[:, None, :, :] + self.query(h)[:, :, None, :])).squeeze(-1)
        weights = F.softmax(scores.masked_fill(~mask[:, None, :], NEG).float(), dim=-1).to(memory.dtype)
        return weights @ memory, weights

    def decode(self, previous: Tensor, state: Tensor, context: Context) -> tuple[Tensor, Tensor, Tensor]:
        """Scores (batch, time, target vocabulary) of the next tokens after ``previous`` (batch,
        time) from ``state``; returns them with the state after the last step and the attention."""
        x = self.drop(self.target_embedding(previous))
        out, final = self.decoder(x.transpose(0, 1), (state[0], state[1]) if self.config.kind == "lstm" else state[0])
        h = out.transpose(0, 1)
        attended, weights = self.attend(h, context)
        combined = self.drop(torch.tanh(self.combine(torch.cat([h, attended], dim=-1))))
        scores = F.linear(combined, self.target_embedding.weight, self.output_bias)
        return scores, torch.stack(final) if isinstance(final, tuple) else final[None], weights

    def forward(self, source: Tensor, lengths: Tensor, previous: Tensor) -> Tensor:
        """Teacher forcing: scores (batch, time, target vocabulary) of every next target token."""
        context, state = self.encode(source, lengths)
        return self.decode(previous, state, context)[0]
