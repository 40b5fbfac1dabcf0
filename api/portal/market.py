"""The portal's financing screens: a holder offers a piece of a voucher at a quoted price and follows its
offers; a bank browses open offers with filters, sees the quote and confirms before it funds, reads its
portfolio and its exposure by debtor against its limits, and claims recourse; a seller settles a claim.

Each step is the API's own: the quote is `api.quotes.make_quote` (the preview `POST /quotes` gives), the offer
and the funding are `offer` and `fund` actions (`POST /actions`: the API signs the holder's EIP-712 request; a
bank's funding waits for its checker like any action), the lists are `api.financing.listing`,
`api.portfolio.portfolio` and `api.recourse.recourses` under the same visibility policy.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from api import financing, portfolio, recourse
from api.errors import ApiProblem
from api.fields import yuan_text
from api.portal import charts, i18n
from api.portal.web import act, context_of, invalid, lang_of, page, refusal, router, signed_in, writer
from api.quotes import make_quote
from api.schemas import QuoteCreate
from api.store import Status
from api.users import User
from chain_client.exceptions import ContractError
from chain_client.membership import Role
from chain_client.money import parse_yuan
from chain_client.pricing import annualised_yield, days_between


@dataclass(frozen=True)
class Exposure:
    debtor: str
    name: str
    limit: int  # fen: the most the bank will have funded against this debtor at a time
    used: int  # fen: what it has funded against it and not yet had released


OFFER_DAYS = 7  # an offer stands this long unless the holder says otherwise
MAX_OFFER_DAYS = 90
SHOWN = 200  # offers on one page of the market


# ---------------------------------------------------------------------------------------------- holder: offer


def _offer_page(request: Request, user: User, token_id: str, status: int = 200, **values: Any) -> HTMLResponse:
    context = context_of(request)
    banks = [m for m in context.users.members if m.role is Role.FINANCIER]
    defaults: dict[str, Any] = {"notice": None, "error": None, "quote": None, "form": {}}
    return page(request, "offer.html", status=status, token_id=token_id, banks=banks, **{**defaults, **values})


@router.get("/offer/{token_id}", response_class=HTMLResponse)
def offer_page(request: Request, token_id: str) -> HTMLResponse:
    user, _ = signed_in(request)
    return _offer_page(request, user, token_id[:80], form={"rate": "3.5", "days_open": str(OFFER_DAYS)})


@router.post("/offer/{token_id}", response_class=HTMLResponse)
def offer(
    request: Request,
    token_id: str,
    csrf: Annotated[str, Form(max_length=64)],
    value: Annotated[str, Form(max_length=40)],
    rate: Annotated[str, Form(max_length=12)],
    step: Annotated[str, Form(max_length=10)] = "quote",
    financier: Annotated[str, Form(max_length=64)] = "",
    recourse_: Annotated[str, Form(alias="recourse", max_length=5)] = "",
    days_open: Annotated[str, Form(max_length=4)] = str(OFFER_DAYS),
) -> HTMLResponse:
    """Two steps on one form: `quote` prices the piece at the rate (nothing is signed); `offer` signs and lists
    it at exactly the price that was shown, so the holder never offers at a figure it did not see."""
    user = writer(request, csrf)
    lang = lang_of(request)
    token_id = token_id[:80]
    form = {"value": value, "rate": rate, "financier": financier, "recourse": bool(recourse_), "days_open": days_open}
    try:
        annual = Decimal(rate.strip()) / 100
        if not annual.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        problem = invalid(request, "rate", "a percentage, e.g. 3.5")
        return _offer_page(request, user, token_id, 422, form=form, error=problem)
    if not days_open.isdigit() or not 1 <= int(days_open) <= MAX_OFFER_DAYS:
        problem = invalid(request, "days_open", f"1 to {MAX_OFFER_DAYS}")
        return _offer_page(request, user, token_id, 422, form=form, error=problem)
    context = context_of(request)
    try:
        body = QuoteCreate.model_validate({"token_id": token_id, "value": value, "annual_rate": str(annual)})
        quote = make_quote(context, user.member, body)
    except (ApiProblem, ContractError, ValidationError) as exc:
        status, message = refusal(exc, lang)
        return _offer_page(request, user, token_id, status, form=form, error=message)
    if step != "offer":
        return _offer_page(request, user, token_id, form=form, quote=quote)
    with context.read() as view:
        deadline = view.now + int(days_open) * 86400
    params = {
        "token_id": token_id,
        "value": yuan_text(quote.value),
        "price": yuan_text(quote.price),
        "financier": financier or None,
        "recourse": bool(recourse_),
        "deadline": deadline,
    }
    notice, error = act(request, user, "offer", params)
    status = 200 if error is None else 409
    return _offer_page(request, user, token_id, status, form=form, quote=quote, notice=notice, error=error)


@router.get("/offers", response_class=HTMLResponse)
def my_offers(request: Request) -> HTMLResponse:
    """A holder's offers and their state; for a seller, the recourse claims made on it."""
    user, _ = signed_in(request)
    return _offers_page(request, user)


