"""GET /reconcile: the auditor compares the API's records (its event index) with the chain over HTTP."""

from __future__ import annotations

from tests.test_api.conftest import Api, refusal


def test_the_auditor_finds_the_api_and_the_chain_in_agreement(api: Api) -> None:
    for who in (api.auditor, api.demo.operator):
        r = api.get("/reconcile", who)
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["agree"], body["differences"]) == (True, [])
        assert body["block"] == api.scf.w3.eth.block_number
        assert body["receivables"] == api.get("/receivables", who).json()["count"] > 0


def test_a_record_that_differs_from_the_chain_is_named_with_both_values_as_strings(api: Api) -> None:
    bank = api.bank
    api.get("/reconcile", api.auditor)  # synced first, so that the tampering is not overwritten
    chain = api.scf.cash.balance_of(bank.address)
    assert chain > 0
    with api.context.index.reading() as index:
        changed = index._conn.execute(
            "UPDATE cash_balances SET balance = balance + 1 WHERE account = ?", (bank.address,)
        )
        assert changed.rowcount == 1
    body = api.get("/reconcile", api.auditor).json()
    assert body["agree"] is False
    balance = {"what": "cash", "key": bank.address, "field": "balance", "index": str(chain + 1), "chain": str(chain)}
    assert balance in body["differences"]


def test_members_other_than_the_auditor_and_the_operator_may_not_reconcile(api: Api) -> None:
    for who in (api.bank, api.demo.core, api.party("Jiangcheng Steel")):
        r = api.get("/reconcile", who)
        assert r.status_code == 403
        role = who.role.name.lower()
        assert refusal(r) == {"error": "WrongRole", "fields": {"role": role, "allowed": ["auditor", "operator"]}}
