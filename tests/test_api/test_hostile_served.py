"""Hostile input against the real server (`python -m api` over loopback HTTP): no request kills it or blocks
its event loop. Each refusal is a 4xx with the `{"error", "fields"}` body, answered at once, and `/health`
answers at once meanwhile and after."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.test_api.served import Served

QUICK = 3.0  # seconds: a refusal and a /health answer take milliseconds; this is slack for a busy CI machine


def assert_refused(r: httpx.Response, *statuses: int) -> None:
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])
    if statuses:
        assert r.status_code in statuses, (r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("application/json"), r.text[:300]
    assert set(r.json()) - {"message"} == {"error", "fields", "request_id"}  # a contract refusal adds its NatSpec


def assert_healthy(served: Served) -> None:
    assert served.alive(), served.log.read_text()[-2000:]
    started = time.monotonic()
    r = httpx.get(f"{served.url}/health", timeout=10)
    assert r.status_code == 200
    assert time.monotonic() - started < QUICK


def post(served: Served, path: str, content: str | bytes, key: str | None, **headers: str) -> httpx.Response:
    sent = {"Content-Type": "application/json", **headers}
    if key is not None:
        sent["Authorization"] = f"Bearer {key}"
    return httpx.post(f"{served.url}{path}", content=content, headers=sent, timeout=60)


@pytest.mark.parametrize("depth", [33, 1_000, 100_000])
@pytest.mark.parametrize("keyed", [True, False], ids=["with key", "no key"])
def test_deeply_nested_json_is_refused_and_the_server_lives(served: Served, depth: int, keyed: bool) -> None:
    key = served.key("financier") if keyed else None
    for body in ("[" * depth + "]" * depth, '{"token_id": ' + "[" * depth + "]" * depth + "}"):
        started = time.monotonic()
        r = post(served, "/quotes", body, key)
        assert time.monotonic() - started < QUICK
        # Within the body cap the guard refuses the nesting (422); beyond it, the size (413).
        assert_refused(r, *((422, 413) if keyed else (401,)))
        assert_healthy(served)


def test_nesting_within_the_limit_is_still_parsed(served: Served) -> None:
    body = '{"token_id": 1, "value": "1.00", "annual_rate": "0.03", "day_count": ' + "[" * 20 + "]" * 20 + "}"
    r = post(served, "/quotes", body, served.key("financier"))
    assert_refused(r, 422)
    assert "body.day_count" in r.json()["fields"]  # parsed, and refused by validation, not by the guard


HUGE = "9E+999990"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/quotes", f'{{"token_id": 1, "value": "{HUGE}", "annual_rate": "0.03"}}'),
        ("POST", "/quotes", f'{{"token_id": 1, "value": "1.00", "annual_rate": "{HUGE}"}}'),
        ("POST", "/financing-requests/1/fund", f'{{"price": "{HUGE}"}}'),
        ("POST", "/dev/repay/1", f'{{"amount": "{HUGE}"}}'),
        ("GET", f"/receivables?min_value={HUGE}", ""),
    ],
    ids=["quote value", "quote rate", "fund price", "dev repay", "min_value"],
)
def test_an_amount_with_a_huge_exponent_is_refused_at_once_and_blocks_nothing(
    served: Served, method: str, path: str, body: str
) -> None:
    role = "operator" if path.startswith("/dev") else "financier"
    headers = {"Authorization": f"Bearer {served.key(role)}", "Content-Type": "application/json"}
    headers["Idempotency-Key"] = "huge-exponent"
    with ThreadPoolExecutor(1) as pool:
        started = time.monotonic()
        pending = pool.submit(
            httpx.request, method, f"{served.url}{path}", content=body or None, headers=headers, timeout=60
        )
        time.sleep(0.05)
        assert_healthy(served)  # the event loop is not blocked meanwhile
        r = pending.result()
    assert time.monotonic() - started < QUICK
    assert_refused(r, 422)


def test_a_huge_body_without_a_key_is_refused_before_it_is_read(served: Served) -> None:
    # 50 MiB announced, only the start sent: the server must answer 401 without waiting for the rest.
    host, port = served.url.removeprefix("http://").split(":")
    head = (
        f"POST /quotes HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {50 * 1024 * 1024}\r\n\r\n"
    )
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(head.encode() + b'{"token_id": "' + b"1" * 65536)
        received = b""
        while chunk := conn.recv(65536):  # the server closes the connection after its answer
            received += chunk
    answer = received.decode("latin-1")
    assert time.monotonic() - started < QUICK
    status_line, _, rest = answer.partition("\r\n")
    assert status_line.split()[1] == "401", answer[:500]
    assert json.loads(rest.split("\r\n\r\n", 1)[1])["error"] == "Unauthorized"
    assert_healthy(served)


def test_a_body_over_the_cap_with_a_key_is_413(served: Served) -> None:
    r = post(served, "/quotes", '{"value": "' + "1" * (2 * 1024 * 1024) + '"}', served.key("financier"))
    assert_refused(r, 413)
    assert r.json()["error"] == "PayloadTooLarge"
    assert_healthy(served)


def test_a_chunked_body_over_the_cap_is_413_without_reading_it_all(served: Served) -> None:
    def body() -> Iterator[bytes]:
        for _ in range(64):  # 64 MiB if read to the end
            yield b"[" * (1024 * 1024)

    started = time.monotonic()
    r = httpx.post(
        f"{served.url}/quotes",
        content=body(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {served.key('financier')}"},
        timeout=30,
    )
    assert time.monotonic() - started < 5
    assert_refused(r, 413)
    assert_healthy(served)


@pytest.mark.parametrize("size", [8 * 1024, 15 * 1024])
def test_long_headers_are_refused_with_the_json_body(served: Served, size: int) -> None:
    r = httpx.get(f"{served.url}/me", headers={"Authorization": "Bearer " + "k" * size}, timeout=10)
    assert_refused(r, 401)
    r = httpx.get(f"{served.url}/me", headers={"X-Padding": "p" * size}, timeout=10)
    assert_refused(r, 401)
    assert_healthy(served)


@pytest.mark.parametrize("size", [17 * 1024, 100 * 1024])
def test_header_blocks_over_16_kib_are_431(served: Served, size: int) -> None:
    for path in ("/me", "/health", "/quotes"):
        r = httpx.get(f"{served.url}{path}", headers={"X-Padding": "p" * size}, timeout=10)
        assert_refused(r, 431)
    assert_healthy(served)
