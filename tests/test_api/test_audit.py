"""The audit trail: every step of an action appended with who, what and the transaction hash; readable by
the operator and auditors (all) and a member's users (their own); append-only by trigger; and a row changed
or removed through the file itself is found by GET /audit/verify."""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

import pytest
from eth_utils.crypto import keccak

from api.seed import Party
from chain_client.devchain import now
from tests.test_api.conftest import Api, refusal

DAY = 86_400


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def new_user(api: Api, party: Party, duty: str) -> tuple[str, str]:
    r = api.post("/users", party, json={"name": duty, "duty": duty}).json()
    return r["id"], r["api_key"]


def issue(api: Api, key: str, idem: str) -> dict[str, Any]:
    params = {
        "supplier": api.demo.suppliers[0].address,
        "face_value": "10.00",
        "maturity": now(api.scf.w3) + 30 * DAY,
        "document_hash": "0x" + keccak(text=f"audit {idem} {time.monotonic_ns()}").hex(),
    }
    headers = {**bearer(key), "Idempotency-Key": idem}
    r = api.client.post("/actions", headers=headers, json={"kind": "issue", "params": params})
    assert r.status_code == 201, r.text
    return dict(r.json())


def trail(api: Api) -> list[dict[str, Any]]:
    """A few actions of two members: approved and executed, rejected, executed at once, failed."""
    core, t1 = api.demo.core, api.demo.suppliers[0]
    _, maker = new_user(api, core, "maker")
    checker_id, checker = new_user(api, core, "checker")
    approved = issue(api, maker, "a1")
    r = api.client.post(f"/actions/{approved['id']}/approve", headers=bearer(checker))
    assert r.json()["state"] == "executed"
    rejected = issue(api, maker, "a2")
    api.client.post(f"/actions/{rejected['id']}/reject", headers=bearer(checker), json={"reason": "wrong invoice"})
    headers = {**bearer(t1.api_key), "Idempotency-Key": "s1"}
    failed = api.client.post("/actions", headers=headers, json={"kind": "redeem", "params": {"token_id": "4294967297"}})
    assert failed.json()["state"] == "failed"
    return [approved, rejected, failed.json(), {"checker": checker_id, "executed": r.json()}]


def test_every_step_is_appended_with_who_what_and_the_transaction(api: Api) -> None:
    approved, rejected, failed, extra = trail(api)
    entries = api.get("/audit", api.auditor).json()
    assert entries["count"] == 7
    steps = [(e["action"], e["event"]) for e in entries["data"]]
    assert steps == [
        (approved["id"], "prepared"),
        (approved["id"], "approved"),
        (approved["id"], "executed"),
        (rejected["id"], "prepared"),
        (rejected["id"], "rejected"),
        (failed["id"], "prepared"),
        (failed["id"], "failed"),
    ]
    executed = entries["data"][2]
    assert executed["tx_hash"] == extra["executed"]["tx_hash"]
    assert executed["user"] == extra["checker"]
    assert executed["member"] == api.demo.core.address
    assert entries["data"][4]["detail"] == {"reason": "wrong invoice"}
    assert entries["data"][6]["detail"]["refusal"]["error"] == "NonexistentToken"
    assert entries["data"][0]["prev"] == "0" * 64
    # A member's users read their member's entries only; the operator reads all.
    assert api.get("/audit", api.demo.suppliers[0]).json()["count"] == 2
    assert api.get("/audit", api.demo.core).json()["count"] == 5
    assert api.get("/audit", api.demo.operator).json()["count"] == 7
    assert api.get("/audit", api.demo.core, params={"action": rejected["id"]}).json()["count"] == 2
    verified = api.get("/audit/verify", api.auditor).json()
    assert (verified["ok"], verified["entries"], verified["first_broken"]) == (True, 7, None)
    r = api.get("/audit/verify", api.demo.core)
    assert refusal(r)["error"] == "WrongRole"


def test_the_trail_is_append_only_and_tampering_is_found(api: Api) -> None:
    trail(api)
    path = api.context.store.path
    with sqlite3.connect(path) as conn:
        for statement in ("UPDATE audit SET user = 'someone' WHERE seq = 3", "DELETE FROM audit WHERE seq = 3"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                conn.execute(statement)
    # Someone with the file drops the trigger and rewrites entry 5 (the rejection's reason).
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TRIGGER audit_append_only_update")
        conn.execute("UPDATE audit SET detail = ? WHERE seq = 5", (json.dumps({"reason": "approved by phone"}),))
    verified = api.get("/audit/verify", api.auditor).json()
    assert (verified["ok"], verified["entries"], verified["first_broken"]) == (False, 4, 5)
    assert "content" in verified["reason"]


def test_a_removed_entry_is_found(api: Api) -> None:
    trail(api)
    with sqlite3.connect(api.context.store.path) as conn:
        conn.execute("DROP TRIGGER audit_append_only_delete")
        conn.execute("DELETE FROM audit WHERE seq = 2")
    verified = api.get("/audit/verify", api.demo.operator).json()
    assert (verified["ok"], verified["first_broken"]) == (False, 3)
    assert verified["reason"] == "entries 2 to 2 are missing"
