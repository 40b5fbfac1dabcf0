"""GET /recourse: a financier's fragments bought with recourse, and whether a claim is open or settled."""

from __future__ import annotations

from typing import Any

from api.fields import yuan_text
from chain_client.devchain import advance_time, now
from chain_client.receivables import token_id_of
from tests.test_api.conftest import DAY, Api, refusal


def bought_with_recourse(api: Api, *, recourse: bool = True, nonce: int = 701) -> dict[str, Any]:
    """Jiangcheng Steel sells ¥100,000.00 of its fragment to the first bank; the funded request."""
    steel = api.party("Jiangcheng Steel")
    own = token_id_of(api.demo.slots[0], 1)
    body = api.signed(steel, own, 100_000_00, 98_900_00, nonce=nonce, recourse=recourse, financier=api.bank.address)
    created = api.post("/financing-requests", steel, json=body)
    assert created.status_code == 201, created.text
    funded = api.fund(created.json()["id"], api.bank, f"recourse-{nonce}")
    assert funded.status_code == 200, funded.text
    deal: dict[str, Any] = funded.json()
    return deal


def test_a_financier_sees_what_it_bought_with_recourse_and_the_claim_as_it_goes(api: Api) -> None:
    before = api.get("/recourse", api.bank)
    assert before.status_code == 200, before.text
    deal = bought_with_recourse(api)
    bought_with_recourse(api, recourse=False, nonce=702)  # without recourse: not listed
    book = api.get("/recourse", api.bank).json()
    assert book["count"] == before.json()["count"] + 1
    row = book["data"][-1]
    assert (row["token_id"], row["tx_hash"]) == (deal["funding"]["financed_token_id"], deal["funding"]["tx_hash"])
    steel = api.party("Jiangcheng Steel")
    assert (row["seller"], row["debtor"]) == (steel.address, api.demo.core.address)
    assert (row["value"], row["price"], row["claimed"], row["status"], row["overdue"]) == (
        "100000.00",
        "98900.00",
        "0.00",
        "none",
        False,
    )
    advance_time(api.scf.w3, row["maturity"] - now(api.scf.w3) + api.scf.receivables.grace_period() + DAY)
    api.scf.receivables.mark_overdue(api.bank.account, api.demo.slots[0])
    api.scf.financing.claim_recourse(api.bank.account, int(row["token_id"]))
    claimed = api.get("/recourse", api.bank).json()["data"][-1]
    on_chain = api.scf.financing.financing(int(row["token_id"]))
    assert (claimed["status"], claimed["overdue"]) == ("claimed", True)
    assert claimed["claimed"] == yuan_text(on_chain.recourse_claim) != "0.00"


def test_only_the_operator_and_auditor_read_another_financiers_claims(api: Api) -> None:
    bought_with_recourse(api)
    own = api.get("/recourse", api.bank).json()
    assert own["count"] >= 1
    for who in (api.demo.operator, api.auditor):
        assert api.get("/recourse", who, params={"financier": api.bank.address}).json() == own
    for who in (api.bank2, api.party("Jiangcheng Steel"), api.demo.core):
        r = api.get("/recourse", who, params={"financier": api.bank.address})
        assert r.status_code == 404
        assert refusal(r) == {"error": "UnknownRecourse", "fields": {"financier": api.bank.address}}
    assert api.get("/recourse", api.bank2).json() == {"data": [], "count": 0}
