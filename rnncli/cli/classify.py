"""classify, and evaluate on a classifier run."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, Optional

import typer

from rnncli.cli.app import app
from rnncli.cli.common import STDIO, err_console, note_stdin, open_output, warn
from rnncli.cli.options import Device, ENCODING_OPT, Errors, ERRORS_OPT, THREADS_OPT
from rnncli.cli.lm import RUN_OPT, WHICH_OPT


@app.command()
def classify(
    run: Annotated[str, RUN_OPT],
    file: Annotated[str, typer.Argument(help="Texts, one per line ('-' for stdin).")] = STDIO,
    top: Annotated[int, typer.Option("--top", "-k", min=1, help="Print the N most likely labels with probabilities.")] = 1,
    fmt: Annotated[Literal["tsv", "jsonl"], typer.Option("--format", "-f", help="tsv (label, or label<TAB>prob pairs with -k) or jsonl.")] = "tsv",
    threshold: Annotated[Optional[float], typer.Option(min=0.0, max=1.0, help="Only print labels with at least this probability (an empty line when none does).")] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=1_000_000, help="Texts per forward pass.")] = 512,
    weights: Annotated[Literal["best", "last"], WHICH_OPT] = "best",
    device: Annotated[Device, typer.Option(help="Where to run.")] = "cpu",
    threads: Annotated[Optional[int], THREADS_OPT] = None,
    encoding: Annotated[str, ENCODING_OPT] = "utf-8",
    errors: Annotated[Errors, ERRORS_OPT] = "strict",
) -> None:
    """Label each input line with a trained classifier; streams in constant memory."""
    from rnncli.checkpoint import load_run
    from rnncli.device import resolve_device, set_threads
    from rnncli.tasks.classification import featurize, predict_proba
    from rnncli.text.reader import LineReader, coalesced_blocks

    set_threads(threads)
    target = resolve_device(device)
    reader = LineReader(file, encoding, errors)
    loaded = load_run(run, weights, task="classify")
    model, vocab, labels = loaded.model.to(target), loaded.vocab, loaded.config.labels
    max_len = int(loaded.config.training.get("max_len", 400))
    precision = loaded.config.training.get("precision", "fp32")
    precision = precision if (precision == "fp32" or target.type != "mps") else "fp32"
    k = min(top, len(labels))
    note_stdin(file)
    with open_output(None) as out:
        for texts in coalesced_blocks(reader, 8192):
            sequences = featurize(vocab, texts, max_len)
            probs = predict_proba(model, sequences, target, precision, batch_size)
            best = (-probs).argsort(axis=1)[:, :k]
            lines = []
            for text, row, order in zip(texts, probs, best):
                chosen = [(labels[j], float(row[j])) for j in order
                          if threshold is None or row[j] >= threshold]
                if not text.strip():
                    chosen = []
                lines.append(_format(chosen, fmt, top > 1))
            out.write("\n".join(lines) + "\n")
            out.flush()


def _format(chosen: list[tuple[str, float]], fmt: str, with_probs: bool) -> str:
    if fmt == "jsonl":
        return json.dumps({"label": chosen[0][0] if chosen else None,
                           "labels": [c[0] for c in chosen], "probs": [round(c[1], 6) for c in chosen]},
                          ensure_ascii=False)
    if not chosen:
        return ""
    if not with_probs:
        return chosen[0][0]
    return "\t".join(f"{label}\t{prob:.4f}" for label, prob in chosen)


def evaluate_classifier(loaded: Any, data: str, as_json: bool, device: Any, encoding: str, errors: str,
                        text_column: str = "text", label_column: str = "label") -> None:
    from rnncli.tasks.classification import classification_metrics, featurize, predict_proba
    from rnncli.text.labelled import read_labelled

    labelled = read_labelled(data, text_column=text_column, label_column=label_column, encoding=encoding,
                             errors=errors)
    labels = list(loaded.config.labels)
    known = set(labels)
    unseen = sorted({e.label for e in labelled.examples} - known)
    if unseen:
        warn(f"label(s) only in {labelled.source}, never seen in training: {', '.join(unseen[:5])} "
             "(their examples count as errors)")
    if labelled.skipped_empty:
        warn(f"{labelled.skipped_empty:,} lines with an empty text skipped")
    all_labels = labels + unseen
    index = {label: k for k, label in enumerate(all_labels)}
    model = loaded.model.to(device)
    max_len = int(loaded.config.training.get("max_len", 400))
    sequences = featurize(loaded.vocab, [e.text for e in labelled.examples], max_len)
    probs = predict_proba(model, sequences, device, loaded.config.training.get("precision", "fp32"))
    predicted = probs.argmax(axis=1).tolist()
    gold = [index[e.label] for e in labelled.examples]
    metrics = classification_metrics(gold, predicted, all_labels)
    report = {"accuracy": metrics["accuracy"], "macro_f1": metrics["macro_f1"],
              "per_label": metrics["per_label"], "confusion": metrics["confusion"],
              "labels": all_labels, "examples": metrics["examples"]}
    if as_json:
        with open_output(None) as out:
            out.write(json.dumps(report) + "\n")
        return
    _print_report(report, labelled.source)


def _print_report(report: dict[str, Any], source: str) -> None:
    from rich.table import Table

    console = err_console()
    console.print(f"{source}: {report['examples']:,} examples, accuracy {report['accuracy']:.4f}, "
                  f"macro-F1 {report['macro_f1']:.4f}")
    table = Table(box=None)
    for column in ("label", "precision", "recall", "F1", "support"):
        table.add_column(column, justify="left" if column == "label" else "right")
    for label, row in report["per_label"].items():
        table.add_row(label, f"{row['precision']:.4f}", f"{row['recall']:.4f}", f"{row['f1']:.4f}",
                      f"{row['support']:,}")
    console.print(table)
    matrix = Table(title="confusion (rows: true, columns: predicted)", title_justify="left", box=None)
    matrix.add_column("")
    for label in report["labels"]:
        matrix.add_column(label, justify="right")
    for label, row in zip(report["labels"], report["confusion"]):
        matrix.add_row(label, *(f"{v:,}" for v in row))
    console.print(matrix)
