"""The /dev routes: move the clock and have the debtor repay, on a development chain only."""

from __future__ import annotations

from pathlib import Path

from api.context import Members
from api.main import create_app
from chain_client.contract_errors import NonexistentReceivable
from chain_client.devchain import now
from tests.test_api.conftest import Api, TestClient, World, make_context, refusal


def test_the_operator_moves_the_development_chain_clock(api: Api) -> None:
    before = now(api.scf.w3)
    r = api.post("/dev/advance-time", api.demo.operator, json={"seconds": 3600})
    assert r.status_code == 200
    assert r.json()["chain_time"] >= before + 3600
    assert api.get("/health").json()["chain_time"] == r.json()["chain_time"]


def test_the_debtor_repays_all_or_part_of_a_receivable(api: Api) -> None:
    slot = api.demo.slots[1]
    part = api.post(f"/dev/repay/{slot}", api.demo.operator, json={"amount": "100.00"})
    assert part.status_code == 200, part.text
    assert (part.json()["paid"], part.json()["outstanding"]) == ("100.00", "599900.00")
    rest = api.post(f"/dev/repay/{slot}", api.demo.operator)
    assert (rest.json()["state"], rest.json()["repaid"]) == ("repaid", "600000.00")
    nothing = api.post(f"/dev/repay/{slot}", api.demo.operator)
    assert nothing.status_code == 409
    assert refusal(nothing) == {"error": "NothingOutstanding", "fields": {"slot": str(slot)}}
    receivable = api.get(f"/receivables/{slot}", api.bank).json()["receivable"]
    assert (receivable["state"], receivable["repaid"]) == ("repaid", "600000.00")


def test_repaying_an_unknown_receivable_is_404(api: Api) -> None:
    r = api.post("/dev/repay/4242", api.demo.operator)
    assert r.status_code == 404
    assert refusal(r) == {
        "error": "NonexistentReceivable",
        "message": NonexistentReceivable.notice(),
        "fields": {"slot": "4242"},
    }


def test_a_real_network_refuses_the_development_routes(api: Api) -> None:
    api.context.development = False
    for r in (
        api.post("/dev/advance-time", api.demo.operator, json={"seconds": 60}),
        api.post(f"/dev/repay/{api.demo.slots[0]}", api.demo.operator),
    ):
        assert r.status_code == 403
        assert r.json()["error"] == "NotADevelopmentChain"


def test_without_the_debtors_key_there_is_no_repayment(api: Api, world: World, tmp_path: Path) -> None:
    configs = [
        c.model_copy(update={"private_key": None}) if c.address == api.demo.core.address else c
        for c in api.demo.members()
    ]
    context = make_context(world, tmp_path, Members(configs))
    try:
        with TestClient(create_app(context)) as client:
            headers = {"Authorization": f"Bearer {api.demo.operator.api_key}"}
            r = client.post(f"/dev/repay/{api.demo.slots[0]}", headers=headers)
    finally:
        context.close()
    assert r.status_code == 409
    assert r.json()["error"] == "DebtorKeyUnavailable"
