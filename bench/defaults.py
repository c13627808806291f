"""The validation figures behind rnncli's defaults (docs/defaults.md), one command per rule.

    python bench/defaults.py parity             # rnncli beside the plain loop, same shapes and steps
    python bench/defaults.py classifier-level   # word vs bpe vocabularies for classifiers
    python bench/defaults.py char-size          # the budget rule for character models, fp32 and bf16
    python bench/defaults.py char-window        # the truncation window of character models, three corpora
    python bench/defaults.py char-optimiser     # weight decay and learning rate of character models, three corpora
    python bench/defaults.py word-dropout       # dropout for word models on War and Peace
    python bench/defaults.py word-embed         # embedding width for word models on War and Peace
    python bench/defaults.py word-shape         # batch, window, embedding and schedule cycle of word models
    python bench/defaults.py tagger [--budget S] # the tagger's shapes on UD LinES dev
    python bench/defaults.py tagger-crf [--budget S] # --crf against the softmax on its noun chunks (BIO)
    python bench/defaults.py encoder-dropout [--budget S] # words dropped and DropConnect in taggers and translation

Every figure is a validation figure: classifiers hold out rnncli's own stratified tenth of the
training file (the test files are never read); language models use the corpus's validation split.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import DATA, ROOT, rnncli

SAMPLE = ROOT / "sample_data"


def _best(run: Path, key: str, higher: bool = True) -> float:
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    values = [r[key] for r in records if r.get(key) is not None]
    return max(values) if higher else min(values)


def parity(work: Path) -> None:
    """tinyshakespeare, hidden 256, batch 32 x 100, 300 steps, fp32 on both sides."""
    sys.path.insert(0, str(ROOT))
    from tests import test_parity

    d = DATA / "tinyshakespeare"
    shapes = {"embed": 64, "hidden": 256, "batch_size": 32, "bptt": 100, "lr": 4e-3}
    test_parity.SHAPES = shapes
    print("same shapes and steps (tinyshakespeare, 300 steps): validation nats/char")
    for seed in (0, 1):
        plain = test_parity.plain_loop((d / "train.txt").read_text(), (d / "valid.txt").read_text(), 300, seed)
        run = work / f"parity{seed}"
        rnncli("train", str(d / "train.txt"), "--valid", str(d / "valid.txt"), "--level", "char", "--max-steps", "300",
               "--dropout", "0", "--precision", "fp32", "--eval-every", "1000000", "--seed", str(seed), "-o", str(run),
               "-q", *(f"--{k.replace('_', '-')}={v}" for k, v in shapes.items()), check=True)
        print(f"  seed {seed}: plain loop {plain:.4f}, rnncli {_best(run, 'val_loss', False):.4f}")


def classifier_level(work: Path) -> None:
    corpora = {"sms_spam": DATA / "sms_spam" / "train.tsv", "topics (sample)": SAMPLE / "topics.tsv",
               "word-order (sample)": SAMPLE / "word-order.tsv"}
    print("classifier vocabulary level: best validation macro-F1 (held-out tenth), LSTM, --time-budget 60")
    for name, path in corpora.items():
        if not path.is_file():
            print(f"  {name}: skipped, {path} absent")
            continue
        scores = {}
        for level in ("word", "bpe"):
            run = work / f"{path.stem}-{level}"
            rnncli("train", str(path), "--task", "classify", "--level", level, "--time-budget", "60", "-o", str(run),
                   "-q", check=True)
            scores[level] = _best(run, "macro_f1")
        print(f"  {name}: word {scores['word']:.4f}, bpe {scores['bpe']:.4f}")


def char_size(work: Path) -> None:
    d = DATA / "tinyshakespeare"
    print("character models, tinyshakespeare, --time-budget 120: validation nats/char")
    for precision, hidden in (("fp32", None), ("fp32", "512"), ("bf16", None), ("bf16", "384")):
        run = work / f"ts-{precision}-{hidden}"
        options = ["--hidden", hidden] if hidden else []
        done = rnncli("train", str(d / "train.txt"), "--valid", str(d / "valid.txt"), "--level", "char",
                      "--time-budget", "120", "--precision", precision, "-o", str(run), *options, text=True)
        chosen = json.loads((run / "config.json").read_text())["model"]["hidden"]
        note = next((line for line in done.stderr.splitlines() if "tokens per parameter" in line), "")
        print(f"  {precision} hidden {hidden or f'default ({chosen})'}: {_best(run, 'val_loss', False):.4f}  {note}")


def _char_corpora(work: Path) -> dict[str, Path]:
    """The three character corpora of the rules below: folders with train.txt and valid.txt."""
    from stopping import CORPORA, assemble

    docs = assemble(next(iter(CORPORA.values())), work / "docs")
    corpora = {"tinyshakespeare": DATA / "tinyshakespeare", "War and Peace": DATA / "warpeace"}
    if docs:
        corpora["perl pods + rust release notes"] = docs["train"].parent
    return corpora


def _char_loss(d: Path, run: Path, seed: int, options: list[str]) -> float:
    """A character LSTM trained 120 s on ``d``'s train.txt with ``options``: its best validation loss."""
    rnncli("train", str(d / "train.txt"), "--valid", str(d / "valid.txt"), "--level", "char", "--model", "lstm",
           "--time-budget", "120", "--seed", str(seed), "-o", str(run), "-q", *options, check=True)
    return _best(run, "val_loss", False)


