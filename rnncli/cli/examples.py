"""The examples at the end of every command's ``--help``: real commands on the bundled sample data
(`rnncli sample-data` writes more), so a reader can paste them."""

from __future__ import annotations

EXAMPLES: dict[str, tuple[str, ...]] = {
    "train": (
        "rnncli train sample_data/english.txt --time-budget 60   # a character LSTM in runs/",
        "RUN=$(rnncli train sample_data/topics.tsv --model gru -q --print-run-dir)",
        "zcat corpus.txt.gz | rnncli train - --valid valid.txt -o run --level bpe",
        "rnncli train --config run/config.json other.txt -o run2   # the same options on another corpus",
    ),
    "generate": (
        "rnncli generate -c run --prompt 'The ' -n 3 --temperature 0.8",
        "printf 'Once\\nThe king\\n' | rnncli generate -c run --format jsonl",
        "rnncli generate -c run --prompt 'The ' --beam 5 --max-tokens 40",
    ),
    "classify": (
        "rnncli classify -c run texts.txt",
        "echo 'win a free prize now' | rnncli classify -c run --format jsonl",
    ),
    "tag": (
        "rnncli train train.conllu --valid dev.conllu -o tagger --time-budget 300   # UPOS from CoNLL-U",
        "echo 'The cat sat on the mat .' | rnncli tag -c tagger",
        "rnncli tag -c tagger test.conllu > tagged.conllu   # the tag column filled",
    ),
    "translate": (
        "paste train.de train.en > train.tsv; paste val.de val.en > val.tsv",
        "rnncli train train.tsv --valid val.tsv -o de-en --time-budget 900   # a German->English translator",
        "echo 'Ein Hund läuft im Schnee .' | rnncli translate -c de-en --beam 5",
        "rnncli translate -c de-en test.de --format jsonl --attention > aligned.jsonl",
    ),
    "evaluate": (
        "rnncli evaluate -c run valid.txt",
        "rnncli evaluate -c run test.tsv --json | jq .accuracy",
    ),
    "serve": (
        "pip install 'rnncli[serve]'; rnncli serve -c spam -c lm --port 8000   # then open http://127.0.0.1:8000/",
        "curl -s localhost:8000/v1/classify -d '{\"model\": \"spam\", \"texts\": [\"win a prize now\"]}'",
        "curl -sN localhost:8000/v1/generate -d '{\"model\": \"lm\", \"prompt\": \"The \", \"stream\": true}'",
    ),
    "export": (
        "rnncli export -c run   # run/onnx: classify and generate then start without torch",
        "rnncli export -c run -o deploy/ --quantize int8 --check valid.txt",
    ),
    "score": (
        "rnncli score -c run valid.txt | jq .bpc",
        "rnncli score -c run --per-token --carry-state chapter.txt > surprisal.jsonl",
    ),
    "embed": (
        "rnncli embed -c run texts.txt > vectors.txt",
        "rnncli embed -c run --words > words.vec",
    ),
    "neighbours": (
        "rnncli neighbours -c run refund invoice -k 5",
        "printf 'refund\\nparcel\\n' | rnncli neighbours -c run",
    ),
    "info": (
        "rnncli info -c run",
        "rnncli info -c run --json | jq .parameters",
    ),
    "build-vocab": (
        "rnncli build-vocab sample_data/english.txt --level char -o char.json",
        "rnncli build-vocab corpus.txt --level bpe --vocab-size 8000 -o bpe.json",
    ),
    "encode": (
        "echo 'hello world' | rnncli encode -v char.json",
        "rnncli encode -v bpe.json corpus.txt --format jsonl > ids.jsonl",
    ),
    "decode": (
        "echo '8 5 12 12 15' | rnncli decode -v char.json",
        "rnncli encode -v bpe.json corpus.txt | rnncli decode -v bpe.json",
    ),
    "sample-data": (
        "rnncli sample-data english -o english.txt",
        "rnncli sample-data word-order --lines 2000 -o word-order.tsv",
    ),
    "demo": (
        "rnncli demo",
        "rnncli demo --seconds 20 --dir /tmp/demo",
    ),
    "inspect": (
        "rnncli inspect -c run sample_data/english-valid.txt --find quotes --find line-position -o page.html",
        "rnncli inspect -c run text.txt --unit h2:17 -o unit.png   # the same colours as a picture",
        "rnncli inspect -c spam-run messages.txt -o evidence.html   # a classifier: each word's effect",
        "rnncli inspect -c run text.txt -f jsonl | jq .surprisal_bits",
    ),
    "gradients": (
        "rnncli gradients --plot gradients.png",
        "rnncli gradients -c run --file valid.txt --json",
    ),
    "plot": (
        "rnncli plot run -o curves.png",
        "rnncli plot runs/lstm-char-* -o compare.png",
    ),
}


def epilog(command: str) -> str:
    """The examples of ``command`` as a help epilog (paragraphs: Typer joins single line breaks)."""
    lines = EXAMPLES[command]
    return "\n\n".join(["Examples:", *(f"  {line}" for line in lines)]).replace("[", "\\[")
