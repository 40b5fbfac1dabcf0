"""Funding a stored request, idempotently and at most once.

- The caller's `Idempotency-Key` is reserved, and the request claimed (open → funding), in one SQLite write
  transaction: of concurrent funders exactly one claims it; the others get 409 `RequestNotOpen`.
- The response to a reserved key is stored; the same key and body get it again with no second transaction,
  the same key with another body gets 409 `IdempotencyKeyReused`.
- A refusal by the chain puts the request back to open (or to expired / cancelled / funded when that is
  what the refusal shows). If the chain could not be reached the key is released so the call can be
  retried: the request's nonce means the desk never executes it twice, whatever happened to the first try.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from api.context import ApiContext, Member
from api.desk_events import financed_requests
from api.errors import ApiProblem, as_response
from api.market import STALE_AFTER, present, refresh, unknown_request, visible_to
from api.schemas import FundCreate
from api.store import Funding, KeyState, Status, StoredRequest, StoredResponse
from chain_client.contract_errors import NonceAlreadyUsed, RequestExpired, RequestForAnotherFinancier
from chain_client.exceptions import ContractError
from chain_client.financing import ZERO_ADDRESS


def fingerprint(request_id: int, body: FundCreate) -> str:
    canonical = json.dumps({"id": request_id, "body": body.model_dump(mode="json")}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def fund(
    context: ApiContext, member: Member, request_id: int, key: str, body: FundCreate
) -> tuple[StoredResponse, bool]:
    """(response, replayed). Refusals are returned as stored responses too, so a replay repeats them."""
    store = context.store
    with context.read() as view:
        refresh(context, view)  # an expired or cancelled request is not claimed
    start = store.begin_funding(member.address, key, fingerprint(request_id, body), request_id)
    if start.key is KeyState.MISMATCH:
        raise ApiProblem(409, "IdempotencyKeyReused", {"key": key, "detail": "this key was used with another body"})
    if start.key is KeyState.IN_FLIGHT:
        raise ApiProblem(409, "IdempotencyKeyInFlight", {"key": key, "detail": "a call with this key is running"})
    if start.key is KeyState.REPLAY:
        assert start.response is not None
        return start.response, True
    try:
        status, payload = 200, _attempt(context, member, request_id, start.current, start.claimed, body)
    except (ContractError, ApiProblem) as refusal:
        status, payload = as_response(refusal)
    except BaseException:
        store.release_key(member.address, key)
        raise
    store.finish_key(member.address, key, status, payload)
    return StoredResponse(status, payload), False


def _attempt(
    context: ApiContext,
    member: Member,
    request_id: int,
    current: StoredRequest | None,
    claimed: StoredRequest | None,
    body: FundCreate,
) -> dict[str, Any]:
    if current is None or not visible_to(member, current):
        raise unknown_request(request_id)
    if claimed is None:
        raise ApiProblem(409, "RequestNotOpen", {"id": request_id, "status": current.status.value})
    try:
        funding = _send(context, member, claimed, body)
    except ContractError as refusal:
        _after_refusal(context, claimed, refusal)
        raise
    except BaseException:
        # Not a refusal (a bad body or the node unreachable): open again. Had the transaction been mined
        # after all, the next refresh finds its Financed event and records it.
        context.store.move(claimed.id, Status.OPEN, only_from=(Status.FUNDING,))
        raise
    context.store.record_funding(claimed.id, funding)
    stored = context.store.get(claimed.id)
    assert stored is not None
    with context.read() as view:
        return present(context, view, stored).model_dump(mode="json")


def _send(context: ApiContext, member: Member, claimed: StoredRequest, body: FundCreate) -> Funding:
    request = claimed.request
    if body.price is not None and body.price != request.price:
        raise ApiProblem(409, "PriceMismatch", {"expected": body.price, "requested": request.price})
    if request.financier not in (ZERO_ADDRESS, member.address):
        raise RequestForAnotherFinancier(request.financier, member.address)
    signer = member.signer()
    scf = context.scf
    with context.member_lock(member.address):
        # The desk pulls the price from the lender's cash by allowance; top it up to what this funding needs.
        if scf.cash.allowance(member.address, scf.financing.address) < request.price:
            scf.cash.approve(signer, scf.financing.address, request.price)
        done = scf.financing.finance(signer, request, claimed.signature)
    funded_at = int(scf.w3.eth.get_block(done.block_number)["timestamp"])
    return Funding(member.address, done.financed_token_id, done.tx_hash, done.block_number, funded_at)


def _after_refusal(context: ApiContext, claimed: StoredRequest, refusal: ContractError) -> None:
    store = context.store
    if isinstance(refusal, RequestExpired):
        store.move(claimed.id, Status.EXPIRED, only_from=(Status.FUNDING,))
    elif isinstance(refusal, NonceAlreadyUsed):
        # Funded by someone else outside the API, or cancelled by the holder on the desk.
        with context.read() as view:
            event = financed_requests(view.index, [claimed.request_hash]).get(claimed.request_hash)
        if event is None:
            store.move(claimed.id, Status.CANCELLED, only_from=(Status.FUNDING,))
        else:
            store.record_funding(claimed.id, event.funding())
    else:
        store.move(claimed.id, Status.OPEN, only_from=(Status.FUNDING,))


def recover(context: ApiContext, *, older_than: float = STALE_AFTER) -> None:
    """Settle what a dead process left half done: key reservations and claims older than `older_than`
    seconds (a live process's own calls are younger)."""
    context.store.release_stale_keys(older_than)
    with context.read() as view:
        refresh(context, view, stale_after=older_than)