def _offers_page(request: Request, user: User, **values: Any) -> HTMLResponse:
    context = context_of(request)
    mine, _ = financing.listing(context, user.member, None, 0, SHOWN)
    mine = [r for r in mine if r.holder == user.member.address]
    claims = [r for r in recourse.recourses(context, user.member, seller=user.member.address).data]
    return page(request, "offers.html", offers=mine, claims=claims, **{"notice": None, "error": None, **values})


@router.post("/offers/{request_id}/cancel", response_class=HTMLResponse)
def cancel_offer(request: Request, request_id: str, csrf: Annotated[str, Form(max_length=64)]) -> HTMLResponse:
    user = writer(request, csrf)
    lang = lang_of(request)
    notice, error = None, None
    try:
        financing.cancel(context_of(request), user.member, _request_number(request_id))
        notice = i18n.text("done_cancelled", lang)
    except (ApiProblem, ContractError) as exc:
        error = refusal(exc, lang)[1]
    return _offers_page(request, user, notice=notice, error=error)


@router.post("/recourse/{token_id}/{verb}", response_class=HTMLResponse)
def recourse_action(
    request: Request, token_id: str, verb: str, csrf: Annotated[str, Form(max_length=64)]
) -> HTMLResponse:
    """The bank claims (`claim_recourse`); the seller settles (`settle_recourse`) or either pays out what the
    debtor repaid since (`redeem_recourse`)."""
    user = writer(request, csrf)
    kinds = {"claim": "claim_recourse", "settle": "settle_recourse", "redeem": "redeem_recourse"}
    if verb not in kinds:
        raise ApiProblem(404, "NotFound", {"path": request.url.path})
    notice, error = act(request, user, kinds[verb], {"financed_token_id": token_id[:80]})
    if user.member.role is Role.FINANCIER:
        return _portfolio_page(request, user, notice=notice, error=error)
    return _offers_page(request, user, notice=notice, error=error)


def _request_number(text: str) -> int:
    if not text.isdigit() or len(text) > 15:
        raise ApiProblem(404, "UnknownFinancingRequest", {"request_id": text[:20]})
    return int(text)


# ---------------------------------------------------------------------------------------------- bank: market


@router.get("/market", response_class=HTMLResponse)
def market(
    request: Request,
    debtor: str = "",
    matures_by: str = "",
    min_value: str = "",
    max_value: str = "",
    min_rate: str = "",
) -> HTMLResponse:
    """Open offers the bank may fund, filtered by debtor, maturity, amount and the rate the price implies."""
    user, _ = signed_in(request)
    filters = {"debtor": debtor, "matures_by": matures_by, "min_value": min_value, "max_value": max_value}
    filters["min_rate"] = min_rate
    error = None
    try:
        by = None
        if matures_by.strip():
            by = int(dt.datetime.strptime(matures_by.strip()[:10], "%Y-%m-%d").replace(tzinfo=dt.UTC).timestamp())
        low = parse_yuan(min_value) if min_value.strip() else None
        high = parse_yuan(max_value) if max_value.strip() else None
        rate_floor = Decimal(min_rate.strip()[:12]) / 100 if min_rate.strip() else None
    except (ValueError, InvalidOperation):
        by = low = high = rate_floor = None
        error = invalid(request, "filters", "YYYY-MM-DD, yuan, percent")
    offers, _ = financing.listing(context_of(request), user.member, Status.OPEN, 0, SHOWN)
    shown = [
        r
        for r in offers
        if (not debtor or r.debtor == debtor)
        and (by is None or (r.maturity or 0) <= by)
        and (low is None or r.value >= low)
        and (high is None or r.value <= high)
        and (rate_floor is None or (r.implied_rate or 0) >= rate_floor)
    ]
    debtors = sorted({r.debtor for r in offers if r.debtor})
    return page(request, "market.html", offers=shown, debtors=debtors, filters=filters, error=error, notice=None)


