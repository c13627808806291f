"""The public Python API: what the CLI does, callable from Python, under the CLI's names.

    import rnncli

    vocab = rnncli.build_vocab("corpus.txt", level="bpe", vocab_size=8000)
    run = rnncli.train("corpus.txt", "runs/x", model="lstm", time_budget=60)
    print(run.generate("ROMEO:", max_tokens=200, temperature=0.8, seed=1)[0])
    print(run.evaluate("valid.txt"))                 # {"loss", "ppl", "bpc", "tokens", "chars"}

    spam = rnncli.train("train.tsv", "runs/spam", task="classify")
    spam.classify(["WIN a prize now", "see you at 6"])  # [[("spam", 0.98)], [("ham", 0.99)]]
    spam.evaluate("test.tsv")["macro_f1"]

    de_en = rnncli.train("train.tsv", "runs/de-en", task="seq2seq", time_budget=900)
    de_en.translate(["Ein Hund läuft ."], beam=5)  # ["A dog is running."]

The training options of :func:`train` are those of ``rnncli train`` (``--batch-size`` is
``batch_size``), declared once in :class:`rnncli.args.TrainArgs`; the lower level (the
:class:`~rnncli.training.Trainer` and its callbacks here, each task's model, training task and
engines in ``rnncli.tasks.<task>``) is importable for scripts and benchmarks.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import torch

from rnncli.args import TrainArgs
from rnncli.callbacks import StepTimer
from rnncli.run.directory import RunDir
from rnncli.run.weights import LoadedRun, load_run
from rnncli.device import resolve_device, resolve_precision, set_threads
from rnncli.errors import InputError
from rnncli.infer.batching import INFERENCE_BATCH
from rnncli.infer.options import DEVICE_DEFAULT
from rnncli.models.config import ModelConfig
from rnncli.plan import RunPlan, Shapes
from rnncli.tasks.classification.planning import classifier_shapes
from rnncli.tasks.language.planning import lm_shapes
from rnncli.trainoptions import TrainOptions
from rnncli.text.build import VocabOptions, build_vocabulary
from rnncli.text.vocab import Vocab
from rnncli.training import Callback, EvalCadence, Trainer

__all__ = [  # the building blocks of a run, for scripts and benchmarks, after the three entry points
    "Run", "build_vocab", "describe", "load", "train",
    "Callback", "EvalCadence", "ModelConfig", "RunPlan", "Shapes", "StepTimer", "TrainArgs", "TrainOptions",
    "Trainer", "classifier_shapes", "lm_shapes", "resolve_precision",
]

PathLike = str | os.PathLike[str]


def build_vocab(corpus: PathLike | Sequence[PathLike], level: str = "word", split: str = "punct",
                lowercase: bool = False, min_freq: int = 1, max_size: int | None = None,
                vocab_size: int | None = None, encoding: str = "utf-8", errors: str = "strict") -> Vocab:
    """A vocabulary built from corpus files, as ``rnncli build-vocab``; ``.save(path)`` writes it."""
    options = VocabOptions(level=level, split=split, lowercase=lowercase, min_freq=min_freq, max_size=max_size,
                           vocab_size=vocab_size, encoding=encoding, errors=errors)
    return build_vocabulary(_paths(corpus), options).vocab


def train(corpus: PathLike | Sequence[PathLike] | None, output: PathLike | None = None,
          report: Callable[[str], None] | None = None, callbacks: Sequence[Callback] = (), **options: Any) -> "Run":
    """Train as ``rnncli train CORPUS -o OUTPUT [options]`` does and return the trained run
    (without ``output``, in a new directory under ``runs/``).

    ``report`` receives the lines the CLI prints on stderr (none by default); ``callbacks`` are
    called by the training loop (see :class:`rnncli.training.Callback`).
    """
    from rnncli.execute import train as execute

    values = {"corpus": _paths(corpus)} if corpus else {}
    values.update({k: os.fspath(v) if isinstance(v, os.PathLike) else v for k, v in options.items()})
    if output is not None:
        values["output"] = os.fspath(output)
    result = execute(TrainArgs.of(**values), report or (lambda message: None), callbacks)
    return load(result.path)


def describe(path: PathLike) -> dict[str, Any]:
    """What ``rnncli info --json`` prints: task, model, parameters, vocabulary, plan, progress, best
    and last metrics, files."""
    from rnncli.runinfo import describe as run_facts

    return run_facts(os.fspath(path))


def load(path: PathLike, weights: str = "best", device: str = DEVICE_DEFAULT, threads: int | None = None) -> "Run":
    """A trained run directory, ready to generate, classify or evaluate, served by torch on
    ``device`` (the commands' default: the best there is)."""
    set_threads(threads)
    target = resolve_device(device)
    return Run(load_run(path, weights), target)


class Run:
    """A trained run: its plan (``config.plan``), vocabulary, model, metrics, and what it can do,
    served by its task's torch engine (``engine``, :mod:`rnncli.infer.engine`)."""

    def __init__(self, loaded: LoadedRun, device: torch.device) -> None:
        from rnncli.tasks import task

        self.loaded, self.device = loaded, device
        self.model = loaded.model.to(device)
        self.engine = task(loaded.config.task).part("engine")(loaded, device)

    @property
    def path(self) -> str:
        return str(self.loaded.run.path)

    @property
    def config(self) -> Any:
        return self.loaded.config

    @property
    def task(self) -> str:
        return str(self.loaded.config.task)

    @property
    def vocab(self) -> Vocab:
        return self.loaded.vocab

    @property
    def labels(self) -> list[str]:
        return list(self.loaded.config.labels)

    @property
    def metrics(self) -> list[dict[str, Any]]:
        return RunDir(self.path).read_metrics()

    def generate(self, prompt: str = "", max_tokens: int = 300, temperature: float = 0.8, top_k: int | None = None,
                 top_p: float = 1.0, seed: int | None = None, num_samples: int = 1, stop_at_eos: bool = False,
                 beam: int | None = None, best_of: int | None = None, length_penalty: float = 1.0,
                 cache: str = "none") -> list[str]:
        """Continuations of ``prompt`` (without it), as ``rnncli generate``: one per sample, or with
        ``beam`` (beam search) or ``best_of`` (the most likely of N samples) the one found; ``cache``
        (unigram, neural, auto) samples from the network mixed with that cache."""
        from rnncli.infer.caches import sampling_model
        from rnncli.infer.sampling import SamplingOptions
        from rnncli.infer.search import Search, generations

        self.require("lm")
        options = SamplingOptions(max_tokens, temperature, top_k, top_p, seed, stop_at_eos).check()
        search = Search(beam, best_of, length_penalty).check(num_samples)
        model = sampling_model(self.engine, cache)
        return [text for text, _, _ in generations(model, self.vocab, prompt, options, search, num_samples)]

    def tag(self, sentences: Iterable[str | Sequence[str]], batch_size: int = INFERENCE_BATCH) -> list[list[tuple[str, str]]]:
        """(token, tag) pairs of each sentence, as ``rnncli tag``: a sentence is a list of tokens,
        or a string of whitespace-separated tokens."""
        self.require("tag")
        tokens = [s.split() if isinstance(s, str) else list(s) for s in sentences]
        return [[(t, tag) for t, (tag, _, _) in zip(words, tagged)]
                for words, tagged in zip(tokens, self.engine.tag(tokens, batch_size))]

    def translate(self, sources: Iterable[str], beam: int = 1, length_penalty: float = 1.0,
                  max_length_ratio: float = 2.0, batch_size: int | None = None) -> list[str]:
        """The translation of each source sentence, as ``rnncli translate``: greedy, or beam search
        with ``beam`` beams ranked by total log-probability / length ** ``length_penalty``."""
        self.require("seq2seq")
        sizes = {} if batch_size is None else {"batch_size": batch_size}
        return [t.text for t in self.engine.translate(list(sources), beam, length_penalty, max_length_ratio, **sizes)]

    @property
    def threshold(self) -> float | np.ndarray:
        """A multi-label classifier's decision threshold, the one its best checkpoint was chosen at,
        or one per label (in the order of ``labels``) where validation chose them so."""
        return self.engine.thresholds()  # type: ignore[no-any-return]

    def classify(self, texts: Iterable[str], top: int | None = None, threshold: float | None = None,
                 batch_size: int = INFERENCE_BATCH) -> list[list[tuple[str, float]]]:
        """The ``top`` most likely labels of each text with their probabilities (those at or above
        ``threshold`` only), as ``rnncli classify``; an empty text gets no label. A multi-label
        classifier gives every label at or above its threshold (``top`` caps them)."""
        from rnncli.tasks.classification.inference import classify

        self.require("classify")
        return classify(self.engine, list(texts), top, threshold, batch_size)

    @property
    def unigram_cache(self) -> Any:
        """A language model's unigram cache (:mod:`rnncli.unigram_cache`), fitted on validation
        when training ended; None when it did not help or was never fitted."""
        return getattr(self.engine, "unigram_cache", None)

    @property
    def neural_cache(self) -> Any:
        """A language model's neural cache (:mod:`rnncli.neural_cache`), fitted on validation when
        training ended (``chosen`` when it read best there); None when no fit gained."""
        return getattr(self.engine, "neural_cache", None)

    def evaluate(self, data: PathLike, encoding: str = "utf-8", errors: str = "strict", text_column: str = "text",
                 label_column: str = "label", warn: Callable[[str], None] = lambda message: None,
                 k: int | None = None, cache: str = "auto", tag_column: str | None = None,
                 beam: int | None = None) -> dict[str, Any]:
        """Held-out figures, as ``rnncli evaluate --json``: loss, ppl, bpc (language model, read
        with the cache its validation chose; ``cache`` none, unigram or neural asks for one), accuracy, macro-F1, per-label
        figures and the confusion matrix (classifier), or token accuracy, unseen-word accuracy,
        per-tag and entity figures (tagger)."""
        from rnncli.infer.evaluation import EvaluateOptions, evaluate

        options = EvaluateOptions(encoding, errors, text_column, label_column, k, cache, warn, tag_column, beam)
        return evaluate(self.engine, os.fspath(data), options)

    def inspect(self, text: str, find: Sequence[str] = (), units: Sequence[str] = (), max_chars: int = 10_000,
                top: int = 5) -> Any:
        """What the run does with ``text`` (:class:`rnncli.inside.report.Inspection`), as ``rnncli
        inspect`` shows it; ``rnncli.inside.report.html_of`` (or ``rows_of``, ``png_of``) writes it."""
        from rnncli.inside.report import InspectOptions, check_run, inspect

        options = InspectOptions(tuple(find), tuple(units), max_chars, top).check()
        shape = check_run(self.config, options, text)
        return inspect(self.task, self, text, options, f"rnncli inspect: {self.path}", shape)

    def network(self) -> tuple[Any, Vocab]:
        """The torch model and its vocabulary (what ``inspect`` reads of a language model)."""
        return self.model, self.vocab

    def open_engine(self) -> Any:
        """The engine that serves the run (what ``inspect`` reads of the other tasks)."""
        return self.engine

    def embed(self, texts: Iterable[str], batch_size: int = INFERENCE_BATCH) -> np.ndarray:
        """One vector per text: a classifier's pooled encoder state (what its output layer reads), a
        language model's top-layer state after the text (read after ``<eos>``, as training reads it)."""
        from rnncli.tasks import task as task_spec

        if not hasattr(self.engine, "embed"):
            raise InputError(f"{self.path} holds a {task_spec(self.task).title}, whose vectors are per token: embed reads language "
                             "models and classifiers (--words prints any run's word vectors)")
        return self.engine.embed(list(texts), batch_size)  # type: ignore[no-any-return]

    def word_vectors(self) -> tuple[list[str], np.ndarray]:
        """The vocabulary's tokens and the rows of the input embedding."""
        from rnncli.models import embedding_table

        table = embedding_table(self.model).detach().float().cpu().numpy()[: len(self.vocab)]
        return list(self.vocab.tokens), table

    def neighbours(self, token: str, k: int = 10) -> list[tuple[str, float]]:
        """The ``k`` tokens whose embeddings are nearest to ``token``'s (cosine), nearest first."""
        tokens, table = self.word_vectors()
        if token not in tokens:
            raise InputError(f"{token!r} is not in the vocabulary of {self.path}")
        norms = np.linalg.norm(table, axis=1)
        at = tokens.index(token)
        cosine = table @ table[at] / np.maximum(norms * norms[at], 1e-12)
        cosine[at] = -np.inf
        order = np.argsort(-cosine, kind="stable")
        return [(tokens[i], float(cosine[i])) for i in order[:k] if np.isfinite(cosine[i]) and tokens[i][:1] != "<"]

    def require(self, task: str) -> None:
        """Refuse a run of another task than ``task`` (a name of :mod:`rnncli.tasks`)."""
        from rnncli.tasks import require

        require(self.task, task, self.path)


def _paths(corpus: PathLike | Sequence[PathLike] | None) -> list[str]:
    if corpus is None:
        return []
    if isinstance(corpus, (str, os.PathLike)):
        return [os.fspath(corpus)]
    return [os.fspath(p) for p in corpus]
