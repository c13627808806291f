"""demo: the main job end to end on the bundled sample data, in about a minute."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer

from rnncli.cli.app import app
from rnncli.cli.common import info

SAMPLE_DIR = Path("sample_data")
FILES = {"english.txt": ("english", 3000, 0), "english-valid.txt": ("english", 300, 1),
         "topics.tsv": ("topics", 2000, 0), "topics-test.tsv": ("topics", 400, 1)}


def _sample_files(workdir: Path) -> dict[str, Path]:
    """The bundled sample data, or the same files regenerated where the repository is not at hand."""
    if all((SAMPLE_DIR / name).is_file() for name in FILES):
        return {name: SAMPLE_DIR / name for name in FILES}
    from rnncli.fileio import write_bytes
    from rnncli.synthetic import GENERATORS

    paths = {}
    for name, (kind, lines, seed) in FILES.items():
        paths[name] = workdir / name
        text = "".join(row + "\n" for row in GENERATORS[kind](lines=lines, seed=seed))
        write_bytes(paths[name], text.encode("utf-8"))
    return paths


@app.command()
def demo(
    workdir: Annotated[Path, typer.Option("--dir", help="Where the demo writes its runs (replaced).")] = Path("runs/demo"),
    seconds: Annotated[float, typer.Option(min=5, max=3600, help="Training time for the language model.")] = 45,
) -> None:
    """Tokenize, train an LSTM language model, generate from it, and train a classifier."""
    from rnncli.checkpoint import load_run
    from rnncli.cli.train import run_training
    from rnncli.generation import SamplingOptions, generate
    from rnncli.runs import TrainRequest
    from rnncli.text.vocab import StreamDecoder

    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    files = _sample_files(workdir)
    info(f"== 1. a character-level LSTM language model on {files['english.txt']} ({seconds:.0f} s)")
    lm_dir = workdir / "lm"
    run_training(TrainRequest(corpus=[str(files["english.txt"])], valid=str(files["english-valid.txt"]),
                              output=str(lm_dir), level="char", kind="lstm", time_budget=seconds))
    info("== 2. generate from it (rnncli generate -c runs/demo/lm --prompt ...)")
    loaded = load_run(lm_dir, task="lm")
    for prompt in ("The old miller", "\"Where is"):
        decoder = StreamDecoder(loaded.vocab)
        ids = generate(loaded.model, loaded.vocab.encode(prompt),
                       SamplingOptions(max_tokens=120, temperature=0.7, seed=1, stop_at_eos=True))
        text = prompt + "".join(decoder.feed(int(t[0])) for t in ids) + decoder.flush()
        print(text.rstrip("\n"), flush=True)
    info(f"== 3. a classifier on {files['topics.tsv']} (rnncli train ... --task classify)")
    clf_dir = workdir / "topics"
    run_training(TrainRequest(corpus=[str(files["topics.tsv"])], output=str(clf_dir), task="classify",
                              kind="lstm", time_budget=15), quiet=True)
    from rnncli.cli.classify import evaluate_classifier
    from rnncli.device import resolve_device

    info(f"== 4. evaluate it on {files['topics-test.tsv']} (rnncli evaluate -c runs/demo/topics ...)")
    evaluate_classifier(load_run(clf_dir, task="classify"), str(files["topics-test.tsv"]), False,
                        resolve_device("cpu"), "utf-8", "strict")
    info(f"done: runs are in {workdir}; try rnncli generate -c {lm_dir} --prompt \"Anna said\"")
