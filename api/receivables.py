"""What lenders browse, answered from the event index: receivables (filtered, paged), a receivable's split
tree, and one fragment with its path back to the confirmation and the documents behind it."""

from __future__ import annotations

from api.context import ApiContext, IndexView
from api.errors import ApiProblem
from api.schemas import (
    FragmentNodePublic,
    FragmentPublic,
    ReceivableFilters,
    ReceivablePublic,
    ReceivablesPublic,
    ReceivableTreePublic,
)
from chain_client import rules
from chain_client.contract_errors import NonexistentReceivable, NonexistentToken
from chain_client.index import FragmentInfo, ReceivableRow
from chain_client.receivables import ReceivableState


def receivables(context: ApiContext, filters: ReceivableFilters) -> ReceivablesPublic:
    with context.read() as view:
        debtor = None
        if filters.debtor is not None:
            try:
                debtor = view.index.account_of(filters.debtor)  # an address, or a label the index knows
            except ValueError:  # a name the index does not know: no such debtor
                raise ApiProblem(404, "UnknownDebtor", {"debtor": filters.debtor}) from None
        rows = view.index.receivables(
            debtor=debtor,
            state=None if filters.state is None else filters.state.on_chain(),
            matures_from=filters.matures_from,
            matures_to=filters.matures_to,
            min_value=filters.min_value,
            at=view.now,
        )
    page = rows[filters.skip : filters.skip + filters.limit]
    return ReceivablesPublic(data=[ReceivablePublic.of(r) for r in page], count=len(rows))


def tree(context: ApiContext, slot: int) -> ReceivableTreePublic:
    with context.read() as view:
        found = view.index.tree(slot, at=view.now)
    if found is None:
        raise NonexistentReceivable(slot)
    return ReceivableTreePublic(
        receivable=ReceivablePublic.of(found.receivable),
        fragments=[FragmentNodePublic.of(slot, f) for f in found.fragments],
    )


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


def fragment(context: ApiContext, token_id: int) -> FragmentPublic:
    with context.read() as view:
        info, receivable = _any_fragment(view, token_id)
        path = view.index.path_to_root(token_id)
    return FragmentPublic.of(info, receivable, path, claimable(info, receivable, view.now))


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
