"""Quotes: what a fragment's value is worth today at a lender's rate, to the maturity of its receivable."""

from __future__ import annotations

from dataclasses import asdict

from api.context import ApiContext
from api.errors import ApiProblem
from api.financing import live_fragment, require_financeable
from api.schemas import QuoteCreate, QuotePublic
from chain_client.contract_errors import InvalidFinancingValue
from chain_client.pricing import days_between, quote


def make_quote(context: ApiContext, body: QuoteCreate) -> QuotePublic:
    with context.read() as view:
        fragment, receivable = live_fragment(view, body.token_id)
        require_financeable(fragment, receivable, view.now)
        now = view.now
    if body.value > fragment.value:
        raise InvalidFinancingValue(body.token_id, body.value, fragment.value)
    days = days_between(now, receivable.maturity)  # >= 1: require_financeable refused a matured receivable
    try:
        q = quote(body.value, body.annual_rate, days, body.day_count)
    except ValueError as exc:  # the rate discounts away the whole value
        raise ApiProblem(422, "ValidationError", {"body.annual_rate": str(exc)}) from None
    return QuotePublic.model_validate({**asdict(q), "token_id": body.token_id, "maturity": receivable.maturity})
