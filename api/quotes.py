"""Quotes: what a fragment's value is worth today at a lender's rate, to the maturity of its receivable."""

from __future__ import annotations

from dataclasses import asdict

from api import policy
from api.context import ApiContext, Member
from api.errors import ApiProblem
from api.financing import live_fragment, require_financeable
from api.schemas import QuoteCreate, QuotePublic
from chain_client.contract_errors import InvalidFinancingValue, NonexistentToken
from chain_client.membership import Role
from chain_client.pricing import days_between, quote


def make_quote(context: ApiContext, member: Member, body: QuoteCreate) -> QuotePublic:
    """A financier prices any live fragment (what a lender does before it funds); a holder, the preview of
    its own offer before it signs; other members only fragments they may see (`api.policy`), 404 otherwise."""
    with context.read() as view:
        fragment, receivable = live_fragment(view, body.token_id)
        if member.role is not Role.FINANCIER and not policy.may_see_fragment(context, view, member, body.token_id):
            raise NonexistentToken(body.token_id)
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
