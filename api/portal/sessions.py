"""Portal sessions: a random token in an HttpOnly, SameSite=Strict cookie, looked up by its hash, with a CSRF
token of its own that every form carries back.

Sessions live in the server's memory: a restart signs everyone out, which a clerk notices at once and which
loses nothing (the key stays the user's credential; the session is only a way not to paste it on every page).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

COOKIE = "scf_session"
PRE_COOKIE = "scf_pre"  # the sign-in form's own CSRF token (double submit: no session exists yet)
LANG_COOKIE = "scf_lang"
IDLE = 8 * 3600  # seconds a session lives after its last use
MAX_SESSIONS = 10_000  # the oldest are dropped past this: sign-ins cannot grow memory without bound


@dataclass
class Session:
    user_id: str
    csrf: str
    expires: float


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def same(a: str | None, b: str | None) -> bool:
    """Constant-time comparison of two tokens (None never matches)."""
    return a is not None and b is not None and hmac.compare_digest(a.encode(), b.encode())


class Sessions:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._by_digest: dict[bytes, Session] = {}
        self._lock = threading.Lock()

    def open(self, user_id: str) -> tuple[str, Session]:
        token = secrets.token_urlsafe(32)
        session = Session(user_id, secrets.token_urlsafe(24), self._clock() + IDLE)
        with self._lock:
            if len(self._by_digest) >= MAX_SESSIONS:
                oldest = min(self._by_digest, key=lambda d: self._by_digest[d].expires)
                del self._by_digest[oldest]
            self._by_digest[_digest(token)] = session
        return token, session

    def get(self, token: str | None) -> Session | None:
        if not token or len(token) > 128:
            return None
        now = self._clock()
        with self._lock:
            session = self._by_digest.get(_digest(token))
            if session is None:
                return None
            if session.expires < now:
                del self._by_digest[_digest(token)]
                return None
            session.expires = now + IDLE
            return session

    def close(self, token: str | None) -> None:
        if token:
            with self._lock:
                self._by_digest.pop(_digest(token), None)

    def end_user(self, user_id: str) -> None:
        """Sign a user out everywhere (its key was disabled or rotated)."""
        with self._lock:
            for digest in [d for d, s in self._by_digest.items() if s.user_id == user_id]:
                del self._by_digest[digest]
