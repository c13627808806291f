"""Pictures of what training and the lecture's claims look like (matplotlib, headless)."""

from __future__ import annotations

import io
import os
from typing import Any, Sequence

from rnncli.fileio import write_bytes


def _pyplot() -> Any:
    os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: str) -> None:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    _pyplot().close(fig)
    write_bytes(path, buffer.getvalue())


def plot_gradients(reports: Sequence[Any], path: str, title: str | None = None) -> None:
    """Gradient norm (log scale) against distance, one curve per model (dashed: the LSTM cell state)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for report in reports:
        distance = list(range(report.length))
        line = ax.semilogy(distance, report.h, label=f"{report.model}: ‖∂L_T/∂h_(T-d)‖", linewidth=2)[0]
        if report.c:
            ax.semilogy(distance, report.c, linestyle="--", color=line.get_color(),
                        label=f"{report.model}: ‖∂L_T/∂c_(T-d)‖ (cell state)")
    ax.set_xlabel("distance d = T - k (steps back from the loss)")
    ax.set_ylabel("gradient norm (log scale)")
    ax.set_title(title or "How far back does the gradient reach?")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    _save(fig, path)


def plot_runs(runs: Sequence[tuple[str, list[dict[str, Any]]]], path: str) -> None:
    """Training and validation curves against step and time, the task's metric, and the gradient
    norm before clipping next to the clipping threshold."""
    plt = _pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5))
    (loss_step, loss_time), (metric_ax, grad_ax) = axes
    for name, records in runs:
        steps = [r["step"] for r in records]
        seconds = [r.get("elapsed_s", 0) for r in records]
        train = [r.get("train_loss") for r in records]
        valid = [r.get("val_loss") for r in records]
        line = loss_step.plot(steps, valid, marker="o", markersize=3, label=f"{name} validation")[0]
        loss_step.plot(steps, train, linestyle="--", color=line.get_color(), label=f"{name} training")
        loss_time.plot(seconds, valid, marker="o", markersize=3, color=line.get_color(), label=f"{name} validation")
        loss_time.plot(seconds, train, linestyle="--", color=line.get_color())
        if records and "accuracy" in records[0]:
            metric_ax.plot(steps, [r.get("accuracy") for r in records], color=line.get_color(), label=f"{name} accuracy")
            metric_ax.plot(steps, [r.get("macro_f1") for r in records], linestyle=":", color=line.get_color(),
                           label=f"{name} macro-F1")
            metric_ax.set_ylabel("accuracy / macro-F1")
        else:
            metric_ax.semilogy(steps, [r.get("val_ppl") for r in records], color=line.get_color(),
                               label=f"{name} validation perplexity")
            metric_ax.set_ylabel("perplexity (log scale)")
        grad_ax.semilogy(steps, [r.get("grad_norm") for r in records], color=line.get_color(),
                         label=f"{name} mean ‖g‖ before clipping")
        grad_ax.semilogy(steps, [r.get("grad_norm_max") for r in records], linestyle=":", color=line.get_color(),
                         label=f"{name} max ‖g‖")
        clip = next((r.get("clip") for r in records if r.get("clip")), None)
        if clip:
            grad_ax.axhline(clip, color=line.get_color(), linestyle="-.", alpha=0.6, label=f"{name} --clip {clip:g}")
    loss_step.set_xlabel("step")
    loss_time.set_xlabel("training seconds")
    for ax in (loss_step, loss_time):
        ax.set_ylabel("loss (nats per token)")
    metric_ax.set_xlabel("step")
    grad_ax.set_xlabel("step")
    grad_ax.set_ylabel("gradient norm (log scale)")
    for ax in axes.flat:
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle("training curves")
    _save(fig, path)


def plot_alignment(source: Sequence[str], target: Sequence[str], weights: Any, path: str,
                   title: str | None = None) -> None:
    """The attention of each target token (rows) over the source tokens (columns), as the
    attention paper draws it: white is no attention, black all of it."""
    plt = _pyplot()
    rows, columns = len(target), len(source)
    fig, ax = plt.subplots(figsize=(max(4.0, 0.38 * columns + 2), max(3.0, 0.32 * rows + 1.5)))
    ax.imshow(weights, cmap="Greys", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(columns), labels=list(source), rotation=90, fontsize=9)
    ax.set_yticks(range(rows), labels=list(target), fontsize=9)
    ax.xaxis.tick_top()
    ax.set_xlabel("source")
    ax.set_ylabel("translation")
    if title:
        ax.set_title(title, fontsize=10, pad=12)
    _save(fig, path)
