"""The door every request passes before FastAPI sees it (pure ASGI, so nothing is read that need not be):

- a request that carries a body to a protected route must name a known API key first (401 before a byte of
  the body is read: no key, no parsing, whatever it sends);
- a body is read up to `MAX_BODY` bytes (or the larger limit given for a path prefix, e.g. for document
  uploads), as it streams in: a longer one is 413 without reading the rest;
- a JSON body nested deeper than `MAX_DEPTH` is refused before it is parsed. Python's recursion limit is no
  guard here: py_ecc (imported through the chain client) raises it to 100,000, and `json.loads` of 100,000
  nested arrays overflows the C stack and kills the process instead of raising RecursionError.

Refusals have the API's usual body, `{"error": name, "fields": {...}, "request_id": id}`.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from api.auth import CHALLENGE, api_key_of
from api.request_ids import request_id_of

log = logging.getLogger("api")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY = 16 * 1024  # the largest valid body (a signed financing request) is under 1 KiB
MAX_DEPTH = 32  # the deepest valid body is 1 level; room for error reports that name a nested field
MAX_HEADERS = 16 * 1024  # every header line together
# Routes anyone may call: their bodies (none) are never read.
PUBLIC = frozenset({"/health", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_SPECIAL = re.compile(rb'[\\"\[\]{}]')
_OPEN, _CLOSE, _QUOTE, _BACKSLASH = frozenset(b"[{"), frozenset(b"]}"), ord('"'), ord("\\")


def nesting_depth(body: bytes, limit: int = MAX_DEPTH) -> int:
    """How deep arrays and objects nest in `body` (brackets inside strings skipped), counting no further than
    `limit + 1`. One pass over the bytes that matter, no recursion, no backtracking: safe on any input."""
    depth = deepest = 0
    in_string, skip_to = False, 0
    for match in _SPECIAL.finditer(body):
        at = match.start()
        if at < skip_to:
            continue  # the character after a backslash in a string
        char = body[at]
        if in_string:
            if char == _BACKSLASH:
                skip_to = at + 2
            elif char == _QUOTE:
                in_string = False
        elif char == _QUOTE:
            in_string = True
        elif char in _OPEN:
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        elif char in _CLOSE and depth > 0:
            depth -= 1
    return deepest


async def _refuse(
    scope: Scope, send: Send, status: int, error: str, fields: dict[str, Any], headers: dict[str, str]
) -> None:
    request_id = request_id_of(scope)
    log.info("refused %d %s %s %r request_id=%s", status, error, scope["method"], scope["path"], request_id)
    body = json.dumps({"error": error, "fields": fields, "request_id": request_id}).encode()
    raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


PORTAL = "/portal/"
PORTAL_SIGN_IN = "/portal/sign-in"  # the one portal form sent before a session exists: its body is a key
SESSION_COOKIE = "scf_session"


def _cookie(header: bytes | None, name: str) -> str | None:
    for part in (header or b"").decode("latin-1").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


class RequestGuard:
    def __init__(
        self,
        app: ASGIApp,
        known_key: Callable[[str], bool],
        body_limits: Mapping[str, int] | None = None,
        known_session: Callable[[str], bool] = lambda token: False,
    ) -> None:
        self.app = app
        self.known_key = known_key
        # The portal's forms carry a session cookie instead of a key: the same rule, by other means.
        self.known_session = known_session
        # Longest prefix first: the most specific limit wins.
        self.body_limits = sorted((body_limits or {}).items(), key=lambda item: -len(item[0]))

    def limit_for(self, path: str) -> int:
        return next((limit for prefix, limit in self.body_limits if path.startswith(prefix)), MAX_BODY)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
        if sum(len(k) + len(v) + 4 for k, v in headers) > MAX_HEADERS:
            fields = {"detail": f"the request's headers exceed {MAX_HEADERS} bytes"}
            await _refuse(scope, send, 431, "HeadersTooLarge", fields, {"Connection": "close"})
            return
        if scope["method"] not in _BODY_METHODS or scope["path"] in PUBLIC:
            await self.app(scope, receive, send)
            return
        found = dict(headers)
        key = api_key_of(found.get(b"authorization", b"").decode("latin-1"))
        if scope["path"].startswith(PORTAL):
            token = _cookie(found.get(b"cookie"), SESSION_COOKIE)
            if scope["path"] != PORTAL_SIGN_IN and (token is None or not self.known_session(token)):
                # A form from a page whose session ended: back to the sign-in page, not a JSON refusal.
                location = [(b"location", b"/portal/sign-in"), (b"content-length", b"0")]
                await send({"type": "http.response.start", "status": 303, "headers": location})
                await send({"type": "http.response.body", "body": b""})
                return
        elif key is None or not self.known_key(key):
            # Not a byte of the body is read: an unknown caller costs us one header lookup.
            detail = "send Authorization: Bearer <api key>" if key is None else "unknown API key"
            await _refuse(scope, send, 401, "Unauthorized", {"detail": detail}, {**CHALLENGE, "Connection": "close"})
            return
        limit = self.limit_for(scope["path"])
        declared = found.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _too_large(scope, send, limit)
            return
        body, more = bytearray(), True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > limit:
                await _too_large(scope, send, limit)
                return
        # Only JSON is ever parsed as JSON: an upload's bytes (multipart) may hold brackets at any depth.
        if not _is_multipart(found.get(b"content-type")) and nesting_depth(bytes(body)) > MAX_DEPTH:
            fields = {"body": f"JSON nested deeper than {MAX_DEPTH} levels"}
            await _refuse(scope, send, 422, "ValidationError", fields, {})
            return
        await self.app(scope, _replay(bytes(body), receive), send)


def _is_multipart(content_type: bytes | None) -> bool:
    return content_type is not None and content_type.split(b";")[0].strip().lower() == b"multipart/form-data"


async def _too_large(scope: Scope, send: Send, limit: int) -> None:
    # Connection: close, so the server drops the rest of the body instead of reading it to find the next request.
    fields = {"limit": limit, "detail": f"the body exceeds {limit} bytes"}
    await _refuse(scope, send, 413, "PayloadTooLarge", fields, {"Connection": "close"})


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app the body already read, then passes on what the server sends next."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
