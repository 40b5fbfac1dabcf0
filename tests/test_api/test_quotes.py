"""POST /quotes: a discount to maturity at the lender's rate, exactly as `chain_client.pricing` computes it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chain_client.contract_errors import InvalidFinancingValue
from chain_client.devchain import advance_time, now
from chain_client.pricing import DayCount, days_between, quote
from tests.test_api.conftest import DAY, Api, refusal


@pytest.mark.parametrize("day_count", [None, "ACT/365"])
def test_a_quote_prices_the_value_to_maturity(api: Api, day_count: str | None) -> None:
    request = api.submitted[0]
    body: dict[str, object] = {"token_id": request.token_id, "value": "100000.00", "annual_rate": "0.0385"}
    if day_count:
        body["day_count"] = day_count
    r = api.post("/quotes", api.bank, json=body)
    assert r.status_code == 200, r.text
    assert request.maturity is not None
    days = days_between(now(api.scf.w3), request.maturity)
    expected = quote(100_000_00, Decimal("0.0385"), days, DayCount(day_count or "ACT/360"))
    got = r.json()
    assert got["days"] == days
    assert got["day_count"] == expected.day_count.value
    assert got["price"] == f"{expected.price // 100}.{expected.price % 100:02d}"
    assert got["discount"] == f"{expected.discount // 100}.{expected.discount % 100:02d}"
    assert got["annual_rate"] == "0.038500"
    assert got["maturity"] == request.maturity


def test_a_quote_for_more_than_the_fragment_holds_is_409(api: Api) -> None:
    request = api.submitted[0]
    r = api.post("/quotes", api.bank, json={"token_id": request.token_id, "value": "120000.01", "annual_rate": "0.03"})
    assert r.status_code == 409
    assert refusal(r) == {
        "error": "InvalidFinancingValue",
        "message": InvalidFinancingValue.notice(),
        "fields": {"token_id": str(request.token_id), "value": 120_000_01, "balance": 120_000_00},
    }


def test_a_matured_receivable_cannot_be_quoted(api: Api) -> None:
    request = api.submitted[0]
    advance_time(api.scf.w3, 121 * DAY)
    r = api.post("/quotes", api.bank, json={"token_id": request.token_id, "value": "1.00", "annual_rate": "0.03"})
    assert r.status_code == 409
    assert r.json()["error"] == "ReceivableMatured"


def test_an_unknown_fragment_cannot_be_quoted(api: Api) -> None:
    r = api.post("/quotes", api.bank, json={"token_id": 77, "value": "1.00", "annual_rate": "0.03"})
    assert r.status_code == 404
    assert r.json()["error"] == "NonexistentToken"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"value": "1.234"}, "body.value"),
        ({"value": "abc"}, "body.value"),
        ({"value": 12.5}, "body.value"),  # a JSON number: amounts are strings
        ({"value": "0"}, "body.value"),
        ({"value": "-5.00"}, "body.value"),
        ({"value": "1e20"}, "body.value"),
        ({"annual_rate": "abc"}, "body.annual_rate"),
        ({"annual_rate": "-0.01"}, "body.annual_rate"),
        ({"annual_rate": "1.5"}, "body.annual_rate"),
        ({"annual_rate": "NaN"}, "body.annual_rate"),
        ({"day_count": "30/360"}, "body.day_count"),
        ({"token_id": "one"}, "body.token_id"),
        ({"token_id": None}, "body.token_id"),
        ({"tenor": 90}, "body.tenor"),
    ],
)
def test_a_malformed_quote_is_422_naming_the_field(api: Api, changes: dict[str, object], field: str) -> None:
    body = {"token_id": api.submitted[0].token_id, "value": "100.00", "annual_rate": "0.03", **changes}
    r = api.post("/quotes", api.bank, json=body)
    assert r.status_code == 422, r.text
    assert field in r.json()["fields"]
