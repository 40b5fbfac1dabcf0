"""A supplier withdraws its offer (POST /financing-requests/{id}/cancel): the desk's nonce is cancelled on
chain with the holder's key, so the signature can never be used, and no bank can fund the request."""

from __future__ import annotations

from decimal import Decimal

from api.seed import Party
from chain_client.contract_errors import NonexistentToken
from chain_client.devchain import now
from chain_client.pricing import DayCount, days_between, quote
from chain_client.receivables import token_id_of
from tests.test_api.conftest import Api, refusal


def party_at(api: Api, address: str) -> Party:
    return next(p for p in api.demo.parties if p.address == address)


def test_the_holder_cancels_on_chain_and_no_bank_can_fund_it_afterwards(api: Api) -> None:
    offer = api.open_request()
    holder = party_at(api, offer.holder)
    r = api.post(f"/financing-requests/{offer.id}/cancel", holder)
    assert r.status_code == 200, r.text
    assert (r.json()["id"], r.json()["status"]) == (offer.id, "cancelled")
    assert api.scf.financing.nonce_used(holder.address, offer.nonce)  # the signature is dead on chain
    again = api.post(f"/financing-requests/{offer.id}/cancel", holder)
    assert (again.status_code, again.json()) == (200, r.json())  # nothing sent the second time
    paid = api.fund(offer.id, api.bank, "fund-cancelled")
    assert paid.status_code == 409
    assert refusal(paid) == {"error": "RequestNotOpen", "fields": {"id": offer.id, "status": "cancelled"}}
    assert api.get(f"/financing-requests/{offer.id}", api.bank).json()["status"] == "cancelled"


def test_anyone_but_the_holder_gets_404_and_a_viewer_403(api: Api) -> None:
    offer = api.open_request()
    holder = party_at(api, offer.holder)
    other = next(r for r in api.submitted if r.holder != offer.holder)
    stranger = party_at(api, other.holder)
    for who in (api.bank, stranger):  # the bank may read it, but only its holder withdraws it
        r = api.post(f"/financing-requests/{offer.id}/cancel", who)
        assert r.status_code == 404, r.text
        assert refusal(r) == {"error": "UnknownFinancingRequest", "fields": {"id": offer.id}}
    made = api.post("/users", holder, json={"name": "Clerk who only looks", "duty": "viewer"})
    assert made.status_code == 201, made.text
    viewer = {"Authorization": f"Bearer {made.json()['api_key']}"}
    r = api.client.post(f"/financing-requests/{offer.id}/cancel", headers=viewer)
    assert r.status_code == 403
    assert refusal(r)["error"] == "DutyNotAllowed"
    assert api.get(f"/financing-requests/{offer.id}", holder).json()["status"] == "open"
    assert not api.scf.financing.nonce_used(holder.address, offer.nonce)


def test_a_funded_request_cannot_be_cancelled(api: Api) -> None:
    offer = api.open_request()
    holder = party_at(api, offer.holder)
    assert api.fund(offer.id, api.bank, "fund-first").status_code == 200
    r = api.post(f"/financing-requests/{offer.id}/cancel", holder)
    assert r.status_code == 409
    assert refusal(r) == {"error": "RequestNotOpen", "fields": {"id": offer.id, "status": "funded"}}


# ------------------------------------------------------------------------------------------ quote preview


def test_a_holder_previews_the_price_of_its_offer_then_signs_it_at_that_rate(api: Api) -> None:
    steel = api.party("Jiangcheng Steel")
    own = token_id_of(api.demo.slots[0], 1)
    body = {"token_id": str(own), "value": "100000.00", "annual_rate": "0.035", "day_count": "ACT/360"}
    r = api.post("/quotes", steel, json=body)
    assert r.status_code == 200, r.text
    preview = r.json()
    days = days_between(now(api.scf.w3), preview["maturity"])
    expected = quote(100_000_00, Decimal("0.035"), days, DayCount.ACT_360)
    assert (preview["days"], preview["price"]) == (days, f"{expected.price // 100}.{expected.price % 100:02d}")
    price = int(Decimal(preview["price"]) * 100)
    signed = api.signed(steel, own, 100_000_00, price, nonce=501)
    offer = api.post("/financing-requests", steel, json=signed)
    assert offer.status_code == 201, offer.text
    assert (offer.json()["price"], offer.json()["discount"]) == (preview["price"], preview["discount"])
    assert offer.json()["day_count"] == "ACT/360"  # the market's convention: the rate reads back as quoted
    assert abs(Decimal(offer.json()["implied_rate"]) - Decimal("0.035")) < Decimal("0.0001")


def test_a_supplier_cannot_price_a_fragment_it_may_not_see_but_a_bank_still_can(api: Api) -> None:
    paints = api.party("Hongshan Paints")
    slot = api.demo.slots[0]
    whole = api.get(f"/receivables/{slot}", api.demo.core).json()["fragments"]
    seen = {f["token_id"] for f in api.get(f"/receivables/{slot}", paints).json()["fragments"]}
    hidden = next(f for f in whole if f["token_id"] not in seen and not f["burned"] and f["owner"] != paints.address)
    body = {"token_id": hidden["token_id"], "value": "1.00", "annual_rate": "0.03"}
    r = api.post("/quotes", paints, json=body)
    assert r.status_code == 404
    assert refusal(r) == {
        "error": "NonexistentToken",
        "message": NonexistentToken.notice(),
        "fields": {"token_id": hidden["token_id"]},
    }
    assert api.post("/quotes", api.bank, json=body).status_code == 200  # a lender prices before it is offered
