"""A supplier withdraws its offer (POST /financing-requests/{id}/cancel): the desk's nonce is cancelled on
chain with the holder's key, so the signature can never be used, and no bank can fund the request."""

from __future__ import annotations

from api.seed import Party
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
