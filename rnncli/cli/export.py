"""export: a trained run as ONNX, to serve without torch anywhere onnxruntime runs."""

from __future__ import annotations

from rnncli.cli.app import DEPLOY, command
from rnncli.cli.common import info
from rnncli.cli.declare import declared
from rnncli.infer.options import ExportArgs


def _export(args: ExportArgs) -> None:
    """Export a run's best checkpoint as ONNX, with its vocabulary and a manifest."""
    from rnncli.export import default_target, export_run
    from rnncli.run.weights import load_run

    loaded = load_run(args.run, "best")
    target = export_run(loaded, args.output or default_target(loaded), args.quantize)
    info(f"exported {args.run} to {target}" + (" (fp32 and int8; int8 served)" if args.quantize else ""))
    if args.check is not None:
        from rnncli.errors import ConfigError
        from rnncli.export_check import compare

        if args.quantize is None:
            raise ConfigError("--check measures what --quantize int8 costs: add --quantize int8")
        for line in compare(str(target), args.check, args.threads):
            info(line)


export = command("export", DEPLOY)(declared(ExportArgs, _export))
