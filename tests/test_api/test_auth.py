"""Who may call what: 401 without a known key, 403 in the wrong role; health and the docs are open."""

from __future__ import annotations

import pytest

from tests.test_api.conftest import Api, refusal

PROTECTED = [
    ("GET", "/me"),
    ("GET", "/receivables"),
    ("GET", "/receivables/1"),
    ("GET", "/fragments/1"),
    ("POST", "/fragments/1/redeem"),
    ("POST", "/quotes"),
    ("GET", "/financing-requests"),
    ("POST", "/financing-requests"),
    ("GET", "/financing-requests/1"),
    ("POST", "/financing-requests/1/fund"),
    ("GET", "/portfolio"),
    ("POST", "/dev/advance-time"),
    ("POST", "/dev/repay/1"),
]


def test_health_needs_no_key_and_reports_the_chain_and_the_index(api: Api) -> None:
    r = api.get("/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["development"] is True
    assert body["index_block"] == body["block"] == api.scf.w3.eth.block_number
    assert body["contracts"]["FinancingDesk"] == api.scf.financing.address


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_a_missing_key_is_401_with_a_bearer_challenge(api: Api, method: str, path: str) -> None:
    r = api.client.request(method, path, json={})
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == "Bearer"
    assert r.json()["error"] == "Unauthorized"


@pytest.mark.parametrize(
    "header", ["Bearer not-a-key-anyone-has", "Basic dXNlcjpwYXNz", "Bearer", "bearer ", "Token abc"]
)
def test_an_unknown_or_malformed_key_is_401(api: Api, header: str) -> None:
    r = api.client.get("/me", headers={"Authorization": header})
    assert r.status_code == 401
    assert r.json()["error"] == "Unauthorized"


def test_me_names_the_member_its_role_and_its_cash(api: Api) -> None:
    r = api.get("/me", api.bank)
    assert r.json() == {
        "name": "Bank of Hankou",
        "role": "financier",
        "address": api.bank.address,
        "can_sign": True,
        "cash": "10000000.00",
        "user": "admin",
        "duty": "admin",
    }


def test_a_supplier_may_not_fund_and_its_portfolio_is_empty(api: Api) -> None:
    supplier = api.party("Qingshan Fasteners")
    request = api.open_request()
    r = api.fund(request.id, supplier, "k1")
    assert r.status_code == 403
    assert refusal(r) == {"error": "WrongRole", "fields": {"role": "supplier", "allowed": ["financier"]}}
    book = api.get("/portfolio", supplier)  # every role reads its own book (api.policy): a supplier financed nothing
    assert (book.status_code, book.json()["count"]) == (200, 0)


def test_only_the_operator_may_use_the_development_routes(api: Api) -> None:
    r = api.post("/dev/advance-time", api.bank, json={"seconds": 60})
    assert r.status_code == 403
    assert r.json()["fields"]["allowed"] == ["operator"]


def test_a_core_enterprise_may_not_submit_financing_requests(api: Api) -> None:
    r = api.post("/financing-requests", api.demo.core, json={})
    assert r.status_code == 403
    assert r.json()["error"] == "WrongRole"


def test_the_openapi_document_and_docs_page_are_served(api: Api) -> None:
    assert api.client.get("/docs").status_code == 200
    spec = api.client.get("/openapi.json").json()
    assert {"/health", "/receivables", "/quotes", "/financing-requests/{request_id}/fund", "/portfolio"} <= set(
        spec["paths"]
    )
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
