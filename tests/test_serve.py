"""rnncli serve: trained runs answered over HTTP, as the commands answer them, under bad requests
and load; the server process stops cleanly on SIGTERM and reopens its runs on SIGHUP."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
from starlette.testclient import TestClient  # noqa: E402

from rnncli.serve.app import create_app  # noqa: E402
from rnncli.serve.batching import Batcher, Busy  # noqa: E402
from rnncli.serve.options import ServeArgs  # noqa: E402
from rnncli.serve.runs import open_runs  # noqa: E402
from tests.conftest import SAMPLE, assert_one_error  # noqa: E402

TINY = ["--threads", "1", "--precision", "fp32", "-q"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A topic classifier, a character language model and an entity tagger, tiny."""
    from typer.testing import CliRunner

    from rnncli.cli import app

    root = tmp_path_factory.mktemp("serve")
    for name, args in (("topics", [SAMPLE / "topics.tsv", "--epochs", "2"]),
                       ("chars", [SAMPLE / "english.txt", "--level", "char", "--max-steps", "30", "--hidden", "32"]),
                       ("entities", [SAMPLE / "entities.txt", "--max-steps", "20"])):
        done = CliRunner().invoke(app, ["train", *map(str, args), "-o", str(root / name), *TINY])
        assert done.exit_code == 0, done.stderr
    return root


def client(paths, **options) -> TestClient:
    args = ServeArgs(run=[str(p) for p in paths], **options)
    return TestClient(create_app(open_runs(args.run, 1), args))


@pytest.fixture(scope="module")
def served(runs):
    with client([runs / "topics", runs / "chars", runs / "entities"]) as c:
        yield c


def test_a_convolutional_classifier_is_served_like_the_recurrent_ones(tmp_path, cli):
    run = tmp_path / "cnn"
    cli.ok("train", SAMPLE / "topics.tsv", "-o", run, "--model", "cnn", "--epochs", "1", *TINY)
    texts = ["my card was charged twice", "ok"]  # shorter and longer than its widest filter
    with client([run]) as c:
        results = c.post("/v1/classify", json={"texts": texts, "k": 2}).json()["results"]
    by_cli = [json.loads(line) for line in cli.ok("classify", "-c", run, "-k", "2", "--format", "jsonl",
                                                   input="\n".join(texts) + "\n").stdout.splitlines()]
    assert [r["labels"] for r in results] == [r["labels"] for r in by_cli]
    assert [r["probs"] for r in results] == [pytest.approx(r["probs"], abs=1e-5) for r in by_cli]


def test_answers_are_the_commands_answers(served, runs, cli):
    texts = ["my card was charged twice", "the flight was late", ""]
    answer = served.post("/v1/classify", json={"model": "topics", "texts": texts, "k": 2})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    by_cli = [json.loads(line) for line in cli.ok("classify", "-c", runs / "topics", "-k", "2", "--format", "jsonl",
                                                   input="\n".join(texts) + "\n").stdout.splitlines()]
    results = answer.json()["results"]
    assert [r["labels"] for r in results] == [r["labels"] for r in by_cli]
    assert [r["probs"] for r in results] == [pytest.approx(r["probs"], abs=1e-5) for r in by_cli]
    assert results[2] == {"label": None, "labels": [], "probs": []}  # an empty text gets no label

    scored = served.post("/v1/score", json={"model": "chars", "texts": ["the cat", "a"], "per_token": True}).json()
    by_cli = [json.loads(line) for line in cli.ok("score", "-c", runs / "chars", "--per-token",
                                                   input="the cat\na\n").stdout.splitlines()]
    assert [r["logprob"] for r in scored["results"]] == [pytest.approx(r["logprob"], abs=1e-4) for r in by_cli]
    assert [t["token"] for t in scored["results"][0]["per_token"]] == [t["token"] for t in by_cli[0]["per_token"]]

    made = served.post("/v1/generate", json={"model": "chars", "prompt": "The ", "max_tokens": 40, "seed": 3}).json()
    by_cli = cli.ok("generate", "-c", runs / "chars", "--prompt", "The ", "--max-tokens", "40", "--seed", "3").stdout
    assert "The " + made["results"][0]["text"] + "\n" == by_cli and made["results"][0]["tokens"] == 40
    for cache in ("unigram", "neural"):  # opt-in, as for the command
        made = served.post("/v1/generate", json={"model": "chars", "prompt": "The ", "max_tokens": 40, "seed": 3,
                                                 "cache": cache})
        by_cli = cli.ok("generate", "-c", runs / "chars", "--prompt", "The ", "--max-tokens", "40", "--seed", "3",
                        "--cache", cache).stdout
        assert made.status_code == 200 and "The " + made.json()["results"][0]["text"] + "\n" == by_cli

    tagged = served.post("/v1/tag", json={"model": "entities", "texts": ["Bluebird Press said so"]}).json()
    by_cli = json.loads(cli.ok("tag", "-c", runs / "entities", "-f", "jsonl", input="Bluebird Press said so\n").stdout)
    assert tagged["results"][0]["tokens"] == ["Bluebird", "Press", "said", "so"]
    assert tagged["results"][0]["tags"] == by_cli["tags"]

    vectors = served.post("/v1/embed", json={"model": "topics", "texts": ["a", "b c"]}).json()["vectors"]
    assert len(vectors) == 2 and len(vectors[0]) == len(vectors[1]) > 0