def char_window(work: Path) -> None:
    """Truncation window (--bptt) of character models: 50 (the default) against 100 and 25,
    --time-budget 120, on three corpora; tinyshakespeare in both precisions, seeds 0 and 1."""
    corpora = _char_corpora(work)
    cases = [("tinyshakespeare", precision, seed, windows) for precision in ("fp32", "bf16") for seed in (0, 1)
             for windows in [("50", "100", "25") if precision == "fp32" else ("50", "100")]]
    cases += [(name, "fp32", 0, ("50", "100")) for name in list(corpora)[1:]]
    print("character models, --time-budget 120: validation nats/char by --bptt")
    for name, precision, seed, windows in cases:
        d, scores = corpora[name], []
        for window in windows:
            loss = _char_loss(d, work / f"window-{name[:5]}-{precision}-{seed}-{window}", seed,
                              ["--precision", precision, "--bptt", window])
            scores.append(f"{window}: {loss:.4f}")
        print(f"  {name}, {precision}, seed {seed}: " + ", ".join(scores))


def char_optimiser(work: Path) -> None:
    """AdamW's weight decay and peak learning rate of character models: the defaults (0.1, 6e-3)
    against the values before them (0.01, 4e-3), each alone and both, --time-budget 120, on three
    corpora, seeds 0 and 1; the order turns from seed to seed, because the machine's speed drifts."""
    variants = {"defaults": [], "decay 0.01": ["--weight-decay", "0.01"], "lr 4e-3": ["--lr", "4e-3"],
                "both before": ["--weight-decay", "0.01", "--lr", "4e-3"]}
    names = list(variants)
    print("character models, --time-budget 120: validation nats/char (best checkpoint) by optimiser setting")
    for corpus, d in _char_corpora(work).items():
        for seed in (0, 1):
            scores = {}
            for name in names[seed:] + names[:seed]:
                loss = _char_loss(d, work / f"optimiser-{corpus[:5]}-{seed}-{name.replace(' ', '-')}", seed,
                                  variants[name])
                scores[name] = f"{name}: {loss:.4f}"
            print(f"  {corpus}, seed {seed}: " + ", ".join(scores[name] for name in names), flush=True)


