"""evaluate: held-out figures of a trained run, language model or classifier."""

from __future__ import annotations

import json
from typing import Any

from rnncli.cli.app import command
from rnncli.cli.common import err_console, info, open_output, warn
from rnncli.cli.declare import declared
from rnncli.infer.options import EvaluateArgs


def _evaluate(args: EvaluateArgs) -> None:
    """Evaluate a trained run: loss, perplexity and bits per character (or classification metrics)."""
    from rnncli.infer.evaluation import EvaluateOptions, evaluate as figures
    from rnncli.serving import serving

    options = EvaluateOptions(args.encoding, args.errors, args.text_column, args.label_column, args.top,
                              args.unigram_cache, warn)
    say = info if args.verbose else lambda message: None
    with serving(args.run, None, args.weights, args.device, args.threads, say) as engine:
        report = figures(engine, args.data, options)
    source = report.pop("source", args.data)
    if args.as_json:
        with open_output(None) as out:
            out.write(json.dumps(report) + "\n")
    elif engine.task == "lm":
        print_lm_report(report, f"{args.run} on {args.data}")
    else:
        print_classifier_report(report, source)


def print_lm_report(report: dict[str, Any], title: str) -> None:
    from rich.table import Table

    table = Table(title=title, title_justify="left", box=None)
    for key in ("metric", "value"):
        table.add_column(key)
    table.add_row("loss (nats/token)", f"{report['loss']:.4f}")
    table.add_row("perplexity", f"{report['ppl']:.2f}")
    table.add_row("bits per character", f"{report['bpc']:.4f}")
    table.add_row("tokens", f"{report['tokens']:,}")
    table.add_row("characters", f"{report['chars']:,}")
    if "unigram_cache" in report:
        cache, network = report["unigram_cache"], report["network"]
        fitted = " (fitted on this text)" if cache.get("fitted_here") else ""
        table.add_row("unigram cache", f"window {cache['window']:,}, weight {cache['weight']:g}{fitted}")
        table.add_row("network alone", f"loss {network['loss']:.4f}, perplexity {network['ppl']:.2f}, "
                                       f"bpc {network['bpc']:.4f}")
    err_console().print(table)


def print_classifier_report(report: dict[str, Any], source: str) -> None:
    from rich.table import Table

    console = err_console()
    if "micro_f1" in report:
        at = "per-label thresholds" if "thresholds" in report else f"threshold {report['threshold']:g}"
        console.print(f"{source}: {report['examples']:,} examples, multi-label at {at}: "
                      f"micro-F1 {report['micro_f1']:.4f}, macro-F1 {report['macro_f1']:.4f}, samples-F1 "
                      f"{report['samples_f1']:.4f}, exact match {report['exact_match']:.4f}")
    else:
        console.print(f"{source}: {report['examples']:,} examples, accuracy {report['accuracy']:.4f}, "
                      f"macro-F1 {report['macro_f1']:.4f}")
    if "k" in report:
        console.print(f"precision at {report['k']}: {report['precision_at_k']:.4f}, recall at {report['k']}: "
                      f"{report['recall_at_k']:.4f}")
    table = Table(box=None)
    for column in ("label", "precision", "recall", "F1", "support"):
        table.add_column(column, justify="left" if column == "label" else "right")
    for label, row in report["per_label"].items():
        table.add_row(label, f"{row['precision']:.4f}", f"{row['recall']:.4f}", f"{row['f1']:.4f}",
                      f"{row['support']:,}")
    console.print(table)
    if "confusion" not in report:
        return
    matrix = Table(title="confusion (rows: true, columns: predicted)", title_justify="left", box=None)
    matrix.add_column("")
    for label in report["labels"]:
        matrix.add_column(label, justify="right")
    for label, row in zip(report["labels"], report["confusion"]):
        matrix.add_row(label, *(f"{v:,}" for v in row))
    console.print(matrix)


evaluate = command("evaluate")(declared(EvaluateArgs, _evaluate))
