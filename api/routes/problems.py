"""The error responses routes declare, so /docs shows the `{"error", "fields", "request_id"}` body for each
status."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from api.request_ids import HEADER, MAX_LENGTH
from api.request_ids import PATTERN as REQUEST_ID_PATTERN


class ProblemPublic(BaseModel):
    error: str  # the machine code: a contract error's name, or the API's own
    message: str | None = None  # a contract refusal's NatSpec, first sentence
    fields: dict[str, Any]
    request_id: str = Field(
        pattern=REQUEST_ID_PATTERN,
        max_length=MAX_LENGTH,
        description=f"this response's {HEADER} header: the id the server's log line for this refusal names",
    )


def _problem(description: str) -> dict[str, Any]:
    return {"model": ProblemPublic, "description": description}


AUTH: dict[int | str, dict[str, Any]] = {
    401: _problem("missing or unknown API key"),
    403: _problem("the key's role may not do this"),
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: _problem("no such id (NonexistentToken, NonexistentReceivable, UnknownFinancingRequest, UnknownDebtor)"),
}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: _problem("the chain's or the request's state does not allow it (named contract error)"),
}
