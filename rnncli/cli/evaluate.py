"""evaluate: held-out figures of a trained run, language model or classifier."""

from __future__ import annotations

import json
from rnncli.cli.app import command
from rnncli.cli.common import info, open_output, warn
from rnncli.cli.declare import declared
from rnncli.infer.options import EvaluateArgs


def _evaluate(args: EvaluateArgs) -> None:
    """Evaluate a trained run: loss, perplexity and bits per character (or classification metrics)."""
    from rnncli.infer.evaluation import EvaluateOptions, evaluate as figures
    from rnncli.serving import serving
    from rnncli.tasks import task

    options = EvaluateOptions(args.encoding, args.errors, args.text_column, args.label_column, args.top,
                              args.cache, warn, args.tag_column, args.beam)
    say = info if args.verbose else lambda message: None
    with serving(args.run, None, args.weights, args.device, args.threads, say) as engine:
        report = figures(engine, args.data, options)
    source = report.pop("source", args.data)
    if args.as_json:
        with open_output(None) as out:
            out.write(json.dumps(report) + "\n")
    else:
        task(engine.task).part("commands").print_report(report, args.run, source)


evaluate = command("evaluate")(declared(EvaluateArgs, _evaluate))
