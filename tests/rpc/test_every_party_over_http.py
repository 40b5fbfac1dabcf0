"""Every party over real HTTP, against a hardhat node, with no call of the Python chain client: a three-tier
supply chain from admission to redemption, driven the way an ERP or the web portal would drive it.

Set-up only (not the story): `scf deploy` in a subprocess, fresh accounts given gas money by a hardhat
development account over plain JSON-RPC (`eth_sendTransaction`, unlocked on the node), a keys file, and
`python -m api --rpc …` on a free loopback port. Everything after that is httpx against the server: the
operator admits and credits, the core's maker and checker issue with documents, tier 1 accepts and pays tier 2,
tier 2 pays tier 3, tier 3 offers part of its fragment with its own EIP-712 signature (made locally with
eth-account: a signature, not a chain call), a bank funds it, the clock moves, the core repays (maker + checker),
every holder redeems, and the auditor downloads the documents, checks them against the chain and reads the trail.

Run with `-s` to see the requests by role and the wall time (printed, not asserted)."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from tests.rpc.conftest import HARDHAT_KEY, ROOT, rpc
from tests.test_api.served import free_port, stop, wait_for_health
from tests.test_cli import scf

pytestmark = pytest.mark.rpc

# Hardhat's second development account (mnemonic "test test ... junk"), unlocked on the node: it pays the gas
# money of the fresh accounts, so the operator's (the deployer's, the first account's) nonces stay the API's.
GAS_FUNDER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
GAS_WEI = 10**19
DAY = 86_400

# The FinancingDesk's EIP-712 request, as its holder signs it (IFinancingDesk.FinancingRequest).
REQUEST_TYPES = {
    "FinancingRequest": [
        {"name": "tokenId", "type": "uint256"},
        {"name": "value", "type": "uint256"},
        {"name": "price", "type": "uint256"},
        {"name": "financier", "type": "address"},
        {"name": "recourse", "type": "bool"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ]
}

PDF = b"%PDF-1.4\n% purchase contract HZ-2026-1201: 1,000,000.00 yuan of castings\n%%EOF\n"
XML = b'<?xml version="1.0" encoding="UTF-8"?><invoice no="0442-2026-1201" amount="1000000.00"/>'
DELIVERY = b'<?xml version="1.0" encoding="UTF-8"?><delivery note="JC-2026-031" to="tier 2"/>'


def fen(yuan: str) -> int:
    """A yuan string of the API ("1234.56") in fen, exactly."""
    value = Decimal(yuan) * 100
    assert value == value.to_integral_value(), yuan
    return int(value)


@dataclass
class Story:
    """One HTTP client for the whole story, and how many requests each role made."""

    http: httpx.Client
    requests: Counter[str] = field(default_factory=Counter)

    def call(self, role: str, key: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        self.requests[role] += 1
        headers = {"Authorization": f"Bearer {key}", **kwargs.pop("headers", {})}
        return self.http.request(method, path, headers=headers, **kwargs)


@dataclass
class Caller:
    story: Story
    role: str
    key: str

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        r = self.story.call(self.role, self.key, "GET", path, **kwargs)
        assert r.status_code == 200, (self.role, path, r.text)
        return r

    def post(self, path: str, *, status: int = 200, **kwargs: Any) -> Any:
        r = self.story.call(self.role, self.key, "POST", path, **kwargs)
        assert r.status_code == status, (self.role, path, r.text)
        return r.json()

    def act(self, kind: str, params: dict[str, Any], state: str = "executed") -> dict[str, Any]:
        """POST /actions; the answer's state must be `state` (executed at once, or prepared for a checker)."""
        key = f"{self.role.replace(' ', '')}-{kind}-{secrets.token_hex(4)}"
        body = {"kind": kind, "params": params}
        done: dict[str, Any] = self.post("/actions", status=201, json=body, headers={"Idempotency-Key": key})
        assert done["state"] == state, done
        return done

    def approve(self, action_id: str) -> dict[str, Any]:
        done: dict[str, Any] = self.post(f"/actions/{action_id}/approve")
        assert done["state"] == "executed", done
        return done

    def upload(self, name: str, content: bytes, kind: str, media_type: str) -> str:
        stored = self.post("/documents", status=201, files={"file": (name, content, media_type)}, data={"kind": kind})
        assert stored["sha256"] == hashlib.sha256(content).hexdigest()
        return str(stored["sha256"])

    def cash(self) -> int:
        return fen(self.get("/me").json()["cash"])


@dataclass
class Party:
    name: str
    role: str  # as the keys file names it
    account: LocalAccount
    api_key: str = field(default_factory=lambda: secrets.token_hex(24))

    @property
    def address(self) -> str:
        return str(self.account.address)

    def config(self, *, signs: bool = True) -> dict[str, str]:
        found = {"name": self.name, "role": self.role, "api_key": self.api_key}
        return {**found, "private_key": self.account.key.hex()} if signs else {**found, "address": self.address}


