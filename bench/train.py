"""Training throughput: rnncli's loop beside a bare torch loop of the same shapes, and the
effective GFLOP/s of the default LSTM language model beside the measured matmul peak.

Both sides train the same model shapes on the same batches with the same optimiser (fused AdamW),
clipping and precision; they alternate, and each figure is a median of repeats. rnncli's side is
its real loop (Trainer with the language-model or classification task), timed from its first to
its last step, so everything it does per step is counted.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

from common import DATA, Row, alternate, print_table


def _lm_setup(source: Path = DATA / "tinyshakespeare" / "train.txt"):  # type: ignore[no-untyped-def]
    from rnncli.api import build_vocab, lm_shapes, resolve_precision
    from rnncli.corpus import encode_corpus

    vocab = build_vocab(source, level="char")
    text = encode_corpus([str(source)], vocab)
    shapes = lm_shapes(len(text), "char", torch.get_num_threads())
    precision = resolve_precision("auto", torch.device("cpu"))
    return vocab, text, shapes, precision


def _timed(model, task, shapes, precision, steps: int):  # type: ignore[no-untyped-def]
    """rnncli's own loop for ``steps`` steps, without evaluation or checkpoints; its step timer."""
    from rnncli.api import StepTimer, Trainer, TrainOptions

    timer = StepTimer()
    options = TrainOptions(max_steps=steps, lr=shapes.lr, precision=precision)
    Trainer(model, task, options, torch.device("cpu"), callbacks=[timer]).run()
    return timer


def rnncli_lm(vocab, text, shapes, precision, steps: int, as_run: bool = False) -> float:  # type: ignore[no-untyped-def]
    """The loop on the bare loop's work; ``as_run``: as ``rnncli train`` sets the model up (its loss
    over the classes the text uses, see rnncli.models.lm.SeenClasses)."""
    from rnncli.api import ModelConfig
    from rnncli.models.lm import LanguageModel
    from rnncli.tasks.language.training import LanguageModelTask

    model = LanguageModel(ModelConfig(vocab_size=len(vocab), embed=shapes.embed, hidden=shapes.hidden))
    task = LanguageModelTask(text, text, shapes.batch_size, shapes.bptt, torch.device("cpu"), precision)
    if as_run:
        task.setup_model(model, fresh=True)
    return _timed(model, task, shapes, precision, steps).items_per_second(shapes.batch_size * shapes.bptt)


