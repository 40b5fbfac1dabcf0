"""The one place an `Authorization` header is read: exactly `Bearer <key>`, one space, a key of token
characters (RFC 6750's b64token). Anything else is no key at all."""

from __future__ import annotations

import re

CHALLENGE = {"WWW-Authenticate": "Bearer"}
_BEARER = re.compile(r"Bearer ([A-Za-z0-9\-._~+/]+=*)", re.ASCII)
MAX_KEY = 512  # far longer than any key this API issues; a longer header is not worth hashing


def api_key_of(authorization: str | None) -> str | None:
    """The API key in an `Authorization` header value, or None if the value is not `Bearer <key>`."""
    if not authorization or len(authorization) > MAX_KEY:
        return None
    found = _BEARER.fullmatch(authorization)
    return None if found is None else found.group(1)
