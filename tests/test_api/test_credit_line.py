"""A core enterprise sees its credit line (GET /credit-line) and all it owes, by maturity (GET /receivables)."""

from __future__ import annotations

from api.fields import yuan_text
from api.seed import CREDIT_LINE
from tests.test_api.conftest import Api, refusal


def test_a_core_enterprise_reads_its_own_credit_line_as_the_chain_has_it(api: Api) -> None:
    core = api.demo.core
    limit, used = api.scf.receivables.credit_line(core.address)
    assert limit == CREDIT_LINE
    assert used > 0
    r = api.get("/credit-line", core)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "debtor": core.address,
        "limit": yuan_text(limit),
        "used": yuan_text(used),
        "available": yuan_text(limit - used),
    }
    assert api.get("/credit-line", core, params={"debtor": core.address}).json() == r.json()


def test_operator_and_auditor_name_any_debtor_others_only_themselves(api: Api) -> None:
    core = api.demo.core
    own = api.get("/credit-line", core).json()
    for who in (api.demo.operator, api.auditor):
        assert api.get("/credit-line", who, params={"debtor": core.address}).json() == own
    for who in (api.bank, api.party("Jiangcheng Steel")):
        r = api.get("/credit-line", who, params={"debtor": core.address})
        assert r.status_code == 404
        assert refusal(r) == {"error": "UnknownCreditLine", "fields": {"debtor": core.address}}
    steel = api.get("/credit-line", api.party("Jiangcheng Steel")).json()  # a member with no line: all zero
    assert (steel["limit"], steel["used"], steel["available"]) == ("0.00", "0.00", "0.00")
    assert api.get("/credit-line", core, params={"debtor": "0x12"}).status_code == 422


def test_what_a_core_enterprise_owes_is_listed_by_maturity_and_filtered_by_it(api: Api) -> None:
    core = api.demo.core
    owed = api.get("/receivables", core).json()
    maturities = [r["maturity"] for r in owed["data"]]
    assert owed["count"] == len(api.demo.slots) >= 2
    assert maturities == sorted(maturities)
    assert all(r["debtor"] == core.address for r in owed["data"])
    first = maturities[0]
    soon = api.get("/receivables", core, params={"matures_to": first}).json()
    assert [r["maturity"] for r in soon["data"]] == [m for m in maturities if m <= first]
    later = api.get("/receivables", core, params={"matures_from": first + 1}).json()
    assert [r["maturity"] for r in later["data"]] == [m for m in maturities if m > first]
