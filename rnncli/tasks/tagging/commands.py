"""The tagger's command: tag (a tag for every token of each input sentence)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from rnncli.cli.app import command
from rnncli.cli.common import err_console, scores_table, info, note_stdin, open_output
from rnncli.cli.declare import declared
from rnncli.tasks.tagging.options import TagArgs

CONLLU_BATCH = 256  # CoNLL-U sentences tagged at a time


def _tag(args: TagArgs) -> None:
    """Tag every token of each input line (a sentence); streams in constant memory."""
    from rnncli.serving import serving

    fmt = args.format or ("conllu" if Path(args.file).suffix.lower() == ".conllu" else "text")
    with serving(args.run, "tag", args.weights, args.device, args.threads, info if args.verbose else _quiet) \
            as engine:
        note_stdin(args.file)
        with open_output(None) as out:
            for block in (_conllu(engine, args) if fmt == "conllu" else _lines(engine, args, fmt)):
                out.write(block)
                out.flush()


def _quiet(message: str) -> None:
    pass


def _lines(engine: Any, args: TagArgs, fmt: str) -> Iterator[str]:
    from rnncli.text.reader import LineReader, coalesced_blocks
    from rnncli.text.words import splitter

    split = splitter("punct" if args.tokenize else "whitespace")
    for lines in coalesced_blocks(LineReader(args.file, args.encoding, args.errors), 8192):
        tokens = [split(line) for line in lines]
        tagged = engine.tag(tokens, args.batch_size, args.top)
        yield "".join(_format(words, t, fmt) + "\n" for words, t in zip(tokens, tagged))


def _format(tokens: list[str], tagged: list[Any], fmt: str) -> str:
    if fmt == "jsonl":
        from rnncli.tasks.tagging.inference import tagged_record

        return json.dumps(tagged_record(tokens, tagged), ensure_ascii=False)
    return " ".join(f"{word}/{tag}" for word, (tag, _, _) in zip(tokens, tagged))


def _conllu(engine: Any, args: TagArgs) -> Iterator[str]:
    """CoNLL-U in, the same CoNLL-U out with the tag column of each word filled."""
    import itertools

    from rnncli.text.tagged import conllu_column, iter_tagged

    column = conllu_column(args.tag_column)
    sentences = iter_tagged(args.file, "conllu", args.tag_column, args.encoding, args.errors, require_tags=False)
    pending = []
    for sentence in itertools.chain(sentences, [None]):
        if sentence is not None:
            pending.append(sentence)
        if pending and (sentence is None or len(pending) >= CONLLU_BATCH):
            tagged = engine.tag([s.tokens for s in pending], args.batch_size)
            yield "".join(_filled(s, [t for t, _, _ in tags], column) for s, tags in zip(pending, tagged))
            pending = []


def _filled(sentence: Any, tags: list[str], column: int) -> str:
    lines = list(sentence.raw)
    for row, tag in zip(sentence.rows, tags):
        fields = lines[row].split("\t")
        fields[column] = tag
        lines[row] = "\t".join(fields)
    return "\n".join(lines) + "\n\n"


def print_report(report: dict[str, Any], run: str, source: str) -> None:
    """evaluate's report of a tagger: accuracy, per tag, the most confused pairs, entities, on stderr."""
    console = err_console()
    unseen = "n/a" if report["unseen_accuracy"] is None else f"{report['unseen_accuracy']:.4f}"
    console.print(f"{source}: {report['tokens']:,} tokens in {report['sentences']:,} sentences, accuracy "
                  f"{report['accuracy']:.4f}; on the {report['unseen_tokens']:,} words training never had: {unseen}")
    if "entity" in report:
        e = report["entity"]
        console.print(f"entities: precision {e['precision']:.4f}, recall {e['recall']:.4f}, F1 {e['f1']:.4f} "
                      f"({e['gold']:,} in the data, {e['found']:,} found, {e['correct']:,} correct)")
    console.print(scores_table(report["per_tag"], "tag"))
    if report["confused"]:
        console.print("most confused (true -> predicted): " + ", ".join(f"{g} -> {p} {n:,}"
                                                                         for g, p, n in report["confused"]))


tag = command("tag")(declared(TagArgs, _tag))
