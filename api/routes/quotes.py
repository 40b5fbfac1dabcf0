"""POST /quotes: price a fragment's value at an annual rate, to its receivable's maturity."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ContextDep, CurrentMember
from api.quotes import make_quote
from api.routes.problems import AUTH, CONFLICT, NOT_FOUND
from api.schemas import QuoteCreate, QuotePublic

router = APIRouter(tags=["quotes"], responses={**AUTH, **NOT_FOUND, **CONFLICT})


@router.post("/quotes", summary="Price a fragment's value at an annual rate (a lender's quote, a holder's preview)")
def create_quote(context: ContextDep, member: CurrentMember, body: QuoteCreate) -> QuotePublic:
    """A financier prices any live fragment before it funds; a supplier previews the price its offer implies
    before it signs it (its own fragment, or any it may see; another's is 404 `NonexistentToken`). Sending the
    quote's `value` and `price` in a signed request gives that request this `annual_rate` as `implied_rate`.

    `discount = value × annual_rate × days / basis` (ACT/360 unless `day_count` says ACT/365), rounded
    half-up to the fen; `days` are whole days from the chain's now to maturity."""
    return make_quote(context, member, body)
