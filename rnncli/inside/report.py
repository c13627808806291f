"""``rnncli inspect``: what a trained run does with a text, as a page, a picture or numbers.

- language model: each token coloured by a unit's activation (any layer's hidden state, or the
  LSTM's cell) or by its surprisal, the top next-token guesses after it; ``find`` ranks every unit
  by its correlation with a feature of the text (quotes, line position, bracket depth, or one the
  user gives) and the page opens on the best;
- classifier: each token coloured by its effect on the predicted label (occlusion), and the
  tokens that raise each label most over all the texts;
- tagger: each token's tag and how sure the tagger is; translation: the attention alignment.

The language model is read by torch (its units are inside the network); the other tasks through
whichever engine serves the run (the ONNX export without torch, when it is current).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from rnncli.errors import ConfigError, InputError
from rnncli.inside.features import Unit, best_units, feature_of
from rnncli.inside.options import MAX_CHARS

FOUND_PER_FEATURE = 3
Say = Callable[[str], None]


@dataclass(frozen=True)
class InspectOptions:
    find: tuple[str, ...] = ()  # features to rank the units by (language models)
    units: tuple[str, ...] = ()  # units to carry besides the found ones, as h2:17 or c1:5
    max_chars: int = MAX_CHARS
    top: int = 5  # next-token guesses per position; tags per token

    def check(self) -> "InspectOptions":
        if self.max_chars < 1:
            raise ConfigError("--max-chars must be at least 1")
        if not 1 <= self.top <= 50:
            raise ConfigError("--top must be between 1 and 50")
        for name in self.units:
            parse_unit(name)
        return self


@dataclass
class Inspection:
    """What a run showed, ready for any format."""

    task: str
    title: str
    meta: str
    notice: str = ""
    trace: Any = None  # language model: rnncli.inside.lm.LMTrace
    found: list[tuple[str, Unit, float]] = field(default_factory=list)
    shown: list[Unit] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    evidence: list[Any] = field(default_factory=list)  # classifier: rnncli.inside.evidence.Evidence
    tagged: list[list[tuple[str, str, float, list[tuple[str, float]]]]] = field(default_factory=list)
    alignments: list[tuple[list[str], list[str], np.ndarray]] = field(default_factory=list)


def parse_unit(name: str) -> Unit:
    """``h2:17`` (layer 2's hidden unit 17) or ``c1:5`` (layer 1's LSTM cell 5)."""
    kind, _, index = name.partition(":")
    if len(kind) < 2 or kind[0] not in "hc" or not kind[1:].isdigit() or not index.isdigit() or int(kind[1:]) < 1:
        raise ConfigError(f"--unit takes a unit as h2:17 (hidden state) or c1:5 (LSTM cell), not {name!r}")
    return Unit(kind[0], int(kind[1:]), int(index))


def check_run(config: Any, options: InspectOptions, text: str) -> str:
    """What inspect refuses (an empty text; a counted model; --find on a run that is not a language
    model); the model's shape in words."""
    if not text.strip():
        raise InputError("nothing to inspect: the text is empty")
    if config.model.kind in ("ngram", "hmm"):
        raise ConfigError(f"a {config.model.kind} run is counted, not a network: there is nothing inside to show")
    if options.find and config.task != "lm":
        raise ConfigError("--find ranks a language model's units; this run is a " + config.task + " run")
    m = config.model
    return f"{m.kind}, hidden {m.hidden} x {m.layers}" if m.kind != "cnn" else "cnn, Kim's filters of widths 3, 4, 5"


