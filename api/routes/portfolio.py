"""GET /portfolio: the calling lender's financed fragments, their cost, payoff, yield and repayments."""

from __future__ import annotations

from fastapi import APIRouter

from api import portfolio
from api.deps import ContextDep, Lender
from api.routes.problems import AUTH
from api.schemas import PortfolioPublic

router = APIRouter(tags=["portfolio"], responses=AUTH)


@router.get("/portfolio")
def read_portfolio(context: ContextDep, member: Lender) -> PortfolioPublic:
    """Every financing the caller funded (read from the desk's events, so fundings outside this API count
    too). Yields are simple annual yields, ACT/365, from funding to maturity."""
    return portfolio.portfolio(context, member)
