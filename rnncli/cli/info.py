"""info: what a run is and how far it got, without opening its JSON files."""

from __future__ import annotations

import json
from typing import Any

from rnncli.cli.app import INSPECT, command
from rnncli.cli.common import open_output
from rnncli.cli.declare import declared
from rnncli.infer.options import InfoArgs
from rnncli.models.config import CNN_WIDTHS, ModelConfig

METRICS = ("val_loss", "val_ppl", "val_bpc", "accuracy", "macro_f1", "entity_f1", "bleu")


COUNTED = {"ngram": "counted (Kneser-Ney discounts per order)",
           "hmm": "counted (transitions interpolated by deleted interpolation, suffixes for unseen words)"}


def _info(args: InfoArgs) -> None:
    """A run's task, model, parameters, vocabulary, plan, progress, best and last metrics, files."""
    from rnncli.api import describe

    facts = describe(args.run)
    with open_output(None) as out:
        out.write(json.dumps(facts) + "\n" if args.as_json else "".join(f"{k:<12} {v}\n" for k, v in _lines(facts)))


def _lines(facts: dict[str, Any]) -> list[tuple[str, str]]:
    model, plan = facts["model"], facts["plan"]
    from rnncli.tasks import task

    labels = f" of {len(facts['labels'])} labels" if facts.get("labels") else ""
    kind = task(facts["task"]).title + labels
    layers = f"hidden {model['hidden']} x {model['layers']} layer{'s' if model['layers'] > 1 else ''}"
    if model["kind"] == "cnn":
        layers = f"{model['hidden']} filters of each width {', '.join(map(str, CNN_WIDTHS))}, max over time"
    head = f"adaptive softmax {model['cutoffs']}" if model.get("cutoffs") else (
        "bidirectional" if model.get("bidirectional") else "")
    if facts["task"] == "seq2seq":
        head = f"bidirectional encoder, {model['attention']} attention"
    target = facts.get("target_vocabulary")
    vocabulary = f"{facts['vocabulary']['level']}, {facts['vocabulary']['size']:,} tokens" + (
        f"; target side {target['level']}, {target['size']:,} tokens" if target else "")
    data, loop, machine = plan["data"], plan["loop"], plan["machine"]
    batch = f"batch {data['batch_size']}" + (f" x bptt {data['bptt']}" if data.get("bptt") else "")
    budget = f", time budget {loop['time_budget']:g}s" if loop.get("time_budget") else ""
    stop = f", patience {loop['patience']}" if loop.get("patience") else ""
    stop += ", weights averaged from the first stall (--average)" if loop.get("average") else ""
    processes = f", {machine['world']} processes" if machine["world"] > 1 else ""
    seen = ", ".join(f"{v:,} {k.removesuffix('_seen')}" for k, v in facts["seen"].items())
    given = " ".join(_flag(k, plan["args"][k]) for k in plan["given"]) or "(none: every choice planned)"
    rows = [("run", facts["path"]), ("task", f"{model['kind']} {kind}"),
            ("parameters", f"{facts['parameters']:,}" if facts["parameters"] is not None else "no checkpoint yet"),
            ("vocabulary", vocabulary),
            ("model", f"order {model['order']}, counted" if model["kind"] in COUNTED else
             ", ".join(x for x in (f"embed {model['embed']}", layers, ModelConfig.from_json(model).dropout_summary(),
                                   head) if x)),
            ("training", COUNTED[model["kind"]] if model["kind"] in COUNTED else
             f"{batch}, lr {loop['lr']:g}{budget}{stop}, seed {loop['seed']}"),
            ("machine", f"{machine['device']}, {machine['precision']}, {machine['threads']} threads{processes}"),
            ("given", given),
            ("progress", f"step {facts['steps']:,}, epoch {facts['epochs']:.2f}, {facts['train_seconds']:.0f}s"
             + (f", {seen} seen" if seen else "")),
            ("best", _metrics(facts["best"])), ("last", _metrics(facts["last"]))]
    if facts["labels"]:
        rows.insert(2, ("labels", ", ".join(facts["labels"])))
    rows += _cache_rows(facts)
    rows.append(("files", ", ".join(f"{name} {_size(n)}" for name, n in facts["files"].items())))
    rows.append(("onnx", {"current": f"{facts['path']}/onnx, current", "stale": "stale (made from an older "
                          "checkpoint; the next inference call renews it)"}.get(facts["onnx"], "not exported")))
    return rows


def _cache_rows(facts: dict[str, Any]) -> list[tuple[str, str]]:
    rows = []
    cache = facts["unigram_cache"]
    if cache is not None:
        rows.append(("unigram cache", "none (it did not lower the validation loss)" if not cache.get("weight") else
                     f"window {cache['window']:,}, weight {cache['weight']:g}: validation loss "
                     f"{cache['valid_loss_network']:.4f} -> {cache['valid_loss']:.4f}"))
    neural = facts["neural_cache"]
    if neural is not None:
        rows.append(("neural cache", "none (no fit lowered the validation loss)" if not neural.get("weight") else
                     f"window {neural['window']:,}, theta {neural['theta']:g}, weight {neural['weight']:g}: validation "
                     f"loss {neural['valid_loss_network']:.4f} -> {neural['valid_loss']:.4f} on its first "
                     f"{neural['valid_tokens']:,} tokens; " + ("chosen" if neural.get("chosen") else
                                                                "not chosen (the unigram cache reads as well)")))
    return rows


def _flag(name: str, value: Any) -> str:
    option = "--" + name.replace("_", "-")
    if name == "corpus":
        return " ".join(value)
    return option if value is True else f"{option} {value}"


def _metrics(record: dict[str, Any] | None) -> str:
    if not record:
        return "no evaluation yet"
    shown = [f"{k} {record[k]:.4f}" for k in METRICS if isinstance(record.get(k), (int, float))]
    return f"step {record['step']:,}: " + (", ".join(shown) or "no validation figures")


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"


info = command("info", INSPECT)(declared(InfoArgs, _info))
