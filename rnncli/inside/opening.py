"""``rnncli inspect`` on a run directory: what its task reads, opened on first use (the network by
torch, or whichever engine serves the run: the ONNX export without torch, when it is current)."""

from __future__ import annotations

import contextlib
from typing import Any, Callable

from rnncli.inside.report import InspectOptions, Inspection, check_run, inspect


class _Directory:
    """A run directory as :class:`rnncli.inside.report.Source`."""

    def __init__(self, run: str, task: str, device: str, threads: int | None, say: Callable[[str], None],
                 stack: contextlib.ExitStack) -> None:
        self.run, self.task, self.device, self.threads, self.say, self.stack = run, task, device, threads, say, stack

    def network(self) -> tuple[Any, Any]:
        from rnncli.run.weights import load_run

        loaded = load_run(self.run)
        return loaded.model, loaded.vocab

    def open_engine(self) -> Any:
        from rnncli.serving import serving

        return self.stack.enter_context(serving(self.run, self.task, "best", self.device, self.threads, self.say))


def inspect_run(run: str, text: str, options: InspectOptions = InspectOptions(),
                say: Callable[[str], None] = lambda m: None, device: str = "auto",
                threads: int | None = None) -> Inspection:
    """Read ``text`` with the run in ``run`` and keep what its task shows."""
    from rnncli.run.directory import RunDir

    options = options.check()
    config = RunDir(run).load_config()
    shape = check_run(config, options, text)
    with contextlib.ExitStack() as stack:
        source = _Directory(run, config.task, device, threads, say, stack)
        return inspect(config.task, source, text, options, f"rnncli inspect: {run}", shape, say)
