"""The served API against a hardhat node, killed with SIGKILL in the middle of 40 concurrent fundings and
restarted on the same store: every funding on chain is in the store, none twice, none stuck, and every caller
that retries with its key gets its outcome."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.fields import yuan_text
from api.seed import seed_demo
from api.settings import write_members
from chain_client import ScfClient, accounts_of, deploy_all
from chain_client.deploy import record_of
from chain_client.devchain import now
from chain_client.financing import FinancingRequest
from chain_client.receivables import token_id_of
from tests.rpc.conftest import ROOT, hardhat_w3
from tests.test_api.served import free_port, stop, wait_for_health

pytestmark = pytest.mark.rpc

FUNDINGS = 40


def start(args: list[str], log: Path) -> subprocess.Popen[str]:
    with log.open("a") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "api", *args], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, text=True
        )


def fund(url: str, key: str, request_id: int, idempotency_key: str) -> httpx.Response | None:
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": idempotency_key}
    try:
        return httpx.post(f"{url}/financing-requests/{request_id}/fund", headers=headers, timeout=60)
    except httpx.TransportError:
        return None  # the server died under this call


def test_sigkill_mid_funding_loses_nothing_and_funds_nothing_twice(hardhat_url: str, tmp_path: Path) -> None:
    w3 = hardhat_w3(hardhat_url)
    operator = accounts_of(w3)[0]
    scf = ScfClient(w3, deploy_all(w3, operator))
    demo = seed_demo(scf, operator)
    deployment, keys, store, log = (tmp_path / n for n in ("deployment.json", "keys.json", "api.sqlite", "api.log"))
    record_of(w3, scf.contracts, operator.address).save(deployment)
    write_members(keys, demo.members())
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = ["--rpc", hardhat_url, "--deployment", str(deployment), "--keys-file", str(keys), "--store", str(store)]
    args += ["--port", str(port)]
    server = start(args, log)
    try:
        wait_for_health(url, server, log)
        # Forty small slices of Jiangcheng Steel's two fragments, each signed with its own nonce.
        steel = next(p for p in demo.parties if p.name == "Jiangcheng Steel")
        ids = []
        for i in range(FUNDINGS):
            token_id = token_id_of(demo.slots[i % 2], 1)
            request = FinancingRequest(token_id, 1_000_00, 990_00, nonce=1000 + i, deadline=now(w3) + 86_400)
            body: dict[str, Any] = {
                "token_id": token_id,
                "value": yuan_text(request.value),
                "price": yuan_text(request.price),
                "nonce": request.nonce,
                "deadline": request.deadline,
                "signature": "0x" + scf.financing.sign(steel.account, request).hex(),
            }
            created = httpx.post(
                f"{url}/financing-requests", json=body, headers={"Authorization": f"Bearer {steel.api_key}"}
            )
            assert created.status_code == 201, created.text
            ids.append(created.json()["id"])
        banks = demo.banks
        calls = [(banks[i % 2].api_key, request_id, f"fault-{i}") for i, request_id in enumerate(ids)]

        with ThreadPoolExecutor(FUNDINGS) as pool:
            pending = [pool.submit(fund, url, *call) for call in calls]
            deadline = time.monotonic() + 30
            while sum(f.done() for f in pending) < FUNDINGS // 4 and time.monotonic() < deadline:
                time.sleep(0.01)
            server.send_signal(signal.SIGKILL)  # a quarter answered; the rest claimed, in flight or queued
            server.wait(10)
            first = [f.result() for f in pending]
        answered = sum(r is not None for r in first)
        assert 0 < answered < FUNDINGS, answered

        server = start(args, log)
        wait_for_health(url, server, log)
        with ThreadPoolExecutor(8) as pool:
            retried = list(pool.map(lambda call: fund(url, *call), calls))
        for call, again in zip(calls, retried, strict=True):
            assert again is not None, call
            assert again.status_code == 200, (call, again.text)
            assert again.json()["status"] == "funded"
        for before, after in zip(first, retried, strict=True):  # an answered call's outcome does not change
            if before is not None and before.status_code == 200:
                assert after is not None
                assert after.json() == before.json()

        # The chain: exactly one Financed event per request, each the one the store recorded.
        events = scf.contracts["FinancingDesk"].events.Financed().get_logs(from_block=0)
        by_hash = {}
        for event in events:
            request_hash = "0x" + bytes(event["args"]["requestHash"]).hex()
            assert request_hash not in by_hash, "funded twice"
            by_hash[request_hash] = "0x" + bytes(event["transactionHash"]).hex().removeprefix("0x")
        listed = httpx.get(
            f"{url}/financing-requests", params={"limit": 500}, headers={"Authorization": f"Bearer {banks[0].api_key}"}
        )
        rows = {r["id"]: r for r in listed.json()["data"]}
        assert {rows[i]["status"] for i in ids} == {"funded"}  # none stuck in funding
        for i in ids:
            assert by_hash[rows[i]["request_hash"]] == rows[i]["funding"]["tx_hash"]
        assert all(scf.financing.nonce_used(steel.address, 1000 + i) for i in range(FUNDINGS))
        print(f"\nfault run: {answered} of {FUNDINGS} answered before SIGKILL; all {FUNDINGS} funded once after retry")
    finally:
        stop(server)
