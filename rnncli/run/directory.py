"""A run directory without torch: its configuration (``config.json``), vocabulary, labels and
metrics, read with size bounds and validated; the lock of the training process; new directories.
Every file is written atomically. The file names are in :mod:`rnncli.run.files`; the weights are
read and written by :mod:`rnncli.run.weights`.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from rnncli.args import TrainArgs
from rnncli.errors import FormatError, InputError, TrainingError
from rnncli.fileio import MiB, read_bounded, read_json, write_bytes, write_json
from rnncli.models.config import ModelConfig
from rnncli.plan import RunPlan, legacy_plan
from rnncli.run.files import BEST, CONFIG, LABELS, LAST, LOCK, METRICS, VOCAB
from rnncli.text.vocab import Vocab, load_vocab
from rnncli.version import __version__

RUN_FORMAT = "rnncli-run"
RUN_VERSION = 2  # config.json; 2: the run's plan (args, given, tokenizer, data, loop, machine)
MAX_CONFIG = 4 * MiB


@dataclass
class RunConfig:
    """config.json: the plan the run was trained by (its model among it), and the label names."""

    plan: RunPlan
    labels: list[str] = field(default_factory=list)

    @property
    def task(self) -> str:
        return self.plan.task

    @property
    def model(self) -> ModelConfig:
        return self.plan.model

    def to_json(self) -> dict[str, Any]:
        return {"format": RUN_FORMAT, "version": RUN_VERSION, "rnncli": __version__, "task": self.task,
                "model": self.model.to_json(), "plan": self.plan.to_json()}

    @classmethod
    def from_json(cls, data: Any, source: str, args_class: type = TrainArgs) -> "RunConfig":
        """A run configuration of any format version this rnncli reads (1: before plans)."""
        if not isinstance(data, dict) or data.get("format") != RUN_FORMAT:
            raise FormatError(f"{source}: not an rnncli run configuration")
        version = data.get("version")
        if not isinstance(version, int) or version < 1:
            raise FormatError(f"{source}: run configuration has no valid version")
        if version > RUN_VERSION:
            raise FormatError(f"{source}: run format version {version} is newer than this rnncli reads "
                              f"({RUN_VERSION}); upgrade rnncli")
        try:
            model = ModelConfig.from_json(data.get("model"))
            if data.get("task") != model.task:
                raise FormatError(f"task {data.get('task')!r} disagrees with the model configuration")
            if version == 1:
                training = data.get("training", {})
                if not isinstance(training, dict):
                    raise FormatError("training options must be an object")
                return cls(legacy_plan(training, model))
            return cls(RunPlan.from_json(data.get("plan"), model, args_class))
        except FormatError as exc:
            raise FormatError(f"{source}: {exc}") from None
        except (TypeError, ValueError, AttributeError):
            raise FormatError(f"{source}: invalid run configuration") from None


def fresh_run_dir(root: str | os.PathLike[str], name: str) -> Path:
    """A new, empty directory ``root/name`` (``name-2``, ``name-3``, ... if taken): created here, so
    two runs started in the same second never share one."""
    base = Path(root)
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{base}: cannot create the runs directory ({exc.strerror})") from None
    for k in range(1, 10_000):
        path = base / (name if k == 1 else f"{name}-{k}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise InputError(f"{base}: no free run directory named {name}")


class RunDir:
    """The files of one run, with atomic writes and validated reads."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def file(self, name: str) -> Path:
        return self.path / name

    def create(self) -> None:
        if self.path.exists() and not self.path.is_dir():
            raise InputError(f"{self.path}: exists and is not a directory")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"{self.path}: cannot create run directory ({exc.strerror})") from None

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the run directory for one training process.

        The lock is an ``flock`` on ``.lock``: the kernel releases it when the process dies, even
        by ``kill -9``, so a stale lock from a dead process is recovered by the next run.
        """
        import fcntl

        path = self.file(LOCK)
        handle = open(path, "a+")
        try:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                raise TrainingError(f"run directory {self.path} is in use by {holder}; "
                                    "wait for it or choose another --output") from None
            handle.seek(0)
            handle.truncate()
            handle.write(f"process {os.getpid()} on {socket.gethostname()}\n")
            handle.flush()
            yield
        finally:
            handle.close()

    def check_exists(self) -> None:
        if not self.path.exists():
            raise InputError(f"{self.path}: no such run directory")
        if not self.path.is_dir():
            raise InputError(f"{self.path}: not a run directory (it is a file)")

    def require(self, *names: str) -> None:
        self.check_exists()
        missing = [n for n in names if not self.file(n).is_file()]
        if missing:
            raise FormatError(f"run directory {self.path} is missing {', '.join(missing)}")

    def save_config(self, config: RunConfig) -> None:
        write_json(self.file(CONFIG), config.to_json())

    def load_config(self, args_class: type = TrainArgs) -> RunConfig:
        self.require(CONFIG)
        return RunConfig.from_json(read_json(self.file(CONFIG), MAX_CONFIG, "run configuration"),
                                   str(self.file(CONFIG)), args_class)

    def save_labels(self, labels: list[str]) -> None:
        write_json(self.file(LABELS), {"format": "rnncli-labels", "version": 1, "labels": labels})

    def load_labels(self, expected: int) -> list[str]:
        self.require(LABELS)
        data = read_json(self.file(LABELS), MAX_CONFIG, "label file")
        labels = data.get("labels") if isinstance(data, dict) else None
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels) \
                or len(set(labels)) != len(labels):
            raise FormatError(f"{self.file(LABELS)}: not an rnncli label file")
        if len(labels) != expected:
            raise FormatError(f"{self.file(LABELS)}: {len(labels)} labels, but the model has {expected} outputs")
        return labels

    def load_vocab(self, expected_size: int | None = None, name: str = VOCAB) -> Vocab:
        """The vocabulary in ``name`` (a translation run's target side is another file)."""
        self.require(name)
        vocab = load_vocab(self.file(name))
        if expected_size is not None and len(vocab) != expected_size:
            raise FormatError(
                f"{self.file(name)}: vocabulary of {len(vocab):,} tokens does not match the model's "
                f"embedding of {expected_size:,}")
        return vocab

    def weights_file(self, which: str = "best") -> Path:
        """``best`` falls back to ``last`` when no evaluation has produced a best yet."""
        self.check_exists()
        order = {"best": [BEST, LAST], "last": [LAST]}[which]
        for name in order:
            if self.file(name).is_file():
                return self.file(name)
        raise FormatError(f"run directory {self.path} is missing {order[0]} (no checkpoint saved)")

    def read_metrics(self, name: str = METRICS) -> list[dict[str, Any]]:
        """The records of a JSON-lines file of the run (metrics.jsonl, samples.jsonl)."""
        path = self.file(name)
        if not path.is_file():
            return []
        records = []
        for number, line in enumerate(read_bounded(path, 256 * MiB, "metrics file").decode("utf-8", "replace").splitlines(), 1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    raise FormatError(f"{path}:{number}: invalid JSON") from None
        return records

    def write_metrics(self, records: list[dict[str, Any]], name: str = METRICS) -> None:
        text = "".join(json.dumps(r, allow_nan=False, ensure_ascii=False) + "\n" for r in records)
        write_bytes(self.file(name), text.encode("utf-8"))
