"""A fragment's `claimable` in the API is what the contract's `claimable(tokenId)` would pay: nothing before
maturity, however much was repaid early, and the pro-rata share less what was paid from maturity on."""

from __future__ import annotations

import pytest

from api.fields import yuan_text
from chain_client.devchain import now
from tests.test_api.conftest import Api


def claimable_of(api: Api, token_id: int) -> str:
    r = api.get(f"/fragments/{token_id}", api.bank)
    assert r.status_code == 200, r.text
    return str(r.json()["claimable"])


@pytest.mark.parametrize("share", ["part", "all"])
def test_an_early_repayment_makes_nothing_claimable_before_maturity(api: Api, share: str) -> None:
    tier3 = api.submitted[0]  # Qingshan Fasteners' whole fragment
    slot = tier3.slot
    body = {"amount": yuan_text(api.scf.receivables.receivable(slot).face_value * 2 // 5)} if share == "part" else None
    r = api.post(f"/dev/repay/{slot}", api.demo.operator, json=body)
    assert r.status_code == 200, r.text
    assert api.scf.receivables.claimable(tier3.token_id) == 0  # the contract pays nothing yet
    assert claimable_of(api, tier3.token_id) == "0.00"


def test_from_maturity_on_the_api_reports_what_the_contract_would_pay(api: Api) -> None:
    tier3 = api.submitted[0]
    slot = tier3.slot
    face = api.scf.receivables.receivable(slot).face_value
    assert (
        api.post(f"/dev/repay/{slot}", api.demo.operator, json={"amount": yuan_text(face * 2 // 5)}).status_code == 200
    )
    maturity = api.scf.receivables.receivable(slot).maturity
    r = api.post("/dev/advance-time", api.demo.operator, json={"seconds": maturity - now(api.scf.w3)})
    assert r.status_code == 200, r.text
    on_chain = api.scf.receivables.claimable(tier3.token_id)
    assert on_chain > 0
    assert claimable_of(api, tier3.token_id) == yuan_text(on_chain)