def _war_and_peace(work: Path, option: str, values: tuple[str, ...]) -> None:
    """War and Peace words (vocabulary from all splits), --time-budget 444, one run per value."""
    d = DATA / "warpeace"
    vocab = work / "wp.json"
    rnncli("build-vocab", str(d / "train.txt"), str(d / "valid.txt"), str(d / "test.txt"), "--level", "word",
           "--split", "whitespace", "-o", str(vocab), "-q", check=True)
    print(f"War and Peace words, --time-budget 444: best validation perplexity by {option}")
    for value in values:
        run = work / f"wp-{option.strip('-')}-{value}"
        rnncli("train", str(d / "train.txt"), "--valid", str(d / "valid.txt"), "--vocab", str(vocab),
               "--time-budget", "444", option, value, "-o", str(run), "-q", check=True)
        last = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])
        print(f"  {option} {value}: {_best(run, 'val_ppl', False):.1f}  ({last['tokens_per_sec']:,.0f} tokens/s, "
              f"{last['epoch']:.1f} passes)")


def word_dropout(work: Path) -> None:
    _war_and_peace(work, "--dropout", ("0.0", "0.3", "0.5"))


def word_embed(work: Path) -> None:
    _war_and_peace(work, "--embed", tuple(sys.argv[sys.argv.index("--values") + 1].split(","))
                   if "--values" in sys.argv else ("512", "256", "128"))


WORD_SHAPES = {  # name -> (train options, schedule cycle in passes): each one change from the defaults
    "defaults (32 x 35, embed = hidden, cycles of 2 passes)": ([], None),
    "batch 16": (["--batch-size", "16"], None),
    "batch 64": (["--batch-size", "64"], None),
    "window 70": (["--bptt", "70"], None),
    "embed = hidden / 2": (["--embed", "half"], None),
    "cycles of 1 pass": ([], 1),
    "cycles of 4 passes": ([], 4),
}


def _word_corpora(work: Path) -> dict[str, tuple[Path, list[str]]]:
    """War and Peace (vocabulary from all splits) and the 154k-word documentation corpus of
    bench/stopping.py, each with the options that read it as bench/quality.py and stopping.py do."""
    from stopping import CORPORA, assemble

    d = DATA / "warpeace"
    vocab = work / "wp.json"
    rnncli("build-vocab", str(d / "train.txt"), str(d / "valid.txt"), str(d / "test.txt"), "--level", "word",
           "--split", "whitespace", "-o", str(vocab), "-q", check=True)
    corpora = {"War and Peace": (d, ["--vocab", str(vocab)])}
    docs = assemble(next(iter(CORPORA.values())), work / "docs")
    if docs:
        corpora["perl pods + rust release notes"] = (docs["train"].parent, ["--level", "word", "--split", "whitespace"])
    return corpora


def _train_with_cycle(passes: int | None, options: list[str]) -> None:
    """rnncli train in its own process, the schedule cycle set to ``passes`` (not an option of train)."""
    if passes is None:
        rnncli("train", *options, check=True)
        return
    code = ("import sys, rnncli.tasks.language.planning as plan; plan.WORD_CYCLE_EPOCHS = int(sys.argv[1]); "
            "sys.argv = ['rnncli', 'train', *sys.argv[2:]]; from rnncli.cli import main; main()")
    subprocess.run([sys.executable, "-c", code, str(passes), *options], check=True, cwd=ROOT)


