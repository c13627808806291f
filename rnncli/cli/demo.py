"""demo: the main job end to end on the bundled sample data, in about a minute."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from rnncli.cli.app import START, command
from rnncli.cli.common import info
from rnncli.cli.declare import declared
from rnncli.lesson_options import DemoArgs

SAMPLE_DIR = Path("sample_data")
PLAYS = ("shakespeare.txt", "shakespeare-valid.txt")
FILES = {"english.txt": ("english", 3000, 0), "english-valid.txt": ("english", 300, 1),
         "topics.tsv": ("topics", 2000, 0), "topics-test.tsv": ("topics", 400, 1),
         "entities.txt": ("entities", 1000, 0), "entities-test.txt": ("entities", 200, 1)}


def _sample_files(workdir: Path) -> dict[str, Path]:
    """The bundled sample data, or the synthetic files regenerated where the repository is not at hand
    (the plays cannot be: the language model then reads the synthetic English, and says so)."""
    if all((SAMPLE_DIR / name).is_file() for name in (*FILES, *PLAYS)):
        return {name: SAMPLE_DIR / name for name in (*FILES, *PLAYS)}
    from rnncli.fileio import write_bytes
    from rnncli.synthetic import GENERATORS

    paths = {}
    for name, (kind, lines, seed) in FILES.items():
        paths[name] = workdir / name
        text = "".join(row + "\n" for row in GENERATORS[kind](lines=lines, seed=seed))
        write_bytes(paths[name], text.encode("utf-8"))
    info(f"{SAMPLE_DIR / PLAYS[0]} is not here (run the demo from the repository): the language model "
         "reads synthetic English instead")
    paths[PLAYS[0]], paths[PLAYS[1]] = paths["english.txt"], paths["english-valid.txt"]
    return paths


def _demo(args: DemoArgs) -> None:
    """Tokenize, train an LSTM language model, generate from it, train a classifier and a tagger, and
    write a page that shows inside the language model."""
    import rnncli
    from rnncli.tasks import task
    from rnncli.cli.train import run_training

    workdir, seconds = Path(args.workdir), args.seconds

    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    files = _sample_files(workdir)
    plays, valid = files[PLAYS[0]], files[PLAYS[1]]
    info(f"== 1. a character-level LSTM language model on {plays}, validated on {valid} ({seconds:.0f} s)")
    lm_dir = workdir / "lm"
    run_training(rnncli.TrainArgs.of(corpus=[str(plays)], valid=str(valid), output=str(lm_dir), level="char",
                                     model="lstm", time_budget=seconds))
    info(f"== 2. generate from it (rnncli generate -c {lm_dir} --prompt ...)")
    lm = rnncli.load(lm_dir)
    for prompt in ("To be, or not", "My lord,"):
        [text] = lm.generate(prompt, max_tokens=200, temperature=0.7, seed=1)
        whole = prompt + text
        print(whole[:whole.rfind("\n")] if "\n" in whole else whole, flush=True)
    side = max(3.0, seconds / 3)
    info(f"== 3. a classifier on {files['topics.tsv']} (rnncli train ... --task classify)")
    topics = rnncli.train(files["topics.tsv"], workdir / "topics", task="classify", model="lstm", time_budget=side)
    info(f"== 4. evaluate it on {files['topics-test.tsv']} (rnncli evaluate -c {workdir / 'topics'} ...)")
    report = topics.evaluate(files["topics-test.tsv"])
    task("classify").part("commands").print_report(report, str(topics.path), report.pop("source"))
    info(f"== 5. a tagger of named entities on {files['entities.txt']} (rnncli train ..., the task read from "
         "the data; a CRF over the BIO tags)")
    tagger = rnncli.train(files["entities.txt"], workdir / "entities", time_budget=side)
    sentence = "the Jordan Company thanked Victoria in Austin ."
    print(" ".join(f"{word}/{tag}" for word, tag in tagger.tag([sentence])[0]), flush=True)
    entity = tagger.evaluate(files["entities-test.txt"])["entity"]
    info(f"entity F1 on {files['entities-test.txt']}: {entity['f1']:.3f} (rnncli evaluate -c {workdir / 'entities'} ...)")
    page = workdir / "lm-inside.html"
    info(f"== 6. inside the language model (rnncli inspect -c {lm_dir} {valid} --find line-position -o {page})")
    _inside(lm, valid, page)
    info(f"done: runs are in {workdir}; try rnncli generate -c {lm_dir} --prompt \"O Romeo,\"")
    info(f"open {page} in a browser: each character coloured by a unit of the network, its guesses under the pointer")
    print(page, flush=True)


def _inside(lm: Any, text: Path, page: Path) -> None:
    """The inspect page of the language model on the validation text, from its first scene: the units
    that follow the position in the line and the stage directions in brackets best, found, and the
    model's next-character guesses."""
    from rnncli.fileio import write_bytes
    from rnncli.inside.report import html_of

    whole = text.read_text(encoding="utf-8")
    found = lm.inspect(whole[max(0, whole.find("SCENE I.")):], find=("line-position", "brackets"), max_chars=4000)
    for feature, unit, r in found.found[::3]:
        info(f"{feature}: unit {unit.name} follows it best, correlation {r:+.2f}")
    write_bytes(page, html_of(found).encode("utf-8"))


demo = command("demo", START)(declared(DemoArgs, _demo))
