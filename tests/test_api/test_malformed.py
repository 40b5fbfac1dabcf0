"""Nothing a caller can send makes the API fail with a 500: every malformed request is a 4xx with the
`{"error", "fields"}` body. (TestClient re-raises a server error, so a 500 would fail these loudly.)"""

from __future__ import annotations

import pytest
import requests

from tests.test_api.conftest import Api

BODIES: list[object] = [
    None,
    "",
    "not json",
    "[]",
    "null",
    "42",
    '{"token_id": "x"}',
    '{"token_id": -1, "value": "1.00"}',
    '{"token_id": 1e400}',
    f'{{"token_id": {2**300}, "value": "1.00", "annual_rate": "0.03"}}',
    '{"token_id": 1, "value": {"nested": [1, 2]}}',
    '{"value": "99999999999999999999999.99"}',
    '{"seconds": -5}',
    '{"amount": "1.234"}',
    '{"price": "abc"}',
    '{"nonce": -1, "deadline": "soon"}',
    "\x00\xff",
]

ENDPOINTS = [
    "/quotes",
    "/financing-requests",
    "/financing-requests/1/fund",
    f"/financing-requests/{2**70}/fund",
    "/fragments/1/redeem",
    "/dev/advance-time",
    "/dev/repay/1",
]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_malformed_bodies_are_refused_with_a_named_4xx(api: Api, path: str) -> None:
    who = api.demo.operator if path.startswith("/dev") else api.bank
    if path == "/financing-requests":
        who = api.party("Jiangcheng Steel")
    for body in BODIES:
        headers = {"Content-Type": "application/json", "Idempotency-Key": "malformed"}
        r = api.post(path, who, headers=headers, content=body)
        assert r.status_code < 500, (path, body, r.status_code, r.text)
        if not (path.endswith("/1/fund") and body in (None, "", "null")):  # funding needs no body
            assert r.status_code >= 400, (path, body, r.status_code, r.text)
            # A contract refusal adds its NatSpec.
            assert set(r.json()) - {"message"} == {"error", "fields", "request_id"}


@pytest.mark.parametrize(
    "path",
    ["/receivables/-1", "/receivables/1e3", "/fragments/0x10", "/financing-requests/abc", "/nowhere", "/portfolio/x"],
)
def test_malformed_paths_are_refused_with_a_named_4xx(api: Api, path: str) -> None:
    r = api.get(path, api.bank)
    assert r.status_code in (404, 422)
    assert set(r.json()) == {"error", "fields", "request_id"}


def test_an_unreachable_node_is_a_502_naming_the_problem(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    def down() -> None:
        raise requests.exceptions.ConnectionError("connection refused")

    monkeypatch.setattr(api.context.indexer, "sync", down)
    r = api.get("/receivables", api.bank)
    assert r.status_code == 502
    assert r.json()["error"] == "ChainUnavailable"
