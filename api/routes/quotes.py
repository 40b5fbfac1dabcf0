"""POST /quotes: price a fragment's value at an annual rate, to its receivable's maturity."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ContextDep, CurrentMember
from api.quotes import make_quote
from api.routes.problems import AUTH, CONFLICT, NOT_FOUND
from api.schemas import QuoteCreate, QuotePublic

router = APIRouter(tags=["quotes"], responses={**AUTH, **NOT_FOUND, **CONFLICT})


@router.post("/quotes")
def create_quote(context: ContextDep, _: CurrentMember, body: QuoteCreate) -> QuotePublic:
    """`discount = value × annual_rate × days / basis` (ACT/360 unless `day_count` says ACT/365), rounded
    half-up to the fen; `days` are whole days from the chain's now to maturity."""
    return make_quote(context, body)
