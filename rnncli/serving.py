"""Which engine serves an inference command: the run's ONNX export through onnxruntime (no torch
imported), or torch.

The export serves the best checkpoint on the CPU. When a run has none yet (or its best checkpoint
changed since), torch serves this call and, once the call has succeeded, exports the run into
``RUN/onnx`` (written aside, then renamed into place), so later calls start without torch; a call
that fails leaves the run directory as it was. Torch also serves what the export cannot: other
weights (``--weights last``), other devices, the bag-of-words classifier, a run directory that
cannot be written, a machine without onnxruntime.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any, Callable, Iterator

from rnncli.ngram import NGramLM
from rnncli.onnxrun import ONNX_DIR, ExportedLanguageModel, current_export, onnxruntime_available, open_export
from rnncli.sampling import Stepping
from rnncli.text.vocab import Vocab

Say = Callable[[str], None]


def _silent(message: str) -> None:
    pass


@contextlib.contextmanager
def serving(run: str, task: str | None, weights: str = "best", device: str = "cpu", threads: int | None = None,
            say: Say = _silent) -> Iterator[Any]:
    """An :class:`~rnncli.onnxrun.Exported` model for ``run``, or a torch :class:`~rnncli.api.Run`
    (both have ``task``, ``vocab`` and ``evaluate``; classifiers ``classify`` and ``labels``).
    ``task`` (lm or classify), if given, is required of the run. An n-gram run is served from its
    tables (:class:`~rnncli.ngram.NGramLM`), whatever the weights and device."""
    counted = _ngram(run)
    if counted is not None:
        if task is not None:
            _require("lm", task, run)
        say(f"serving {run}: an n-gram model of order {counted.model.order}")
        yield counted
        return
    why = _torch_needed(weights, device)
    directory = current_export(run) if why is None else None
    if directory is not None:
        exported = open_export(directory, threads=threads)
        if task is not None:
            _require(exported.task, task, run)
        say(f"serving {directory} with onnxruntime ({exported.variant})")
        yield exported
        return
    from rnncli.api import load

    from rnncli.export import exportable

    trained = load(run, weights, device, threads)
    if task is not None:
        trained.require(task)
    why = why or exportable(trained.loaded.config.model)
    say(f"serving {run} with torch: {why or 'no current export yet (made after this call)'}")
    yield trained
    if why is None:
        _export_after(trained, say)


@contextlib.contextmanager
def language_model(run: str, weights: str = "best", device: str = "cpu", threads: int | None = None,
                   say: Say = _silent) -> Iterator[tuple[Stepping, Vocab]]:
    """A model that steps token by token for :func:`rnncli.sampling.generate`, and its vocabulary."""
    with serving(run, "lm", weights, device, threads, say) as model:
        if isinstance(model, (ExportedLanguageModel, NGramLM)):
            yield model, model.vocab
            return
        from rnncli.generation import TorchLM

        yield TorchLM(model.model, model.device, model.unigram_cache), model.vocab


def _ngram(run: str) -> NGramLM | None:
    """An n-gram run's model, read without torch; None for a neural run (or a broken one, which the
    torch path then names)."""
    from pathlib import Path

    from rnncli.errors import FormatError
    from rnncli.fileio import read_json
    from rnncli.models.config import ModelConfig
    from rnncli.ngram import load
    from rnncli.run.files import CONFIG, NGRAM as NGRAM_FILE, VOCAB
    from rnncli.text.vocab import load_vocab
    from rnncli.unigram_cache import read as read_cache

    path = Path(run)
    if not (path / CONFIG).is_file():
        return None
    data = read_json(path / CONFIG, what="run configuration")
    if not isinstance(data, dict) or not isinstance(data.get("model"), dict) or data["model"].get("kind") != "ngram":
        return None
    config = ModelConfig.from_json(data["model"])
    vocab = load_vocab(path / VOCAB)
    if len(vocab) != config.vocab_size:
        raise FormatError(f"{path / VOCAB} has {len(vocab):,} tokens; {CONFIG} says {config.vocab_size:,}")
    if not (path / NGRAM_FILE).is_file():
        raise FormatError(f"run directory {path} is missing {NGRAM_FILE}")
    return NGramLM(load(path / NGRAM_FILE, config.order, config.vocab_size), vocab, read_cache(path))


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


def _require(have: str, need: str, run: str) -> None:
    from rnncli.errors import InputError

    if have != need:
        held = "language model" if have == "lm" else "classifier"
        wanted = "language model" if need == "lm" else "classifier"
        raise InputError(f"{run} holds a {held}; this command needs a {wanted}")