def word_shape(work: Path) -> None:
    """The shape defaults of word models re-chosen on validation: --time-budget 444, seed 0, one
    change from the defaults at a time, best validation perplexity of the network alone."""
    corpora = _word_corpora(work)
    print("word models, --time-budget 444, seed 0: best validation perplexity (network alone), "
          "step of the best, tokens/s, passes, seconds")
    for name, (options, passes) in WORD_SHAPES.items():
        for corpus, (d, reading) in corpora.items():
            run = work / f"shape-{corpus[:5]}-{list(WORD_SHAPES).index(name)}"
            chosen = list(options)
            if "half" in chosen:
                hidden = lm_shapes_hidden(d)
                chosen[chosen.index("half")] = str(hidden // 2)
            began = time.perf_counter()
            _train_with_cycle(passes, [str(d / "train.txt"), "--valid", str(d / "valid.txt"), *reading, "--time-budget",
                                       "444", "--seed", "0", *chosen, "-o", str(run), "-q"])
            seconds = time.perf_counter() - began
            records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
            best = min(records, key=lambda r: r["val_loss"])
            row = {"shape": name, "corpus": corpus, "best_val_ppl": round(best["val_ppl"], 1), "at_step": best["step"],
                   "tokens_per_sec": round(records[-1]["tokens_per_sec"]), "passes": round(records[-1]["epoch"], 2),
                   "seconds": round(seconds)}
            print(json.dumps(row), flush=True)


TAGGER_VARIANTS = {"defaults (lowercased words, character CNN and affixes, BiLSTM 128, softmax)": [],
                   "words as written": ["--no-lowercase"], "no spelling (no character CNN, no affixes)":
                   ["--no-char-features"], "--crf": ["--crf"], "hidden 256": ["--hidden", "256"],
                   "dropout 0.5": ["--dropout", "0.5"]}


def tagger(work: Path) -> None:
    """The tagger's defaults on UD English LinES's dev split (UPOS), one change at a time:
    --time-budget from --budget (default 300), seed 0."""
    budget = sys.argv[sys.argv.index("--budget") + 1] if "--budget" in sys.argv else "300"
    d = DATA / "ud_english_lines"
    print(f"taggers, --time-budget {budget}, seed 0: best validation accuracy (UD English LinES dev, UPOS), "
          "tokens/s, seconds")
    for name, options in TAGGER_VARIANTS.items():
        run = work / f"tag-{list(TAGGER_VARIANTS).index(name)}"
        began = time.perf_counter()
        rnncli("train", str(d / "train.conllu"), "--valid", str(d / "dev.conllu"), "--time-budget", budget, "--seed",
               "0", *options, "-o", str(run), "-q", check=True)
        last = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])
        print(json.dumps({"variant": name, "accuracy": round(_best(run, "accuracy"), 4),
                          "tokens_per_sec": round(last["tokens_per_sec"]), "seconds": round(time.perf_counter() - began)}),
              flush=True)


def tagger_crf(work: Path) -> None:
    """--crf against the softmax in entity F1 on UD English LinES's noun chunks (BIO, derived from
    the trees by noun_chunks), trained on train, scored on dev; --time-budget from --budget."""
    budget = sys.argv[sys.argv.index("--budget") + 1] if "--budget" in sys.argv else "300"
    d = DATA / "ud_english_lines"
    train, valid = noun_chunks(d / "train.conllu", work / "chunks-train.txt"), noun_chunks(d / "dev.conllu",
                                                                                             work / "chunks-dev.txt")
    for name, options in (("softmax", ["--no-crf"]), ("--crf", ["--crf"])):
        run = work / f"chunks-{name.strip('-')}"
        rnncli("train", str(train), "--valid", str(valid), "--time-budget", budget, "--seed", "0", *options, "-o",
               str(run), "-q", check=True)
        report = json.loads(rnncli("evaluate", "-c", str(run), str(valid), "--json", "--weights", "best",
                                   "--device", "cpu").stdout)
        print(json.dumps({"noun chunks": name, "entity_f1": round(report["entity"]["f1"], 4),
                          "accuracy": round(report["accuracy"], 4)}), flush=True)


ENCODER_VARIANTS = {"defaults": [], "DropConnect 0.25": ["--weight-dropout", "0.25"],
                    "words dropped 0.1": ["--embed-dropout", "0.1"],
                    "both": ["--weight-dropout", "0.25", "--embed-dropout", "0.1"]}


