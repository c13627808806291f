"""The tagger (many-to-many): each word's embedding beside a character CNN of its spelling and
embeddings of its hashed affixes and shape (so a word never seen in training is tagged from its
spelling; Ma and Hovy, 2016; spaCy's hashed affix embeddings) -> a
recurrent encoder over the sentence's true length (bidirectional by default) -> a score per tag
for every token -> softmax, or a linear-chain CRF over the sentence (``crf``).

Sentences are packed, so padding never reaches the recurrence and a sentence's tags do not depend
on what else is in its batch.
"""

from __future__ import annotations

from typing import Any, Mapping

import torch
from torch import Tensor, nn
from torch.nn import functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnncli.models.cells import fused
from rnncli.models.config import ModelConfig
from rnncli.models.crf import CRF
from rnncli.models.lm import init_recurrent
from rnncli.models.regularise import embedding_dropout, weight_dropped

CHAR_WIDTH = 3  # the character CNN's window


class Tagger(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = c = config
        self.drop = nn.Dropout(c.dropout)
        self.embedding = nn.Embedding(c.vocab_size, c.embed, padding_idx=0)
        features = c.embed
        if c.char_vocab_size:
            self.char_embedding = nn.Embedding(c.char_vocab_size, c.char_embed, padding_idx=0)
            self.char_conv = nn.Conv1d(c.char_embed, c.char_filters, CHAR_WIDTH, padding=CHAR_WIDTH // 2)
            features += c.char_filters
        if c.affix_embed:
            self.affix_embedding = nn.Embedding(c.affix_buckets + 1, c.affix_embed, padding_idx=0)
            features += c.affix_kinds * c.affix_embed
        self.rnn = fused(c.kind, features, c.hidden, c.layers, c.dropout, c.bidirectional)
        init_recurrent(self.rnn, c.kind, c.hidden, forget_bias=1.0)
        self.output = nn.Linear(c.hidden * (2 if c.bidirectional else 1), c.num_labels)
        self.crf = CRF(c.num_labels) if c.crf else None

    def forward(self, tokens: Tensor, chars: Tensor | None, lengths: Tensor, affixes: Tensor | None = None) -> Tensor:
        """Scores (batch, time, tags) for padded ``tokens`` (batch, time), their ``chars`` (batch,
        time, characters; 0 pads), the sentences' lengths and the ``affixes`` (batch, time, kinds)."""
        c = self.config
        x = embedding_dropout(self.embedding(tokens), tokens, c.vocab_size, c.dropout_embed, self.training)
        if chars is not None and self.config.char_vocab_size:
            x = torch.cat([x, self.spelling(chars)], dim=-1)
        if self.config.affix_embed:
            if affixes is None:
                raise ValueError("this tagger reads affixes: pass them")
            x = torch.cat([x, self.affix_embedding(affixes).flatten(2)], dim=-1)
        packed = pack_padded_sequence(self.drop(x), lengths.cpu().clamp(min=1), batch_first=True,
                                      enforce_sorted=False)
        out, _ = weight_dropped(self.rnn, c.dropout_weight, self.training, packed)
        padded, _ = pad_packed_sequence(out, batch_first=True, total_length=tokens.shape[1])
        return self.output(self.drop(padded))  # type: ignore[no-any-return]

    @staticmethod
    def arguments(inputs: Mapping[str, Any], device: torch.device) -> tuple[Tensor, Tensor, Tensor, Tensor | None]:
        """:meth:`forward`'s arguments from the arrays of rnncli.tasks.tagging.features.batch_inputs
        (numpy or torch), moved to ``device`` (the lengths stay on the CPU, as packing wants them)."""
        t = {k: torch.as_tensor(v) for k, v in inputs.items()}
        return (t["tokens"].to(device), t["chars"].to(device), t["lengths"],
                t["affixes"].to(device) if "affixes" in t else None)

    def read(self, inputs: Mapping[str, Any], device: torch.device) -> Tensor:
        return self(*self.arguments(inputs, device))  # type: ignore[no-any-return]

    def spelling(self, chars: Tensor) -> Tensor:
        """The character CNN: (batch, time, characters) -> (batch, time, filters), max over the
        word's characters (pads left out)."""
        batch, time, width = chars.shape
        flat = self.char_embedding(chars.reshape(batch * time, width)).transpose(1, 2)  # (words, embed, chars)
        convolved = self.char_conv(flat)  # (words, filters, chars)
        convolved = convolved.masked_fill((chars.reshape(batch * time, 1, width) == 0), float("-inf"))
        pooled = convolved.max(dim=2).values
        return pooled.masked_fill(torch.isinf(pooled), 0.0).reshape(batch, time, -1)

    def loss(self, scores: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        """Mean negative log-likelihood per token: of each tag (softmax), or of each sentence's tag
        sequence (CRF), over the real tokens."""
        if self.crf is not None:
            return -self.crf.log_likelihood(scores.float(), tags, mask).sum() / mask.sum()
        return F.cross_entropy(scores[mask].float(), tags[mask])
