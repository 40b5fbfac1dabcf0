"""GET /portfolio and POST /fragments/{id}/redeem: a lender's positions from funding to redemption."""

from __future__ import annotations

from api.fields import rate_text
from api.seed import Party
from chain_client.contract_errors import NotOwnerNorApproved
from chain_client.devchain import now
from chain_client.pricing import DayCount, annualised_yield, days_between
from tests.test_api.conftest import Api, refusal


def run_to_maturity(api: Api, slot: int) -> None:
    maturity = api.scf.receivables.receivable(slot).maturity
    r = api.post("/dev/advance-time", api.demo.operator, json={"seconds": maturity - now(api.scf.w3)})
    assert r.status_code == 200, r.text
    assert api.post(f"/dev/repay/{slot}", api.demo.operator).status_code == 200


def funded_token(api: Api, request_id: int, bank: Party) -> int:
    r = api.fund(request_id, bank, f"p-{request_id}")
    assert r.status_code == 200, r.text
    return int(r.json()["funding"]["financed_token_id"])


def test_a_funded_position_shows_cost_face_value_and_expected_yield(api: Api) -> None:
    whole, part = api.submitted[0], api.submitted[2]  # 120,000.00 whole; 30,000.00 out of 50,000.00
    whole_id, part_id = funded_token(api, whole.id, api.bank), funded_token(api, part.id, api.bank)
    assert whole_id == whole.token_id  # a whole fragment changes hands as it is
    assert part_id != part.token_id  # a part is split off into a new fragment
    book = api.get("/portfolio", api.bank).json()
    assert (book["financier"], book["count"]) == (api.bank.address, 2)
    first = book["data"][0]
    days = days_between(first["funded_at"], first["maturity"])
    assert first["financed_token_id"] == str(whole_id)
    assert (first["cost"], first["face_value"], first["expected_payoff"]) == ("118600.00", "120000.00", "120000.00")
    assert (first["state"], first["held"], first["repaid"], first["realised_yield"]) == ("active", True, "0.00", None)
    assert first["expected_yield"] == rate_text(annualised_yield(whole.price, whole.value, days, DayCount.ACT_365))
    assert book["data"][1]["face_value"] == "30000.00"
    assert book["totals"]["face_value"] == "150000.00"
    assert api.get("/portfolio", api.bank2).json()["count"] == 0


def test_held_to_maturity_a_position_is_repaid_redeemed_and_its_yield_realised(api: Api) -> None:
    request = api.submitted[0]
    token = funded_token(api, request.id, api.bank)
    run_to_maturity(api, request.slot)
    before = api.get("/portfolio", api.bank).json()["data"][0]
    assert (before["state"], before["claimable"], before["realised_yield"]) == ("repaid", "120000.00", None)
    cash = api.cash(api.bank)
    r = api.post(f"/fragments/{token}/redeem", api.bank)
    assert r.status_code == 200, r.text
    assert (r.json()["paid"], r.json()["burned"], r.json()["exposure_released"]) == ("120000.00", True, True)
    assert api.cash(api.bank) == cash + request.value
    assert api.scf.financing.exposure(api.bank.address, api.demo.core.address)[1] == 0
    book = api.get("/portfolio", api.bank).json()
    after = book["data"][0]
    assert (after["held"], after["repaid"], after["claimable"]) == (False, "120000.00", "0.00")
    assert after["realised_yield"] == after["expected_yield"]
    assert book["totals"]["profit"] == "1400.00"
    assert api.get(f"/fragments/{token}", api.bank).json()["burned"] is True  # still traceable
    again = api.post(f"/fragments/{token}/redeem", api.bank)
    assert (again.status_code, again.json()["error"]) == (404, "NonexistentToken")


def test_redeeming_before_maturity_is_a_conflict(api: Api) -> None:
    request = api.submitted[0]
    token = funded_token(api, request.id, api.bank)
    r = api.post(f"/fragments/{token}/redeem", api.bank)
    assert r.status_code == 409
    assert r.json()["error"] == "ReceivableNotMatured"
    assert r.json()["fields"]["slot"] == str(request.slot)


def test_only_holders_redeem_and_only_their_own_fragments(api: Api) -> None:
    request = api.submitted[0]
    assert api.post(f"/fragments/{request.token_id}/redeem", api.demo.core).status_code == 403
    run_to_maturity(api, request.slot)
    r = api.post(f"/fragments/{request.token_id}/redeem", api.bank)  # held by the supplier, not the bank
    assert r.status_code == 409
    assert refusal(r) == {
        "error": "NotOwnerNorApproved",
        "message": NotOwnerNorApproved.notice(),
        "fields": {"token_id": str(request.token_id), "caller": api.bank.address},
    }
    assert api.post("/fragments/77/redeem", api.bank).status_code == 404


def test_a_financing_funded_outside_the_api_is_in_the_portfolio(api: Api) -> None:
    signed = api.demo.requests[1]
    done = api.scf.financing.finance(api.bank.account, signed.request, signed.signature)
    book = api.get("/portfolio", api.bank).json()
    assert [p["financed_token_id"] for p in book["data"]] == [str(done.financed_token_id)]
    assert book["data"][0]["cost"] == "45039.40"
