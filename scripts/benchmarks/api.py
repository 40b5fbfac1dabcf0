"""`bench.py api`: latency of the HTTP API's main reads and of funding, over loopback HTTP from this process to
`python -m api` (embedded chain, demo seed) in another, beside a trivial endpoint served the same way (FastAPI, a
sync route in the thread pool, uvicorn, the same guard) in a third: p50, p95 and p99 of one client's requests in
turn, and each endpoint's p50 as a multiple of the trivial one's.

With `fragments`, the server also seeds a receivable split into that many fragments held by 50 suppliers
(`python -m api --seed-fragments N`) and indexes it before serving; `GET /receivables/{slot}` reads that one, as
the first bank sees it (two of its fragments are offered, one to the market and one to that bank).

Funding is measured on the seed's open financing requests, each funded once (a real transaction each), then
the same calls again with their Idempotency-Keys (replays, which send nothing).
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
FRAGMENTS = 100_000  # the large receivable's, by default (issue 14's size)
QUICK_FRAGMENTS = 200
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


@dataclass
class Latency:
    name: str
    latencies: list[float]
    statuses: Counter[int]

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def sample(http: httpx.Client, name: str, method: str, url: str, headers: dict[str, str], n: int) -> Latency:
    """`n` requests one after another (after one warm-up); their latencies and statuses."""
    http.request(method, url, headers=headers)
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    for _ in range(n):
        started = time.perf_counter()
        status = http.request(method, url, headers=headers).status_code
        latencies.append(time.perf_counter() - started)
        statuses[status] += 1
    return Latency(name, latencies, statuses)


def fundings(http: httpx.Client, api: str, headers: dict[str, str], ids: list[int]) -> list[Latency]:
    """Each open request funded once, then each call again with its key (replayed, nothing sent)."""
    run = time.time_ns()
    first = Latency("POST /financing-requests/{id}/fund", [], Counter())
    again = Latency("POST …/fund again, same Idempotency-Key", [], Counter())
    for row in (first, again):
        for request_id in ids:
            sent = {**headers, "Idempotency-Key": f"bench-{run}-{request_id}"}
            started = time.perf_counter()
            status = http.post(f"{api}/financing-requests/{request_id}/fund", headers=sent).status_code
            row.latencies.append(time.perf_counter() - started)
            row.statuses[status] += 1
    return [first, again]


@dataclass(frozen=True)
class Seeded:
    """What the server said of its large receivable: its slot, fragments, split transactions, and the seconds it
    took to split and to index."""

    slot: str
    fragments: int
    transactions: int
    seed_seconds: float
    events: int
    index_seconds: float


# The line `python -m api --seed-fragments N` prints once it has seeded and indexed (api/serve.py).
SEEDED = re.compile(
    r"seeded a receivable of ([\d,]+) fragments in ([\d.]+) s \(([\d,]+) split transactions\); "
    r"indexed ([\d,]+) events in ([\d.]+) s \(slot (\d+)\)"
)


def seeded(log: str) -> Seeded:
    found = SEEDED.search(log)
    if found is None:
        raise SystemExit("the API did not say what it seeded")
    n, seconds, txs, events, indexed, slot = found.groups()
    return Seeded(
        slot,
        int(n.replace(",", "")),
        int(txs.replace(",", "")),
        float(seconds),
        int(events.replace(",", "")),
        float(indexed),
    )


def measure_api(api: str, trivial: str, keys: dict[str, str], n: int, slot: str | None) -> list[Latency]:
    bank = {"Authorization": f"Bearer {keys['financier']}"}
    with httpx.Client(timeout=60) as http:
        listed = http.get(f"{api}/financing-requests?status=open", headers=bank).json()
        open_ids = [r["id"] for r in listed["data"]]
        slot = slot or http.get(f"{api}/receivables", headers=bank).json()["data"][0]["slot"]
        reads = [
            ("trivial endpoint (reference)", f"{trivial}/trivial"),
            ("GET /health", f"{api}/health"),
            ("GET /me", f"{api}/me"),
            ("GET /receivables", f"{api}/receivables"),
            ("GET /receivables/{slot}", f"{api}/receivables/{slot}"),
            ("GET /financing-requests", f"{api}/financing-requests"),
            ("GET /portfolio", f"{api}/portfolio"),
        ]
        rows = [sample(http, name, "GET", url, bank, n) for name, url in reads]
        rows += fundings(http, api, bank, open_ids)
    return rows


def run(n: int, fragments: int = 0) -> tuple[list[Latency], Seeded | None, float]:
    """Start the API (seeding a receivable of `fragments` fragments, if any) and the trivial app, measure, stop
    them: the rows, what was seeded, and the seconds from starting the API to its first answer."""
    with tempfile.TemporaryDirectory(prefix="scf-bench-api-") as folder:
        api_port, trivial_port = free_port(), free_port()
        keys_file = Path(folder) / "keys.json"
        log_path = Path(folder) / "api.log"
        log = log_path.open("wb")
        seed = ["--seed-fragments", str(fragments)] if fragments else []
        started = time.monotonic()
        api_proc = subprocess.Popen(
            [sys.executable, "-m", "api", "--port", str(api_port), "--keys-out", str(keys_file), *seed],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        trivial_proc = subprocess.Popen(
            [sys.executable, "-c", TRIVIAL_APP.replace("{port}", str(trivial_port))], cwd=ROOT, stderr=log
        )
        try:
            api, trivial = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{trivial_port}"
            wait_up(f"{api}/health", api_proc, timeout=120 + fragments / 20)
            startup = time.monotonic() - started
            wait_up(f"{trivial}/trivial", trivial_proc)
            members = json.loads(keys_file.read_text())["members"]
            keys = {m["role"]: m["api_key"] for m in reversed(members)}  # the first of each role
            large = seeded(log_path.read_text(errors="replace")) if fragments else None
            rows = measure_api(api, trivial, keys, n, large.slot if large else None)
            return rows, large, startup
        finally:
            for proc in (api_proc, trivial_proc):
                proc.terminate()
                proc.wait(15)
            log.close()
