"""rnncli serve under load, on localhost: requests per second and latency of an sms_spam LSTM run
(32 clients, one text per request) with dynamic batching and without it; the first token of
streamed generation at 8 concurrent streams; 10,000 malformed or hostile requests mixed into the
load; SIGTERM under load.

    python bench/serve_load.py [--quick] [--seconds 30]

The load comes from wrk (Debian's package; bench/setup.sh installs it), which costs the 2-core
machine little; the hostile requests and the SIGTERM clients are raw sockets from this process.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import DATA, ROOT, Row, print_table, rnncli
from serve import train_run as train

CLIENTS, STREAMS, HOSTILE = 32, 8, 10_000


class Server:
    """``rnncli serve`` in a process of its own, on a free port."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "rnncli", "serve", "--port", "0", *args], cwd=ROOT,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        for line in self.process.stderr:  # type: ignore[union-attr]
            self.lines.append(line)
            found = re.search(r"listening on http://([\d.]+):(\d+)", line)
            if found:
                self.host, self.port = found.group(1), int(found.group(2))
                threading.Thread(target=lambda: self.lines.extend(self.process.stderr), daemon=True).start()
                return
        raise RuntimeError("rnncli serve did not start:\n" + "".join(self.lines))

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(60)


def request(host: str, port: int, path: str, body: bytes, timeout: float = 30) -> tuple[int, bytes]:
    """One POST on a fresh connection: (status, body); status 0 when the connection was refused."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
            data = b""
            while chunk := s.recv(65536):
                data += chunk
    except ConnectionRefusedError:
        return 0, b""
    head, _, rest = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1 ") else -1
    return status, rest


def sms_texts() -> list[str]:
    """The messages of sms_spam's training split (its test split steers nothing, not even load)."""
    lines = (DATA / "sms_spam" / "train.tsv").read_text(encoding="utf-8").splitlines()
    return [line.split("\t", 1)[1] for line in lines if "\t" in line]


def wrk_script(work: Path, texts: list[str]) -> Path:
    """A wrk script sending one sms_spam text per request, in turn, and printing its figures."""
    bodies = ",\n".join(json.dumps(json.dumps({"texts": [t]})) for t in texts)
    script = work / "classify.lua"
    script.write_text(f"""
local bodies = {{{bodies}}}
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i % #bodies + 1
  return wrk.format(nil, "/v1/classify", nil, bodies[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %.1f %.1f\\n", summary.requests, summary.duration, e.status,
    e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(99)))
end
""", encoding="utf-8")
    return script


def wrk(server: Server, script: Path, seconds: int) -> dict[str, float]:
    done = subprocess.run(["wrk", "-t2", f"-c{CLIENTS}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script),
                           server.url], capture_output=True, text=True)
    line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(done.stdout + done.stderr)
    count, duration, status, sockets, p50, p99 = (float(x) for x in line.split()[1:])
    return {"rps": count / (duration / 1e6), "requests": count, "errors": status + sockets, "p50": p50 / 1000,
            "p99": p99 / 1000}


def throughput(run: Path, script: Path, seconds: int) -> list[Row]:
    """The same load with dynamic batching (the default) and without it (--max-batch 0)."""
    found = {}
    for name, extra in (("batched", []), ("alone", ["--max-batch", "0"])):
        server = Server("-c", str(run), *extra)
        try:
            wrk(server, script, 2)  # warm-up
            found[name] = wrk(server, script, seconds)
        finally:
            server.stop()
    b, a = found["batched"], found["alone"]
    said = (f"p50 {b['p50']:.1f} ms, p99 {b['p99']:.1f} ms, {b['errors']:.0f} errors of {b['requests']:,.0f}; "
            f"without batching p50 {a['p50']:.1f} ms, p99 {a['p99']:.1f} ms, {a['errors']:.0f} errors")
    met = b["rps"] >= 2000 and b["p99"] <= 50 and b["errors"] == 0
    return [Row(f"serve: classify requests/s, sms_spam LSTM, {CLIENTS} clients x 1 text, {seconds} s",
                f"{b['rps']:,.0f}", f"--max-batch 0 {a['rps']:,.0f}", b["rps"] / a["rps"],
                note=f"{said}; goal >= 2,000/s, p99 <= 50 ms, 0 errors: {'met' if met else 'NOT met'}")]


