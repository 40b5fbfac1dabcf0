"""POST /financing-requests and the market: a signed request is checked off chain before it is stored, and
stored statuses follow the chain (funded, cancelled, expired)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from api.fields import rate_text
from chain_client.contract_errors import (
    FragmentFrozen,
    NonceAlreadyUsed,
    NonexistentToken,
    RequestExpired,
    SignerNotHolder,
)
from chain_client.devchain import advance_time, now
from chain_client.financing import FinancingRequest
from chain_client.pricing import days_between, implied_rate
from chain_client.receivables import token_id_of
from tests.test_api.conftest import DAY, Api, refusal


def root(api: Api) -> int:
    """Jiangcheng Steel's fragment of the first receivable (¥500,000.00 left after paying tier 2)."""
    return token_id_of(api.demo.slots[0], 1)


def test_a_holders_signed_request_is_stored_open_with_its_implied_rate(api: Api) -> None:
    steel = api.party("Jiangcheng Steel")
    body = api.signed(steel, root(api), 100_000_00, 98_900_00, nonce=101, recourse=True)
    r = api.post("/financing-requests", steel, json=body)
    assert r.status_code == 201, r.text
    created = r.json()
    assert r.headers["Location"] == f"/financing-requests/{created['id']}"
    assert (created["status"], created["holder"], created["debtor"]) == ("open", steel.address, api.demo.core.address)
    assert (created["value"], created["price"], created["discount"]) == ("100000.00", "98900.00", "1100.00")
    on_chain = FinancingRequest(root(api), 100_000_00, 98_900_00, recourse=True, nonce=101, deadline=body["deadline"])
    assert created["request_hash"] == api.scf.financing.request_hash(on_chain)  # the desk's own digest
    days = days_between(now(api.scf.w3), created["maturity"])
    assert created["days"] == days
    assert created["implied_rate"] == rate_text(implied_rate(100_000_00, 98_900_00, days))
    assert api.get(f"/financing-requests/{created['id']}", api.bank).json() == created


def test_banks_see_the_market_and_their_own_and_suppliers_only_their_own(api: Api) -> None:
    # Six open requests: four to the market, one to each bank; a bank sees those addressed to it or the market.
    market = api.get("/financing-requests", api.bank, params={"status": "open"}).json()
    assert market["count"] == 5
    assert all(r["financier"] in (None, api.bank.address) for r in market["data"])
    assert all(Decimal(r["implied_rate"]) > 0 for r in market["data"])
    page = api.get("/financing-requests", api.bank, params={"skip": 2, "limit": 2}).json()
    assert ([r["id"] for r in page["data"]], page["count"]) == ([3, 4], 5)
    theirs = next(r for r in api.submitted if r.financier == api.bank2.address)
    assert api.get(f"/financing-requests/{theirs.id}", api.bank).status_code == 404  # another bank's: not there
    paints = api.party("Hongshan Paints")
    own = api.get("/financing-requests", paints).json()
    assert [r["holder"] for r in own["data"]] == [paints.address]
    others = next(r for r in market["data"] if r["holder"] != paints.address)
    assert api.get(f"/financing-requests/{others['id']}", paints).status_code == 404


def test_an_unknown_request_is_404_and_a_bad_status_422(api: Api) -> None:
    r = api.get("/financing-requests/999", api.bank)
    assert r.status_code == 404
    assert refusal(r) == {"error": "UnknownFinancingRequest", "fields": {"id": 999}}
    assert api.get("/financing-requests", api.bank, params={"status": "lost"}).status_code == 422
    assert api.get("/financing-requests/0", api.bank).status_code == 422


def test_fields_changed_after_signing_do_not_recover_the_caller(api: Api) -> None:
    steel = api.party("Jiangcheng Steel")
    body = api.signed(steel, root(api), 100_000_00, 98_900_00, nonce=102)
    r = api.post("/financing-requests", steel, json={**body, "price": "99900.00"})
    assert r.status_code == 403
    assert r.json()["error"] == "SignerNotCaller"
    assert r.json()["fields"]["caller"] == steel.address


def test_a_member_cannot_submit_another_members_signed_request(api: Api) -> None:
    steel = api.party("Jiangcheng Steel")
    body = api.signed(steel, root(api), 100_000_00, 98_900_00, nonce=103)
    r = api.post("/financing-requests", api.party("Hongshan Paints"), json=body)
    assert r.status_code == 403
    assert r.json()["fields"]["signer"] == steel.address


def test_a_signer_who_does_not_hold_the_fragment_is_refused(api: Api) -> None:
    paints = api.party("Hongshan Paints")
    r = api.post("/financing-requests", paints, json=api.signed(paints, root(api), 1_00, 1_00, nonce=1))
    assert r.status_code == 409
    assert refusal(r) == {
        "error": "SignerNotHolder",
        "message": SignerNotHolder.notice(),
        "fields": {
            "token_id": str(root(api)),
            "signer": paints.address,
            "holder": api.party("Jiangcheng Steel").address,
        },
    }


