"""The API's own SQLite store: submitted financing requests and their status, and idempotency keys.

Status moves `open → funding → funded`, or back to `open` when a funding attempt was refused, or from
`open` to `expired` / `cancelled` (and to `funded` when someone funded the request outside the API). The
move `open → funding` happens inside `BEGIN IMMEDIATE`, which takes SQLite's write lock first: of any
number of concurrent funders, across threads or processes, exactly one sees `open` and claims the request.

A claim whose outcome was never recorded (the process died mid-funding) is reopened once it is older than
any transaction could take to be mined (`stale_claims`); until then the request stays `funding`, since its
transaction may still be in flight. Times here are wall-clock seconds: they measure how long a call has been
running, which the chain's clock (movable on a development chain) cannot.

Each call opens its own connection (cheap for SQLite), so the store is safe to use from any thread.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from chain_client.financing import ZERO_ADDRESS, FinancingRequest

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
    claimed_at REAL                  -- wall-clock time of the last open -> funding claim
);
CREATE INDEX IF NOT EXISTS financing_requests_by_status ON financing_requests (status, id);
CREATE TABLE IF NOT EXISTS idempotency_keys (
    member TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status_code INTEGER,             -- NULL while the first call is still running
    response TEXT,
    created_at REAL NOT NULL,        -- wall clock
    PRIMARY KEY (member, key)
);
"""


class Status(StrEnum):
    OPEN = "open"
    FUNDING = "funding"  # claimed by one funder; its transaction is on its way
    FUNDED = "funded"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class DuplicateRequest(Exception):
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

    @property
    def financier(self) -> str | None:
        return None if self.request.financier == ZERO_ADDRESS else self.request.financier


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: Any


class KeyState(StrEnum):
    NEW = "new"  # reserved for this call
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
              status, created_at, funded_by, financed_token_id, tx_hash, block_number, funded_at"""


def _row(r: tuple[Any, ...]) -> StoredRequest:
    (rid, rhash, token_id, holder, value, price, financier, recourse, nonce, deadline, sig, status, created) = r[:13]
    funded_by, financed, tx_hash, block, funded_at = r[13:]
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
    return StoredRequest(rid, rhash, request, holder, bytes.fromhex(sig), Status(status), created, funding)


class RequestStore:
    def __init__(self, path: str | Path) -> None:
        if str(path) == ":memory:":
            raise ValueError("the store needs a file: each call opens its own connection")
        self.path = str(path)
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
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
            cur = conn.execute(
                f"UPDATE financing_requests SET status = ? WHERE id = ? AND status IN ({marks})",
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

    def begin_funding(self, member: str, key: str, fingerprint: str, request_id: int) -> FundingStart:
        """In one write transaction: look up or reserve `key` for `member`, then try to claim the request.

        A reserved key with no response yet means a call with that key is running. The claim (open → funding)
        is made only for a newly reserved key, so a replay never sends a second transaction."""
        with self._write() as conn:
            row = conn.execute(
                "SELECT fingerprint, status_code, response FROM idempotency_keys WHERE member = ? AND key = ?",
                (member, key),
            ).fetchone()
            if row is not None:
                seen_fingerprint, status_code, response = row
                if seen_fingerprint != fingerprint:
                    return FundingStart(KeyState.MISMATCH)
                if status_code is None:
                    return FundingStart(KeyState.IN_FLIGHT)
                return FundingStart(KeyState.REPLAY, StoredResponse(int(status_code), json.loads(response)))
            conn.execute(
                "INSERT INTO idempotency_keys (member, key, fingerprint, created_at) VALUES (?, ?, ?, ?)",
                (member, key, fingerprint, time.time()),
            )
            found = conn.execute(f"SELECT {_COLUMNS} FROM financing_requests WHERE id = ?", (request_id,)).fetchone()
            if found is None:
                return FundingStart(KeyState.NEW)
            current = _row(found)
            if current.status is not Status.OPEN:
                return FundingStart(KeyState.NEW, current=current)
            conn.execute(
                "UPDATE financing_requests SET status = ?, claimed_at = ? WHERE id = ?",
                (Status.FUNDING.value, time.time(), request_id),
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
        """Requests claimed for funding more than `older_than` seconds ago and never settled."""
        with self._connect() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM financing_requests WHERE status = ? AND coalesce(claimed_at, 0) < ?",
                (Status.FUNDING.value, time.time() - older_than),
            ).fetchall()
        return [_row(r) for r in rows]

    def release_stale_keys(self, older_than: float) -> int:
        """Forget keys reserved more than `older_than` seconds ago whose call never answered (it died)."""
        with self._write() as conn:
            cur = conn.execute(
                "DELETE FROM idempotency_keys WHERE status_code IS NULL AND created_at < ?", (time.time() - older_than,)
            )
            return cur.rowcount
