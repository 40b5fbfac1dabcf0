"""The API's own SQLite store: submitted financing requests and their status, and idempotency keys.

Status moves `open → funding → funded`, or back to `open` when a funding attempt was refused, or from
`open` to `expired` / `cancelled` (and to `funded` when someone funded the request outside the API). The
move `open → funding` happens inside `BEGIN IMMEDIATE`, which takes SQLite's write lock first: of any
number of concurrent funders, across threads or processes, exactly one sees `open` and claims the request.

Every key reservation and every claim names its owner, the process that made it (`pid:boot-id`). A claim or
key whose owner has died (its pid is gone, or is this process under another boot id) is settled at once, not
after a timeout: the claim is funded if its `Financed` event is on chain, else open again (the request's
nonce means the desk never executes it twice); a retry with the dead call's key gets that funding back, or is
free to try again. A claim of a live owner is settled once it is older than any transaction could take to be
mined (`stale_claims`). Idempotency keys are kept `KEY_TTL` (24 hours, as payment APIs do), then forgotten.
Times here are wall-clock seconds: they measure how long a call has been running, which the chain's clock
(movable on a development chain) cannot.

Each call opens its own connection (cheap for SQLite), so the store is safe to use from any thread.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from chain_client.constants import ZERO_ADDRESS
from chain_client.exceptions import ChainError
from chain_client.financing import FinancingRequest

_SCHEMA = """
CREATE TABLE IF NOT EXISTS financing_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_hash TEXT NOT NULL UNIQUE,
    token_id TEXT NOT NULL,          -- uint256 values as decimal text: SQLite integers are 64-bit
    holder TEXT NOT NULL,
    value INTEGER NOT NULL,
    price INTEGER NOT NULL,
    financier TEXT,                  -- NULL: any active financier
    recourse INTEGER NOT NULL,
    nonce TEXT NOT NULL,
    deadline TEXT NOT NULL,
    signature TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    funded_by TEXT,
    financed_token_id TEXT,
    tx_hash TEXT,
    block_number INTEGER,
    funded_at INTEGER,
    claimed_at REAL,                 -- wall-clock time of the last open -> funding claim
    claimed_by TEXT,                 -- the owner (process) that made it
    claimed_with TEXT                -- "member key": the idempotency key of the call that made it
);
CREATE INDEX IF NOT EXISTS financing_requests_by_status ON financing_requests (status, id);
CREATE TABLE IF NOT EXISTS idempotency_keys (
    member TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status_code INTEGER,             -- NULL while the first call is still running
    response TEXT,
    created_at REAL NOT NULL,        -- wall clock
    owner TEXT,                      -- the process running the call
    request_id INTEGER,
    PRIMARY KEY (member, key)
);
CREATE INDEX IF NOT EXISTS idempotency_keys_by_age ON idempotency_keys (created_at);
"""
# Columns added since the first release: a store file written by it gets them on open.
_ADDED_COLUMNS = {
    "financing_requests": {"claimed_by": "TEXT", "claimed_with": "TEXT"},
    "idempotency_keys": {"owner": "TEXT", "request_id": "INTEGER"},
}
KEY_TTL = 24 * 3600  # seconds an idempotency key and its stored response are kept
# A claim or key younger than this may belong to a call still running in a live process.
STALE_AFTER = 300.0
_BOOT = uuid.uuid4().hex  # this process, as opposed to an earlier one that had the same pid


def this_process() -> str:
    return f"{os.getpid()}:{_BOOT}"


def is_alive(owner: str | None, me: str) -> bool:
    """Whether the process named `owner` may still be running a call. Unknown owners (rows written before
    owners were recorded) count as alive: only age settles them."""
    if owner is None:
        return True
    if owner == me:
        return True
    pid_text, _, _ = owner.partition(":")
    if not pid_text.isdigit():
        return True
    pid = int(pid_text)
    if pid == os.getpid():
        return False  # this pid, another boot id: an earlier process that had our pid
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone's process; perhaps a reused pid: age settles it
    return True


class Status(StrEnum):
    OPEN = "open"
    FUNDING = "funding"  # claimed by one funder; its transaction is on its way
    FUNDED = "funded"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class DuplicateRequest(ChainError):
    def __init__(self, existing_id: int) -> None:
        self.existing_id = existing_id
        super().__init__(f"request already submitted as {existing_id}")


@dataclass(frozen=True)
class Funding:
    financier: str
    financed_token_id: int
    tx_hash: str
    block_number: int
    funded_at: int


@dataclass(frozen=True)
class StoredRequest:
    id: int
    request_hash: str
    request: FinancingRequest
    holder: str
    signature: bytes
    status: Status
    created_at: int
    funding: Funding | None
    claimed_with: str | None = None  # "member key" of the call that last claimed it

    @property
    def financier(self) -> str | None:
        return None if self.request.financier == ZERO_ADDRESS else self.request.financier


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: Any


class KeyState(StrEnum):
    NEW = "new"  # reserved for this call
    RECOVERED = "recovered"  # a dead call's key whose funding is on record: `current` is the funded request
    REPLAY = "replay"  # same key, same body, finished: `response` is what to send again
    MISMATCH = "mismatch"  # same key, another body
    IN_FLIGHT = "in flight"  # same key, same body, the first call has not finished


@dataclass(frozen=True)
class FundingStart:
    key: KeyState
    response: StoredResponse | None = None
    claimed: StoredRequest | None = None  # set when this call moved the request from open to funding
    current: StoredRequest | None = None  # the request as found (None: no such id)


_COLUMNS = """id, request_hash, token_id, holder, value, price, financier, recourse, nonce, deadline, signature,
              status, created_at, funded_by, financed_token_id, tx_hash, block_number, funded_at, claimed_with"""


def _row(r: tuple[Any, ...]) -> StoredRequest:
    (rid, rhash, token_id, holder, value, price, financier, recourse, nonce, deadline, sig, status, created) = r[:13]
    funded_by, financed, tx_hash, block, funded_at, claimed_with = r[13:]
    request = FinancingRequest(
        token_id=int(token_id),
        value=value,
        price=price,
        financier=financier or ZERO_ADDRESS,
        recourse=bool(recourse),
        nonce=int(nonce),
        deadline=int(deadline),
    )
    funding = None if funded_by is None else Funding(funded_by, int(financed), tx_hash, block, funded_at)
    return StoredRequest(
        rid, rhash, request, holder, bytes.fromhex(sig), Status(status), created, funding, claimed_with
    )


def _claim_name(member: str, key: str) -> str:
    return f"{member} {key}"  # keys are printable ASCII without spaces


class RequestStore:
    def __init__(self, path: str | Path, *, owner: str | None = None) -> None:
        if str(path) == ":memory:":
            raise ValueError("the store needs a file: each call opens its own connection")
        self.path = str(path)
        self.owner = owner or this_process()  # tests name another owner to stand for a dead process
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            for table, columns in _ADDED_COLUMNS.items():
                have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
                for name, kind in columns.items():
                    if have and name not in have:
                        conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
            conn.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that holds SQLite's write lock from its first statement (BEGIN IMMEDIATE), so
        what it reads cannot change before it writes."""
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    # ------------------------------------------------------------------ requests

    def add(
        self, request_hash: str, request: FinancingRequest, holder: str, signature: bytes, created_at: int
    ) -> StoredRequest:
        r = request
        financier = None if r.financier == ZERO_ADDRESS else r.financier
        with self._write() as conn:
            existing = conn.execute("SELECT id FROM financing_requests WHERE request_hash = ?", (request_hash,))
            found = existing.fetchone()
            if found is not None:
                raise DuplicateRequest(int(found[0]))
            cur = conn.execute(
                """INSERT INTO financing_requests (request_hash, token_id, holder, value, price, financier, recourse,
                                                   nonce, deadline, signature, status, created_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    request_hash,
                    str(r.token_id),
                    holder,
                    r.value,
                    r.price,
                    financier,
                    int(r.recourse),
                    str(r.nonce),
                    str(r.deadline),
                    signature.hex(),
                    Status.OPEN.value,
                    created_at,
                ),
            )
            new_id = int(cur.lastrowid or 0)
        stored = self.get(new_id)
        assert stored is not None
        return stored

    def get(self, request_id: int) -> StoredRequest | None:
        with self._connect() as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM financing_requests WHERE id = ?", (request_id,)).fetchone()
        return None if row is None else _row(row)

    def page(
        self, *, status: Status | None = None, holder: str | None = None, offset: int = 0, limit: int = 100
    ) -> tuple[list[StoredRequest], int]:
        """A page of requests (oldest first) and how many match in all."""
        where, params = [], []
        if status is not None:
            where.append("status = ?")
            params.append(status.value)
        if holder is not None:
            where.append("holder = ?")
            params.append(holder)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        with self._connect() as conn:
            count = int(conn.execute(f"SELECT count(*) FROM financing_requests {clause}", params).fetchone()[0])
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM financing_requests {clause} ORDER BY id LIMIT ? OFFSET ?",
                [*params, limit, offset],
            ).fetchall()
        return [_row(r) for r in rows], count

    def with_status(self, *statuses: Status) -> list[StoredRequest]:
        marks = ",".join("?" * len(statuses))
        with self._connect() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM financing_requests WHERE status IN ({marks}) ORDER BY id",
                [s.value for s in statuses],
            ).fetchall()
        return [_row(r) for r in rows]

    def move(self, request_id: int, to: Status, *, only_from: tuple[Status, ...]) -> bool:
        """Set the status if it is one of `only_from`; False if it was not (someone else moved it first)."""
        marks = ",".join("?" * len(only_from))
        with self._write() as conn:
            # Reopened, a request forgets which call claimed it: that call's key has no funding to recover.
            forget = ", claimed_with = NULL" if to is Status.OPEN else ""
            cur = conn.execute(
                f"UPDATE financing_requests SET status = ?{forget} WHERE id = ? AND status IN ({marks})",
                [to.value, request_id, *(s.value for s in only_from)],
            )
            return cur.rowcount == 1

    def record_funding(self, request_id: int, funding: Funding) -> None:
        with self._write() as conn:
            conn.execute(
                """UPDATE financing_requests SET status = ?, funded_by = ?, financed_token_id = ?, tx_hash = ?,
                                                 block_number = ?, funded_at = ?
                   WHERE id = ?""",
                (
                    Status.FUNDED.value,
                    funding.financier,
                    str(funding.financed_token_id),
                    funding.tx_hash,
                    funding.block_number,
                    funding.funded_at,
                    request_id,
                ),
            )
            # Other requests of the same holder with the same nonce can never be funded now.
            conn.execute(
                """UPDATE financing_requests SET status = ?
                   WHERE holder = (SELECT holder FROM financing_requests WHERE id = ?)
                     AND nonce = (SELECT nonce FROM financing_requests WHERE id = ?)
                     AND id != ? AND status = ?""",
                (Status.CANCELLED.value, request_id, request_id, request_id, Status.OPEN.value),
            )

    # ------------------------------------------------------------------ funding and idempotency keys

    def begin_funding(
        self,
        member: str,
        key: str,
        fingerprint: str,
        request_id: int,
        may_claim: Callable[[StoredRequest], bool] = lambda _: True,
    ) -> FundingStart:
        """In one write transaction: look up or reserve `key` for `member`, then try to claim the request.

        A reserved key with no response yet means a call with that key is running, unless its owner is dead
        or it is older than `STALE_AFTER`: then the key is free again, and if the request it claimed is
        funded, that funding is its outcome (`RECOVERED`). The claim (open → funding) is made only for a
        newly reserved key, and only if `may_claim(request)`: a call that cannot fund claims nothing, so it
        cannot make another lender's concurrent call find the request taken."""
        now = time.time()
        with self._write() as conn:
            conn.execute("DELETE FROM idempotency_keys WHERE created_at < ?", (now - KEY_TTL,))
            row = conn.execute(
                "SELECT fingerprint, status_code, response, owner, created_at FROM idempotency_keys "
                "WHERE member = ? AND key = ?",
                (member, key),
            ).fetchone()
            if row is not None:
                seen_fingerprint, status_code, response, owner, created_at = row
                if seen_fingerprint != fingerprint:
                    return FundingStart(KeyState.MISMATCH)
                if status_code is not None:
                    return FundingStart(KeyState.REPLAY, StoredResponse(int(status_code), json.loads(response)))
                if is_alive(owner, self.owner) and created_at >= now - STALE_AFTER:
                    return FundingStart(KeyState.IN_FLIGHT)
                # The call that reserved it died without an answer: the key is this call's now.
                conn.execute("DELETE FROM idempotency_keys WHERE member = ? AND key = ?", (member, key))
            conn.execute(
                "INSERT INTO idempotency_keys (member, key, fingerprint, created_at, owner, request_id) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (member, key, fingerprint, now, self.owner, request_id),
            )
            found = conn.execute(f"SELECT {_COLUMNS} FROM financing_requests WHERE id = ?", (request_id,)).fetchone()
            if found is None:
                return FundingStart(KeyState.NEW)
            current = _row(found)
            funded_by = None if current.funding is None else current.funding.financier
            if funded_by == member and current.claimed_with == _claim_name(member, key):
                return FundingStart(KeyState.RECOVERED, current=current)  # an earlier call with this key funded it
            if current.status is not Status.OPEN or not may_claim(current):
                return FundingStart(KeyState.NEW, current=current)
            conn.execute(
                "UPDATE financing_requests SET status = ?, claimed_at = ?, claimed_by = ?, claimed_with = ? "
                "WHERE id = ?",
                (Status.FUNDING.value, now, self.owner, _claim_name(member, key), request_id),
            )
            return FundingStart(KeyState.NEW, claimed=current, current=current)

    def finish_key(self, member: str, key: str, status_code: int, body: Any) -> None:
        """Store the response of the call that reserved `key`: replays send exactly this."""
        with self._write() as conn:
            conn.execute(
                "UPDATE idempotency_keys SET status_code = ?, response = ? WHERE member = ? AND key = ?",
                (status_code, json.dumps(body), member, key),
            )

    def release_key(self, member: str, key: str) -> None:
        """Forget a reserved key whose call failed without an answer worth repeating (the chain was down)."""
        with self._write() as conn:
            conn.execute(
                "DELETE FROM idempotency_keys WHERE member = ? AND key = ? AND status_code IS NULL", (member, key)
            )

    def stale_claims(self, older_than: float) -> list[StoredRequest]:
        """Requests claimed for funding and never settled, by a process that has died or more than
        `older_than` seconds ago."""
        with self._connect() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS}, claimed_by, coalesce(claimed_at, 0) FROM financing_requests WHERE status = ?",
                (Status.FUNDING.value,),
            ).fetchall()
        cutoff = time.time() - older_than
        return [_row(r[:-2]) for r in rows if r[-1] < cutoff or not is_alive(r[-2], self.owner)]

    def release_stale_keys(self, older_than: float) -> int:
        """Forget keys reserved more than `older_than` seconds ago, or by a process that has died, whose call
        never answered; and keys past `KEY_TTL`. (A retry with a forgotten key still gets its funding back:
        the request remembers the key that claimed it.)"""
        now = time.time()
        with self._write() as conn:
            rows = conn.execute(
                "SELECT member, key, owner, created_at FROM idempotency_keys WHERE status_code IS NULL"
            ).fetchall()
            dead = [(m, k) for m, k, owner, at in rows if at < now - older_than or not is_alive(owner, self.owner)]
            conn.executemany("DELETE FROM idempotency_keys WHERE member = ? AND key = ?", dead)
            conn.execute("DELETE FROM idempotency_keys WHERE created_at < ?", (now - KEY_TTL,))
            return len(dead)
