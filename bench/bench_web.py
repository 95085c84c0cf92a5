"""Load benchmark of the public trial pages on loopback.

Starts `trialscreen serve` in its own process (SQLite in a temporary directory), then drives it
with an asyncio HTTP/1.1 keep-alive load generator (raw sockets, so the client costs little
next to the server) and reports, per target, requests per second and p50/p99 latency, with
ratios to a baseline measured in the same run (`GET /healthz`, the cheapest route).

    .venv/bin/python bench/bench_web.py [--seconds 10] [--connections 16] [--json out.json]

Targets: the baseline, the trial page (`GET /trials/NCT06125652`), and a questionnaire
submission (`POST /api/trials/NCT06125652/prescreen` with a full set of answers).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
SEED = "NCT06125652"
GOAL_RPS, GOAL_P99_MS = 500.0, 100.0


@dataclass(frozen=True)
class Target:
    name: str
    method: str
    path: str
    body: bytes = b""


@dataclass(frozen=True)
class Result:
    target: str
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answers() -> dict[str, object]:
    """A full qualifying answer set, built from the generated questionnaire."""
    sys.path.insert(0, str(REPO))
    from tests.questionnaire.seed_answers import qualifying
    from trialscreen.criteria.builtin import builtin_criteria
    from trialscreen.questionnaire import build_questionnaire

    criteria = builtin_criteria(SEED)
    assert criteria is not None
    return qualifying(build_questionnaire(criteria))


def request_bytes(t: Target, port: int) -> bytes:
    head = f"{t.method} {t.path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: keep-alive\r\n"
    if t.body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(t.body)}\r\n"
    return head.encode() + b"\r\n" + t.body


async def read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
        elif name.strip().lower() == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    else:
        await reader.readexactly(length)
    return status


async def worker(port: int, payload: bytes, stop: float, latencies: list[float], errors: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < stop:
            start = time.perf_counter()
            writer.write(payload)
            status = await read_response(reader)
            latencies.append(time.perf_counter() - start)
            if status >= 400:
                errors.append(status)
    finally:
        writer.close()


async def run(target: Target, port: int, seconds: float, connections: int) -> Result:
    payload = request_bytes(target, port)
    warm: list[float] = []
    await asyncio.gather(*(worker(port, payload, time.perf_counter() + 1.0, warm, []) for _ in range(connections)))
    latencies: list[float] = []
    errors: list[int] = []
    start = time.perf_counter()
    await asyncio.gather(
        *(worker(port, payload, start + seconds, latencies, errors) for _ in range(connections))
    )
    elapsed = time.perf_counter() - start
    qs = statistics.quantiles(latencies, n=100)
    return Result(target.name, len(latencies), len(errors), elapsed, qs[49] * 1000, qs[98] * 1000)


def start_server(port: int, db: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "trialscreen.cli.app", "serve", "--port", str(port), "--db", f"sqlite:///{db}",
           "--as-of", "2026-11-25"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGTERM)
    raise SystemExit("bench_web: the server did not start within 60 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measuring time per target")
    parser.add_argument("--connections", type=int, default=16, help="concurrent keep-alive connections")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    body = json.dumps({"answers": answers()}).encode()
    targets = [
        Target("baseline GET /healthz", "GET", "/healthz"),
        Target("trial page GET /trials/{nct}", "GET", f"/trials/{SEED}"),
        Target("prescreen POST /api/trials/{nct}/prescreen", "POST", f"/api/trials/{SEED}/prescreen", body),
    ]
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        server = start_server(port, Path(tmp) / "bench.db")
        try:
            check = httpx.post(f"http://127.0.0.1:{port}{targets[2].path}", content=body,
                               headers={"content-type": "application/json"}, timeout=10)
            assert check.status_code == 200 and check.json()["result"] == "may_qualify", check.text[:300]
            results = [asyncio.run(run(t, port, args.seconds, args.connections)) for t in targets]
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=20)
    base = results[0]
    print(f"{args.connections} connections, {args.seconds:g} s per target, {os.cpu_count()} CPUs, loopback")
    print(f"{'target':46} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6} {'rps/base':>9} {'p99/base':>9}")
    for r in results:
        print(f"{r.target:46} {r.rps:8.0f} {r.p50_ms:8.2f} {r.p99_ms:8.2f} {r.errors:6d} "
              f"{r.rps / base.rps:9.3f} {r.p99_ms / base.p99_ms:9.2f}")
    page = results[1]
    verdict = "met" if page.rps >= GOAL_RPS and page.p99_ms <= GOAL_P99_MS else "NOT met"
    print(f"goal for the trial page (>= {GOAL_RPS:g} req/s, p99 <= {GOAL_P99_MS:g} ms): {verdict}")
    if args.json:
        args.json.write_text(json.dumps([{**r.__dict__, "rps": r.rps} for r in results], indent=2))


if __name__ == "__main__":
    main()
