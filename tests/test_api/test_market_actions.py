"""Financing and recourse through POST /actions: a holder offers a fragment with no wallet of its own (the API
signs the EIP-712 request with its key), a bank with a checker funds only through an approved action (the
lender endpoint refuses one user alone), and the recourse cycle — claim, buy-back, the later repayment shared —
is driven by the financier and the seller over HTTP, each side seeing it in GET /recourse."""

from __future__ import annotations

from typing import Any

from api.fields import yuan_text
from chain_client.devchain import advance_time, now
from chain_client.receivables import token_id_of
from tests.test_api.conftest import DAY, Api, refusal
from tests.test_api.test_actions import admin, user


def offer(api: Api, *, value: str = "1000.00", price: str = "990.00", recourse: bool = False) -> dict[str, Any]:
    """Jiangcheng Steel offers part of its fragment to the first bank through an action; the executed action."""
    steel = api.party("Jiangcheng Steel")
    params = {
        "token_id": str(token_id_of(api.demo.slots[0], 1)),
        "value": value,
        "price": price,
        "financier": api.bank.address,
        "recourse": recourse,
        "deadline": now(api.scf.w3) + DAY,
    }
    return admin(api, steel).done("offer", params)


def test_an_offer_is_signed_by_the_api_with_the_holders_key_and_listed(api: Api) -> None:
    steel = api.party("Jiangcheng Steel")
    offered = offer(api)
    assert offered["amount"] == "1000.00"  # the value it commits, for the threshold
    request = api.get(f"/financing-requests/{offered['result']['request_id']}", steel).json()
    assert (request["status"], request["holder"], request["value"], request["price"]) == (
        "open",
        steel.address,
        "1000.00",
        "990.00",
    )
    assert request["request_hash"] == offered["result"]["request_hash"]
    # Another action, another nonce: a second offer is a second request, not a clash.
    again = offer(api, value="500.00", price="495.00")
    assert again["result"]["request_id"] != offered["result"]["request_id"]
    r = admin(api, api.demo.core).act("offer", {**offered["params"]})
    assert refusal(r)["error"] == "WrongRole"


def test_a_bank_with_a_checker_funds_only_through_an_approved_action(api: Api) -> None:
    steel, bank, rt = api.party("Jiangcheng Steel"), api.bank, api.scf.receivables
    request_id = offer(api)["result"]["request_id"]
    maker, checker = user(api, bank, "maker"), user(api, bank, "checker")

    r = api.fund(request_id, bank, "alone")
    detail = "prepare it with POST /actions; another user with the checker duty approves it"
    assert r.status_code == 403
    assert refusal(r) == {"error": "ApprovalRequired", "fields": {"kind": "fund", "amount": "990.00", "detail": detail}}

    cash = api.cash(steel)
    prepared = maker.act("fund", {"request_id": request_id, "price": "990.00"}).json()
    assert (prepared["state"], prepared["amount"]) == ("prepared", "990.00")
    assert api.cash(steel) == cash  # nothing moved yet
    assert maker.approve(prepared["id"]).status_code == 403  # not by the maker

    done = checker.approve(prepared["id"]).json()
    assert done["state"] == "executed", done
    financed = int(done["result"]["financed_token_id"])
    assert (api.cash(steel), rt.owner_of(financed), rt.balance_of(financed)) == (cash + 990_00, bank.address, 1000_00)
    funded = api.get(f"/financing-requests/{request_id}", steel).json()
    assert funded["status"] == "funded"
    assert funded["funding"]["tx_hash"] == done["tx_hash"]  # the action's last transaction is the funding


