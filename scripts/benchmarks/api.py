"""`bench.py api`: latency of the HTTP API's main reads and of funding, over loopback HTTP from this process to
`python -m api` (embedded chain, demo seed) in another, beside a trivial endpoint served the same way (FastAPI, a
sync route in the thread pool, uvicorn, the same guard) in a third: p50, p95 and p99 of one client's requests in
turn, and each endpoint's p50 as a multiple of the trivial one's.

Funding is measured on the seed's open financing requests, each funded once (a real transaction each), then
the same calls again with their Idempotency-Keys (replays, which send nothing).
"""

from __future__ import annotations

import json
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


def measure_api(api: str, trivial: str, keys: dict[str, str], n: int) -> list[Latency]:
    bank = {"Authorization": f"Bearer {keys['financier']}"}
    with httpx.Client(timeout=60) as http:
        listed = http.get(f"{api}/financing-requests?status=open", headers=bank).json()
        open_ids = [r["id"] for r in listed["data"]]
        slot = http.get(f"{api}/receivables", headers=bank).json()["data"][0]["slot"]
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


def run(n: int) -> list[Latency]:
    """Start the API and the trivial app, measure, stop them."""
    with tempfile.TemporaryDirectory(prefix="scf-bench-api-") as folder:
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
            return measure_api(api, trivial, keys, n)
        finally:
            for proc in (api_proc, trivial_proc):
                proc.terminate()
                proc.wait(15)
            log.close()