async def _stream(host: str, port: int, body: bytes) -> tuple[float, int, float]:
    """Seconds to the first token, tokens, seconds to the end, of one streamed generation."""
    began = time.perf_counter()
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(f"POST /v1/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
    first, tokens, data = None, 0, b""
    while chunk := await reader.read(65536):
        data += chunk
        if first is None and b"data: {\"text\"" in data:
            first = time.perf_counter() - began
        if b"event: done" in data:
            tokens = int(re.search(rb'"tokens": (\d+)', data[data.index(b"event: done"):]).group(1))
    writer.close()
    return first or float("nan"), tokens, time.perf_counter() - began


def streaming(run: Path, quick: bool) -> list[Row]:
    server = Server("-c", str(run))
    body = json.dumps({"prompt": "ROMEO:", "max_tokens": 200 if quick else 500, "stream": True}).encode()
    try:
        asyncio.run(_stream(server.host, server.port, body))  # warm-up
        rounds = [asyncio.run(_many(server, body)) for _ in range(3)]
    finally:
        server.stop()
    firsts = sorted(f for found in rounds for f, _, _ in found)
    rates = sorted(tokens / total for found in rounds for _, tokens, total in found)
    p50, worst = firsts[len(firsts) // 2] * 1000, firsts[-1] * 1000
    return [Row(f"serve: generate, first token at {STREAMS} concurrent streams (char LSTM), ms", f"{p50:.1f}",
                "", None, repeats=3,
                note=f"median of {len(firsts)} streams, worst {worst:.1f} ms; goal <= 50 ms: "
                     f"{'met' if worst <= 50 else 'NOT met'}; {rates[len(rates) // 2]:,.0f} tokens/s per stream")]


async def _many(server: Server, body: bytes) -> list[tuple[float, int, float]]:
    return list(await asyncio.gather(*(_stream(server.host, server.port, body) for _ in range(STREAMS))))


def hostile_requests(count: int) -> list[tuple[str, bytes, float]]:
    """(kind, raw bytes, seconds to stall before the rest) of malformed or hostile requests."""

    def post(body: bytes, path: str = "/v1/classify", headers: str = "", length: int | None = None) -> bytes:
        return (f"POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body) if length is None else length}\r\n{headers}\r\n").encode() + body

    kinds = [("bad JSON", post(b'{"texts": ["free prize"'), 0.0),
             ("wrong type", post(b'{"texts": "free prize"}'), 0.0),
             ("wrong type", post(b'{"texts": [1, 2, {"a": null}]}'), 0.0),
             ("wrong type", post(b'{"texts": ["a"], "k": "five"}'), 0.0),
             ("huge body", post(b'{"texts": ["' + b"a" * 1000, length=50_000_000), 0.0),
             ("huge text", post(json.dumps({"texts": ["x" * 200_000]}).encode()), 0.0),
             ("too many texts", post(json.dumps({"texts": ["x"] * 5000}).encode()), 0.0),
             ("invalid UTF-8", post(b'{"texts": ["\xff\xfe\xc3\x28"]}'), 0.0),
             ("unknown run", post(b'{"model": "nope", "texts": ["hi"]}'), 0.0),
             ("unknown field", post(b'{"texts": ["hi"], "temperature": 3}'), 0.0),
             ("deep nesting", post(b"[" * 50_000 + b"]" * 50_000), 0.0),
             ("unknown path", post(b"{}", "/v1/nothing"), 0.0),
             ("wrong method", b"DELETE /v1/classify HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 0.0),
             ("garbage", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n", 0.0),
             ("bad length", post(b"{}", headers="", length=-5).replace(b"Length: -5", b"Length: five"), 0.0)]
    slow = ("slow client", post(b'{"texts": ["slow"]}' + b" " * 40), 12.0)
    return [slow] * 40 + [kinds[k % len(kinds)] for k in range(count - 40)]  # the slow ones stall first


def _raw(host: str, port: int, data: bytes, stall: float) -> int:
    with socket.create_connection((host, port), timeout=30) as s:
        if stall:
            s.sendall(data[: len(data) - 30])
            time.sleep(stall)
            try:
                s.sendall(data[len(data) - 30:])
            except OSError:
                pass
        else:
            try:
                s.sendall(data)
            except OSError:  # the server answered and closed before reading all of a huge body
                pass
        received = b""
        try:
            while chunk := s.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass
    return int(received.split(b" ", 2)[1]) if received.startswith(b"HTTP/1.1 ") else -1


def hostile(run: Path, script: Path, seconds: int) -> list[Row]:
    """10,000 bad requests from 8 threads while wrk sends good ones: every bad one must be 4xx, the
    good answers unchanged, memory flat."""
    from concurrent.futures import ThreadPoolExecutor

    server = Server("-c", str(run))
    probe = sms_texts()[:50]
    body = json.dumps({"texts": probe}).encode()
    try:
        wrk(server, script, 3)
        status, before = request(server.host, server.port, "/v1/classify", body)
        rss_before = server.rss_mb()
        bad = hostile_requests(HOSTILE)
        load = threading.Thread(target=lambda: found.update(wrk(server, script, seconds)))
        found: dict[str, float] = {}
        load.start()
        with ThreadPoolExecutor(48) as pool:  # the slow clients hold threads; the rest share the others
            statuses = list(pool.map(lambda item: (item[0], _raw(server.host, server.port, item[1], item[2])), bad))
        load.join()
        wrk(server, script, 3)
        rss_after = server.rss_mb()
        status_after, after = request(server.host, server.port, "/v1/classify", body)
        alive = server.process.poll() is None
    finally:
        code = server.stop()
    wrong = [(kind, s) for kind, s in statuses if not 400 <= s < 500]
    same = status == status_after == 200 and json.loads(before) == json.loads(after)
    kinds = sorted({kind for kind, _ in statuses})
    ok = not wrong and same and alive and code == 0
    return [Row(f"serve: {len(bad):,} hostile requests mixed into {seconds} s of load, answered 4xx",
                f"{len(bad) - len(wrong):,}", f"of {len(bad):,}", None,
                note=(f"{'all 4xx' if not wrong else f'NOT 4xx: {wrong[:5]}'}; kinds: {', '.join(kinds)}; good load "
                      f"{found.get('rps', 0):,.0f}/s with {found.get('errors', 0):.0f} errors; answers "
                      f"{'unchanged' if same else 'CHANGED'}; RSS {rss_before:.0f} -> {rss_after:.0f} MB; "
                      f"exit {code}; {'met' if ok else 'NOT met'}"))]


def sigterm(run: Path) -> list[Row]:
    """16 clients, each a fresh connection per request, while SIGTERM arrives: a request that was
    sent must be answered (refused connections after the listener closed are not requests)."""
    server = Server("-c", str(run))
    body = json.dumps({"prompt": "ROMEO:", "max_tokens": 300}).encode()
    tally = {"answered": 0, "refused": 0, "lost": 0, "other": 0}
    stop = threading.Event()
    lock = threading.Lock()

    def client() -> None:
        while not stop.is_set():
            try:
                status, _ = request(server.host, server.port, "/v1/generate", body)
                kind = "answered" if status == 200 else "refused" if status == 0 else "other"
            except OSError:
                kind = "lost"
            with lock:
                tally[kind] += 1
            if kind == "refused":
                return

    threads = [threading.Thread(target=client) for _ in range(16)]
    for t in threads:
        t.start()
    time.sleep(3)
    began = time.perf_counter()
    code = server.stop()
    drained = time.perf_counter() - began
    stop.set()
    for t in threads:
        t.join(30)
    ok = code == 0 and tally["lost"] == 0 and tally["other"] == 0
    return [Row("serve: SIGTERM under load (16 clients generating 300 tokens each)", f"exit {code}",
                "", None, note=(f"{tally['answered']} answered, {tally['lost']} lost, {tally['other']} other, "
                                f"drained in {drained:.2f} s; {'met' if ok else 'NOT met'}"))]


def run(quick: bool = False, seconds: int | None = None) -> list[Row]:
    if not (DATA / "sms_spam" / "train.tsv").is_file() or not (DATA / "tinyshakespeare").is_dir():
        return [Row("serve under load", "skipped", "data absent", None)]
    if shutil.which("wrk") is None:
        return [Row("serve under load", "skipped", "wrk absent (bench/setup.sh installs it)", None)]
    seconds = seconds or 30
    work = Path(tempfile.mkdtemp(prefix="rnncli-serve-load-"))
    spam = train(work / "spam", str(DATA / "sms_spam" / "train.tsv"), "--task", "classify", "--time-budget",
                 "30" if quick else "60")
    chars = train(work / "chars", str(DATA / "tinyshakespeare" / "train.txt"), "--level", "char", "--time-budget",
                  "20" if quick else "60")
    for path in (spam, chars):
        rnncli("export", "-c", str(path))
    script = wrk_script(work, sms_texts())
    rows = [*throughput(spam, script, seconds), *streaming(chars, quick), *hostile(spam, script, seconds),
            *sigterm(chars)]
    shutil.rmtree(work, ignore_errors=True)
    return rows


if __name__ == "__main__":
    from common import machine

    print(machine())
    given = int(sys.argv[sys.argv.index("--seconds") + 1]) if "--seconds" in sys.argv else None
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    print_table("serving under load", run("--quick" in sys.argv, given))