def test_a_fund_action_the_request_refuses_fails_by_name_and_moves_nothing(api: Api) -> None:
    steel = api.party("Jiangcheng Steel")
    request_id = offer(api)["result"]["request_id"]
    cash = api.cash(steel)
    r = admin(api, api.bank).act("fund", {"request_id": request_id, "price": "999.00"})
    failed = r.json()
    assert failed["state"] == "failed"
    assert failed["error"] == {"error": "PriceMismatch", "fields": {"expected": "999.00", "requested": "990.00"}}
    assert api.cash(steel) == cash
    assert api.get(f"/financing-requests/{request_id}", steel).json()["status"] == "open"
    # Another bank's request does not exist for it, in an action as on the endpoint.
    r = admin(api, api.bank2).act("fund", {"request_id": request_id})
    assert r.json()["error"] == {"error": "UnknownFinancingRequest", "fields": {"id": request_id}}


def test_recourse_claimed_by_the_bank_bought_back_by_the_seller_and_repayment_shared(api: Api) -> None:
    scf, steel, bank, core = api.scf, api.party("Jiangcheng Steel"), api.bank, api.demo.core
    slot = api.demo.slots[0]
    request_id = offer(api, recourse=True)["result"]["request_id"]
    financed = admin(api, bank).done("fund", {"request_id": request_id})["result"]["financed_token_id"]

    book = api.get("/recourse", steel).json()["data"]  # the seller's side: what may be claimed from it
    (row,) = [r for r in book if r["token_id"] == financed]
    assert (row["seller"], row["financier"], row["status"]) == (steel.address, bank.address, "none")
    r = api.get("/recourse", api.bank2, params={"seller": steel.address})
    assert refusal(r) == {"error": "UnknownRecourse", "fields": {"seller": steel.address}}

    early = admin(api, bank).act("claim_recourse", {"financed_token_id": financed}).json()
    assert (early["state"], early["error"]["error"]) == ("failed", "ReceivableNotOverdue")

    maturity = scf.receivables.receivable(slot).maturity
    advance_time(scf.w3, maturity - now(scf.w3) + scf.receivables.grace_period() + DAY)
    marked = admin(api, steel).done("mark_overdue", {"slot": str(slot)})
    assert marked["needs_approval"] is False  # it records a fact and moves nothing
    assert scf.receivables.receivable(slot).state.name == "OVERDUE"
    claimed = admin(api, bank).done("claim_recourse", {"financed_token_id": financed})
    assert claimed["result"]["claimed"] == "1000.00"
    (row,) = [r for r in api.get("/recourse", steel).json()["data"] if r["token_id"] == financed]
    assert (row["status"], row["claimed"]) == ("claimed", "1000.00")

    # The seller has a maker and a checker: paying the claim waits for the checker.
    scf.cash.mint(api.demo.operator.account, steel.address, 1000_00)
    maker, checker = user(api, steel, "maker"), user(api, steel, "checker")
    prepared = maker.act("settle_recourse", {"financed_token_id": financed}).json()
    assert (prepared["state"], prepared["amount"]) == ("prepared", "1000.00")
    seller_cash, bank_cash = api.cash(steel), api.cash(bank)
    assert checker.approve(prepared["id"]).json()["state"] == "executed"
    assert (api.cash(steel), api.cash(bank)) == (seller_cash - 1000_00, bank_cash + 1000_00)
    for who, params in ((steel, {}), (bank, {"financier": bank.address})):
        (row,) = [r for r in api.get("/recourse", who, params=params).json()["data"] if r["token_id"] == financed]
        assert row["status"] == "settled"

    # The core pays late, in full: the fragment's share reaches the seller, who bought it back.
    face = scf.receivables.receivable(slot).face_value
    scf.cash.mint(api.demo.operator.account, core.address, face)
    admin(api, core).done("repay", {"slot": str(slot), "amount": yuan_text(face)})
    seller_cash = api.cash(steel)
    shared = admin(api, steel).done("redeem_recourse", {"financed_token_id": financed})
    assert (shared["result"]["to_seller"], shared["result"]["to_financier"]) == ("1000.00", "0.00")
    assert shared["needs_approval"] is False  # it only pays out what is owed: no checker needed
    assert api.cash(steel) == seller_cash + 1000_00
