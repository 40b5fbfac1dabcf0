"""Every refusal becomes one JSON shape, `{"error": name, "fields": {...}, "request_id": id}`, in this one
place, so routes stay thin and raise domain exceptions: the client's contract errors (named like the Solidity
custom errors), `ApiProblem` for what the API itself refuses, and request validation. A contract refusal also
carries `"message"`: the first sentence of the error's NatSpec (`ContractError.notice()`), so the contract's
own words explain it; `"error"` stays the machine code. `"request_id"` is the response's `X-Request-ID`
(`api.request_ids`), and the log line of every refusal and failure names it, so a support call that quotes it
finds the line."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from api.fields import ID_FIELDS
from api.request_ids import HEADER, request_id_of
from chain_client.contract_errors import (
    ERC721NonexistentToken,
    NonexistentReceivable,
    NonexistentToken,
    UnknownFinancing,
)
from chain_client.exceptions import ChainError, ContractError, NotADevelopmentChain, TransactionFailed

log = logging.getLogger("api")

# Contract errors that mean "no such id": the caller named something that does not exist.
NOT_FOUND: tuple[type[ContractError], ...] = (
    NonexistentToken,
    NonexistentReceivable,
    ERC721NonexistentToken,
    UnknownFinancing,
)


class ApiProblem(ChainError):
    """A refusal by the API itself (auth, roles, idempotency, request state), with an HTTP status."""

    def __init__(
        self,
        status: int,
        error: str,
        fields: Mapping[str, Any] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status = status
        self.error = error
        self.fields = dict(fields or {})
        self.headers = dict(headers or {})
        super().__init__(f"{status} {error} {self.fields}")


def problem(error: str, fields: Mapping[str, Any] | None = None, *, message: str | None = None) -> dict[str, Any]:
    """The refusal body. Ids in it are decimal strings, as in every other response (`api.fields.ID_FIELDS`)."""
    body: dict[str, Any] = {"error": error}
    if message is not None:
        body["message"] = message
    body["fields"] = {k: _wire(k, v) for k, v in (fields or {}).items()}
    return body


def _wire(name: str, value: Any) -> Any:
    return str(value) if name in ID_FIELDS and isinstance(value, int) and not isinstance(value, bool) else value


def status_of(exc: ContractError) -> int:
    """404 for an unknown id, 409 for everything else a contract refuses: the request was well formed but
    the state of the chain does not allow it."""
    return 404 if isinstance(exc, NOT_FOUND) else 409


def as_response(exc: ContractError | ApiProblem) -> tuple[int, dict[str, Any]]:
    """(status, body) of a refusal: what the handlers send, and what an idempotency key stores."""
    if isinstance(exc, ContractError):
        return status_of(exc), problem(type(exc).__name__, exc.as_dict(), message=exc.notice())
    return exc.status, problem(exc.error, exc.fields)


def refusal_response(
    request: Request, status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """Send a refusal (`problem`'s body, or one an idempotency key stored) with this request's id, and log it
    under that id. Refusals are the caller's to fix, so they log at INFO; failures of the server log above."""
    request_id = request_id_of(request.scope)
    if status < 500:
        log.info(
            "refused %d %s %s %r request_id=%s", status, body["error"], request.method, request.url.path, request_id
        )
    return JSONResponse(
        {**body, "request_id": request_id}, status_code=status, headers={**(headers or {}), HEADER: request_id}
    )


def _refusal(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ContractError | ApiProblem)
    status, body = as_response(exc)
    headers = exc.headers if isinstance(exc, ApiProblem) else None
    return refusal_response(request, status, body, headers)


def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields: dict[str, str] = {}
    for err in exc.errors():
        where = ".".join(str(part) for part in err.get("loc", ())) or "request"
        fields[where] = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    return refusal_response(request, 422, problem("ValidationError", fields))


def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    names = {400: "MalformedBody", 404: "NotFound", 405: "MethodNotAllowed"}
    body = problem(names.get(exc.status_code, "HTTPError"), {"detail": exc.detail})
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(_methods_at(request))
    return refusal_response(request, exc.status_code, body, headers)


_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _methods_at(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette's 405 names only the first route's)."""
    routes = request.app.router.routes
    return [
        method
        for method in _METHODS
        if any(route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes)
    ]


def _not_development(request: Request, exc: Exception) -> JSONResponse:
    return refusal_response(request, 403, problem("NotADevelopmentChain", {"detail": str(exc)}))


def _chain_unavailable(request: Request, exc: Exception) -> JSONResponse:
    # Not the caller's fault and not a refusal: the node could not be reached or did not mine in time.
    log.warning("chain unavailable: %s request_id=%s", exc, request_id_of(request.scope))
    fields: dict[str, Any] = {"detail": str(exc)}
    tx_hash = getattr(exc, "tx_hash", None)
    if tx_hash:
        fields["tx_hash"] = tx_hash
    return refusal_response(request, 502, problem("ChainUnavailable", fields))


def _internal(request: Request, exc: Exception) -> JSONResponse:
    # A bug, not a refusal: logged with its traceback here, and nothing of it in the response. This response
    # leaves from outside every middleware (Starlette's ServerErrorMiddleware): `refusal_response` sets the
    # X-Request-ID header itself.
    log.error("unhandled %s request_id=%s", type(exc).__name__, request_id_of(request.scope), exc_info=exc)
    body = problem("InternalError", {"detail": "the server failed; the failure is logged"})
    return refusal_response(request, 500, body)


def install_error_handlers(app: FastAPI) -> None:
    # Starlette picks the handler of the nearest class in the exception's MRO, so one handler covers every
    # generated contract error class.
    app.add_exception_handler(ContractError, _refusal)
    app.add_exception_handler(ApiProblem, _refusal)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(NotADevelopmentChain, _not_development)
    app.add_exception_handler(TransactionFailed, _chain_unavailable)
    # A node that cannot be reached surfaces from web3 as the transport's error (requests' are OSErrors).
    app.add_exception_handler(OSError, _chain_unavailable)
    # Anything else: still the usual JSON body (Starlette's default is plain text), never a traceback.
    app.add_exception_handler(Exception, _internal)
