"""Receivables as each member may see them (`api.policy`), answered from the event index: the filtered, paged
listing and a receivable's split tree. Operator and auditor page in SQL over every receivable (a page reads
only its rows); a core enterprise that holds nothing of others' receivables pages in SQL over its own; other
members' listings are the few receivables they take part in, filtered and cut in Python."""

from __future__ import annotations

from dataclasses import replace

from api import policy
from api.context import ApiContext, Member
from api.errors import ApiProblem
from api.schemas import ReceivableFilters, ReceivablePublic, ReceivablesPublic, ReceivableTreePublic
from chain_client.index import ReceivableRow
from chain_client.membership import Role


def listing(context: ApiContext, member: Member, filters: ReceivableFilters) -> ReceivablesPublic:
    with context.read() as view:
        debtor = None
        if filters.debtor is not None:
            try:
                debtor = view.index.account_of(filters.debtor)  # an address, or a label the index knows
            except ValueError:  # a name the index does not know: no such debtor
                raise ApiProblem(404, "UnknownDebtor", {"debtor": filters.debtor}) from None
        query = {
            "state": None if filters.state is None else filters.state.on_chain(),
            "matures_from": filters.matures_from,
            "matures_to": filters.matures_to,
            "min_value": filters.min_value,
            "at": view.now,
        }
        others = policy.visible_slots(context, view, member)
        owes = member.role is Role.CORE_ENTERPRISE and debtor in (None, member.address)
        if others is None or (owes and not others):
            # Everything (operator, auditor), or only its own debts (a core enterprise): paged in SQL.
            rows, count = view.index.receivables_page(
                debtor=debtor if others is None else member.address, offset=filters.skip, limit=filters.limit, **query
            )
        else:
            found: dict[int, ReceivableRow] = {}
            if owes:
                found.update((r.slot, r) for r in view.index.receivables(debtor=member.address, **query))
            if others:
                found.update((r.slot, r) for r in view.index.receivables(debtor=debtor, slots=others, **query))
            ordered = sorted(found.values(), key=lambda r: (r.maturity, r.slot))
            rows, count = ordered[filters.skip : filters.skip + filters.limit], len(ordered)
    return ReceivablesPublic(data=[ReceivablePublic.model_validate(r, from_attributes=True) for r in rows], count=count)


def tree(context: ApiContext, member: Member, slot: int) -> ReceivableTreePublic:
    """The receivable and the fragments of its tree the member may see (all of them for its debtor, the
    operator and the auditor); 404 `NonexistentReceivable` when it may see none."""
    with context.read() as view:
        found, scope = policy.visible_tree(context, view, member, slot)
    if not scope.whole:
        # A fragment the member paid with is shown as sent: with the value it sent (`api.policy.Scope.sent`).
        shown = [f for f in found.fragments if f.token_id in scope]
        found = replace(found, fragments=[f._replace(value=scope.sent.get(f.token_id, f.value)) for f in shown])
    return ReceivableTreePublic.model_validate(found, from_attributes=True)
