"""export: a trained run as ONNX, to serve without torch anywhere onnxruntime runs."""

from __future__ import annotations

from typing import Annotated, Literal, Optional

import typer

from rnncli.cli.app import DEPLOY, command
from rnncli.cli.common import info
from rnncli.cli.options import RUN_OPT, THREADS_OPT


@command("export", DEPLOY)
def export(
    run: Annotated[str, RUN_OPT],
    output: Annotated[Optional[str], typer.Option("--output", "-o", help="Directory to write [default: RUN/onnx, which classify and generate then use].")] = None,
    quantize: Annotated[Optional[Literal["int8"]], typer.Option(help="Also write a dynamically quantised int8 model, and serve it.")] = None,
    check: Annotated[Optional[str], typer.Option(help="Text (language model) or labelled data (classifier) to measure what int8 costs: bpc or accuracy before and after.")] = None,
    threads: Annotated[Optional[int], THREADS_OPT] = None,
) -> None:
    """Export a run's best checkpoint as ONNX, with its vocabulary and a manifest."""
    from rnncli.run.weights import load_run
    from rnncli.export import default_target, export_run

    loaded = load_run(run, "best")
    target = export_run(loaded, output or default_target(loaded), quantize)
    info(f"exported {run} to {target}" + (" (fp32 and int8; int8 served)" if quantize else ""))
    if check is not None:
        from rnncli.errors import ConfigError
        from rnncli.export_check import compare

        if quantize is None:
            raise ConfigError("--check measures what --quantize int8 costs: add --quantize int8")
        for line in compare(str(target), check, threads):
            info(line)
