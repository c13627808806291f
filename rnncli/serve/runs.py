"""The runs a server holds: each run's engine (an ONNX export where there is a current one, else
torch, as :func:`rnncli.serving.serving` chooses), what it can answer, and its replacement when
its export changes on disk (:meth:`ServedRun.reload`) while requests go on with the engine they
started with."""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path
from typing import Any, Callable

from rnncli.errors import ConfigError


class ServedRun:
    """One run directory, served under ``name``."""

    def __init__(self, name: str, path: str, threads: int | None = None,
                 say: Callable[[str], None] = lambda message: None) -> None:
        self.name, self.path, self.threads, self.say = name, path, threads, say
        self._stack: contextlib.ExitStack | None = None
        self._torch: Any = None  # a torch Run, loaded the first time an endpoint needs it
        self._lock = threading.Lock()
        self._open()

    def _open(self) -> None:
        """Open the run's engine (exporting the run first where it has no current export), and read
        what it answers, what it is and the export it was opened from."""
        from rnncli.runinfo import describe
        from rnncli.serving import serving
        from rnncli.tasks import task

        stack = contextlib.ExitStack()
        stamp = self._stamp()
        engine = stack.enter_context(serving(self.path, None, "best", "cpu", self.threads, self.say))
        if engine.variant == "torch":  # no current export: leaving serving writes one, then serve that
            stack.close()
            stamp = self._stamp()
            engine = stack.enter_context(serving(self.path, None, "best", "cpu", self.threads, self.say))
        old, self._stack = self._stack, stack
        if old is not None:
            old.close()
        try:
            facts = describe(self.path)
        except Exception as exc:  # a summary is not worth refusing to serve a run that opened
            facts = {"error": str(exc)}
        self.engine, self.facts, self.opened, self._torch = engine, facts, stamp, None
        self.endpoints: dict[str, Any] = task(engine.task).part("serving")()

    def _stamp(self) -> tuple[Any, ...]:
        """What changes when the run's export or best checkpoint is replaced on disk."""
        from rnncli.onnxrun import MANIFEST
        from rnncli.run.files import BEST, ONNX_DIR

        stamps = []
        for path in (Path(self.path) / ONNX_DIR / MANIFEST, Path(self.path) / BEST):
            try:
                st = path.stat()
                stamps.append((st.st_ino, st.st_size, st.st_mtime_ns))
            except OSError:
                stamps.append(None)
        return tuple(stamps)

    @property
    def task(self) -> str:
        return str(self.engine.task)

    def describe(self) -> dict[str, Any]:
        """What ``GET /v1/models`` says of the run: ``rnncli info --json``'s facts and what serves it."""
        return {"name": self.name, "task": self.task, "endpoints": list(self.endpoints), "path": self.path,
                "engine": self.engine.variant, **{k: v for k, v in self.facts.items() if k not in ("task", "path")}}

    def reload(self) -> bool:
        """Open the run again if its export or best checkpoint changed on disk since it was opened;
        True when it did. Requests already computing keep the engine they hold."""
        with self._lock:
            if self._stamp() == self.opened and self.engine.variant != "torch":
                return False
            self._open()
            return True

    def torch_run(self) -> Any:
        """The run served by torch, for what an export does not hold (vectors)."""
        with self._lock:
            if self._torch is None:
                from rnncli.api import load

                self._torch = load(self.path, "best", "cpu", self.threads)
            return self._torch

    def close(self) -> None:
        if self._stack is not None:
            self._stack.close()
            self._stack = None


def run_names(paths: list[str]) -> dict[str, str]:
    """Each run's name (its directory's name; a clash is refused) by path."""
    names: dict[str, str] = {}
    for path in paths:
        name = Path(os.path.abspath(path)).name
        if name in names:
            raise ConfigError(f"two runs are named {name!r} ({names[name]} and {path}): serve runs from directories "
                              "with different names")
        names[name] = path
    return names


def open_runs(paths: list[str], threads: int | None = None,
              say: Callable[[str], None] = lambda message: None) -> dict[str, ServedRun]:
    """Every run, opened, by name."""
    return {name: ServedRun(name, path, threads, say) for name, path in run_names(paths).items()}
