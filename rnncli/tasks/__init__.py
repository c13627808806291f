"""The tasks rnncli trains and serves, one folder each, found through this registry.

A task folder (``rnncli/tasks/<folder>/``) declares a :class:`TaskSpec` named ``TASK`` in its
``__init__.py`` and provides every part of :data:`PARTS` under the module and name given there.
The training loop, the run directory, the planner, serving and the CLI know a task only through
this registry and the protocols its parts implement (a planning module's four functions for
:mod:`rnncli.plan`, :class:`rnncli.training.Task` for training, :mod:`rnncli.infer.engine` for
inference), so adding a task is adding a folder and its name to :data:`FOLDERS`
(docs/architecture.md). Nothing here imports torch: parts are imported on use.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from rnncli.errors import ConfigError, InputError

FOLDERS = ("language", "classification", "tagging", "translation")  # in the order the CLI lists their commands

PARTS = {
    "planning": "planning",  # PLANNING's functions: the run's plan (torch-free, as rnncli.plan)
    "data": "data:read",  # read and tokenize training data -> a TaskData (vocab, facts, labels, task())
    "model": "training:build_model",  # a torch module from a ModelConfig
    "engine": "engine:open_torch",  # a torch inference engine from a LoadedRun and a device
    "exported": "exported:open_exported",  # an ONNX inference engine from an export directory
    "graph": "export:graph",  # the ONNX graph of the weights
    "evaluate": "inference:evaluate",  # held-out figures of an engine on a file
    "commands": "commands",  # the CLI commands of the task (the one module here that imports typer)
    "serving": "serving:endpoints",  # its endpoints for rnncli serve, by name (rnncli.serve.endpoints)
    "inside": "inside:read",  # what rnncli inspect reads of a run (with html, rows and png: rnncli.inside.report)
}
PLANNING = ("plan", "default_level", "default_lowercase", "score", "summary", "outcome",
            "measure")  # what a planning module defines (rnncli.plan)


@dataclass(frozen=True)
class TaskSpec:
    """One task: its name (``--task`` and config.json's ``task``), what to call its models, its
    folder, and the model kinds it counts instead of training, served without torch by the part
    ``counted`` (``module:function`` in the folder, given by the engine's path and config)."""

    name: str
    title: str
    folder: str
    counted: tuple[str, ...] = ()
    counted_part: str = ""

    def parts(self) -> dict[str, str]:
        """Every part this task provides: name -> ``module:attribute`` inside its folder."""
        return {**PARTS, **({"counted": self.counted_part} if self.counted else {})}

    def module(self, part: str) -> str:
        return f"rnncli.tasks.{self.folder}.{self.parts()[part].partition(':')[0]}"

    def part(self, part: str) -> Any:
        """A part of the task (a key of :meth:`parts`), imported now."""
        module = importlib.import_module(self.module(part))
        attribute = self.parts()[part].partition(":")[2]
        return getattr(module, attribute) if attribute else module


def tasks() -> dict[str, TaskSpec]:
    """Every task, by name, in the order of :data:`FOLDERS`."""
    specs = [importlib.import_module(f"rnncli.tasks.{folder}").TASK for folder in FOLDERS]
    return {spec.name: spec for spec in specs}


def task(name: str) -> TaskSpec:
    """The task of this name; a name no task has is a configuration error."""
    known = tasks()
    if name not in known:
        raise ConfigError(f"unknown task {name!r} (tasks: {', '.join(known)})")
    return known[name]


def require(have: str, need: str, where: str) -> None:
    """Refuse a run of another task than the command serves."""
    if have != need:
        raise InputError(f"{where} holds a {task(have).title}; this command needs a {task(need).title}")
