"""Development-chain routes (embedded chain or hardhat only; 403 NotADevelopmentChain elsewhere), for the
operator: move the clock to maturity and have a debtor repay, so a demo can run a financing to the end."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path

from api import dev
from api.deps import ContextDep, Operator
from api.fields import Slot
from api.routes.problems import AUTH, CONFLICT, NOT_FOUND
from api.schemas import AdvanceTimeCreate, ChainTimePublic, RepayCreate, RepaymentPublic

router = APIRouter(prefix="/dev", tags=["development chain"], responses=AUTH)


@router.post("/advance-time")
def advance_time(context: ContextDep, _: Operator, body: AdvanceTimeCreate) -> ChainTimePublic:
    return dev.advance(context, body.seconds)


@router.post("/repay/{slot}", responses={**NOT_FOUND, **CONFLICT})
def repay(
    context: ContextDep,
    operator: Operator,
    slot: Annotated[Slot, Path()],
    body: Annotated[RepayCreate | None, Body()] = None,
) -> RepaymentPublic:
    """The debtor (whose key must be configured) repays `amount`, default all outstanding; the operator
    mints it the cash first if it has too little."""
    return dev.repay(context, operator, slot, None if body is None else body.amount)