@pytest.mark.parametrize(
    "signature",
    [
        "0x1234",
        "0x" + "zz" * 65,
        "0x" + "11" * 64 + "00",  # v must be 27 or 28
        "0x" + "11" * 66,
        1234,
    ],
)
def test_a_malformed_signature_is_422(api: Api, signature: object) -> None:
    steel = api.party("Jiangcheng Steel")
    body = {**api.signed(steel, root(api), 100_00, 99_00, nonce=104), "signature": signature}
    r = api.post("/financing-requests", steel, json=body)
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "ValidationError"
    assert set(r.json()["fields"]) == {"body.signature"}


def test_a_well_formed_signature_that_recovers_nobody_is_403(api: Api) -> None:
    # Its shape is what the schema says (so not a 422): like a signature by another account, it does not show
    # that the caller signed the request.
    steel = api.party("Jiangcheng Steel")
    body = {**api.signed(steel, root(api), 100_00, 99_00, nonce=104), "signature": "0x" + "00" * 64 + "1b"}
    r = api.post("/financing-requests", steel, json=body)
    assert r.status_code == 403, r.text
    assert r.json()["error"] == "InvalidSignature"
    assert set(r.json()["fields"]) == {"signature"}


def test_an_expired_deadline_is_refused(api: Api) -> None:
    steel = api.party("Jiangcheng Steel")
    t = now(api.scf.w3)
    r = api.post("/financing-requests", steel, json=api.signed(steel, root(api), 100_00, 99_00, nonce=5, deadline=t))
    assert r.status_code == 409
    assert refusal(r) == {
        "error": "RequestExpired",
        "message": RequestExpired.notice(),
        "fields": {"deadline": t, "now_time": t},
    }


def test_a_nonce_cancelled_on_the_desk_is_refused(api: Api) -> None:
    steel = api.party("Jiangcheng Steel")
    api.scf.financing.cancel(steel.account, 7)
    r = api.post("/financing-requests", steel, json=api.signed(steel, root(api), 100_00, 99_00, nonce=7))
    assert r.status_code == 409
    assert refusal(r) == {
        "error": "NonceAlreadyUsed",
        "message": NonceAlreadyUsed.notice(),
        "fields": {"signer": steel.address, "nonce": "7"},
    }


def test_the_same_request_twice_is_a_duplicate(api: Api) -> None:
    steel = api.party("Jiangcheng Steel")
    body = api.signed(steel, root(api), 100_00, 99_00, nonce=8)
    first = api.post("/financing-requests", steel, json=body)
    again = api.post("/financing-requests", steel, json=body)
    assert again.status_code == 409
    assert again.json()["error"] == "DuplicateRequest"
    assert again.json()["fields"]["id"] == first.json()["id"]


@pytest.mark.parametrize(
    ("value", "price", "status", "error"),
    [
        (500_000_01, 1_00, 409, "InvalidFinancingValue"),  # more than the fragment holds
        (100_00, 100_01, 409, "InvalidPrice"),  # price above the value: the desk's rule (the schema cannot say it)
    ],
)
def test_value_and_price_must_fit(api: Api, value: int, price: int, status: int, error: str) -> None:
    steel = api.party("Jiangcheng Steel")
    r = api.post("/financing-requests", steel, json=api.signed(steel, root(api), value, price, nonce=9))
    assert (r.status_code, r.json()["error"]) == (status, error)


def test_a_frozen_fragment_cannot_be_offered(api: Api) -> None:
    steel = api.party("Jiangcheng Steel")
    api.scf.receivables.freeze(api.demo.operator.account, root(api), b"\x01" * 32)
    r = api.post("/financing-requests", steel, json=api.signed(steel, root(api), 100_00, 99_00, nonce=10))
    assert r.status_code == 409
    assert refusal(r) == {
        "error": "FragmentFrozen",
        "message": FragmentFrozen.notice(),
        "fields": {"token_id": str(root(api))},
    }


def test_a_fragment_that_does_not_exist_cannot_be_offered(api: Api) -> None:
    steel = api.party("Jiangcheng Steel")
    missing = token_id_of(api.demo.slots[0], 999)
    r = api.post("/financing-requests", steel, json=api.signed(steel, missing, 100_00, 99_00, nonce=11))
    assert r.status_code == 404
    assert refusal(r) == {
        "error": "NonexistentToken",
        "message": NonexistentToken.notice(),
        "fields": {"token_id": str(missing)},
    }


def test_statuses_follow_cancellation_funding_outside_the_api_and_expiry(api: Api) -> None:
    first, second = api.submitted[0], api.submitted[1]
    holder = api.party("Qingshan Fasteners")
    api.scf.financing.cancel(holder.account, first.nonce)
    signed = next(s for s in api.demo.requests if s.request.token_id == second.token_id)
    done = api.scf.financing.finance(api.bank.account, signed.request, signed.signature)  # not through the API
    statuses = {r["id"]: r for r in api.get("/financing-requests", api.bank).json()["data"]}
    assert statuses[first.id]["status"] == "cancelled"
    assert statuses[second.id]["status"] == "funded"
    assert statuses[second.id]["funding"]["tx_hash"] == done.tx_hash
    assert statuses[second.id]["funding"]["financier"] == api.bank.address
    advance_time(api.scf.w3, 15 * DAY)  # past every deadline
    rest = api.get("/financing-requests", api.bank, params={"status": "expired"}).json()
    assert rest["count"] == 3  # the bank sees the market's and its own, not the one for the other bank
    assert api.get("/financing-requests", api.bank, params={"status": "open"}).json()["count"] == 0
