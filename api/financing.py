"""The open market of signed financing requests: submission (checked off chain before it is stored), the
listing with each request's implied rate, and keeping stored statuses in step with the chain."""

from __future__ import annotations

from dataclasses import asdict

from api import policy
from api.context import ApiContext, IndexView, Member
from api.errors import ApiProblem
from api.schemas import FinancingRequestCreate, FinancingRequestPublic
from api.signatures import BadSignature, request_hash, signer_of
from api.store import STALE_AFTER, DuplicateRequest, Funding, Status, StoredRequest
from chain_client.constants import ZERO_ADDRESS
from chain_client.contract_errors import (
    FragmentFrozen,
    InvalidFinancingValue,
    InvalidPrice,
    NonceAlreadyUsed,
    NonexistentToken,
    ReceivableMatured,
    ReceivableNotActive,
    RequestExpired,
    SignerNotHolder,
)
from chain_client.financing import FinancingRequest
from chain_client.ids import slot_of
from chain_client.index import Financing, FragmentInfo, ReceivableRow
from chain_client.membership import Role
from chain_client.pricing import days_between, implied_rate
from chain_client.receivables import ReceivableState


def live_fragment(view: IndexView, token_id: int) -> tuple[FragmentInfo, ReceivableRow]:
    """The live fragment `token_id` and its receivable, from the index; NonexistentToken (404) otherwise."""
    try:
        fragment = view.index.fragment(token_id)
    except ValueError:  # not a token id at all (its slot part is out of range)
        fragment = None
    receivable = None if fragment is None else view.index.receivable(fragment.slot, at=view.now)
    if fragment is None or fragment.burned or receivable is None:
        raise NonexistentToken(token_id)
    return fragment, receivable


def require_financeable(fragment: FragmentInfo, receivable: ReceivableRow, now: int) -> None:
    """What the desk would refuse about the fragment itself, refused before anyone pays gas."""
    if receivable.state is ReceivableState.MATURED or (
        receivable.state is ReceivableState.ACTIVE and now >= receivable.maturity
    ):
        raise ReceivableMatured(receivable.slot, receivable.maturity, now)
    if receivable.state is not ReceivableState.ACTIVE:
        raise ReceivableNotActive(receivable.slot, int(receivable.state))
    if fragment.frozen:
        raise FragmentFrozen(fragment.token_id)


def submit(context: ApiContext, member: Member, body: FinancingRequestCreate) -> FinancingRequestPublic:
    if body.price > body.value:
        # The desk's rule (409 like every contract refusal), not the schema's: the schema cannot compare fields.
        raise InvalidPrice(body.price, body.value)
    request = FinancingRequest(
        token_id=body.token_id,
        value=body.value,
        price=body.price,
        financier=body.financier or ZERO_ADDRESS,
        recourse=body.recourse,
        nonce=body.nonce,
        deadline=body.deadline,
    )
    desk = context.scf.financing
    try:
        signer = signer_of(desk, request, body.signature)
    except BadSignature as exc:
        # 403, not 422: its shape is valid; like another account's signature, it does not show the caller signed.
        raise ApiProblem(403, "InvalidSignature", {"signature": str(exc)}) from None
    if signer != member.address:
        # Either the fields differ from what was signed, or the caller submits someone else's request.
        raise ApiProblem(403, "SignerNotCaller", {"signer": signer, "caller": member.address})
    with context.read() as view:
        fragment, receivable = live_fragment(view, request.token_id)
        require_financeable(fragment, receivable, view.now)
        if fragment.owner != signer:
            raise SignerNotHolder(request.token_id, signer, fragment.owner)
        if request.value > fragment.value:
            raise InvalidFinancingValue(request.token_id, request.value, fragment.value)
        if request.deadline <= view.now:
            raise RequestExpired(request.deadline, view.now)
        now = view.now
    if desk.nonce_used(signer, request.nonce):
        raise NonceAlreadyUsed(signer, request.nonce)
    digest = request_hash(desk, request)
    try:
        stored = context.store.add(digest, request, signer, body.signature, created_at=now)
    except DuplicateRequest as dup:
        raise ApiProblem(409, "DuplicateRequest", {"id": dup.existing_id, "request_hash": digest}) from None
    with context.read() as view:
        return present(context, view, stored)


