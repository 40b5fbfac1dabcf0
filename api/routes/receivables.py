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
    context: ContextDep, _: CurrentMember, filters: Annotated[ReceivableFilters, Query()]
) -> ReceivablesPublic:
    """Receivables by debtor (address or name), state, maturity range and least face value, by maturity."""
    return receivables.listing(context, filters)


@router.get("/{slot}", responses=NOT_FOUND)
def read_receivable(context: ContextDep, _: CurrentMember, slot: Annotated[Slot, Path()]) -> ReceivableTreePublic:
    """The receivable and every fragment it ever had (burned ones flagged), linked by `parent_id`."""
    return receivables.tree(context, slot)
