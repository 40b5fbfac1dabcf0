"""Every response carries X-Request-ID (the client's if sane, else a new uuid4); every refusal's body carries the
same id as `request_id`, and so does the server's log line for it: a bank's support call can find the line."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import MutableMapping
from typing import Any

import pytest

from api.request_ids import RequestIds
from tests.test_api.conftest import Api, TestClient, auth, refusal


def is_uuid4(text: str) -> bool:
    try:
        return uuid.UUID(text).version == 4 and str(uuid.UUID(text)) == text
    except ValueError:
        return False


def test_a_sane_id_is_echoed_on_a_success(api: Api) -> None:
    r = api.client.get("/health", headers={"X-Request-ID": "bank-7:call.42_a-b"})
    assert r.status_code == 200
    assert r.headers["X-Request-ID"] == "bank-7:call.42_a-b"


def test_an_id_is_generated_when_none_is_sent(api: Api) -> None:
    first, second = api.client.get("/health"), api.client.get("/health")
    assert is_uuid4(first.headers["X-Request-ID"])
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]


@pytest.mark.parametrize("hostile", ["x" * 10_000, "a" * 129, "", "id with spaces", "id;drop", "ab<script>"])
def test_a_hostile_id_is_replaced_not_echoed(api: Api, hostile: str) -> None:
    r = api.client.get("/health", headers={"X-Request-ID": hostile})
    assert r.status_code == 200
    assert is_uuid4(r.headers["X-Request-ID"])


@pytest.mark.parametrize(
    "raw", [b"abc\ndef", b"abc\r\nX-Evil: 1", "r\u00e9f\u00e9rence".encode(), "\u8bf7\u6c42".encode()]
)
def test_newlines_and_non_ascii_are_replaced_not_echoed(raw: bytes) -> None:
    # Raw ASGI: an HTTP client refuses to send these, a hostile peer's bytes reach the server all the same.
    seen: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen["state"] = dict(scope["state"])
        await send({"type": "http.response.start", "status": 204, "headers": [(b"x-request-id", raw)]})
        await send({"type": "http.response.body", "body": b""})

    sent: list[MutableMapping[str, Any]] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {"type": "http", "method": "GET", "path": "/health", "headers": [(b"x-request-id", raw)]}
    asyncio.run(RequestIds(app)(scope, receive, send))
    ids = [v for k, v in sent[0]["headers"] if k == b"x-request-id"]
    assert len(ids) == 1
    assert ids[0] != raw
    assert is_uuid4(ids[0].decode())
    assert seen["state"]["request_id"] == ids[0].decode()


def test_a_404_body_and_its_log_line_carry_the_id(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="api"):
        r = api.client.get("/financing-requests/424242", headers={**auth(api.bank), "X-Request-ID": "support-404"})
    assert r.status_code == 404
    assert r.json()["request_id"] == "support-404" == r.headers["X-Request-ID"]
    assert refusal(r)["error"] == "UnknownFinancingRequest"
    assert any("request_id=support-404" in m and "UnknownFinancingRequest" in m for m in caplog.messages)


def test_a_guard_refusal_carries_the_id(api: Api) -> None:
    # 401 from the guard, before FastAPI sees the request.
    r = api.client.post("/quotes", json={}, headers={"X-Request-ID": "no-key-1"})
    assert r.status_code == 401
    assert r.json()["request_id"] == "no-key-1" == r.headers["X-Request-ID"]


def test_a_422_carries_a_generated_id(api: Api) -> None:
    r = api.post("/quotes", api.bank, json={"token_id": "1", "value": "-1", "annual_rate": "0.03"})
    assert r.status_code == 422
    assert refusal(r)["error"] == "ValidationError"
    assert is_uuid4(r.json()["request_id"])


def test_the_500_body_header_and_log_line_carry_the_id(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("secret detail from deep inside")

    monkeypatch.setattr("api.receivables.listing", broken)
    with (
        caplog.at_level(logging.ERROR, logger="api"),
        TestClient(api.client.app, raise_server_exceptions=False) as client,
    ):
        r = client.get("/receivables", headers={**auth(api.bank), "X-Request-ID": "support-500"})
    assert r.status_code == 500
    assert r.json() == {
        "error": "InternalError",
        "fields": {"detail": "the server failed; the failure is logged"},
        "request_id": "support-500",
    }
    assert r.headers["X-Request-ID"] == "support-500"
    assert any("request_id=support-500" in m for m in caplog.messages)


def test_a_replayed_refusal_carries_the_replays_own_id(api: Api) -> None:
    request = api.open_request()
    headers = {"Idempotency-Key": "replay-id"}
    first = api.post(f"/financing-requests/{request.id}/fund", api.bank, headers=headers, json={"price": "1.00"})
    again = api.post(
        f"/financing-requests/{request.id}/fund",
        api.bank,
        headers={**headers, "X-Request-ID": "the-retry"},
        json={"price": "1.00"},
    )
    assert first.status_code == again.status_code == 409
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["request_id"] == "the-retry" != first.json()["request_id"]
    assert refusal(again) == refusal(first)


def test_the_openapi_error_schema_and_headers_name_it(api: Api) -> None:
    schema = api.client.get("/openapi.json").json()
    problem = schema["components"]["schemas"]["ProblemPublic"]
    assert "request_id" in problem["required"]
    for item in schema["paths"].values():
        for op in item.values():
            for response in op["responses"].values():
                assert "X-Request-ID" in response["headers"]
