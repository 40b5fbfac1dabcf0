"""GET /portfolio: a financier's financed fragments, their cost, payoff, yield and repayments."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api import portfolio
from api.deps import ContextDep, CurrentMember
from api.fields import Address
from api.routes.problems import AUTH, NOT_FOUND
from api.schemas import PortfolioPublic

router = APIRouter(tags=["portfolio"], responses=AUTH)


@router.get("/portfolio", responses=NOT_FOUND)
def read_portfolio(
    context: ContextDep,
    member: CurrentMember,
    financier: Annotated[Address | None, Query(description="whose book (operator, auditor); default the caller's")] = (
        None
    ),
) -> PortfolioPublic:
    """Every financing the financier funded (read from the desk's events, so fundings outside this API count
    too). Yields are simple annual yields, ACT/365, from funding to maturity. A member's own book (empty for
    one that financed nothing); the operator and the auditor may name any financier, others only themselves
    (another's book is 404 `UnknownPortfolio`)."""
    return portfolio.portfolio(context, member, financier)