def test_a_streamed_generation_is_the_same_text_as_events(served):
    body = {"model": "chars", "prompt": "The ", "max_tokens": 30, "seed": 5}
    whole = served.post("/v1/generate", json=body).json()["results"][0]["text"]
    with served.stream("POST", "/v1/generate", json={**body, "stream": True}) as answer:
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/event-stream")
        events = [e for e in answer.read().decode().split("\n\n") if e]
    pieces = [json.loads(e[len("data: "):])["text"] for e in events if e.startswith("data: ")]
    assert "".join(pieces) == whole
    assert events[-1] == 'event: done\ndata: {"tokens": 30}'


def test_what_the_server_says_of_itself(served):
    listed = served.get("/v1/models").json()["models"]
    assert [(m["name"], m["task"]) for m in listed] == [("topics", "classify"), ("chars", "lm"), ("entities", "tag")]
    assert listed[1]["endpoints"] == ["generate", "score", "embed"] and listed[0]["parameters"] > 0
    assert served.get("/health").json() == {"status": "ok", "models": ["topics", "chars", "entities"]}
    served.post("/v1/classify", json={"model": "topics", "texts": ["x"]})
    metrics = served.get("/metrics").text
    assert re.search(r'rnncli_requests_total\{endpoint="classify",status="200"\} [1-9]', metrics)
    assert "rnncli_request_seconds_bucket" in metrics and "rnncli_batch_texts_count" in metrics
    spec = served.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.") and {"/v1/classify", "/v1/generate", "/v1/score", "/v1/embed", "/v1/tag",
                                                  "/v1/translate", "/v1/models"} <= set(spec["paths"])
    page = served.get("/").text
    assert "<script>" in page and "/v1/models" in page
    assert not re.search(r"""(<script[^>]+src=|<link\b|@import|url\(|<img\b|https?://)""", page, re.I)


@pytest.mark.parametrize("body, status, field", [
    (b"{not json", 400, "malformed JSON"),
    (b"[1, 2]", 400, "JSON object"),
    (b'{"texts": "one"}', 400, "texts: must be a list"),
    (b'{"texts": [1]}', 400, "texts: must be a list of strings"),
    (b'{"texts": []}', 400, "texts: must hold"),
    (b'{"texts": ["a"], "k": "2"}', 400, "k: must be an integer"),
    (b'{"texts": ["a"], "k": 0}', 400, "k: must be at least 1"),
    (b'{"texts": ["a"], "threshold": 2}', 400, "threshold: must be in"),
    (b'{"texts": ["a"], "tpo": 2}', 400, "tpo: unknown field"),
    (b'{"texts": ["\\u0000"]}', 400, "NUL"),
    (b'{"texts": ["\\ud800"]}', 400, "surrogate"),
    (b'{"texts": ["\xff\xfe"]}', 400, "not UTF-8"),
    (b'{"model": 3, "texts": ["a"]}', 400, "model: must be a string"),
    (b'{"model": "nope", "texts": ["a"]}', 404, "no run named 'nope'"),
    (b'{"model": "chars", "texts": ["a"]}', 400, "it answers generate, score, embed"),
    (b'{"texts": ["a"]}', 400, "model: required when several runs"),
    (b"[" * 100_000 + b"]" * 100_000, 400, "malformed JSON"),
])
def test_a_bad_request_is_answered_4xx_naming_what_is_wrong(served, body, status, field):
    if b'"model"' not in body and b"texts" in body and field != "model: required when several runs":
        body = body.replace(b"{", b'{"model": "topics", ', 1)
    answer = served.post("/v1/classify", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == status and field in answer.json()["error"]


def test_limits_are_413(runs):
    with client([runs / "topics"], max_body=2048, max_texts=3, max_chars=50) as c:
        assert c.post("/v1/classify", content=b'{"texts": ["' + b"a" * 4000 + b'"]}').status_code == 413
        chunked = c.post("/v1/classify", content=iter([b'{"texts": ["', b"a" * 3000, b'"]}']))  # no Content-Length
        assert chunked.status_code == 413 and "over 2,048 bytes" in chunked.json()["error"]
        assert c.post("/v1/classify", json={"texts": ["a"] * 4}).status_code == 413
        assert c.post("/v1/classify", json={"texts": ["a" * 51]}).json()["error"] == \
            "texts[0]: 51 characters; at most 50"
        assert c.post("/v1/classify", json={"texts": ["ok"]}).status_code == 200  # one run: model may be left out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=12),
       st.sampled_from(["/v1/classify", "/v1/generate", "/v1/score", "/v1/embed", "/v1/tag", "/v1/translate",
                        "/v1/reload"]))
