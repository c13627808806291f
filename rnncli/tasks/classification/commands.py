"""The classifier's command: classify (label each input line with a trained classifier)."""

from __future__ import annotations

import json
from typing import Any

from rnncli.cli.app import command
from rnncli.cli.common import err_console, scores_table, info, note_stdin, open_output
from rnncli.cli.declare import declared
from rnncli.tasks.classification.options import ClassifyArgs


def _classify(args: ClassifyArgs) -> None:
    """Label each input line with a trained classifier; streams in constant memory."""
    from rnncli.serving import serving
    from rnncli.tasks.classification.inference import classify as labelled
    from rnncli.text.reader import LineReader, coalesced_blocks

    reader = LineReader(args.file, args.encoding, args.errors)
    with serving(args.run, "classify", args.weights, args.device, args.threads, info if args.verbose else _quiet) \
            as engine:
        note_stdin(args.file)
        with open_output(None) as out:
            for texts in coalesced_blocks(reader, 8192):
                chosen = labelled(engine, texts, args.top, args.threshold, args.batch_size)
                out.write("\n".join(_format(labels, args.format, (args.top or 1) > 1) for labels in chosen) + "\n")
                out.flush()


def _quiet(message: str) -> None:
    pass


def _format(chosen: list[tuple[str, float]], fmt: str, with_probs: bool) -> str:
    if fmt == "jsonl":
        from rnncli.tasks.classification.inference import labels_record

        return json.dumps(labels_record(chosen), ensure_ascii=False)
    if not chosen:
        return ""
    if not with_probs:
        return "\t".join(label for label, _ in chosen)
    return "\t".join(f"{label}\t{prob:.4f}" for label, prob in chosen)


def print_report(report: dict[str, Any], run: str, source: str) -> None:
    """evaluate's report of a classifier: its figures, per label, the confusion matrix, on stderr."""
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
    console.print(scores_table(report["per_label"], "label"))
    if "confusion" not in report:
        return
    matrix = Table(title="confusion (rows: true, columns: predicted)", title_justify="left", box=None)
    matrix.add_column("")
    for label in report["labels"]:
        matrix.add_column(label, justify="right")
    for label, row in zip(report["labels"], report["confusion"]):
        matrix.add_row(label, *(f"{v:,}" for v in row))
    console.print(matrix)


classify = command("classify")(declared(ClassifyArgs, _classify))
