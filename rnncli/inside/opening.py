"""``rnncli inspect`` on a run directory: its language model read by torch (the units are inside
the network), the other tasks through whichever engine serves the run (the ONNX export without
torch, when it is current)."""

from __future__ import annotations

from typing import Callable

from rnncli.inside.report import InspectOptions, Inspection, check_run, language_model, through_engine


def inspect_run(run: str, text: str, options: InspectOptions = InspectOptions(),
                say: Callable[[str], None] = lambda m: None, device: str = "auto",
                threads: int | None = None) -> Inspection:
    """Read ``text`` with the run in ``run`` and keep what its task shows."""
    from rnncli.run.directory import RunDir

    options = options.check()
    config = RunDir(run).load_config()
    shape = check_run(config, options, text)
    title = f"rnncli inspect: {run}"
    if config.task == "lm":
        from rnncli.run.weights import load_run

        loaded = load_run(run)
        return language_model(loaded.model, loaded.vocab, text, options, title, shape, say)
    from rnncli.serving import serving

    with serving(run, config.task, "best", device, threads, say) as engine:
        return through_engine(engine, config.task, text, options, title, shape)