def refresh(context: ApiContext, view: IndexView, *, stale_after: float = STALE_AFTER) -> None:
    """Move requests that the chain has overtaken: open ones funded outside the API, cancelled by their
    signer on the desk, or past their deadline; and claims left unsettled by a process that died, or older
    than `stale_after` seconds (funded if their `Financed` event is in the index, else open again: the nonce
    stops a second execution)."""
    store = context.store
    rows = store.with_status(Status.OPEN)
    stale = store.stale_claims(stale_after)
    if not rows and not stale:
        return
    funded = {f.request_hash: f for f in view.index.financings(request_hashes=[r.request_hash for r in rows + stale])}
    for claimed in stale:
        deal = funded.get(claimed.request_hash)
        if deal is not None:
            store.record_funding(claimed.id, funding_of(deal))
        elif store.move(claimed.id, Status.OPEN, only_from=(Status.FUNDING,)):
            rows.append(claimed)
    cancelled = view.index.cancelled_nonces({r.holder for r in rows})
    for r in rows:
        deal = funded.get(r.request_hash)
        if deal is not None:
            store.record_funding(r.id, funding_of(deal))
        elif (r.holder, r.request.nonce) in cancelled:
            store.move(r.id, Status.CANCELLED, only_from=(Status.OPEN,))
        elif r.request.deadline < view.now:  # the desk refuses when now > deadline
            store.move(r.id, Status.EXPIRED, only_from=(Status.OPEN,))


def funding_of(deal: Financing) -> Funding:
    """The request store's record of a funding the index saw on chain."""
    return Funding(deal.financier, deal.token_id, deal.tx_hash, deal.block_number, deal.block_time)


def listing(
    context: ApiContext, member: Member, status: Status | None, skip: int, limit: int
) -> tuple[list[FinancingRequestPublic], int]:
    """The requests `member` may see (`api.policy.request_visible`): paged in SQL for those who see all or only
    their own; a financier's (addressed to it or the market, or funded by it) are filtered, then cut."""
    with context.read() as view:
        refresh(context, view)
        if member.role is Role.FINANCIER:
            everything, _ = context.store.page(status=status, offset=0, limit=2**62)
            mine = [r for r in everything if policy.request_visible(member, r)]
            rows, count = mine[skip : skip + limit], len(mine)
        else:
            holder = None if policy.sees_all(member) else member.address
            rows, count = context.store.page(status=status, holder=holder, offset=skip, limit=limit)
        return [present(context, view, r) for r in rows], count


def one(context: ApiContext, member: Member, request_id: int) -> FinancingRequestPublic:
    with context.read() as view:
        refresh(context, view)
        stored = context.store.get(request_id)
        if stored is None or not policy.request_visible(member, stored):
            raise unknown_request(request_id)
        return present(context, view, stored)


def cancel(context: ApiContext, member: Member, request_id: int) -> FinancingRequestPublic:
    """The holder withdraws its open request: the desk's `cancel(nonce)` is sent with the holder's key, so
    the signature can never be used again, then the stored request is marked cancelled. Cancelling a request
    already cancelled returns it unchanged and sends nothing. Only its holder may cancel it (404 otherwise)."""
    with context.read() as view:
        refresh(context, view)
        stored = context.store.get(request_id)
    if stored is None or stored.holder != member.address:
        # Only the holder may withdraw it; to anyone else it does not exist here (api.policy's 404).
        raise unknown_request(request_id)
    if stored.status is not Status.CANCELLED:
        if stored.status is not Status.OPEN:
            raise ApiProblem(409, "RequestNotOpen", {"id": request_id, "status": stored.status.value})
        signer = member.signer()
        desk = context.scf.financing
        with context.member_lock(member.address):
            if not desk.nonce_used(member.address, stored.request.nonce):
                desk.cancel(signer, stored.request.nonce)
        with context.read() as view:
            refresh(context, view)  # cancelled, or funded if a lender's transaction was mined first
        stored = context.store.get(request_id)
        assert stored is not None
        if stored.status is Status.OPEN:  # the nonce was used without an event the index knows: cancel anyway
            context.store.move(request_id, Status.CANCELLED, only_from=(Status.OPEN,))
            stored = context.store.get(request_id)
            assert stored is not None
        if stored.status is not Status.CANCELLED:
            raise ApiProblem(409, "RequestNotOpen", {"id": request_id, "status": stored.status.value})
    with context.read() as view:
        return present(context, view, stored)


def unknown_request(request_id: int) -> ApiProblem:
    return ApiProblem(404, "UnknownFinancingRequest", {"id": request_id})


def present(context: ApiContext, view: IndexView, stored: StoredRequest) -> FinancingRequestPublic:
    r = stored.request
    receivable = view.index.receivable(slot_of(r.token_id), at=view.now)
    maturity = None if receivable is None else receivable.maturity
    days = 0 if maturity is None else days_between(view.now, maturity)
    rate = implied_rate(r.value, r.price, days, context.day_count) if days > 0 else None
    # The stored record and its signed request, with what the response says differently or adds.
    found = {
        **asdict(stored),
        **asdict(r),
        "status": stored.status.value,
        "financier": stored.financier,  # None for "any financier", not the zero address the request signs
        "signature": "0x" + stored.signature.hex(),
        "slot": slot_of(r.token_id),
        "debtor": None if receivable is None else receivable.debtor,
        "maturity": maturity,
        "discount": r.value - r.price,
        "days": days,
        "implied_rate": rate,
        "day_count": context.day_count,
    }
    return FinancingRequestPublic.model_validate(found, from_attributes=True)
