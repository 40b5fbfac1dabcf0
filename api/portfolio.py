"""A lender's book: what it financed (the index's record of the desk's financings, whether funded through
this API or not), and what each position is worth and has paid. (Redemption is a fragment's: `api.fragments`.)"""

from __future__ import annotations

from dataclasses import asdict

from eth_utils.address import to_checksum_address

from api import policy
from api.context import ApiContext, IndexView, Member
from api.errors import ApiProblem
from api.fragments import claimable as claimable_now
from api.schemas import PortfolioPublic, PortfolioTotals, PositionPublic
from chain_client.ids import slot_of
from chain_client.index import Financing
from chain_client.pricing import DayCount, annualised_yield, days_between
from chain_client.receivables import ReceivableState

# Yields are quoted ACT/365, the usual basis for comparing returns (the discount itself is ACT/360).
YIELD_BASIS = DayCount.ACT_365


def position(view: IndexView, financier: str, e: Financing) -> PositionPublic:
    fragment = view.index.fragment(e.token_id)
    receivable = view.index.receivable(slot_of(e.token_id), at=view.now)
    assert fragment is not None, "a financing names an indexed fragment"
    assert receivable is not None
    days = max(days_between(e.block_time, receivable.maturity), 1)
    paid = fragment.paid
    claimable = claimable_now(fragment, receivable, view.now)
    settled = fragment.burned or (receivable.state is ReceivableState.REPAID and claimable == 0)
    found = {
        **asdict(e),
        "slot": receivable.slot,
        "debtor": receivable.debtor,
        "state": receivable.state,
        "held": fragment.owner == financier and not fragment.burned,
        "maturity": receivable.maturity,
        "days": days,
        "repaid": paid,
        "claimable": claimable,
        "expected_yield": annualised_yield(e.price, e.value, days, YIELD_BASIS),
        "realised_yield": annualised_yield(e.price, paid, days, YIELD_BASIS) if settled else None,
    }
    return PositionPublic.model_validate(found)


def portfolio(context: ApiContext, member: Member, financier: str | None = None) -> PortfolioPublic:
    """`financier`'s book (default the caller's): the operator and the auditor may read anyone's, other members
    only their own (`api.policy`)."""
    whose = member.address if financier is None else to_checksum_address(financier)
    if whose != member.address and not policy.sees_all(member):
        raise ApiProblem(404, "UnknownPortfolio", {"financier": whose})
    with context.read() as view:
        positions = [position(view, whose, e) for e in view.index.financings(financier=whose)]
    settled = [p for p in positions if p.realised_yield is not None]
    totals = PortfolioTotals(
        cost=sum(p.cost for p in positions),
        face_value=sum(p.face_value for p in positions),
        repaid=sum(p.repaid for p in positions),
        profit=sum(p.repaid - p.cost for p in settled),
    )
    return PortfolioPublic(financier=whose, data=positions, count=len(positions), totals=totals)
