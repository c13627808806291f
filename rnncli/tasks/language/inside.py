"""What ``rnncli inspect`` shows of a language model (:mod:`rnncli.inside.report`): each token
coloured by a unit's activation (any layer's hidden state, or the LSTM's cell) or by its
surprisal, the top next-token guesses after it; ``--find`` ranks every unit by its correlation
with a feature of the text and the page opens on the best."""

from __future__ import annotations

from typing import Any

import numpy as np

from rnncli.errors import ConfigError, InputError
from rnncli.inside.features import Unit, best_units, feature_of
from rnncli.inside.report import Inspection, InspectOptions, Say, Source, parse_unit

FINDS_UNITS = True  # --find ranks this task's units
FOUND_PER_FEATURE = 3  # the best units kept per feature


def read(source: Source, text: str, options: InspectOptions, title: str, shape: str, say: Say) -> Inspection:
    """The network (torch: its units are inside it) read over ``text``: the units --find ranks,
    and those a page carries."""
    from rnncli.inside.lm import trace

    model, vocab = source.network()
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


def html(found: Inspection) -> str:
    from rnncli.inside.page import lm_page

    return lm_page(found.trace, found.title, found.meta, found.notice, found.found, found.shown)


def rows(found: Inspection) -> list[dict[str, Any]]:
    """One JSON object per token."""
    t = found.trace
    columns = {u.name: t.units[f"{u.kind}{u.layer}"][:, u.index] for u in found.shown}
    return [{"i": i, "token": piece, "surprisal_bits": round(float(t.surprisal[i]), 4),
             "guesses": [[g, p] for g, p in t.guesses[i]],
             "units": {name: round(float(v[i]), 5) for name, v in columns.items()}}
            for i, piece in enumerate(t.pieces)]


def png(found: Inspection, path: str) -> None:
    """The text coloured by the best unit found, else by surprisal."""
    from rnncli.inside.picture import coloured_text, heat, signed

    t = found.trace
    if found.found:
        unit = found.found[0][1]
        values = t.units[f"{unit.kind}{unit.layer}"][:, unit.index]
        scale, what = float(np.max(np.abs(values))) or 1.0, f"unit {unit.name} ({found.found[0][0]}, r "
        lines = [[(p, signed(v / scale)) for p, v in zip(t.pieces, values)]]
        what += f"{found.found[0][2]:+.2f})"
    else:
        top = float(np.max(t.surprisal)) or 1.0
        lines, what = [[(p, heat(s / top)) for p, s in zip(t.pieces, t.surprisal)]], "surprisal"
    coloured_text(lines, path, f"{found.title}: coloured by {what}")
