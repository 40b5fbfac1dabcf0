"""Funding after a crash, and what a call that cannot fund must not touch.

A process that dies mid-funding leaves its idempotency key reserved and its claim on the request. The next
process (here: a second store on the same file, with another owner, standing for the dead one) must give a
retry with that key its recorded outcome, or let it try again — at once, not only after a restart or a
timeout. A call that cannot fund (the request names another lender, or another price) claims nothing."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from api.funding import fingerprint, recover
from api.schemas import FundCreate
from api.store import KEY_TTL, RequestStore
from tests.test_api.conftest import Api


@pytest.fixture
def dead_owner() -> str:
    """The owner name of a process that has exited (its pid is free)."""
    gone = subprocess.Popen(["true"])
    gone.wait()
    return f"{gone.pid}:dead"


def dead_store(api: Api, owner: str) -> RequestStore:
    return RequestStore(api.context.store.path, owner=owner)


def test_a_retry_gets_the_funding_a_dead_process_sent(api: Api, dead_owner: str) -> None:
    request = api.open_request()
    dead = dead_store(api, dead_owner)
    started = dead.begin_funding(api.bank.address, "crashed-1", fingerprint(request.id, FundCreate()), request.id)
    assert started.claimed is not None
    done = api.scf.financing.finance(api.bank.account, started.claimed.request, started.claimed.signature)
    # ... and the process died before it recorded anything.
    block = api.scf.w3.eth.block_number
    r = api.fund(request.id, api.bank, "crashed-1")
    assert r.status_code == 200, r.text
    assert r.headers["Idempotent-Replayed"] == "true"
    assert (r.json()["status"], r.json()["funding"]["tx_hash"]) == ("funded", done.tx_hash)
    assert api.scf.w3.eth.block_number == block  # nothing sent again
    again = api.fund(request.id, api.bank, "crashed-1")
    assert (again.status_code, again.json()) == (200, r.json())


def test_a_retry_is_free_to_fund_when_the_dead_process_sent_nothing(api: Api, dead_owner: str) -> None:
    request = api.open_request()
    dead = dead_store(api, dead_owner)
    started = dead.begin_funding(api.bank.address, "crashed-2", fingerprint(request.id, FundCreate()), request.id)
    assert started.claimed is not None
    r = api.fund(request.id, api.bank, "crashed-2")
    assert r.status_code == 200, r.text
    assert r.headers["Idempotent-Replayed"] == "false"
    assert r.json()["status"] == "funded"


def test_a_retry_gets_its_funding_even_after_start_up_released_the_key(api: Api, dead_owner: str) -> None:
    request = api.open_request()
    dead = dead_store(api, dead_owner)
    started = dead.begin_funding(api.bank.address, "crashed-3", fingerprint(request.id, FundCreate()), request.id)
    assert started.claimed is not None
    done = api.scf.financing.finance(api.bank.account, started.claimed.request, started.claimed.signature)
    recover(api.context, older_than=0)  # a later start-up settles the claim from the chain
    recover(api.context, older_than=0)  # ... and again (a second restart)
    r = api.fund(request.id, api.bank, "crashed-3")
    assert r.status_code == 200, r.text
    assert r.json()["funding"]["tx_hash"] == done.tx_hash


def test_a_key_in_flight_in_a_live_process_is_still_409(api: Api) -> None:
    request = api.open_request()
    store = api.context.store  # this process: alive
    started = store.begin_funding(api.bank.address, "running", fingerprint(request.id, FundCreate()), request.id)
    assert started.claimed is not None
    r = api.fund(request.id, api.bank, "running")
    assert (r.status_code, r.json()["error"]) == (409, "IdempotencyKeyInFlight")


# ------------------------------------------------------------------------------------------ 5: nothing claimed


@pytest.fixture
def status_log(api: Api) -> Path:
    """Every status change of a stored request, logged by a trigger in the store's own file."""
    path = Path(api.context.store.path)
    with sqlite3.connect(path) as db:
        db.executescript(
            """CREATE TABLE status_log (id INTEGER, status TEXT);
               CREATE TRIGGER log_status AFTER UPDATE OF status ON financing_requests
               BEGIN INSERT INTO status_log VALUES (new.id, new.status); END;"""
        )
    return path


def logged(path: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(path) as db:
        return [(int(i), str(s)) for i, s in db.execute("SELECT id, status FROM status_log")]


def test_a_call_on_a_request_for_another_lender_claims_nothing(api: Api, status_log: Path) -> None:
    request = next(r for r in api.submitted if r.financier == api.bank.address)
    r = api.fund(request.id, api.bank2, "not-mine")
    assert (r.status_code, r.json()["error"]) == (404, "UnknownFinancingRequest")
    assert logged(status_log) == []  # not even briefly: the addressed lender's call could have lost to it


def test_a_call_at_another_price_claims_nothing(api: Api, status_log: Path) -> None:
    request = api.open_request()
    r = api.fund(request.id, api.bank, "wrong-price", {"price": "1.00"})
    assert (r.status_code, r.json()["error"]) == (409, "PriceMismatch")
    assert logged(status_log) == []


# ------------------------------------------------------------------------------------------ 8: keys expire


def test_idempotency_keys_expire_after_a_day(api: Api) -> None:
    assert KEY_TTL == 24 * 3600
    request = api.open_request()
    first = api.fund(request.id, api.bank, "yesterday", {"price": "1.00"})
    assert first.status_code == 409
    path = api.context.store.path
    with sqlite3.connect(path) as db:
        db.execute("UPDATE idempotency_keys SET created_at = ?", (time.time() - KEY_TTL - 1,))
    # A day on, the key is free again: another body is a new call, not IdempotencyKeyReused.
    again = api.fund(request.id, api.bank, "yesterday")
    assert again.status_code == 200, again.text
    with sqlite3.connect(path) as db:
        assert db.execute(
            "SELECT count(*) FROM idempotency_keys WHERE created_at < ?", (time.time() - KEY_TTL,)
        ).fetchone() == (0,)


def test_expired_keys_are_purged_by_any_funding_call(api: Api) -> None:
    path = api.context.store.path
    with sqlite3.connect(path) as db:
        old = time.time() - KEY_TTL - 60
        db.executemany(
            "INSERT INTO idempotency_keys (member, key, fingerprint, status_code, response, created_at) "
            "VALUES (?, ?, 'f', 409, '{}', ?)",
            [(api.bank.address, f"old-{i}", old) for i in range(50)],
        )
    api.fund(999, api.bank, "today")
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT key FROM idempotency_keys").fetchall() == [("today",)]