def deploy(url: str, folder: Path) -> Path:
    deployment = folder / "deployment.json"
    run = scf("deploy", "--rpc", url, "--out", str(deployment), env={**os.environ, "SCF_OPERATOR_KEY": HARDHAT_KEY})
    assert run.returncode == 0, run.stderr
    return deployment


def give_gas(url: str, address: str) -> None:
    tx = {"from": GAS_FUNDER, "to": address, "value": hex(GAS_WEI)}
    rpc(url, "eth_sendTransaction", [tx], timeout=30)  # hardhat mines it at once (automine)


def serve(url: str, folder: Path, deployment: Path, parties: list[Party]) -> tuple[str, subprocess.Popen[str], Path]:
    keys, store, log = folder / "keys.json", folder / "api.sqlite", folder / "api.log"
    members = [p.config(signs=p.role != "auditor") for p in parties]  # the auditor writes nothing: no key
    keys.write_text(json.dumps({"members": members}))
    port = free_port()
    args = ["--rpc", url, "--keys-file", str(keys), "--deployment", str(deployment), "--store", str(store)]
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "api", *args, "--port", str(port)],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    api = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(api, process, log)
    except BaseException:
        stop(process)
        raise
    return api, process, log


def combined(documents: list[bytes]) -> str:
    """The one hash that goes on chain for a set of documents: keccak256 over their SHA-256 digests, de-duplicated,
    sorted, concatenated (docs/parties.md, api/documents.py)."""
    return "0x" + keccak(b"".join(sorted({hashlib.sha256(d).digest() for d in documents}))).hex()


