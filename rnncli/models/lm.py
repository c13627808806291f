"""The language model (many-to-many): embedding -> recurrent layers -> decoder over the vocabulary."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnncli.models.cells import fused
from rnncli.models.config import ModelConfig
from rnncli.models.regularise import activation_penalty, dropout, embedding_dropout, locked_dropout, recurrent_layers

State = Tensor | tuple[Tensor, Tensor]


def init_recurrent(rnn: nn.Module, kind: str, hidden: int, forget_bias: float = 0.0) -> None:
    """torch's default uniform init; optionally the LSTM forget-gate bias set so memory starts long.

    (On character language models a forget bias of 1 measured slightly worse than torch's default,
    so the language model keeps the default; long-range classification benefits from it.)
    """
    if kind != "lstm" or not forget_bias:
        return
    with torch.no_grad():
        for name, param in rnn.named_parameters():
            if name.startswith("bias_ih"):
                param[hidden : 2 * hidden].fill_(forget_bias)
            elif name.startswith("bias_hh"):
                param[hidden : 2 * hidden].zero_()


def _full_precision(x: Tensor) -> torch.autocast:
    """torch's adaptive softmax mixes dtypes under autocast; it runs in float32."""
    return torch.autocast(x.device.type, enabled=False)


class SeenClasses:
    """The training loss over the classes a training text uses, and one pooled logit for the rest.

    Classes the training text never uses keep zero decoder rows and one fixed bias (see
    LanguageModel.fit_output_to), so their logits are one constant: the softmax over the vocabulary
    equals a softmax over the seen classes' logits and one logit of that constant plus log(their
    number). A character vocabulary with byte fallback uses 65 of its 324 classes on English text:
    the decoder, a fifth of a training step's work there, shrinks to a fifth of its size.
    """

    def __init__(self, rows: Tensor, position: Tensor, bias: float, unseen: int) -> None:
        self.rows, self.position = rows, position
        self.share = math.log(unseen)  # an unseen class holds 1/unseen of the pooled probability
        self.pooled = bias + self.share

    @classmethod
    def of(cls, decoder: nn.Linear, seen: Tensor) -> "SeenClasses | None":
        """The pooled form, when the unseen classes' rows are zero and their biases one value."""
        with torch.no_grad():
            unseen = ~seen.to(decoder.weight.device)
            if not bool(unseen.any()) or bool(decoder.weight[unseen].any()):
                return None
            biases = decoder.bias[unseen]
            if not bool((biases == biases[0]).all()):
                return None
            rows = torch.nonzero(~unseen).flatten()
            position = torch.full_like(unseen, len(rows), dtype=torch.long)  # unseen classes: the pooled logit
            position[rows] = torch.arange(len(rows), device=rows.device)
            return cls(rows, position, float(biases[0]), int(unseen.sum()))

    def loss(self, decoder: nn.Linear, flat: Tensor, targets: Tensor) -> Tensor:
        """Mean negative log-likelihood, the same as the full softmax's for any target."""
        logits = F.linear(flat, decoder.weight[self.rows], decoder.bias[self.rows]).float()
        pooled = logits.new_full((logits.shape[0], 1), self.pooled)
        position = self.position[targets]
        nll = F.cross_entropy(torch.cat([logits, pooled], dim=1), position, reduction="none")
        return (nll + (position == len(self.rows)) * self.share).mean()


