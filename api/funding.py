"""Funding a stored request, idempotently and at most once.

- The caller's `Idempotency-Key` is reserved, and the request claimed (open → funding), in one SQLite write
  transaction: of concurrent funders exactly one claims it; the others get 409 `RequestNotOpen`.
- The response to a reserved key is stored; the same key and body get it again with no second transaction,
  the same key with another body gets 409 `IdempotencyKeyReused`.
- A call that cannot fund the request (it names another lender, or another price) claims nothing.
- A key reserved by a process that died is settled when it is retried, at any time: the retry gets the
  funding that call made, or is free to try again (`api.store`). Keys are kept 24 hours.
- A refusal by the chain puts the request back to open (or to expired / cancelled / funded when that is
  what the refusal shows). If the chain could not be reached the key is released so the call can be
  retried: the request's nonce means the desk never executes it twice, whatever happened to the first try.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from eth_account.signers.local import LocalAccount

from api.context import ApiContext, Member
from api.errors import ApiProblem, as_response
from api.fields import yuan_text
from api.financing import funding_of, present, refresh, unknown_request
from api.policy import request_visible
from api.schemas import FundCreate
from api.store import STALE_AFTER, Funding, KeyState, Status, StoredRequest, StoredResponse
from chain_client.constants import ZERO_ADDRESS
from chain_client.contract_errors import NonceAlreadyUsed, RequestExpired, RequestForAnotherFinancier
from chain_client.exceptions import ContractError


def fingerprint(request_id: int, body: FundCreate) -> str:
    canonical = json.dumps({"id": request_id, "body": body.model_dump(mode="json")}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def fund(
    context: ApiContext,
    member: Member,
    request_id: int,
    key: str,
    body: FundCreate,
    signer: LocalAccount | None = None,
) -> tuple[StoredResponse, bool]:
    """(response, replayed). Refusals are returned as stored responses too, so a replay repeats them.
    `signer` is the member's key (default); an approved action passes it wrapped to record each transaction."""
    store = context.store
    with context.read() as view:
        refresh(context, view)  # an expired or cancelled request is not claimed; a dead process's claim is settled
    start = store.begin_funding(
        member.address,
        key,
        fingerprint(request_id, body),
        request_id,
        may_claim=lambda current: _cannot_fund(member, current, body) is None,
    )
    if start.key is KeyState.MISMATCH:
        raise ApiProblem(409, "IdempotencyKeyReused", {"key": key, "detail": "this key was used with another body"})
    if start.key is KeyState.IN_FLIGHT:
        raise ApiProblem(409, "IdempotencyKeyInFlight", {"key": key, "detail": "a call with this key is running"})
    if start.key is KeyState.REPLAY:
        assert start.response is not None
        return start.response, True
    if start.key is KeyState.RECOVERED:
        # A call with this key funded the request and died before answering: its outcome is this call's.
        assert start.current is not None
        with context.read() as view:
            payload = present(context, view, start.current).model_dump(mode="json")
        store.finish_key(member.address, key, 200, payload)
        return StoredResponse(200, payload), True
    try:
        status, payload = 200, _attempt(context, member, request_id, start.current, start.claimed, body, signer)
    except (ContractError, ApiProblem) as refusal:
        status, payload = as_response(refusal)
    except BaseException:
        store.release_key(member.address, key)
        raise
    store.finish_key(member.address, key, status, payload)
    return StoredResponse(status, payload), False


def _cannot_fund(member: Member, current: StoredRequest, body: FundCreate) -> Exception | None:
    """Why `member` cannot fund `current` whatever the chain says, or None. Checked before the request is
    claimed: a call bound to fail must not hold the request while another lender's call could fund it."""
    request = current.request
    if body.price is not None and body.price != request.price:
        # Amounts in yuan, as everywhere in the API (they were fen integers here).
        return ApiProblem(
            409, "PriceMismatch", {"expected": yuan_text(body.price), "requested": yuan_text(request.price)}
        )
    if request.financier not in (ZERO_ADDRESS, member.address):
        return RequestForAnotherFinancier(request.financier, member.address)
    if member.account is None:
        return ApiProblem(403, "NoSigningKey", {"account": member.address, "detail": "no signing key configured"})
    return None


def _attempt(
    context: ApiContext,
    member: Member,
    request_id: int,
    current: StoredRequest | None,
    claimed: StoredRequest | None,
    body: FundCreate,
    signer: LocalAccount | None,
) -> dict[str, Any]:
    # A request the caller may not read does not exist for it here either (api.policy): a bank learns nothing
    # of a request addressed to another bank, not even that it exists.
    if current is None or not request_visible(member, current):
        raise unknown_request(request_id)
    if claimed is None:
        if current.status is Status.OPEN:
            reason = _cannot_fund(member, current, body)
            if reason is not None:
                raise reason
        raise ApiProblem(409, "RequestNotOpen", {"id": request_id, "status": current.status.value})
    try:
        funding = _send(context, member, claimed, signer or member.signer())
    except ContractError as refusal:
        settled = _after_refusal(context, claimed, refusal)
        if settled is None or settled.financier != member.address:
            raise
        funding = settled  # this lender's own earlier transaction (a dead call's) was mined after all
    except BaseException:
        # Not a refusal (the node unreachable): open again. Had the transaction been mined after all, the
        # next refresh finds its Financed event and records it.
        context.store.move(claimed.id, Status.OPEN, only_from=(Status.FUNDING,))
        raise
    context.store.record_funding(claimed.id, funding)
    stored = context.store.get(claimed.id)
    assert stored is not None
    with context.read() as view:
        return present(context, view, stored).model_dump(mode="json")


def _send(context: ApiContext, member: Member, claimed: StoredRequest, signer: LocalAccount) -> Funding:
    request = claimed.request
    scf = context.scf
    with context.member_lock(member.address):
        # The desk pulls the price from the lender's cash by allowance; top it up to what this funding needs.
        if scf.cash.allowance(member.address, scf.financing.address) < request.price:
            scf.cash.approve(signer, scf.financing.address, request.price)
        done = scf.financing.finance(signer, request, claimed.signature)
    funded_at = int(scf.w3.eth.get_block(done.block_number)["timestamp"])
    return Funding(member.address, done.financed_token_id, done.tx_hash, done.block_number, funded_at)


def _after_refusal(context: ApiContext, claimed: StoredRequest, refusal: ContractError) -> Funding | None:
    """Move a refused claim to where the chain says it is; the funding, if the refusal shows it funded."""
    store = context.store
    if isinstance(refusal, RequestExpired):
        store.move(claimed.id, Status.EXPIRED, only_from=(Status.FUNDING,))
    elif isinstance(refusal, NonceAlreadyUsed):
        # Funded by someone else outside the API, by a transaction of a call that died, or cancelled by the
        # holder on the desk.
        with context.read() as view:
            deals = view.index.financings(request_hashes=[claimed.request_hash])
        if not deals:
            store.move(claimed.id, Status.CANCELLED, only_from=(Status.FUNDING,))
        else:
            funding = funding_of(deals[0])
            store.record_funding(claimed.id, funding)
            return funding
    else:
        store.move(claimed.id, Status.OPEN, only_from=(Status.FUNDING,))
    return None


def recover(context: ApiContext, *, older_than: float = STALE_AFTER) -> None:
    """Settle what a dead process left half done: key reservations and claims older than `older_than`
    seconds (a live process's own calls are younger)."""
    context.store.release_stale_keys(older_than)
    with context.read() as view:
        refresh(context, view, stale_after=older_than)
