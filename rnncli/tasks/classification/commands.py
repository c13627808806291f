"""The classifier's command: classify (label each input line with a trained classifier)."""

from __future__ import annotations

import json

from rnncli.cli.app import command
from rnncli.cli.common import info, note_stdin, open_output
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
        return json.dumps({"label": chosen[0][0] if chosen else None,
                           "labels": [c[0] for c in chosen], "probs": [round(c[1], 6) for c in chosen]},
                          ensure_ascii=False)
    if not chosen:
        return ""
    if not with_probs:
        return "\t".join(label for label, _ in chosen)
    return "\t".join(f"{label}\t{prob:.4f}" for label, prob in chosen)


classify = command("classify")(declared(ClassifyArgs, _classify))
