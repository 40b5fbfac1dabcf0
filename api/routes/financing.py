"""The financing-request market: submit a signed request, browse, and fund one (idempotently)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from api import actions, financing
from api.deps import ContextDep, CurrentMember, Holder, Lender, not_a_viewer
from api.errors import refusal_response
from api.fields import MAX_OFFSET, MAX_SAFE_INTEGER
from api.funding import fund
from api.policy import request_visible
from api.routes.problems import AUTH, CONFLICT, NOT_FOUND
from api.schemas import FinancingRequestCreate, FinancingRequestPublic, FinancingRequestsPublic, FundCreate
from api.store import Status

router = APIRouter(prefix="/financing-requests", tags=["financing"], responses=AUTH)

# Request ids are SQLite row ids, far below 2^53: a JSON integer is exact for them in any language.
RequestId = Annotated[int, Path(ge=1, le=MAX_SAFE_INTEGER)]


@router.post("", status_code=201, responses={**NOT_FOUND, **CONFLICT}, dependencies=[Depends(not_a_viewer)])
def submit_request(
    context: ContextDep, member: Holder, body: FinancingRequestCreate, response: Response
) -> FinancingRequestPublic:
    """A holder submits the EIP-712 request it signed. The signature is recovered against the desk's domain
    and must be the caller's and the fragment's holder's; the fragment must be financeable now."""
    created = financing.submit(context, member, body)
    response.headers["Location"] = f"/financing-requests/{created.id}"
    return created


@router.get("")
def list_requests(
    context: ContextDep,
    member: CurrentMember,
    status: Status | None = None,
    skip: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> FinancingRequestsPublic:
    """Requests (oldest first) with each one's implied annual rate. Suppliers see only their own."""
    data, count = financing.listing(context, member, status, skip, limit)
    return FinancingRequestsPublic(data=data, count=count)


@router.get("/{request_id}", responses=NOT_FOUND)
def read_request(context: ContextDep, member: CurrentMember, request_id: RequestId) -> FinancingRequestPublic:
    return financing.one(context, member, request_id)


@router.post(
    "/{request_id}/cancel",
    summary="Withdraw the caller's own open financing request (the holder)",
    responses={**NOT_FOUND, **CONFLICT},
    dependencies=[Depends(not_a_viewer)],
)
def cancel_request(context: ContextDep, member: Holder, request_id: RequestId) -> FinancingRequestPublic:
    """The holder withdraws an open request it submitted. The desk's `cancel(nonce)` is sent with the holder's
    configured key, so the signature can never be used afterwards, and the request is marked `cancelled`: no
    financier can fund it (409 `RequestNotOpen`). Calling it again returns the cancelled request and sends
    nothing. A holder whose key the API does not hold gets 403 `NoSigningKey`: it signs the desk's
    `cancel(nonce)` itself and relays it with `POST /transactions`; the request shows `cancelled` on the next
    read. Anyone but the holder gets 404 `UnknownFinancingRequest`; a funded or expired one, 409."""
    return financing.cancel(context, member, request_id)


@router.post(
    "/{request_id}/fund",
    response_model=FinancingRequestPublic,
    responses={**NOT_FOUND, **CONFLICT},
    dependencies=[Depends(not_a_viewer)],
)
def fund_request(
    request: Request,
    context: ContextDep,
    member: Lender,
    request_id: RequestId,
    idempotency_key: Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=255, pattern=r"^[!-~]+$")],
    body: Annotated[FundCreate | None, Body()] = None,
) -> Response:
    """Fund the request: cash from the caller to the holder and the value to the caller, in one transaction
    signed with the caller's configured key (its desk allowance is topped up to the price if short).

    `Idempotency-Key` is required. The same key with the same body returns the first call's response and
    sends nothing (`Idempotent-Replayed: true`); with another body it is refused (409). Keys are kept 24 hours.
    If the server died while a call with this key was running, a retry returns the funding that call made, or
    funds afresh if it made none. Of concurrent calls for one request exactly one funds it; the others get 409
    `RequestNotOpen`. A call that cannot fund (another lender's request, another price) claims nothing.

    A lender with a checker user funds through `POST /actions` (kind `fund`), approved by a checker; here it
    gets 403 `ApprovalRequired` unless the price is under its single-user threshold."""
    current = context.store.get(request_id)
    if current is not None and request_visible(member, current):  # else fund() answers 404 as for a read
        actions.refuse_if_checked(context, member, "fund", current.request.price)
    stored, replayed = fund(context, member, request_id, idempotency_key, body or FundCreate())
    headers = {"Idempotent-Replayed": "true" if replayed else "false"}
    if stored.status_code >= 400:
        # A stored refusal is sent with this call's request id (the one its log line names), not the first's.
        return refusal_response(request, stored.status_code, stored.body, headers)
    return JSONResponse(stored.body, status_code=stored.status_code, headers=headers)
