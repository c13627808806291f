"""Which engine serves an inference command: a counted model's tables, the run's ONNX export
through onnxruntime (neither imports torch), or torch.

The export serves the best checkpoint on the CPU. When a run has none yet (or its best checkpoint
changed since), torch serves this call and, once the call has succeeded, exports the run into
``RUN/onnx`` (written aside, then renamed into place), so later calls start without torch; a call
that fails leaves the run directory as it was. Torch also serves what the export cannot: other
weights (``--weights last``), other devices, a model the export does not cover, a run directory
that cannot be written, a machine without onnxruntime.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any, Callable, Iterator

from rnncli.onnxrun import current_export, onnxruntime_available, open_export
from rnncli.run.files import CONFIG, ONNX_DIR
from rnncli.tasks import require, task

Say = Callable[[str], None]


def _silent(message: str) -> None:
    pass


@contextlib.contextmanager
def serving(run: str, need: str | None = None, weights: str = "best", device: str = "auto",
            threads: int | None = None, say: Say = _silent) -> Iterator[Any]:
    """The inference engine of ``run`` (:mod:`rnncli.infer.engine`); ``need`` (a task name), if
    given, is required of the run."""
    counted = _counted(run)
    if counted is not None:
        if need is not None:
            require(counted.task, need, run)
        say(f"serving {run}: a counted {counted.variant} model")
        yield counted
        return
    why = _torch_needed(weights, device)
    directory = current_export(run) if why is None else None
    if directory is not None:
        exported = open_export(directory, threads=threads)
        if need is not None:
            require(exported.task, need, run)
        say(f"serving {directory} with onnxruntime ({exported.variant})")
        yield exported
        return
    from rnncli.api import load

    trained = load(run, weights, device, threads)
    if need is not None:
        require(trained.task, need, run)
    from rnncli.export import exportable

    why = why or exportable(trained.config.model)
    say(f"serving {run} with torch: {why or 'no current export yet (made after this call)'}")
    yield trained.engine
    if why is None:
        _export_after(trained, say)


def _counted(run: str) -> Any:
    """The engine of a run whose model is counted, not trained (an n-gram model), read without
    torch; None for a neural run (or a broken one, which the torch path then names)."""
    from rnncli.run.directory import RunDir

    path = Path(run)
    if not (path / CONFIG).is_file():
        return None
    config = RunDir(path).load_config()
    spec = task(config.task)
    if config.model.kind not in spec.counted:
        return None
    return spec.part("counted")(path, config.model)


def _torch_needed(weights: str, device: str) -> str | None:
    if weights != "best":
        return "the export holds the best checkpoint only (--weights best)"
    if device not in ("cpu", "auto"):
        return f"the export runs on the CPU, not --device {device}"
    if not onnxruntime_available():
        return "onnxruntime is not installed"
    return None


def _export_after(trained: Any, say: Say) -> None:
    """Export the run that just served (its best checkpoint) into RUN/onnx, where it can be."""
    from rnncli.errors import ConfigError
    from rnncli.export import export_run

    if not os.access(trained.path, os.W_OK):
        say(f"not exported: {trained.path} is not writable")
        return
    try:
        target = export_run(trained.loaded, os.path.join(trained.path, ONNX_DIR))
    except (ConfigError, OSError) as exc:
        say(f"not exported: {exc}")
        return
    say(f"exported to {target}: the next call starts without torch")
