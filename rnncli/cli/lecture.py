"""gradients and plot: see what the lecture teaches."""

from __future__ import annotations

import json
from typing import Any

from rnncli.cli.app import INSPECT, command
from rnncli.cli.common import err_console, info, open_output
from rnncli.cli.declare import declared
from rnncli.lesson_options import GradientsArgs, PlotArgs
from rnncli.run.files import METRICS


def _gradients(args: GradientsArgs) -> None:
    """How far back does the gradient reach? Norms of dL_T/dh_k (and dL_T/dc_k) for every step k."""
    from rnncli.errors import ConfigError

    if args.run is not None:
        reports = [_trained_report(args.run, args.text, args.file, args.length, args.samples, args.seed)]
    else:
        if args.text is not None or args.file is not None:
            raise ConfigError("--text and --file need a trained run (-c) whose vocabulary reads them")
        reports = _fresh_reports(args.model, args.length, args.samples, args.seed, args.embed, args.hidden,
                                 args.layers, args.forget_bias)
    _print_reports(reports, args.length, args.plot)
    if args.as_json:
        probe = min(50, min(r.length for r in reports) - 1)
        with open_output(None) as out:
            out.write(json.dumps({"length": args.length, "probe_distance": probe,
                                  "models": [r.to_json() for r in reports]}) + "\n")


def _trained_report(run: str, text: str | None, file: str | None, length: int, samples: int, seed: int) -> Any:
    """The gradient flow of a trained run's network, from its output layer back."""
    from rnncli.analysis import gradient_flow
    from rnncli.errors import ConfigError
    from rnncli.run.weights import load_run

    loaded = load_run(run)
    net, kind = loaded.model, loaded.config.model.kind
    if not hasattr(net, "rnn"):
        raise ConfigError(f"a {kind} model has no recurrence to backpropagate through")
    head = getattr(net, "decoder", None) or getattr(net, "output", None)
    if head is None:
        raise ConfigError("gradients needs a run with a full-softmax decoder (not adaptive softmax)")
    sequences, targets = _sequences(loaded.vocab, text, file, length, samples, seed, len(loaded.vocab))
    if loaded.config.model.num_labels:
        targets = targets % loaded.config.model.num_labels
    for p in net.parameters():
        p.requires_grad_(True)
    return gradient_flow(kind, net.rnn, net.embedding, head, sequences, targets)


def _fresh_reports(model: str, length: int, samples: int, seed: int, embed: int, hidden: int, layers: int,
                   forget_bias: float) -> list[Any]:
    """The gradient flow of fresh models of each kind in ``model`` (comma-separated), on random tokens."""
    from rnncli.analysis import fresh_model, gradient_flow
    from rnncli.errors import ConfigError

    vocab_size = 100
    kinds = [k.strip() for k in model.split(",") if k.strip()]
    bad = [k for k in kinds if k not in ("rnn", "lstm", "gru")]
    if bad or not kinds:
        raise ConfigError(f"--model takes rnn, lstm and gru, comma-separated (got {model!r})")
    sequences, targets = _sequences(None, None, None, length, samples, seed, vocab_size)
    reports = []
    for kind in kinds:
        rnn, embedding, head = fresh_model(kind, vocab_size, embed, hidden, layers, forget_bias, seed)
        reports.append(gradient_flow(kind, rnn, embedding, head, sequences, targets))
    return reports


def _print_reports(reports: list[Any], length: int, plot: str | None) -> None:
    from rnncli.analysis import log_range, sparkline

    console = err_console()
    probe = min(50, min(r.length for r in reports) - 1)
    scale = log_range([r.h for r in reports] + [r.c for r in reports if r.c])
    console.print(f"gradient norm against distance d (log scale), and at d={probe} over d=0:")
    for report in reports:
        console.print(f"{report.model:>4} |dL/dh| {sparkline(report.h, scale=scale)} {report.ratio(probe):.1e}")
        if report.c:
            console.print(f"     |dL/dc| {sparkline(report.c, scale=scale)} {report.ratio(probe, 'c'):.1e}")
            gates = ", ".join(f"{g:.3f}" for g in report.forget_gate_mean)
            console.print(f"     mean forget gate per layer: {gates}")
    if plot is not None:
        from rnncli.plots import plot_gradients

        plot_gradients(reports, plot, f"gradient flow over {length} steps")
        info(f"plot written to {plot}")


def _sequences(vocab, text, file, length, samples, seed, vocab_size):  # type: ignore[no-untyped-def]
    import torch

    from rnncli.errors import InputError

    generator = torch.Generator().manual_seed(seed)
    if text is None and file is None:
        tokens = torch.randint(4, vocab_size, (samples, length + 1), generator=generator)
        return tokens[:, :-1], tokens[:, -1]
    if file is not None:
        from rnncli.text.reader import LineReader

        collected: list[int] = []
        for line in LineReader(file):
            collected.extend(vocab.encode(line) + [3])
            if len(collected) > length:
                break
        ids = collected
    else:
        ids = vocab.encode(text)
    if len(ids) < 2:
        raise InputError("the sequence needs at least 2 tokens")
    ids = ids[: length + 1]
    tokens = torch.tensor(ids)[None, :]
    return tokens[:, :-1], tokens[:, -1]


def _plot(args: PlotArgs) -> None:
    """Training curves of one or more runs: loss against step and time, metric, gradient norm vs --clip."""
    from rnncli.run.directory import RunDir
    from rnncli.errors import InputError
    from rnncli.plots import plot_runs

    curves = []
    for path in args.runs:
        run = RunDir(path)
        run.require(METRICS)
        records = run.read_metrics()
        if not records:
            raise InputError(f"{path}: {METRICS} has no evaluations yet")
        curves.append((run.path.name or path, records))
    plot_runs(curves, args.output)
    info(f"plot written to {args.output}")


gradients = command("gradients", INSPECT)(declared(GradientsArgs, _gradients))
plot = command("plot", INSPECT)(declared(PlotArgs, _plot))
