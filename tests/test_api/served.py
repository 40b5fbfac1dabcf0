"""`python -m api` in its own process on a free loopback port, for the tests that need real HTTP: a crash or a
blocked event loop shows only there (the TestClient shares the test's process and thread)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_health(url: str, server: subprocess.Popen[str], log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the server exited with {server.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"no /health within {timeout} s:\n{log.read_text()}")


@dataclass
class Served:
    """A running `python -m api` (embedded chain, demo seed) and the members' keys it wrote."""

    url: str
    process: subprocess.Popen[str]
    log: Path
    members: list[dict[str, Any]]

    def key(self, role: str, nth: int = 0) -> str:
        return str([m for m in self.members if m["role"] == role][nth]["api_key"])

    def member(self, role: str, nth: int = 0) -> dict[str, Any]:
        return [m for m in self.members if m["role"] == role][nth]

    def alive(self) -> bool:
        return self.process.poll() is None

    @classmethod
    def start(cls, folder: Path, *extra: str, env: dict[str, str] | None = None) -> Served:
        port, keys, log = free_port(), folder / "keys.json", folder / "server.log"
        url = f"http://127.0.0.1:{port}"
        with log.open("w") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "api", "--port", str(port), "--keys-out", str(keys), *extra],
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
                env={**os.environ, **(env or {})},
            )
        try:
            wait_for_health(url, process, log)
        except BaseException:
            stop(process)
            raise
        return cls(url, process, log, json.loads(keys.read_text())["members"])

    def stop(self) -> None:
        stop(self.process)


def stop(process: subprocess.Popen[str], sig: int = signal.SIGTERM) -> None:
    if process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
