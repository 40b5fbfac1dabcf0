"""One fragment, answered from the event index (with its path back to the confirmation and the documents
behind it, and what it can redeem now), and its redemption."""

from __future__ import annotations

from dataclasses import asdict, replace

from api import policy
from api.context import ApiContext, IndexView, Member
from api.schemas import FragmentPublic, RedeemPublic
from chain_client import rules
from chain_client.contract_errors import NonexistentToken
from chain_client.index import FragmentInfo, ReceivableRow
from chain_client.receivables import ReceivableState


def claimable(fragment: FragmentInfo, receivable: ReceivableRow, now: int | None = None) -> int:
    """What the holder can redeem at `now` by the contract's rule (`chain_client.rules.claimable`), computed
    from the index instead of a call per fragment. `receivable` is the row as of `now`; without `now`, the
    row's state stands in for the clock (Active means before maturity, Matured and Overdue after it), which
    cannot tell an early full repayment from a late one."""
    if fragment.burned:
        return 0
    if now is None:
        before = receivable.state in (ReceivableState.PENDING, ReceivableState.ACTIVE)
        now = receivable.maturity - 1 if before else receivable.maturity
    amount = rules.claimable(
        fragment.value,
        fragment.paid,
        receivable.repaid,
        receivable.face_value,
        receivable.state,
        receivable.maturity,
        now,
    )
    return max(amount, 0)


def fragment(context: ApiContext, member: Member, token_id: int) -> FragmentPublic:
    """The fragment, for a member who may see it (`api.policy`); 404 `NonexistentToken` for others, as for a
    fragment that never existed. Its path back to the root is always in the same member's view."""
    with context.read() as view:
        info, receivable = _any_fragment(view, token_id)
        allowed = policy.fragment_scope(context, view, member, token_id)
        if token_id not in allowed:
            raise NonexistentToken(token_id)
        path = view.index.path_to_root(token_id)
        owed = claimable(info, receivable, view.now)
    if token_id in allowed.sent:  # one it paid with: shown as sent, not as its receiver has split it since
        info = replace(info, value=allowed.sent[token_id])
        path = [replace(path[0], value=allowed.sent[token_id]), *path[1:]]
    # The last hop is the fragment issued to the supplier: its memo is the receivable's document hash.
    documents = [
        {"kind": "receivable" if i == 0 else "payment", "token_id": hop.token_id, "hash": hop.memo}
        for i, hop in enumerate(reversed(path))
        if hop.memo
    ]
    # The index's record, and beside it what the response adds; nested records are read by attribute.
    found = {**asdict(info), "claimable": owed, "receivable": receivable, "path": path, "documents": documents}
    return FragmentPublic.model_validate(found, from_attributes=True)


def _any_fragment(view: IndexView, token_id: int) -> tuple[FragmentInfo, ReceivableRow]:
    """A fragment the index knows, burned ones included (they stay traceable)."""
    try:
        info = view.index.fragment(token_id)
    except ValueError:  # the slot part of the id is out of range: no such token
        info = None
    receivable = None if info is None else view.index.receivable(info.slot, at=view.now)
    if info is None or receivable is None:
        raise NonexistentToken(token_id)
    return info, receivable


def redeem(context: ApiContext, member: Member, token_id: int) -> RedeemPublic:
    """Pull what `token_id` is owed now; once it is paid in full (and burned), release the lender's exposure
    so its limit for the debtor is free again (the desk does not do that by itself)."""
    signer = member.signer()
    scf = context.scf
    done = scf.receivables.redeem(signer, token_id)
    burned = token_id in done.burned
    released = False
    if burned:
        record = scf.financing.financing(token_id)
        if record.financier == member.address and not record.released:
            scf.financing.release_exposure(signer, [token_id])
            released = True
    return RedeemPublic.model_validate(
        {**asdict(done), "token_id": token_id, "burned": burned, "exposure_released": released}, from_attributes=True
    )
