"""The audit trail: every step of every action (prepared, approved, rejected, expired, executed, failed), who
took it (member and user), when (wall clock, unix seconds), what (kind and parameters, the result or the
refusal) and the transaction hash.

- Append-only: SQLite triggers refuse every UPDATE and DELETE of the table, whoever asks.
- Tamper-evident: each entry carries `prev`, the sha256 of the previous entry's canonical JSON (sorted keys,
  no spaces, UTF-8), and `hash`, the sha256 of its own (without `hash`). `verify` recomputes both along the
  whole chain and names the first entry that does not fit: its content changed (`hash` differs), the chain
  is cut before it (`prev` differs), or entries before it are missing (a gap in `seq`). A row changed or
  removed through the file itself (the triggers dropped) is found that way; only the loss of the last entries
  needs an outside copy of the last hash (an auditor's note of `GET /audit/verify`'s `last_hash`).

Entries are appended inside the same SQLite write transaction as the action's state change (`api.actions`), so
the trail and the actions never disagree.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

GENESIS = "0" * 64

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    member TEXT NOT NULL,
    user TEXT NOT NULL,
    event TEXT NOT NULL,
    action TEXT NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,            -- canonical JSON: parameters, result or refusal
    tx_hash TEXT,
    prev TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_member ON audit (member, seq);
CREATE INDEX IF NOT EXISTS audit_by_action ON audit (action, seq);
CREATE TRIGGER IF NOT EXISTS audit_append_only_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_append_only_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
"""


class Event(StrEnum):
    PREPARED = "prepared"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    EXECUTED = "executed"
    FAILED = "failed"


@dataclass(frozen=True)
class Entry:
    seq: int
    at: int
    member: str
    user: str
    event: str
    action: str
    kind: str
    detail: Any
    tx_hash: str | None
    prev: str
    hash: str

    def body(self) -> dict[str, Any]:
        """What `hash` covers: every field but `hash` itself."""
        return {
            "seq": self.seq,
            "at": self.at,
            "member": self.member,
            "user": self.user,
            "event": self.event,
            "action": self.action,
            "kind": self.kind,
            "detail": self.detail,
            "tx_hash": self.tx_hash,
            "prev": self.prev,
        }

    def canonical(self) -> bytes:
        return canonical({**self.body(), "hash": self.hash})


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_COLUMNS = "seq, at, member, user, event, action, kind, detail, tx_hash, prev, hash"


def _entry(row: tuple[Any, ...]) -> Entry:
    seq, at, member, user, event, action, kind, detail, tx_hash, prev, own = row
    return Entry(int(seq), int(at), member, user, event, action, kind, json.loads(detail), tx_hash, prev, own)


def append(
    conn: sqlite3.Connection,
    *,
    member: str,
    user: str,
    event: Event,
    action: str,
    kind: str,
    detail: Any,
    tx_hash: str | None = None,
) -> Entry:
    """Append one entry. `conn` must be inside a write transaction (BEGIN IMMEDIATE): the last entry read here
    stays the last until this one is in."""
    last = conn.execute(f"SELECT {_COLUMNS} FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    if last is None:
        seq, prev = 1, GENESIS
    else:
        before = _entry(last)
        seq, prev = before.seq + 1, sha256_hex(before.canonical())
    detail = json.loads(canonical(detail))  # exactly what is stored, so the hash is of what is read back
    draft = Entry(seq, int(time.time()), member, user, event.value, action, kind, detail, tx_hash, prev, "")
    own = sha256_hex(canonical(draft.body()))
    conn.execute(
        f"INSERT INTO audit ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (seq, draft.at, member, user, event.value, action, kind, canonical(detail).decode(), tx_hash, prev, own),
    )
    return Entry(**{**draft.__dict__, "hash": own})


def page(
    conn: sqlite3.Connection, *, member: str | None, action: str | None, offset: int, limit: int
) -> tuple[list[Entry], int]:
    where, params = [], []
    if member is not None:
        where.append("member = ?")
        params.append(member)
    if action is not None:
        where.append("action = ?")
        params.append(action)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    count = int(conn.execute(f"SELECT count(*) FROM audit {clause}", params).fetchone()[0])
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM audit {clause} ORDER BY seq LIMIT ? OFFSET ?", [*params, limit, offset]
    ).fetchall()
    return [_entry(r) for r in rows], count


@dataclass(frozen=True)
class Verification:
    entries: int
    last_hash: str  # the last entry's hash (GENESIS for an empty trail): note it to detect a cut tail later
    first_broken: int | None = None
    reason: str | None = None


def verify(conn: sqlite3.Connection) -> Verification:
    """Recompute the chain from the first entry; the first entry that does not fit, and why."""
    expected_prev, expected_seq, count = GENESIS, 1, 0
    for row in conn.execute(f"SELECT {_COLUMNS} FROM audit ORDER BY seq"):
        try:
            entry = _entry(row)
        except (ValueError, TypeError):
            return Verification(count, expected_prev, int(row[0]), "the entry does not parse")
        if entry.seq != expected_seq:
            return Verification(
                count, expected_prev, entry.seq, f"entries {expected_seq} to {entry.seq - 1} are missing"
            )
        if entry.prev != expected_prev:
            return Verification(count, expected_prev, entry.seq, "prev is not the previous entry's hash")
        if sha256_hex(canonical(entry.body())) != entry.hash:
            return Verification(count, expected_prev, entry.seq, "the entry's content does not match its hash")
        expected_prev, expected_seq, count = sha256_hex(entry.canonical()), expected_seq + 1, count + 1
    return Verification(count, expected_prev)