def language_model(model: Any, vocab: Any, text: str, options: InspectOptions, title: str, shape: str,
                   say: Say = lambda m: None) -> Inspection:
    """A language model's network (torch) read over ``text``: the units --find ranks, and those a
    page carries."""
    from rnncli.inside.lm import trace

    trace_ = trace(model.cpu(), vocab, text, options.max_chars, options.top)
    if not trace_.pieces:
        raise InputError("nothing to inspect: the text has no tokens")
    found = []
    for name in options.find:
        label, per_char = feature_of(name, trace_.text)
        per_token = trace_.per_token(per_char)
        if np.ptp(per_token) == 0:
            say(f"{label}: the same value at every token of this text (none of it has the feature, or all): "
                "no unit can follow it")
            continue
        for unit, r in best_units(trace_.units, per_token, FOUND_PER_FEATURE):
            found.append((label, unit, r))
    for label in dict.fromkeys(f[0] for f in found):
        best = next(f for f in found if f[0] == label)
        say(f"{label}: best unit {best[1].name}, r {best[2]:+.3f}"
            + ("" if abs(best[2]) >= 0.5 else " (no unit reaches |r| 0.5 on this text)"))
    shown = _shown_units(trace_, [f[1] for f in found] + [parse_unit(u) for u in options.units])
    bits = float(np.mean(trace_.surprisal))
    meta = (f"{shape}, {vocab.level} vocabulary of {len(vocab):,}; {len(trace_.pieces):,} tokens, "
            f"{bits:.3f} bits per token")
    notice = (f"the text was cut at the line where {options.max_chars:,} characters end: {trace_.cut:,} characters "
              "are not shown (--max-chars)") if trace_.cut else ""
    return Inspection("lm", title, meta, notice, trace=trace_, found=found, shown=shown)


def _shown_units(trace: Any, wanted: list[Unit]) -> list[Unit]:
    """The units a page carries: those asked for or found, then the most variable of each array in
    turn, up to the page's limit."""
    from rnncli.inside.page import MAX_UNITS

    shown: list[Unit] = []
    for unit in wanted:
        values = trace.units.get(f"{unit.kind}{unit.layer}")
        if values is None or unit.index >= values.shape[1]:
            raise ConfigError(f"--unit {unit.name}: this model has no such unit (arrays: {', '.join(trace.units)}, "
                              f"{next(iter(trace.units.values())).shape[1]} units each)")
        if unit not in shown:
            shown.append(unit)
    ranked = {key: list(np.argsort(-values.std(0))) for key, values in trace.units.items()}
    while len(shown) < MAX_UNITS and any(ranked.values()):
        for key, order in ranked.items():
            if order and len(shown) < MAX_UNITS:
                unit = Unit(key[0], int(key[1:]), int(order.pop(0)))
                if unit not in shown:
                    shown.append(unit)
    return shown


def through_engine(engine: Any, task: str, text: str, options: InspectOptions, title: str, shape: str) -> Inspection:
    """A classifier's, tagger's or translation model's answers to each line of ``text``, from any
    engine that serves the run (torch or its ONNX export)."""
    lines, cut = _lines(text, options.max_chars)
    notice = (f"the input was cut after {len(lines):,} lines: {cut:,} characters are not shown (--max-chars)"
              if cut else "")
    meta = f"{shape}, {engine.vocab.level} vocabulary of {len(engine.vocab):,}; {len(lines):,} lines"
    found = Inspection(task, title, meta, notice)
    if task == "classify":
        from rnncli.inside.evidence import occlusion

        found.labels = list(engine.labels)
        found.evidence = occlusion(engine, _unlabelled(lines, found.labels))
        found.meta += "; evidence by occlusion (each token taken out in turn)"
    elif task == "tag":
        from rnncli.infer.batching import INFERENCE_BATCH

        sentences = [line.split() for line in lines]
        found.tagged = [[(token, tag, p, top) for token, (tag, p, top) in zip(words, tags)]
                        for words, tags in zip(sentences, engine.tag(sentences, INFERENCE_BATCH, top=options.top))]
    else:
        for t in engine.translate(lines, attention=True):
            if t.attention is not None:
                found.alignments.append((engine.vocab.pieces(t.source_ids),
                                         engine.target_vocab.pieces(t.ids) + ["<eos>"], t.attention))
    return found


def _lines(text: str, max_chars: int) -> tuple[list[str], int]:
    """The non-empty lines of ``text`` up to ``max_chars`` characters, and the characters left out."""
    lines, used = [], 0
    for line in text.splitlines():
        if used + len(line) > max_chars and lines:
            break
        used += len(line) + 1
        if line.strip():
            lines.append(line[:max_chars])
    return lines, max(0, len(text) - used)


