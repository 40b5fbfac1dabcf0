"""What lenders browse about receivables, answered from the event index: the filtered, paged listing (paged in
SQL: a page reads only its rows) and a receivable's split tree."""

from __future__ import annotations

from api.context import ApiContext
from api.errors import ApiProblem
from api.schemas import ReceivableFilters, ReceivablePublic, ReceivablesPublic, ReceivableTreePublic
from chain_client.contract_errors import NonexistentReceivable


def listing(context: ApiContext, filters: ReceivableFilters) -> ReceivablesPublic:
    with context.read() as view:
        debtor = None
        if filters.debtor is not None:
            try:
                debtor = view.index.account_of(filters.debtor)  # an address, or a label the index knows
            except ValueError:  # a name the index does not know: no such debtor
                raise ApiProblem(404, "UnknownDebtor", {"debtor": filters.debtor}) from None
        rows, count = view.index.receivables_page(
            debtor=debtor,
            state=None if filters.state is None else filters.state.on_chain(),
            matures_from=filters.matures_from,
            matures_to=filters.matures_to,
            min_value=filters.min_value,
            offset=filters.skip,
            limit=filters.limit,
            at=view.now,
        )
    return ReceivablesPublic(data=[ReceivablePublic.model_validate(r, from_attributes=True) for r in rows], count=count)


def tree(context: ApiContext, slot: int) -> ReceivableTreePublic:
    with context.read() as view:
        found = view.index.tree(slot, at=view.now)
    if found is None:
        raise NonexistentReceivable(slot)
    return ReceivableTreePublic.model_validate(found, from_attributes=True)
