"""Inference from an exported run with onnxruntime and numpy only: torch is never imported. Each
task's engine (``rnncli/tasks/<task>/exported.py``) builds on :class:`Exported`.

An export is a directory (``RUN/onnx`` for the run's own, or wherever ``rnncli export -o`` put it)
holding ``model.onnx`` (and ``model.int8.onnx`` when quantised), ``vocab.json`` and
``manifest.json``. The run's own export serves its best checkpoint only while that checkpoint is
the one it was made from (size and modification time recorded in the manifest).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from rnncli.errors import FormatError, InputError
from rnncli.fileio import read_json
from rnncli.run.files import BEST, CONFIG, ONNX_DIR, VOCAB
from rnncli.text.vocab import Vocab, load_vocab

MANIFEST = "manifest.json"
MODEL_FILES = {"fp32": "model.onnx", "int8": "model.int8.onnx"}
ONNX_FORMAT, ONNX_VERSION = "rnncli-onnx", 1


def checkpoint_stamp(path: Path) -> dict[str, Any]:
    """What identifies the checkpoint an export was made from."""
    st = path.stat()
    return {"file": path.name, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def onnxruntime_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None


def read_manifest(directory: Path) -> dict[str, Any]:
    manifest = read_json(directory / MANIFEST, what="export manifest")
    if not isinstance(manifest, dict) or manifest.get("format") != ONNX_FORMAT:
        raise FormatError(f"{directory / MANIFEST}: not an rnncli export manifest")
    if int(manifest.get("version", 0)) > ONNX_VERSION:
        raise FormatError(f"{directory / MANIFEST}: export format version {manifest['version']} is newer than "
                          "this rnncli reads")
    return manifest


def current_export(run: str | os.PathLike[str]) -> Path | None:
    """The run's own export when it matches the run's best checkpoint and the run is whole (else
    torch serves, and names what is missing or broken), and onnxruntime is here."""
    directory = Path(run) / ONNX_DIR
    best = Path(run) / BEST
    whole = all((Path(run) / name).is_file() for name in (CONFIG, VOCAB, BEST))
    if not whole or not (directory / MANIFEST).is_file() or not onnxruntime_available():
        return None
    try:
        manifest = read_manifest(directory)
    except FormatError:
        return None
    return directory if manifest.get("checkpoint") == checkpoint_stamp(best) else None


class Exported:
    """An exported model with its vocabulary and an onnxruntime session on every core."""

    def __init__(self, directory: str | os.PathLike[str], variant: str | None = None,
                 threads: int | None = None) -> None:
        self.directory = Path(directory)
        self.manifest = read_manifest(self.directory)
        self.variant = variant or self.manifest.get("serve", "fp32")
        models = self.manifest.get("models", {})
        if self.variant not in models:
            raise InputError(f"{self.directory}: no {self.variant} model in this export (it has {', '.join(models)})")
        self.vocab: Vocab = load_vocab(self.directory / self.manifest["vocab"])
        self.threads = threads
        self.session = self._session(models[self.variant])

    def _session(self, name: str) -> Any:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        return ort.InferenceSession(str(self.directory / name), options, providers=["CPUExecutionProvider"])

    def open_part(self, name: str) -> Any:
        """The session of another graph of the export (``parts`` in the manifest), of the same variant."""
        files = self.manifest.get("parts", {}).get(name, {})
        if self.variant not in files:
            raise FormatError(f"{self.directory / MANIFEST}: no {self.variant} {name} graph in this export")
        return self._session(files[self.variant])

    @property
    def task(self) -> str:
        return str(self.manifest["task"])


def open_export(directory: str | os.PathLike[str], variant: str | None = None, threads: int | None = None) -> Any:
    """The engine of the export in ``directory``, of the task its manifest names."""
    from rnncli.tasks import task

    return task(str(read_manifest(Path(directory)).get("task"))).part("exported")(directory, variant, threads)
