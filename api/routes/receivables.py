"""GET /receivables (filtered, paged) and GET /receivables/{slot} with its split tree."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api import receivables
from api.deps import ContextDep, CurrentMember
from api.fields import Slot
from api.routes.problems import AUTH, NOT_FOUND
from api.schemas import ReceivableFilters, ReceivablesPublic, ReceivableTreePublic

router = APIRouter(prefix="/receivables", tags=["receivables"], responses=AUTH)


@router.get("", responses=NOT_FOUND)
def list_receivables(
    context: ContextDep, member: CurrentMember, filters: Annotated[ReceivableFilters, Query()]
) -> ReceivablesPublic:
    """Receivables by debtor (address or name), state, maturity range and least face value, by maturity: those
    the caller may see (operator, auditor: all; a core enterprise: what it owes; a supplier: those it holds or
    held part of; a financier: those with fragments offered to it or the market, or that it financed)."""
    return receivables.listing(context, member, filters)


@router.get("/{slot}", responses=NOT_FOUND)
def read_receivable(context: ContextDep, member: CurrentMember, slot: Annotated[Slot, Path()]) -> ReceivableTreePublic:
    """The receivable and the fragments it ever had (burned ones flagged), linked by `parent_id`: all of them
    for its debtor, the operator and the auditor; for others, their own fragments, the ones they paid with or
    were offered, and each one's path back to the first. 404 when the caller may see none of it."""
    return receivables.tree(context, member, slot)