@router.get("/market/{request_id}", response_class=HTMLResponse)
def review(request: Request, request_id: str) -> HTMLResponse:
    """The confirmation step before funding: the request's figures and what the bank will earn."""
    user, _ = signed_in(request)
    return _review_page(request, user, request_id)


def _review_page(request: Request, user: User, request_id: str, status: int = 200, **values: Any) -> HTMLResponse:
    lang = lang_of(request)
    context = context_of(request)
    try:
        found = financing.one(context, user.member, _request_number(request_id))
    except ApiProblem as exc:
        return page(request, "message.html", status=404, message=refusal(exc, lang)[1])
    with context.read() as view:
        now = view.now
    days = days_between(now, found.maturity or now)
    gain = found.value - found.price
    yield_ = annualised_yield(found.price, found.value, days, portfolio.YIELD_BASIS) if days > 0 else None
    exposure = context.scf.financing.exposure(user.member.address, found.debtor) if found.debtor else None
    values = {"notice": None, "error": None, **values}
    return page(
        request, "review.html", status=status, r=found, days=days, gain=gain, yield_=yield_, exposure=exposure, **values
    )


@router.post("/market/{request_id}/fund", response_class=HTMLResponse)
def fund(
    request: Request,
    request_id: str,
    csrf: Annotated[str, Form(max_length=64)],
    price: Annotated[str, Form(max_length=40)],
) -> HTMLResponse:
    """Fund at the price the bank confirmed: the desk refuses if the request asks another (`PriceMismatch`)."""
    user = writer(request, csrf)
    notice, error = act(request, user, "fund", {"request_id": _request_number(request_id), "price": price})
    return _review_page(request, user, request_id, 200 if error is None else 409, notice=notice, error=error)


# ---------------------------------------------------------------------------------------------- bank: book


@router.get("/portfolio", response_class=HTMLResponse)
def portfolio_page(request: Request) -> HTMLResponse:
    user, _ = signed_in(request)
    return _portfolio_page(request, user)


def _portfolio_page(request: Request, user: User, status: int = 200, **values: Any) -> HTMLResponse:
    context = context_of(request)
    lang = lang_of(request)
    if user.member.role is not Role.FINANCIER:
        return page(request, "message.html", status=404, message=i18n.error_text("NotFound", {}, lang))
    book = portfolio.portfolio(context, user.member)
    claims = recourse.recourses(context, user.member, financier=user.member.address).data
    exposure: list[Exposure] = []
    names = {m.address: m.name for m in context.users.members}
    debtors = [m for m in context.users.members if m.role is Role.CORE_ENTERPRISE]
    funded: dict[str, int] = defaultdict(int)
    for p in book.data:
        if p.held:
            funded[p.debtor] += p.cost
    for d in sorted({*funded, *(m.address for m in debtors)}):
        limit, used = context.scf.financing.exposure(user.member.address, d)
        exposure.append(Exposure(d, names.get(d, d[:10]), limit, used))
    chart = charts.hbars([charts.Bar(e.name, e.used, e.limit) for e in exposure], i18n.text("exposure", lang))
    values = {"notice": None, "error": None, **values}
    return page(
        request, "portfolio.html", status=status, book=book, claims=claims, exposure=exposure, chart=chart, **values
    )


@router.post("/exposure", response_class=HTMLResponse)
def set_exposure(
    request: Request,
    csrf: Annotated[str, Form(max_length=64)],
    debtor: Annotated[str, Form(max_length=64)],
    limit: Annotated[str, Form(max_length=40)],
) -> HTMLResponse:
    user = writer(request, csrf)
    notice, error = act(request, user, "set_exposure_limit", {"debtor": debtor, "limit": limit})
    return _portfolio_page(request, user, 200 if error is None else 409, notice=notice, error=error)
