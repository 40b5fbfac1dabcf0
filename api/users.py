"""The people behind a member: users, each with a Bearer key and a duty.

A member (one chain account, configured in the keys file) has users. Each user has a duty:

- `admin`: manages the member's users and its maker-checker threshold; prepares actions like a maker;
- `maker`: prepares actions (经办);
- `checker`: approves or rejects actions another user prepared (复核);
- `viewer`: reads only.

The API key configured for a member in the keys file keeps working: it is that member's `admin` user (id
`"admin"`). Other users live in the API's SQLite store. A user's key is made here with `secrets`, shown once
(in the response that creates or rotates it) and stored only as its sha256: the table holds no key text, and
nothing logs it. A disabled user's key is unknown from then on (401), like a key never issued.

The operator's admin users manage the users of every configured member; a member's admin users manage its own.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # api.context imports this module
    from api.context import Member, Members

CONFIGURED = "admin"  # the user id of a member's configured API key
KEY_PREFIX = "scfu_"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    member TEXT NOT NULL,            -- the member's chain account (checksummed)
    name TEXT NOT NULL,
    duty TEXT NOT NULL,
    key_hash BLOB NOT NULL UNIQUE,   -- sha256 of the key: the key itself is never stored
    active INTEGER NOT NULL,
    created_at REAL NOT NULL,        -- wall clock
    created_by TEXT NOT NULL         -- "member user" of the admin who made it
);
CREATE INDEX IF NOT EXISTS users_by_member ON users (member, seq);
"""


class Duty(StrEnum):
    ADMIN = "admin"
    MAKER = "maker"
    CHECKER = "checker"
    VIEWER = "viewer"


@dataclass(frozen=True)
class User:
    """Who is calling: a user of a member, with a duty."""

    id: str
    name: str
    duty: Duty
    member: Member
    active: bool = True
    created_at: float = 0.0

    @property
    def configured(self) -> bool:
        """The member's API key from the keys file (not a row of the users table)."""
        return self.id == CONFIGURED

    @property
    def who(self) -> str:
        return f"{self.member.address} {self.id}"


def key_digest(api_key: str) -> bytes:
    return hashlib.sha256(api_key.encode()).digest()


def new_key() -> str:
    # token_urlsafe's alphabet is RFC 6750's b64token; the prefix keeps a key from starting with "-".
    return KEY_PREFIX + secrets.token_urlsafe(32)


class Users:
    """The members' users: the configured keys (admins) and the store's rows."""

    def __init__(self, path: str | Path, members: Members) -> None:
        self.path = str(path)
        self.members = members
        with self._connect() as conn:
            conn.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            yield conn
        finally:
            conn.close()

    def member_at(self, address: str) -> Member | None:
        return next((m for m in self.members if m.address == address), None)

    def _user(self, row: tuple[object, ...]) -> User | None:
        uid, member_address, name, duty, active, created_at = row
        member = self.member_at(str(member_address))
        if member is None:  # a member removed from the keys file: its users are gone with it
            return None
        return User(str(uid), str(name), Duty(str(duty)), member, bool(active), float(str(created_at)))

    def configured_user(self, member: Member) -> User:
        return User(CONFIGURED, member.name, Duty.ADMIN, member)

    def identify(self, api_key: str) -> User | None:
        """The active user whose key this is, or None (unknown, disabled, or its member no longer configured)."""
        member = self.members.by_key(api_key)
        if member is not None:
            return self.configured_user(member)
        with self._connect() as conn:
            row = conn.execute(
                "SELECT id, member, name, duty, active, created_at FROM users WHERE key_hash = ? AND active = 1",
                (key_digest(api_key),),
            ).fetchone()
        return None if row is None else self._user(row)

    def create(self, member: Member, name: str, duty: Duty, created_by: User) -> tuple[User, str]:
        """A new user and its key (the only time the key is seen)."""
        key, uid = new_key(), "u_" + secrets.token_hex(8)
        now = time.time()
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO users (id, member, name, duty, key_hash, active, created_at, created_by) "
                "VALUES (?, ?, ?, ?, ?, 1, ?, ?)",
                (uid, member.address, name, duty.value, key_digest(key), now, created_by.who),
            )
        return User(uid, name, duty, member, True, now), key

    def get(self, user_id: str) -> User | None:
        if user_id == CONFIGURED:
            return None  # a configured key is not managed here (it lives in the keys file)
        with self._connect() as conn:
            row = conn.execute(
                "SELECT id, member, name, duty, active, created_at FROM users WHERE id = ?", (user_id,)
            ).fetchone()
        return None if row is None else self._user(row)

    def page(self, member: str | None, offset: int, limit: int) -> tuple[list[User], int]:
        where, params = ("WHERE member = ?", [member]) if member is not None else ("", [])
        with self._connect() as conn:
            count = int(conn.execute(f"SELECT count(*) FROM users {where}", params).fetchone()[0])
            rows = conn.execute(
                f"SELECT id, member, name, duty, active, created_at FROM users {where} ORDER BY seq LIMIT ? OFFSET ?",
                [*params, limit, offset],
            ).fetchall()
        return [u for u in map(self._user, rows) if u is not None], count

    def disable(self, user_id: str) -> None:
        with self._connect() as conn:
            conn.execute("UPDATE users SET active = 0 WHERE id = ?", (user_id,))

    def rotate(self, user_id: str) -> str:
        key = new_key()
        with self._connect() as conn:
            conn.execute("UPDATE users SET key_hash = ? WHERE id = ?", (key_digest(key), user_id))
        return key

    def has_checker(self, member: str) -> bool:
        with self._connect() as conn:
            row = conn.execute(
                "SELECT 1 FROM users WHERE member = ? AND duty = ? AND active = 1 LIMIT 1", (member, Duty.CHECKER.value)
            ).fetchone()
        return row is not None