def encoder_dropout(work: Path) -> None:
    """The AWD-LSTM's encoder regularisers for the tagger (UD English LinES dev, UPOS accuracy) and the
    translation encoder (Multi30k val, greedy BLEU as training reports it), one at a time and
    together; --time-budget from --budget (default 300), seed 0, best validation figure."""
    budget = sys.argv[sys.argv.index("--budget") + 1] if "--budget" in sys.argv else "300"
    from translate import pairs

    lines, paired = DATA / "ud_english_lines", pairs(work)  # paste of each Multi30k split, as the README says
    tasks = {"tagger (LinES dev UPOS accuracy)": (lines / "train.conllu", lines / "dev.conllu", "accuracy", []),
             "translation (Multi30k val BLEU)": (paired["train"], paired["valid"], "bleu", ["--task", "seq2seq"])}
    for task, (train, valid, key, extra) in tasks.items():
        for name, options in ENCODER_VARIANTS.items():
            run = work / f"enc-{key}-{list(ENCODER_VARIANTS).index(name)}"
            rnncli("train", str(train), "--valid", str(valid), "--time-budget", budget, "--seed", "0", *extra,
                   *options, "-o", str(run), "-q", check=True)
            records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
            print(json.dumps({"task": task, "variant": name, key: round(_best(run, key), 4),
                              "steps": records[-1]["step"]}), flush=True)


NOMINAL = {"NOUN", "PROPN", "PRON", "NUM"}
INSIDE = {"det", "amod", "compound", "flat", "nummod", "nmod:poss", "fixed", "det:poss", "compound:prt"}


def noun_chunks(conllu: Path, out: Path) -> Path:
    """Base noun phrases of a treebank as BIO chunks (B-NP, I-NP, O), as CoNLL-2000 derived them from
    trees: a nominal head with the contiguous run of its determiners, adjectives, compounds, flat
    names, numbers and possessives around it. Real BIO data where spans and their boundaries are
    decided by context, to compare --crf with the softmax on entity F1."""
    lines: list[str] = []
    for block in conllu.read_text(encoding="utf-8").split("\n\n"):
        rows = [r.split("\t") for r in block.splitlines() if r[:1].isdigit() and r.split("\t")[0].isdigit()]
        if not rows:
            continue
        head = {int(r[0]): int(r[6]) for r in rows}
        tags = ["O"] * len(rows)
        for r in rows:
            h = int(r[0])
            if r[3] not in NOMINAL or r[7] in INSIDE:
                continue
            inside = {h}
            grown = True
            while grown:
                more = {int(x[0]) for x in rows if head[int(x[0])] in inside and x[7] in INSIDE} - inside
                inside |= more
                grown = bool(more)
            first = last = h
            while first - 1 in inside:
                first -= 1
            while last + 1 in inside:
                last += 1
            if all(tags[i - 1] == "O" for i in range(first, last + 1)):
                tags[first - 1:last] = ["B-NP"] + ["I-NP"] * (last - first)
        lines += [f"{r[1]}\t{t}" for r, t in zip(rows, tags)] + [""]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def lm_shapes_hidden(d: Path) -> int:
    """The hidden width the defaults give a word corpus (whitespace tokens of its training file)."""
    from rnncli.tasks.language.planning import lm_shapes

    tokens = sum(len(line.split()) + 1 for line in (d / "train.txt").open(encoding="utf-8", errors="replace"))
    return lm_shapes(tokens, "word", 2).hidden


if __name__ == "__main__":
    rules = {"parity": parity, "classifier-level": classifier_level, "char-size": char_size,
             "char-window": char_window, "char-optimiser": char_optimiser, "word-dropout": word_dropout, "word-embed": word_embed,
             "word-shape": word_shape, "tagger": tagger, "tagger-crf": tagger_crf,
             "encoder-dropout": encoder_dropout}
    chosen = [a for a in sys.argv[1:] if a in rules] or list(rules)
    scratch = Path(tempfile.mkdtemp(prefix="rnncli-defaults-"))
    for rule in chosen:
        rules[rule](scratch)