def _update(optimizer, params, loss, stamps: list[float]) -> None:  # type: ignore[no-untyped-def]
    """The update every hand-written loop does: backward, clip at 1.0, AdamW, read the loss, time it."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    optimizer.step()
    float(loss.detach())
    stamps.append(time.perf_counter())


def bare_lm(vocab, text, shapes, precision, steps: int) -> float:  # type: ignore[no-untyped-def]
    from rnncli.data import LMWindows

    windows = LMWindows(text.ids, shapes.batch_size, shapes.bptt)
    size = len(vocab)
    embedding = torch.nn.Embedding(size, shapes.embed)
    lstm = torch.nn.LSTM(shapes.embed, shapes.hidden)
    decoder = torch.nn.Linear(shapes.hidden, size)
    params = [*embedding.parameters(), *lstm.parameters(), *decoder.parameters()]
    optimizer = torch.optim.AdamW(params, lr=shapes.lr, fused=True)
    state = None
    stamps = []
    for k in range(steps):
        x, y = windows.window(k % len(windows))
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            out, state = lstm(embedding(x), state)
            loss = torch.nn.functional.cross_entropy(decoder(out).float().view(-1, size), y.reshape(-1))
        state = tuple(s.detach() for s in state)
        _update(optimizer, params, loss, stamps)
    tokens = shapes.batch_size * shapes.bptt * (len(stamps) - 1)
    return tokens / (stamps[-1] - stamps[0])


def matmul_peak(dtype: torch.dtype, size: int = 2048, repeats: int = 5) -> float:
    a = torch.randn(size, size).to(dtype)
    b = torch.randn(size, size).to(dtype)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - began)
    return 2 * size ** 3 / best / 1e9


def _classifier_setup(source: Path = DATA / "sms_spam" / "train.tsv"):  # type: ignore[no-untyped-def]
    from rnncli.api import classifier_shapes
    from rnncli.corpus import featurize
    from rnncli.text.build import VocabOptions, build_from_texts
    from rnncli.text.labelled import read_labelled

    data = read_labelled(str(source))
    texts = [e.text for e in data.examples]
    labels = sorted({e.label for e in data.examples})
    y = [labels.index(e.label) for e in data.examples]
    vocab = build_from_texts(texts, VocabOptions(level="word")).vocab
    shapes = classifier_shapes(len(texts), "lstm")
    x = featurize(vocab, texts, shapes.max_len)
    return vocab, x, y, labels, shapes


def rnncli_classifier(vocab, x, y, labels, shapes, precision, steps: int) -> float:  # type: ignore[no-untyped-def]
    from rnncli.api import ModelConfig
    from rnncli.models.classifier import Classifier
    from rnncli.tasks.classification.training import ClassificationTask

    config = ModelConfig(task="classify", kind="lstm", vocab_size=len(vocab), embed=shapes.embed,
                         hidden=shapes.hidden, num_labels=len(labels), bidirectional=shapes.bidirectional,
                         pool=shapes.pool, dropout=shapes.dropout)
    task = ClassificationTask((x, y), (x[:10], y[:10]), labels, shapes.batch_size, torch.device("cpu"), precision)
    timer = _timed(Classifier(config), task, shapes, precision, steps)
    tokens = sum(len(x[i]) for batch in task.batches.order(0)[1:len(timer.stamps)] for i in batch)
    return tokens / (timer.stamps[-1] - timer.stamps[0])


def bare_classifier(vocab, x, y, labels, shapes, precision, steps: int) -> float:  # type: ignore[no-untyped-def]
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    from rnncli.data import ClassBatches, pad_batch

    batches = ClassBatches(x, y, shapes.batch_size, seed=0)
    embedding = torch.nn.Embedding(len(vocab), shapes.embed, padding_idx=0)
    lstm = torch.nn.LSTM(shapes.embed, shapes.hidden, bidirectional=shapes.bidirectional)
    dropout = torch.nn.Dropout(shapes.dropout)
    output = torch.nn.Linear(shapes.hidden * 2, len(labels))
    params = [*embedding.parameters(), *lstm.parameters(), *output.parameters()]
    optimizer = torch.optim.AdamW(params, lr=shapes.lr, fused=True)
    stamps = []
    tokens = 0
    order = batches.order(0)
    for k in range(steps):
        chosen = order[k % len(order)]
        ids, lengths = pad_batch([x[i] for i in chosen])
        target = torch.tensor([y[i] for i in chosen])
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            packed = pack_padded_sequence(dropout(embedding(ids)), lengths, batch_first=True, enforce_sorted=False)
            out, _ = lstm(packed)
            padded, _ = pad_packed_sequence(out, batch_first=True)
            mask = (torch.arange(padded.shape[1])[None, :] < lengths[:, None])[..., None]
            pooled = padded.masked_fill(~mask, float("-inf")).max(1).values
            loss = torch.nn.functional.cross_entropy(output(dropout(pooled)).float(), target)
        _update(optimizer, params, loss, stamps)
        if k:
            tokens += sum(len(x[i]) for i in chosen)
    return tokens / (stamps[-1] - stamps[0])


def run(quick: bool = False) -> list[Row]:
    rows: list[Row] = []
    if not (DATA / "tinyshakespeare" / "train.txt").is_file():
        return [Row("training", "skipped", "tinyshakespeare absent", None)]
    from rnncli.corpus import class_counts

    vocab, text, shapes, precision = _lm_setup()
    steps = 150 if quick else 400
    repeats = 3 if quick else 5
    rates = alternate({"rnncli": lambda: rnncli_lm(vocab, text, shapes, precision, steps),
                       "run": lambda: rnncli_lm(vocab, text, shapes, precision, steps, as_run=True),
                       "bare": lambda: bare_lm(vocab, text, shapes, precision, steps)}, repeats)
    name = f"char LSTM {shapes.embed}/{shapes.hidden}, batch {shapes.batch_size} x {shapes.bptt}, {precision}"
    rows.append(Row(f"LM training tokens/s ({name}), the same work", f"{rates['rnncli']:,.0f}",
                    f"bare torch loop {rates['bare']:,.0f}", rates["rnncli"] / rates["bare"], ">= 0.95x",
                    repeats=repeats))
    rows.append(Row(f"LM training tokens/s ({name}), as rnncli train runs it", f"{rates['run']:,.0f}",
                    f"bare torch loop {rates['bare']:,.0f}", rates["run"] / rates["bare"],
                    note=f"the loss over the {int((class_counts(text.ids, len(vocab)) > 0).sum())} classes the "
                         f"text uses and one pooled "
                         f"logit, not all {len(vocab)}: the same loss", repeats=repeats))
    e, h, v = shapes.embed, shapes.hidden, len(vocab)
    flops_per_token = 6 * (4 * h * (e + h) + h * v)
    achieved = rates["rnncli"] * flops_per_token / 1e9
    peak = matmul_peak(torch.bfloat16 if precision == "bf16" else torch.float32)
    rows.append(Row(f"effective training GFLOP/s of the default LSTM LM ({precision})", f"{achieved:,.0f}",
                    f"{precision} matmul peak {peak:,.0f}", achieved / peak, ">= 0.5x",
                    note="6 x (4H(E+H) + HV) FLOPs per token, against a 2048 x 2048 matmul in the precision the "
                         "run trains in", repeats=repeats))
    if (DATA / "sms_spam" / "train.tsv").is_file():
        cvocab, x, y, labels, cshapes = _classifier_setup()
        csteps = 60 if quick else 140
        crates = alternate({"rnncli": lambda: rnncli_classifier(cvocab, x, y, labels, cshapes, precision, csteps),
                            "bare": lambda: bare_classifier(cvocab, x, y, labels, cshapes, precision, csteps)}, repeats)
        rows.append(Row(f"classifier training tokens/s (sms_spam, BiLSTM {cshapes.hidden}, max pool)",
                        f"{crates['rnncli']:,.0f}", f"bare torch loop {crates['bare']:,.0f}",
                        crates["rnncli"] / crates["bare"], ">= 0.95x", repeats=repeats))
    return rows


if __name__ == "__main__":
    from common import machine

    print(machine())
    print_table("training", run("--quick" in sys.argv))
