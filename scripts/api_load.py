"""Load on the lender API over loopback HTTP: reads and funding at 10 and 50 concurrent clients, beside a
trivial endpoint served the same way (FastAPI, a sync route in the thread pool, uvicorn, the same guard).

    python scripts/api_load.py [--seconds S] [--clients 10,50]

Starts `python -m api` (embedded chain, demo seed) and a trivial app in two processes on free ports, drives
each endpoint with N clients for S seconds (funding: every client funds the open requests with its own
keys, so one call per request funds and the others are refused or replayed), and prints a table: requests per
second, p50 and p95 latency, and requests per second as a fraction of the trivial endpoint's. A benchmark,
not a test: the figures depend on the machine (the client shares its cores).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
TRIVIAL_APP = """
import uvicorn
from fastapi import FastAPI
from api.guard import RequestGuard

app = FastAPI()
app.add_middleware(RequestGuard, known_key=lambda key: True)

@app.get("/trivial")
def trivial() -> dict[str, bool]:
    return {"ok": True}

uvicorn.run(app, host="127.0.0.1", port={port}, log_level="warning")
"""


Call = Callable[[httpx.AsyncClient, int, int], Awaitable[int]]
"""One request by client `i`, its `n`th: returns the HTTP status."""


@dataclass
class Row:
    name: str
    clients: int
    latencies: list[float]
    seconds: float
    statuses: Counter[int]

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(url: str, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit(f"no answer from {url} within {timeout} s")


async def drive(name: str, clients: int, seconds: float, call: Call) -> Row:
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=60) as http:
        stop = time.monotonic() + seconds

        async def client(i: int) -> None:
            n = 0
            while time.monotonic() < stop:
                started = time.perf_counter()
                status = await call(http, i, n)
                latencies.append(time.perf_counter() - started)
                statuses[status] += 1
                n += 1

        started = time.monotonic()
        await asyncio.gather(*(client(i) for i in range(clients)))
        elapsed = time.monotonic() - started
    return Row(name, clients, latencies, elapsed, statuses)


def get(url: str, headers: dict[str, str]) -> Call:
    async def call(http: httpx.AsyncClient, _: int, __: int) -> int:
        return (await http.get(url, headers=headers)).status_code

    return call


def funder(api: str, headers: dict[str, str], ids: list[int]) -> Call:
    run = time.time_ns()  # keys new to every row: a key reused with the same body would be a replay

    async def call(http: httpx.AsyncClient, i: int, n: int) -> int:
        request_id = ids[n % len(ids)]
        sent = {**headers, "Idempotency-Key": f"load-{run}-{i}-{n}"}
        return (await http.post(f"{api}/financing-requests/{request_id}/fund", headers=sent)).status_code

    return call


async def measure(api: str, trivial: str, keys: dict[str, str], seconds: float, counts: list[int]) -> list[Row]:
    bank = {"Authorization": f"Bearer {keys['financier']}"}
    async with httpx.AsyncClient() as http:
        listed = (await http.get(f"{api}/financing-requests?status=open", headers=bank)).json()
    open_ids = [r["id"] for r in listed["data"]] or [1]
    rows = []
    for clients in counts:
        rows.append(await drive("trivial (same server stack)", clients, seconds, get(f"{trivial}/trivial", bank)))
        rows.append(await drive("GET /health", clients, seconds, get(f"{api}/health", {})))
        rows.append(await drive("GET /me", clients, seconds, get(f"{api}/me", bank)))
        rows.append(await drive("GET /receivables", clients, seconds, get(f"{api}/receivables", bank)))
        rows.append(await drive("GET /financing-requests", clients, seconds, get(f"{api}/financing-requests", bank)))
        rows.append(await drive("GET /portfolio", clients, seconds, get(f"{api}/portfolio", bank)))
        rows.append(await drive("POST …/fund (mixed outcomes)", clients, seconds, funder(api, bank, open_ids)))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0, help="per endpoint and client count (default 3)")
    parser.add_argument("--clients", default="10,50", help="concurrent client counts (default 10,50)")
    args = parser.parse_args(argv)
    counts = [int(c) for c in args.clients.split(",")]
    console = Console(width=None if sys.stdout.isatty() else 140, highlight=False)
    with tempfile.TemporaryDirectory(prefix="scf-api-load-") as folder:
        api_port, trivial_port = free_port(), free_port()
        keys_file = Path(folder) / "keys.json"
        log = (Path(folder) / "api.log").open("wb")
        api_proc = subprocess.Popen(
            [sys.executable, "-m", "api", "--port", str(api_port), "--keys-out", str(keys_file)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        trivial_proc = subprocess.Popen(
            [sys.executable, "-c", TRIVIAL_APP.replace("{port}", str(trivial_port))], cwd=ROOT, stderr=log
        )
        try:
            api, trivial = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{trivial_port}"
            wait_up(f"{api}/health", api_proc)
            wait_up(f"{trivial}/trivial", trivial_proc)
            members = json.loads(keys_file.read_text())["members"]
            keys = {m["role"]: m["api_key"] for m in reversed(members)}  # the first of each role
            rows = asyncio.run(measure(api, trivial, keys, args.seconds, counts))
        finally:
            for proc in (api_proc, trivial_proc):
                proc.terminate()
                proc.wait(15)
            log.close()
    table = Table(title=f"Lender API over loopback, {args.seconds:g} s per row ({os.cpu_count()} cores)")
    for column in ("endpoint", "clients", "requests", "req/s", "p50 ms", "p95 ms", "× trivial", "statuses"):
        table.add_column(column, justify="left" if column in ("endpoint", "statuses") else "right")
    baseline: dict[int, float] = {}
    for row in rows:
        if row.name.startswith("trivial"):
            baseline[row.clients] = row.rps
        ratio = row.rps / baseline[row.clients] if baseline.get(row.clients) else float("nan")
        statuses = ", ".join(f"{code}×{count}" for code, count in sorted(row.statuses.items()))
        table.add_row(
            row.name,
            str(row.clients),
            str(len(row.latencies)),
            f"{row.rps:.0f}",
            f"{row.pct(0.5):.1f}",
            f"{row.pct(0.95):.1f}",
            f"{ratio:.2f}",
            statuses,
        )
    console.print(table)
    slowest = max((r for r in rows if r.name.startswith("GET")), key=lambda r: statistics.median(r.latencies))
    console.print(f"slowest read by p50: {slowest.name} at {slowest.clients} clients, {slowest.pct(0.5):.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