def _unlabelled(lines: list[str], labels: list[str]) -> list[str]:
    """Texts from lines, without a leading ``label<TAB>`` where every line has one of the run's
    labels there (a labelled test file read as it is)."""
    known = set(labels)
    if lines and all("\t" in line and line.split("\t", 1)[0] in known for line in lines):
        return [line.split("\t", 1)[1] for line in lines]
    return lines


# ----- formats ---------------------------------------------------------------------------------

def html_of(found: Inspection) -> str:
    """The page (rnncli.inside.page)."""
    from rnncli.inside import page

    if found.task == "lm":
        return page.lm_page(found.trace, found.title, found.meta, found.notice, found.found, found.shown)
    if found.task == "classify":
        from rnncli.inside.evidence import strongest_tokens

        least = 5 if len(found.evidence) >= 50 else 1  # a few texts: every token they hold
        strongest = {label: strongest_tokens(found.evidence, k, 10, least) for k, label in enumerate(found.labels)}
        return page.classifier_page(found.evidence, found.labels, found.title, found.meta, found.notice, strongest)
    if found.task == "tag":
        return page.tagger_page(found.tagged, found.title, found.meta, found.notice)
    return page.alignment_page(found.alignments, found.title, found.meta, found.notice)


def rows_of(found: Inspection) -> list[dict[str, Any]]:
    """The numbers, one JSON object per token (language model) or per line (other tasks)."""
    if found.task == "lm":
        t = found.trace
        columns = {u.name: t.units[f"{u.kind}{u.layer}"][:, u.index] for u in found.shown}
        return [{"i": i, "token": piece, "surprisal_bits": round(float(t.surprisal[i]), 4),
                 "guesses": [[g, p] for g, p in t.guesses[i]],
                 "units": {name: round(float(v[i]), 5) for name, v in columns.items()}}
                for i, piece in enumerate(t.pieces)]
    if found.task == "classify":
        return [e.to_json(found.labels) for e in found.evidence]
    if found.task == "tag":
        return [{"tokens": [w for w, _, _, _ in s], "tags": [g for _, g, _, _ in s],
                 "probs": [round(p, 6) for _, _, p, _ in s]} for s in found.tagged]
    return [{"source_tokens": s, "target_tokens": t, "attention": np.round(a, 5).tolist()}
            for s, t, a in found.alignments]


def png_of(found: Inspection, path: str) -> None:
    """The picture: the page's coloured text (its first lines), or the first alignment."""
    from rnncli.inside.picture import coloured_text, heat, signed

    if found.task == "seq2seq":
        from rnncli.plots import plot_alignment

        if not found.alignments:
            raise InputError("no translation to draw")
        source, target, weights = found.alignments[0]
        plot_alignment(source, target, weights, path)
        return
    if found.task == "lm":
        t = found.trace
        if found.found:
            unit = found.found[0][1]
            values = t.units[f"{unit.kind}{unit.layer}"][:, unit.index]
            scale, what = float(np.max(np.abs(values))) or 1.0, f"unit {unit.name} ({found.found[0][0]}, r "
            rows = [[(p, signed(v / scale)) for p, v in zip(t.pieces, values)]]
            what += f"{found.found[0][2]:+.2f})"
        else:
            top = float(np.max(t.surprisal)) or 1.0
            rows, what = [[(p, heat(s / top)) for p, s in zip(t.pieces, t.surprisal)]], "surprisal"
        coloured_text(rows, path, f"{found.title}: coloured by {what}")
    elif found.task == "classify":
        top = max([float(np.max(np.abs(e.effects))) for e in found.evidence if e.effects.size] + [1e-6])
        rows = [[(f"{found.labels[int(np.argmax(e.probs))]}: ", (0, 0, 0, 0))]
                + [(p + " ", signed(v / top)) for p, v in zip(e.pieces, e.effects[:, int(np.argmax(e.probs))])]
                for e in found.evidence]
        coloured_text(rows, path, f"{found.title}: each token's effect on the predicted label (occlusion)")
    else:
        rows = [[(f"{w}/{g} ", heat(1 - p)) for w, g, p, _ in s] for s in found.tagged]
        coloured_text(rows, path, f"{found.title}: tags, warmer where the tagger is less sure")