def test_no_body_makes_the_server_fail(served, value, path):
    """Whatever JSON arrives, the answer is 200 or 4xx, never a fault of the server."""
    if isinstance(value, dict) and "model" not in value:
        value = {**value, "model": "chars" if path in ("/v1/generate", "/v1/score") else "topics"}
    answer = served.post(path, content=json.dumps(value, allow_nan=True))
    assert answer.status_code == 200 or 400 <= answer.status_code < 500, answer.text


def test_concurrent_requests_share_engine_calls(runs):
    """Requests arriving together are computed together, and each gets its own answer."""
    import httpx

    app = create_app(open_runs([str(runs / "topics")], 1), ServeArgs(run=[str(runs / "topics")], max_wait_ms=50))
    texts = [f"my card was charged {k} times" if k % 2 else f"the flight was {k} hours late" for k in range(24)]

    async def ask() -> list:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://x") as c:
            answers = await asyncio.gather(*(c.post("/v1/classify", json={"texts": [t]}) for t in texts))
            alone = [await c.post("/v1/classify", json={"texts": [t]}) for t in texts[:4]]
            return [a.json()["results"][0] for a in answers], [a.json()["results"][0] for a in alone]

    together, alone = asyncio.run(ask())
    assert [r["probs"] for r in together[:4]] == [pytest.approx(r["probs"], abs=1e-5) for r in alone]
    metrics = app.state.service.metrics.text().decode()
    calls = float(re.search(r'rnncli_batch_texts_count\{endpoint="classify",model="topics"\} (\S+)', metrics).group(1))
    assert calls <= 4 + 6  # 24 texts in a few calls, then the 4 alone


def test_a_full_queue_is_refused_and_a_caller_that_left_is_dropped():
    calls = []

    def slow(items):
        calls.append(list(items))
        time.sleep(0.05)
        return [x * 2 for x in items]

    async def scenario():
        batcher = Batcher(slow, max_batch=4, max_wait=0.01, limit=6, executor=None)
        first = asyncio.ensure_future(batcher.submit([1, 2, 3]))
        await asyncio.sleep(0)
        gone = asyncio.ensure_future(batcher.submit([4]))
        await asyncio.sleep(0)
        with pytest.raises(Busy):
            await batcher.submit([5, 6, 7])
        gone.cancel()
        assert await first == [2, 4, 6]
        assert await batcher.submit([8]) == [16]
        return calls

    assert asyncio.run(scenario()) == [[1, 2, 3], [8]]


def test_busy_and_slow_answers_are_503_with_retry_after(runs, monkeypatch):
    import dataclasses

    from rnncli.tasks.classification import serving

    def stuck(run, options):
        return lambda texts: time.sleep(0.5) or [None] * len(texts)

    slow = dataclasses.replace(serving.CLASSIFY, compute=stuck)
    monkeypatch.setattr(serving, "endpoints", lambda: {"classify": slow, "embed": serving.EMBED})
    with client([runs / "topics"], timeout=0.1) as c:
        answer = c.post("/v1/classify", json={"texts": ["a"]})
        assert answer.status_code == 503 and answer.headers["retry-after"] == "1"
        assert "within 0.1 s" in answer.json()["error"]
    with client([runs / "topics"], max_queue=1) as c:
        answer = c.post("/v1/classify", json={"texts": ["a", "b"]})
        assert answer.status_code == 503 and "busy" in answer.json()["error"]