class LanguageModel(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        self.embedding = nn.Embedding(c.vocab_size, c.embed)
        nn.init.normal_(self.embedding.weight, 0.0, 1.0 if not config.tie_weights else config.embed ** -0.5)
        self.rnn = fused(c.kind, c.embed, c.hidden, c.layers, 0.0 if self._layerwise else c.dropout)
        self.penalty: Tensor | float = 0.0  # AR and TAR of the last training forward, for the loss
        init_recurrent(self.rnn, c.kind, c.hidden)
        out_features = c.embed if c.tie_weights else c.hidden
        self.proj = nn.Linear(c.hidden, c.embed) if c.tie_weights and c.embed != c.hidden else None
        self.decoder: nn.Linear | None = None
        self.adaptive: nn.AdaptiveLogSoftmaxWithLoss | None = None
        self.seen_classes: SeenClasses | None = None  # the training loss's pooled form, when it applies
        self._seen: Tensor | None = None  # the training text's classes, until the first training loss
        if c.cutoffs:
            self.adaptive = nn.AdaptiveLogSoftmaxWithLoss(out_features, c.vocab_size, list(c.cutoffs), div_value=4.0)
        else:
            self.decoder = nn.Linear(out_features, c.vocab_size)
            nn.init.zeros_(self.decoder.bias)
            if c.tie_weights:
                self.decoder.weight = self.embedding.weight

    def fit_output_to(self, counts: Tensor, fresh: bool = True) -> None:
        """Keep the output classes that never occur in the training text out of the way.

        A vocabulary holds classes a corpus never uses (byte fallback, special tokens). Under Adam
        each of their decoder rows would still move by about the learning rate every step, in the
        one direction that lowers their logit on average, until their large rows dominate the
        logits of unusual hidden states: the model learns less per step. Their rows start at zero
        with a low fixed bias (the probability of half an occurrence) and their gradients are
        masked, so they never move; a fresh model's other biases start at the log-frequency of
        their token. The full softmax only: the adaptive softmax has no bias to hold them down.
        """
        if self.decoder is None:
            return
        seen = counts > 0
        if fresh:
            total = float(counts.sum()) + 0.5 * int((~seen).sum())
            with torch.no_grad():
                self.decoder.bias.copy_(torch.log(torch.where(seen, counts.double(), 0.5) / total).float())
                self.decoder.weight[~seen] = 0.0
        keep = seen.to(self.decoder.weight.dtype)
        self.decoder.weight.register_hook(lambda grad: grad * keep[:, None].to(grad.device))
        self.decoder.bias.register_hook(lambda grad: grad * keep.to(grad.device))
        self.seen_classes, self._seen = None, seen

    @property
    def _layerwise(self) -> bool:
        """Training calls the layers one at a time for locked dropout between them or DropConnect."""
        c = self.config
        return c.dropout_weight > 0 or (c.locked and c.layers > 1 and c.dropout > 0)

    def _dropout(self, x: Tensor, p: float) -> Tensor:
        return locked_dropout(x, p, self.training) if self.config.locked else dropout(x, p, self.training)

    def forward(self, tokens: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """Features of shape (time, batch, d) for the decoder, and the final state. In training,
        ``penalty`` holds the activation regularisers' term to add to the loss."""
        c = self.config
        x = embedding_dropout(self.embedding(tokens), tokens, c.vocab_size, c.dropout_embed, self.training)
        x = self._dropout(x, c.dropout_input)
        if self.training and self._layerwise:
            raw, state = recurrent_layers(self.rnn, x, state, c.kind, c.dropout, c.dropout_weight,  # type: ignore[arg-type]
                                          c.locked)
        else:
            raw, state = self.rnn(x, state)
        out = self._dropout(raw, c.dropout)
        if self.training and (c.ar or c.tar):
            self.penalty = activation_penalty(out, raw, c.ar, c.tar)
        if self.proj is not None:
            out = self.proj(out)
        return out, state

    def token_nll(self, features: Tensor, targets: Tensor) -> Tensor:
        """Negative log-likelihood of each target, in nats, flattened."""
        flat = features.reshape(-1, features.shape[-1])
        targets = targets.reshape(-1)
        if self.adaptive is not None:
            with _full_precision(flat):
                return -self.adaptive(flat.float(), targets).output
        assert self.decoder is not None
        logits = self.decoder(flat)
        return F.cross_entropy(logits.float(), targets, reduction="none")

    def loss(self, features: Tensor, targets: Tensor) -> Tensor:
        """Mean negative log-likelihood per token."""
        flat = features.reshape(-1, features.shape[-1])
        if self.adaptive is not None:
            with _full_precision(flat):
                return self.adaptive(flat.float(), targets.reshape(-1)).loss
        assert self.decoder is not None
        if self._seen is not None:  # decided now, when a resumed run's weights are in place
            self.seen_classes, self._seen = SeenClasses.of(self.decoder, self._seen), None
        if self.seen_classes is not None:
            return self.seen_classes.loss(self.decoder, flat, targets.reshape(-1))
        return F.cross_entropy(self.decoder(flat).float(), targets.reshape(-1))

    def log_probs(self, features: Tensor) -> Tensor:
        """Log-probabilities over the vocabulary, shape (n, vocab)."""
        flat = features.reshape(-1, features.shape[-1])
        if self.adaptive is not None:
            with _full_precision(flat):
                return self.adaptive.log_prob(flat.float())
        assert self.decoder is not None
        return F.log_softmax(self.decoder(flat).float(), dim=-1)
