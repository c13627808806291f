"""Training progress on stderr: a live rich line on a terminal, plain periodic lines otherwise."""

from __future__ import annotations

import math
import sys
import time
from typing import Any

from rnncli.cli.common import err_console


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class ProgressPrinter:
    """Consumes training events; never writes to stdout."""

    def __init__(self, unit: str = "tok", log_every: float = 10.0, quiet: bool = False) -> None:
        self.console = err_console()
        self.live = self.console.is_terminal and not quiet
        self.quiet = quiet
        self.unit = unit
        self.perplexity = True
        self.log_every = log_every
        self.last_line = 0.0
        self.total_steps: int | None = None
        self.started = time.time()
        self._status: Any = None
        self._losses: list[float] = []

    def __call__(self, event: Any) -> None:
        handler = getattr(self, f"on_{event.kind}", None)
        if handler is not None:
            handler(event.data)

    def on_start(self, data: dict[str, Any]) -> None:
        self.total_steps = data.get("total_steps")
        self.unit = {"tokens": "tok", "examples": "ex"}.get(data.get("unit", ""), self.unit)
        self.perplexity = bool(data.get("perplexity", True))
        self.started = time.time()
        if self.live:
            self._status = self.console.status("training ...")
            self._status.start()

    def _left(self, data: dict[str, Any]) -> str:
        deadline = data.get("deadline")
        if deadline:
            return _duration(deadline - time.time())
        if self.total_steps and data["step"]:
            per_step = data["train_seconds"] / data["step"]
            return _duration((self.total_steps - data["step"]) * per_step)
        return "?"

    def on_step(self, data: dict[str, Any]) -> None:
        if self.quiet:
            return
        self._losses.append(data["loss"])
        now = time.time()
        if not self.live and now - self.last_line < self.log_every and data["step"] != 1:
            return
        loss = sum(self._losses) / len(self._losses)
        self._losses = []
        rate = f"{data['seen'] / data['train_seconds']:,.0f}" if data["train_seconds"] else "-"  # none timed yet
        total = f"/{self.total_steps}" if self.total_steps else ""
        ppl = f"ppl {math.exp(min(loss, 50)):.2f}  " if self.perplexity else ""
        line = (f"step {data['step']}{total}  epoch {data['epoch']}  loss {loss:.4f}  "
                f"{ppl}{rate} {self.unit}/s  lr {data['lr']:.2e}  "
                f"{self._left(data)} left")
        if self.live and self._status is not None:
            self._status.update(line)
        else:
            print(line, file=sys.stderr, flush=True)
        self.last_line = now

    def on_eval(self, data: dict[str, Any]) -> None:
        if self.quiet:
            return
        shown = {k: v for k, v in data.items() if k.startswith("val_") or k in ("accuracy", "macro_f1", "entity_f1")}
        values = "  ".join(f"{k} {v:.4f}" for k, v in shown.items() if isinstance(v, (int, float)))
        mark = "  (best)" if data.get("best") else ""
        self._print(f"eval at step {data['step']}: {values}{mark}")

    def on_plateau(self, data: dict[str, Any]) -> None:
        if not self.quiet:
            self._print(f"no better validation score in {data['evaluations']} evaluations: stopping at step "
                        f"{data['step']} (--patience)")

    def on_nan(self, data: dict[str, Any]) -> None:
        self._print(f"warning: step {data['step']}: non-finite {data['what']}, batch skipped "
                    f"({data['skipped']} so far)")

    def _print(self, line: str) -> None:
        if self.live and self._status is not None:
            self.console.print(line)
        else:
            print(line, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def on_done(self, data: dict[str, Any]) -> None:
        self.close()