def test_reload_picks_up_a_replaced_export(runs, tmp_path, cli):
    import shutil

    run = tmp_path / "topics"
    shutil.copytree(runs / "topics", run)
    with client([run]) as c:
        before = c.post("/v1/classify", json={"texts": ["the flight"]}).json()
        assert c.get("/v1/models").json()["models"][0]["engine"] == "fp32"
        cli.ok("export", "-c", run, "--quantize", "int8")
        answer = c.post("/v1/reload", json={"model": "topics"})
        assert answer.status_code == 200 and answer.json()["reloaded"] == [
            {"name": "topics", "engine": "int8", "changed": True}]
        after = c.post("/v1/classify", json={"texts": ["the flight"]}).json()
        assert after["results"][0]["labels"] == before["results"][0]["labels"]
        assert c.post("/v1/reload", json={"model": "other"}).status_code == 404


def serve_process(*args: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([sys.executable, "-m", "rnncli", "serve", "--port", "0", *args],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    for line in process.stderr:
        lines.append(line)
        found = re.search(r"listening on (http://\S+)", line)
        if found:
            threading.Thread(target=lambda: lines.extend(process.stderr), daemon=True).start()
            process.lines = lines  # type: ignore[attr-defined]
            return process, found.group(1)
    raise AssertionError("".join(lines))


def test_sigterm_lets_requests_in_flight_finish_and_exits_0(runs):
    import httpx

    process, url = serve_process("-c", str(runs / "chars"))
    try:
        assert httpx.get(url + "/health").status_code == 200
        answers = []
        ask = threading.Thread(target=lambda: answers.append(httpx.post(url + "/v1/generate", timeout=60, json={
            "prompt": "a", "max_tokens": 2048, "stream": True})))
        ask.start()
        time.sleep(0.3)
        os.kill(process.pid, signal.SIGHUP)
        time.sleep(0.3)
        os.kill(process.pid, signal.SIGTERM)
        ask.join(60)
        assert process.wait(30) == 0
    finally:
        process.kill()
    assert answers[0].status_code == 200 and answers[0].text.endswith('event: done\ndata: {"tokens": 2048}\n\n')
    assert any("reloaded chars" in line for line in process.lines)  # type: ignore[attr-defined]
    assert process.stdout.read() == ""


def test_a_client_that_leaves_a_stream_frees_its_slot(runs):
    import httpx

    process, url = serve_process("-c", str(runs / "chars"))
    try:
        with httpx.stream("POST", url + "/v1/generate", timeout=30,
                          json={"prompt": "a", "max_tokens": 2048, "stream": True}) as answer:
            lines = answer.iter_lines()  # kept: dropping the iterator closes the connection
            assert next(lines).startswith("data: ")
            assert 'rnncli_generation_streams 1.0' in httpx.get(url + "/metrics").text
        for _ in range(50):  # the server hears of it at its next token
            if 'rnncli_generation_streams 0.0' in httpx.get(url + "/metrics").text:
                break
            time.sleep(0.1)
        metrics = httpx.get(url + "/metrics").text
        assert 'rnncli_generation_streams 0.0' in metrics
        tokens = float(re.search(r'rnncli_generated_tokens_total\{model="chars"\} (\S+)', metrics).group(1))
        assert 0 < tokens < 2048  # stopped early, not generated to the end
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)


def test_a_non_local_address_is_said(runs, cli, monkeypatch):
    import uvicorn

    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: None)
    done = cli("serve", "-c", runs / "topics", "--host", "0.0.0.0", "--port", "0")
    assert done.exit_code == 0 and done.stdout == ""
    assert "listening on 0.0.0.0, reachable from other machines" in done.stderr


def test_the_command_line(runs, cli, monkeypatch):
    import socket

    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    assert_one_error(cli("serve", "-c", runs / "topics", "--port", port), 1, f"cannot listen on 127.0.0.1:{port}")
    assert_one_error(cli("serve", "-c", runs / "topics", "-c", runs / "topics"), 2, "two runs are named 'topics'")
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "uvicorn" else real(name, *a))
    assert_one_error(cli("serve", "-c", runs / "topics"), 2, "pip install 'rnncli[serve]'")


def test_a_translation_run_answers_what_translate_prints(tmp_path, cli):
    from tests.test_translation import pairs_file

    pairs_file(tmp_path / "train.tsv", 200, 0)
    run = tmp_path / "de-en"
    cli.ok("train", tmp_path / "train.tsv", "-o", run, "--max-steps", "5", "--model", "gru", *TINY)
    with client([run]) as c:
        found = c.post("/v1/translate", json={"texts": ["ein hund läuft"], "beam": 2}).json()["results"]
        assert c.get("/v1/models").json()["models"][0]["endpoints"] == ["translate"]
    by_cli = json.loads(cli.ok("translate", "-c", run, "--beam", "2", "--format", "jsonl", input="ein hund läuft\n").stdout)
    assert found == [by_cli]
