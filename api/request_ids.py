"""Every response carries `X-Request-ID`, and every refusal's body its `"request_id"`: the one string a bank's
support call quotes and the server's log line for the failure contains.

A client may send its own id (its own logs then name the call the same way); one that is too long or uses
characters outside `[A-Za-z0-9._:-]` is replaced, never echoed: a header value goes into logs and back out in
a response header, where a newline or a 10 KB string would do harm. Otherwise the server makes a uuid4.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import MutableMapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-ID"
MAX_LENGTH = 128
PATTERN = rf"^[A-Za-z0-9._:-]{{1,{MAX_LENGTH}}}$"
_SANE = re.compile(PATTERN.encode(), re.ASCII)
_HEADER = HEADER.lower().encode()


def chosen_id(sent: bytes | None) -> str:
    """The client's id if it is sane, else a new uuid4."""
    if sent is not None and _SANE.fullmatch(sent):
        return sent.decode("ascii")
    return str(uuid.uuid4())


def request_id_of(scope: MutableMapping[str, Any]) -> str:
    """The id `RequestIds` gave this request; a new one if it never passed there (an app built without it)."""
    state = scope.setdefault("state", {})
    if "request_id" not in state:
        state["request_id"] = str(uuid.uuid4())
    return str(state["request_id"])


class RequestIds:
    """Pure ASGI, outside every other middleware: the id is chosen before the guard can refuse anything, and
    put on every response that passes through here. (A 500 is sent from outside all middleware, by
    Starlette's ServerErrorMiddleware: its handler, `api.errors`, sets the header itself.)"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = next((v for k, v in scope.get("headers", []) if k == _HEADER), None)
        # Starlette's `request.state` is this dict, so handlers find the id there.
        scope.setdefault("state", {})["request_id"] = rid = chosen_id(sent)
        header = (_HEADER, rid.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != _HEADER]
                message = {**message, "headers": [*headers, header]}
            await send(message)

        await self.app(scope, receive, send_with_id)
