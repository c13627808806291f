"""The translation model's command: translate (a target sentence for every source line), which
``generate`` also runs on a translation run; evaluate's report."""

from __future__ import annotations

import json
from typing import Any, Iterable

from rnncli.cli.app import command
from rnncli.cli.common import err_console, info, note_stdin, open_output
from rnncli.cli.declare import declared
from rnncli.tasks.translation.options import TranslateArgs


def _translate(args: TranslateArgs) -> None:
    """Translate each input line; streams in constant memory."""
    from rnncli.serving import serving
    from rnncli.tasks.translation.inference import SearchOptions
    from rnncli.text.reader import LineReader, coalesced_blocks

    reader = LineReader(args.file, args.encoding, args.errors)
    with serving(args.run, "seq2seq", args.weights, args.device, args.threads, info if args.verbose else _quiet) \
            as engine:
        note_stdin(args.file)
        options = SearchOptions(args.beam, args.length_penalty, args.max_length_ratio, args.batch_size,
                                args.attention or args.plot is not None)
        first = write(engine, coalesced_blocks(reader, 8192), options, args.format, args.attention)
    if args.plot is not None and first is not None:
        plot_alignment(engine, first, args.plot)
        info(f"alignment of the first line written to {args.plot}")


def plot_alignment(engine: Any, translation: Any, path: str) -> None:
    """The heatmap of one translation's attention, source tokens against target tokens."""
    from rnncli.plots import plot_alignment as draw

    source = engine.vocab.pieces(translation.source_ids)
    target = engine.target_vocab.pieces(translation.ids) + ["<eos>"]
    draw(source, target, translation.attention, path, f"{translation.source}\n→ {translation.text}")


def _quiet(message: str) -> None:
    pass


def write(engine: Any, blocks: Iterable[list[str]], options: Any, fmt: str = "text", alignments: bool = False) -> Any:
    """Each block of source lines translated onto stdout, in order (jsonl: with each one's
    ``alignments``); returns the first translation (None for no input)."""
    from rnncli.tasks.translation.inference import translations

    options.check()
    first = None
    with open_output(None) as out:
        for block in translations(engine, iter(blocks), options):
            first = first or (block[0] if block else None)
            out.write("".join(_format(engine, t, fmt, alignments) + "\n" for t in block))
            out.flush()
    return first


def generate_from(engine: Any, sources: list[str], args: Any) -> None:
    """``rnncli generate`` on a translation run: each prompt line is a source sentence, translated
    greedily or with ``--beam``; sampling options are refused, not ignored."""
    from rnncli.errors import ConfigError
    from rnncli.tasks.translation.inference import SearchOptions

    sampling = {"--num-samples": args.num_samples != 1, "--best-of": args.best_of is not None,
                "--top-k": args.top_k is not None, "--top-p": args.top_p != 1.0, "--seed": args.seed is not None}
    given = [flag for flag, used in sampling.items() if used]
    if given:
        raise ConfigError(f"{given[0]}: a translation run translates each line (greedy or --beam N), it does not "
                          "sample")

    write(engine, [sources], SearchOptions(args.beam or 1, args.length_penalty), args.format)


def _format(engine: Any, t: Any, fmt: str, alignments: bool) -> str:
    if fmt != "jsonl":
        return t.text.replace("\n", " ")
    from rnncli.tasks.translation.inference import translation_record

    return json.dumps(translation_record(engine, t, alignments), ensure_ascii=False)


def print_report(report: dict[str, Any], run: str, source: str) -> None:
    """evaluate's figures of a translation model, on stderr."""
    search = "greedy" if report["beam"] == 1 else f"beam {report['beam']}"
    err_console().print(
        f"{source}: {report['pairs']:,} pairs ({search}): BLEU {report['bleu']:.2f}, chrF {report['chrf']:.2f}, "
        f"length ratio {report['length_ratio']:.3f}; references: loss {report['loss']:.4f}, perplexity "
        f"{report['ppl']:.2f} ({report['target_tokens']:,} target tokens)\n"
        f"sacrebleu {report['sacrebleu_signature']}")


translate = command("translate")(declared(TranslateArgs, _translate))
