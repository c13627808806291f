"""The language model's commands: generate (text from a trained model) and score (how likely it finds each line)."""

from __future__ import annotations

import json
import sys
from typing import Any

from rnncli.cli.app import command
from rnncli.cli.common import err_console, STDIO, info, note_stdin, open_output
from rnncli.cli.declare import declared
from rnncli.tasks.language.options import GenerateArgs, ScoreArgs


def _generate(args: GenerateArgs) -> None:
    """Generate text from a trained language model, streaming it to stdout."""
    from rnncli.infer.caches import sampling_model
    from rnncli.infer.sampling import SamplingOptions
    from rnncli.infer.search import Search
    from rnncli.serving import serving

    options = SamplingOptions(args.max_tokens, args.temperature, args.top_k, args.top_p, args.seed,
                              args.stop_at_eos).check()
    search = Search(args.beam, args.best_of, args.length_penalty).check(args.num_samples)
    prompts = [args.prompt] if args.prompt is not None else _stdin_prompts()
    say = info if args.verbose else lambda message: None
    with serving(args.run, None, args.weights, args.device, args.threads, say) as engine:
        if engine.task != "lm":
            _generate_other(engine, args, prompts)
        elif search:
            _write_ranked(sampling_model(engine, args.cache), engine.vocab, prompts, options, search, args.echo,
                          args.format)
        else:
            _write_samples(sampling_model(engine, args.cache), engine.vocab, prompts, options, args.num_samples,
                           args.echo, args.format)


def _generate_other(engine: Any, args: GenerateArgs, prompts: list[str]) -> None:
    """A run of another task that generates (its commands module's ``generate_from``: a translation
    model translates each prompt line); any other is refused as a run without a language model."""
    from rnncli.tasks import require, task

    hook = getattr(task(engine.task).part("commands"), "generate_from", None)
    if hook is None:
        require(engine.task, "lm", args.run)
    hook(engine, prompts, args)


def _write_ranked(model: Any, vocab: Any, prompts: list[str], options: Any, search: Any, echo: bool,
                  fmt: str) -> None:
    """The most likely text per prompt, by beam search or as the best of N samples."""
    from rnncli.infer.search import ranked

    with open_output(None) as out:
        for text in prompts:
            found = ranked(model, vocab, text, options, search)
            if fmt == "jsonl":
                for rank, (body, tokens, total) in enumerate(found):
                    out.write(json.dumps({"prompt": text, "rank": rank, "text": body, "tokens": tokens,
                                          "logprob": total}, ensure_ascii=False) + "\n")
            elif found:
                shown = (text if echo else "") + found[0][0]
                out.write(shown if shown.endswith("\n") else shown + "\n")
            out.flush()


def _write_samples(model: Any, vocab: Any, prompts: list[str], options: Any, num_samples: int, echo: bool,
                   fmt: str) -> None:
    """Samples for each prompt on stdout: text streamed as it comes (one sample), or whole samples."""
    from rnncli.infer.sampling import sample_pieces, sample_texts

    with open_output(None) as out:
        first = True
        for text in prompts:
            if fmt == "jsonl":
                for k, (body, count) in enumerate(sample_texts(model, vocab, text, options, num_samples)):
                    out.write(json.dumps({"prompt": text, "sample": k, "text": body, "tokens": count},
                                         ensure_ascii=False) + "\n")
                out.flush()
                continue
            if num_samples == 1:
                if not first:
                    out.write("\n")
                first = False
                last = "\n"
                if echo and text:
                    out.write(text)
                    last = text[-1]
                for piece in sample_pieces(model, vocab, text, options):
                    if piece:
                        out.write(piece)
                        out.flush()
                        last = piece[-1]
                out.write("" if last.endswith("\n") else "\n")
                out.flush()
                continue
            for body, _ in sample_texts(model, vocab, text, options, num_samples):
                if not first:
                    out.write("\n")
                first = False
                body = (text if echo else "") + body
                out.write(body if body.endswith("\n") else body + "\n")
            out.flush()


def _score(args: ScoreArgs) -> None:
    """One JSON line per input line: text, tokens, logprob (nats), ppl, bpc; streams in constant memory."""
    from rnncli.infer.caches import pick
    from rnncli.infer.scoring import score_lines
    from rnncli.serving import serving
    from rnncli.text.reader import LineReader

    reader = LineReader(args.file, args.encoding, args.errors)
    say = info if args.verbose else lambda message: None
    with serving(args.run, "lm", args.weights, args.device, args.threads, say) as engine:
        note_stdin(args.file)
        with open_output(None) as out:
            for record in score_lines(engine, engine.vocab, reader, args.per_token, args.carry_state,
                                      pick(engine, args.cache)):
                out.write(json.dumps(record, ensure_ascii=False) + "\n")


def _stdin_prompts() -> list[str]:
    if sys.stdin is None or sys.stdin.isatty():
        return [""]
    from rnncli.text.reader import LineReader

    return list(LineReader(STDIO))


def print_report(report: dict[str, Any], run: str, source: str) -> None:
    """evaluate's table of a language model's figures, on stderr."""
    from rich.table import Table

    table = Table(title=f"{run} on {source}", title_justify="left", box=None)
    for key in ("metric", "value"):
        table.add_column(key)
    table.add_row("loss (nats/token)", f"{report['loss']:.4f}")
    table.add_row("perplexity", f"{report['ppl']:.2f}")
    table.add_row("bits per character", f"{report['bpc']:.4f}")
    table.add_row("tokens", f"{report['tokens']:,}")
    table.add_row("characters", f"{report['chars']:,}")
    for key in ("unigram_cache", "neural_cache"):
        if key not in report:
            continue
        cache, network = report[key], report["network"]
        fitted = " (fitted on this text)" if cache.get("fitted_here") else ""
        theta = f", theta {cache['theta']:g}" if "theta" in cache else ""
        table.add_row(key.replace("_", " "), f"window {cache['window']:,}{theta}, weight {cache['weight']:g}{fitted}")
        table.add_row("network alone", f"loss {network['loss']:.4f}, perplexity {network['ppl']:.2f}, "
                                       f"bpc {network['bpc']:.4f}")
    err_console().print(table)


generate = command("generate")(declared(GenerateArgs, _generate))
score = command("score")(declared(ScoreArgs, _score))