def test_a_three_tier_chain_from_admission_to_redemption_over_http(hardhat_url: str, tmp_path: Path) -> None:
    # ------------------------------------------------------------------ set-up: not part of the story
    deployment = deploy(hardhat_url, tmp_path)
    operator = Party("Platform Operator", "operator", Account.from_key(HARDHAT_KEY))  # the deployer
    core = Party("Huazhong Heavy Industry", "core_enterprise", Account.create())
    t1, t2, t3 = (Party(n, "supplier", Account.create()) for n in ("Jiangcheng Steel", "Hanyang Castings", "Qiaokou"))
    bank = Party("Bank of Hankou", "financier", Account.create())
    auditor = Party("Wuhan Audit", "auditor", Account.create())
    for p in (core, t1, t2, t3, bank):
        give_gas(hardhat_url, p.address)
    url, server, log = serve(hardhat_url, tmp_path, deployment, [operator, core, t1, t2, t3, bank, auditor])

    try:
        started = time.perf_counter()
        with httpx.Client(base_url=url, timeout=60) as http:
            story = Story(http)
            op = Caller(story, "operator", operator.api_key)
            core_admin = Caller(story, "core: admin", core.api_key)
            s1, s2, s3 = (Caller(story, f"tier {i}", p.api_key) for i, p in enumerate((t1, t2, t3), 1))
            lender = Caller(story, "bank", bank.api_key)
            audit = Caller(story, "auditor", auditor.api_key)

            # The operator admits every member, gives the core a credit line, and cash to the bank and the core.
            for p in (core, t1, t2, t3, bank, auditor):
                op.act("admit", {"account": p.address, "role": p.role})
            op.act("set_credit_line", {"debtor": core.address, "limit": "10000000.00"})
            op.act("mint", {"to": bank.address, "amount": "200000.00"})
            op.act("mint", {"to": core.address, "amount": "1000000.00"})
            health = op.get("/health").json()
            desk, chain_id, chain_time = health["contracts"]["FinancingDesk"], health["chain_id"], health["chain_time"]

            # The core's admin makes a maker and a checker (经办 / 复核).
            made = {
                duty: core_admin.post("/users", status=201, json={"name": f"{duty} clerk", "duty": duty})
                for duty in ("maker", "checker")
            }
            maker = Caller(story, "core: maker", made["maker"]["api_key"])
            checker = Caller(story, "core: checker", made["checker"]["api_key"])

            # The maker uploads the contract and the invoice and prepares the issue; the checker approves it.
            docs = [
                maker.upload("contract.pdf", PDF, "contract", "application/pdf"),
                maker.upload("invoice.xml", XML, "invoice", "application/xml"),
            ]
            maturity = chain_time + 90 * DAY
            issue = {"supplier": t1.address, "face_value": "1000000.00", "maturity": maturity, "documents": docs}
            prepared = maker.act("issue", issue, state="prepared")
            assert prepared["needs_approval"]
            assert prepared["tx_hash"] is None  # nothing sent before the checker approves
            issued = checker.approve(prepared["id"])["result"]
            slot, t1_token = issued["slot"], issued["token_id"]

            # Tier 1 accepts and pays tier 2 (with its delivery note); tier 2 pays tier 3.
            s1.act("accept", {"token_id": t1_token})
            note = s1.upload("delivery.xml", DELIVERY, "delivery_note", "application/xml")
            pay = {"token_id": t1_token, "payments": [{"to": t2.address, "value": "300000.00"}], "documents": [note]}
            (t2_token,) = s1.act("pay_suppliers", pay)["result"]["new_token_ids"]
            memo = "0x" + keccak(text="PO HY-2026-117").hex()  # tier 2 keeps its documents itself: only their hash
            pay = {"token_id": t2_token, "payments": [{"to": t3.address, "value": "120000.00"}], "memo": memo}
            (t3_token,) = s2.act("pay_suppliers", pay)["result"]["new_token_ids"]

            # Tier 3 lets the desk move its fragment and offers 100,000.00 of its 120,000.00 to the bank for
            # 98,000.00, signed with its own key (EIP-712, locally).
            s3.act("set_approval_for_all", {"approved": True})
            request = {
                "tokenId": int(t3_token),
                "value": 100_000_00,
                "price": 98_000_00,
                "financier": bank.address,
                "recourse": False,
                "nonce": 1,
                "deadline": chain_time + 7 * DAY,
            }
            domain = {"name": "SCF FinancingDesk", "version": "1", "chainId": chain_id, "verifyingContract": desk}
            signature = t3.account.sign_typed_data(domain, REQUEST_TYPES, request).signature.to_0x_hex()
            offer = {
                "token_id": t3_token,
                "value": "100000.00",
                "price": "98000.00",
                "financier": bank.address,
                "nonce": 1,
                "deadline": request["deadline"],
                "signature": signature,
            }
            offered = s3.post("/financing-requests", status=201, json=offer)

            # The bank sets its exposure limit to the core, sees the offer, and funds it.
            lender.act("set_exposure_limit", {"debtor": core.address, "limit": "500000.00"})
            listed = lender.get("/financing-requests", params={"status": "open"}).json()["data"]
            assert [r["id"] for r in listed] == [offered["id"]]
            funded = lender.post(f"/financing-requests/{offered['id']}/fund", headers={"Idempotency-Key": "fund-1"})
            assert funded["status"] == "funded", funded
            bank_token = funded["funding"]["financed_token_id"]

            # Time moves past maturity; the core's maker prepares the repayment and its checker approves it.
            op.post("/dev/advance-time", json={"seconds": maturity - chain_time + 1})
            repay = maker.act("repay", {"slot": slot, "amount": "1000000.00"}, state="prepared")
            checker.approve(repay["id"])

            # Every holder redeems; each one's cash is its share, to the fen.
            for holder, token in ((s1, t1_token), (s2, t2_token), (s3, t3_token), (lender, bank_token)):
                holder.act("redeem", {"token_id": token})
            assert s1.cash() == 700_000_00
            assert s2.cash() == 180_000_00
            assert s3.cash() == 98_000_00 + 20_000_00  # the bank's price, then the rest at maturity
            assert lender.cash() == 200_000_00 - 98_000_00 + 100_000_00
            assert core_admin.cash() == 0

            # The auditor downloads the documents, checks them against the chain, and reads the trail.
            checked = audit.get(f"/receivables/{slot}/documents").json()
            on_chain = audit.get(f"/receivables/{slot}").json()["receivable"]["document_hash"]
            downloaded = []
            for listed_doc in checked["documents"]:
                content = audit.get(f"/documents/{listed_doc['sha256']}").content
                assert hashlib.sha256(content).hexdigest() == listed_doc["sha256"]
                downloaded.append(content)
            assert sorted(downloaded) == sorted([PDF, XML])
            assert combined(downloaded) == on_chain.lower() == checked["on_chain_hash"].lower()
            assert checked["matches"] is True
            trail = audit.get("/audit", params={"limit": 500}).json()
            issue_entries = [e for e in trail["data"] if e["action"] == prepared["id"]]
            assert [e["event"] for e in issue_entries] == ["prepared", "approved", "executed"]
            assert issue_entries[0]["user"] == made["maker"]["id"]
            assert issue_entries[1]["user"] == made["checker"]["id"]
            verified = audit.get("/audit/verify").json()
            assert verified["ok"] is True
            assert verified["entries"] == trail["count"]
        elapsed = time.perf_counter() - started
    finally:
        stop(server)
    assert "Traceback" not in log.read_text()

    by_role = ", ".join(f"{role} {n}" for role, n in story.requests.items())
    core_total = sum(n for role, n in story.requests.items() if role.startswith("core"))
    print(f"\nthe story over HTTP: {story.requests.total()} requests ({by_role}; the core {core_total} in all)")
    print(f"wall time from the first request to the last: {elapsed:.2f} s (set-up not included)")
