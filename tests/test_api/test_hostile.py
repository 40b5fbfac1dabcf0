"""Hostile and unlucky input, in process: every request below is a 4xx with the `{"error", "fields"}` body,
answered in milliseconds (TestClient re-raises a server error, so a 500 fails loudly here)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from api.fields import yuan_text
from api.guard import MAX_BODY, RequestGuard, nesting_depth
from chain_client.receivables import token_id_of
from tests.test_api.conftest import Api, TestClient, refusal

QUICK = 3.0  # seconds: each refusal takes milliseconds; a slow path (parsing a megabyte, 1e999999999) takes minutes
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def refused(r: Any, status: int | None = None) -> dict[str, Any]:
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])
    if status is not None:
        assert r.status_code == status, (r.status_code, r.text[:300])
    body = r.json()
    assert set(body) - {"message"} == {"error", "fields", "request_id"}  # a contract refusal adds its NatSpec
    return dict(body)


def quote_body(api: Api, **changes: Any) -> dict[str, Any]:
    return {"token_id": api.submitted[0].token_id, "value": "100.00", "annual_rate": "0.03", **changes}


# ------------------------------------------------------------------------------------------ 3: 500 -> 422


@pytest.mark.parametrize(
    "query",
    [
        f"/financing-requests?skip={2**63}",
        f"/financing-requests?skip={2**64}",
        f"/financing-requests?limit={2**63}",
        f"/receivables?matures_from={2**63}",
        f"/receivables?matures_to={10**30}",
        f"/receivables?skip={2**63}",
        "/receivables?min_value=1e999999999",
        "/receivables?min_value=1E%2B1000000",
        f"/receivables?min_value={'9' * 5000}",
    ],
)
def test_out_of_range_queries_are_422_not_500(api: Api, query: str) -> None:
    started = time.monotonic()
    assert refused(api.get(query, api.bank), 422)["error"] == "ValidationError"
    assert time.monotonic() - started < QUICK


@pytest.mark.parametrize("amount", ["1e999999999", "1E+1000000", "9E+999990", "1" * 10_000, "1." + "0" * 10_000])
def test_absurd_amounts_are_422_at_once(api: Api, amount: str) -> None:
    started = time.monotonic()
    r = api.post("/quotes", api.bank, json=quote_body(api, value=amount))
    assert refused(r, 422)["error"] == "ValidationError"
    assert "body.value" in r.json()["fields"]
    assert len(r.text) < 1000  # the refusal does not echo a megabyte back
    assert time.monotonic() - started < QUICK


# ------------------------------------------------------------------------------------------ 10: exact amounts


@pytest.mark.parametrize(
    "amount",
    [
        "45678.899999999999999999999999",
        "45678.999",
        "４５６７８.９０",  # full-width digits
        "٤٥٦٧٨.٩٠",  # Arabic-Indic digits
        "1_000",
        "¥1,000.00",
        "1,000.00",
        "1e3",
        " 100.00",
        "100.00 ",
        "100.00\n",
        "+100.00",
        "-100.00",
        "100.",
        ".50",
        "0x10",
        "NaN",
        "Infinity",
        "",
    ],
)
def test_amounts_must_be_plain_ascii_digits_with_at_most_two_decimals(api: Api, amount: str) -> None:
    r = api.post("/quotes", api.bank, json=quote_body(api, value=amount))
    assert refused(r, 422)["fields"].keys() == {"body.value"}


@pytest.mark.parametrize("amount", ["100", "100.5", "100.50", "0.01"])
def test_plain_amounts_are_accepted(api: Api, amount: str) -> None:
    r = api.post("/quotes", api.bank, json=quote_body(api, value=amount))
    assert r.status_code == 200, r.text
    assert r.json()["value"] == yuan_text(round(float(amount) * 100))


@pytest.mark.parametrize("rate", [0.03, 0, 1, "3e-2", "０.０３", " 0.03", "0.03\n"])
def test_annual_rate_is_a_plain_decimal_string(api: Api, rate: object) -> None:
    r = api.post("/quotes", api.bank, json=quote_body(api, annual_rate=rate))
    assert refused(r, 422)["fields"].keys() == {"body.annual_rate"}


# ------------------------------------------------------------------------------------------ hostile ids and shapes


@pytest.mark.parametrize(
    "path",
    [
        f"/receivables/{2**256}",
        "/receivables/-1",
        f"/fragments/{2**256}",
        "/fragments/-5",
        f"/financing-requests/{2**256}",
        "/financing-requests/-1",
        f"/fragments/{'9' * 10_000}",
        f"/receivables/{'1' * 50_000}",
    ],
)
def test_huge_and_negative_ids_are_refused(api: Api, path: str) -> None:
    started = time.monotonic()
    refused(api.get(path, api.bank))
    assert time.monotonic() - started < QUICK


@pytest.mark.parametrize(
    "financier",
    [
        "0xZZZZ95cB0B0c1e8C1a3F2aD8b7b9b8E7C4c6E5e4",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe",  # too short
        "0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",  # bad checksum
        "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed00",
        "x" * 10_000,
    ],
)
def test_bad_addresses_are_refused(api: Api, financier: str) -> None:
    holder = api.party("Jiangcheng Steel")
    body = {
        "token_id": 1,
        "value": "1.00",
        "price": "1.00",
        "financier": financier,
        "nonce": 1,
        "deadline": 1,
        "signature": "0x" + "00" * 65,
    }
    r = api.post("/financing-requests", holder, json=body)
    assert "body.financier" in refused(r, 422)["fields"]


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        ("text/plain", '{"token_id": 1}'),
        ("application/x-www-form-urlencoded", "token_id=1&value=1.00"),
        ("multipart/form-data; boundary=x", "--x\r\n\r\n--x--"),
        ("application/xml", "<quote/>"),
        ("application/json; charset=latin-1", b"\xff\xfe"),
    ],
)
def test_wrong_content_types_are_refused(api: Api, content_type: str, content: str | bytes) -> None:
    refused(api.post("/quotes", api.bank, headers={"Content-Type": content_type}, content=content))


def test_a_megabyte_string_in_any_field_is_refused_at_once(api: Api) -> None:
    mega = "7" * 1_000_000
    for changes in ({"day_count": mega}, {"annual_rate": mega}, {"token_id": mega}, {"unknown": mega}):
        started = time.monotonic()
        r = api.post("/quotes", api.bank, json=quote_body(api, **changes))
        assert refused(r, 413)["error"] == "PayloadTooLarge"
        assert len(r.text) < 2000
        assert time.monotonic() - started < QUICK


def test_long_strings_within_the_body_cap_are_refused_by_validation(api: Api) -> None:
    long = "7" * 12_000
    for field in ("day_count", "annual_rate", "token_id", "value", "unknown"):
        r = api.post("/quotes", api.bank, json=quote_body(api, **{field: long}))
        assert f"body.{field}" in refused(r, 422)["fields"]
        assert len(r.text) < 2000


# ------------------------------------------------------------------------------------------ 6: authenticate first


@pytest.mark.parametrize("content", ["not json", "[" * 50, '{"token_id": ', "\x00\xff"])
def test_without_a_key_a_malformed_body_is_401_not_400(api: Api, content: str) -> None:
    r = api.client.post("/quotes", headers={"Content-Type": "application/json"}, content=content)
    assert refused(r, 401)["error"] == "Unauthorized"


@pytest.mark.parametrize("scheme", ["Bearer  {key}", "Bearer {key} ", "bearer{key}", "Basic {key}", "Bearer\t{key}"])
def test_only_one_bearer_form_is_accepted(api: Api, scheme: str) -> None:
    header = {"Authorization": scheme.format(key=api.bank.api_key)}
    assert refused(api.client.get("/me", headers=header), 401)["error"] == "Unauthorized"


def test_the_usual_bearer_form_is_accepted(api: Api) -> None:
    assert api.client.get("/me", headers={"Authorization": f"Bearer {api.bank.api_key}"}).status_code == 200


# ------------------------------------------------------------------------------------------ 7: high-s signatures


def test_a_high_s_signature_is_refused_at_submission(api: Api) -> None:
    steel = api.party("Jiangcheng Steel")
    body = api.signed(steel, token_id_of(api.demo.slots[0], 1), 1_000_00, 990_00, nonce=987_654)
    raw = bytes.fromhex(body["signature"][2:])
    r_, s, v = raw[:32], int.from_bytes(raw[32:64], "big"), raw[64]
    # The same signature, malleated: s' = n - s, v flipped. It recovers to the same signer.
    high = r_ + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])
    body["signature"] = "0x" + high.hex()
    r = api.post("/financing-requests", steel, json=body)
    fields = refused(r, 422)["fields"]
    assert "high-s" in fields["body.signature"]


# ------------------------------------------------------------------------------------------ the guard itself


@pytest.mark.parametrize(
    ("body", "depth"),
    [
        (b"", 0),
        (b"42", 0),
        (b"[]", 1),
        (b'{"a": [1, {"b": []}]}', 4),
        (b'["[[[[", "{{{{"]', 1),  # brackets inside strings do not nest
        (b'["\\"[[[", 1]', 1),  # an escaped quote does not end the string
        (b'["\\\\", [[]]]', 3),  # an escaped backslash does not escape the quote after it
        (b"]]]][[", 2),  # closing more than was opened is not negative depth
    ],
)
def test_nesting_depth_skips_strings_and_escapes(body: bytes, depth: int) -> None:
    assert nesting_depth(body) == depth


def test_nesting_depth_stops_counting_past_the_limit_and_is_quick_on_the_worst_input() -> None:
    assert nesting_depth(b"[" * 100_000, limit=32) == 33
    started = time.monotonic()
    for worst in (b'"' * MAX_BODY, b'\\"' * (MAX_BODY // 2), b"[]" * (MAX_BODY // 2)):
        nesting_depth(worst)
    assert time.monotonic() - started < QUICK


def test_a_path_prefix_can_have_its_own_larger_body_limit() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("not reached")

    guard = RequestGuard(app, known_key=lambda _: True, body_limits={"/participants/documents": 8 * 1024 * 1024})
    assert guard.limit_for("/participants/documents/7") == 8 * 1024 * 1024
    assert guard.limit_for("/quotes") == MAX_BODY


def test_an_unexpected_failure_is_a_500_with_the_usual_body_and_no_traceback(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("secret detail from deep inside")

    monkeypatch.setattr("api.receivables.listing", broken)
    with TestClient(api.client.app, raise_server_exceptions=False) as client:
        r = client.get("/receivables", headers={"Authorization": f"Bearer {api.bank.api_key}"})
    assert r.status_code == 500
    assert refusal(r) == {"error": "InternalError", "fields": {"detail": "the server failed; the failure is logged"}}
    assert "secret" not in r.text
    assert "Traceback" not in r.text


# ------------------------------------------------------------------------------------------ reads under load


class _CountingLock:
    """A lock that counts the threads that have asked for it: a test can wait until they all queue."""

    def __init__(self) -> None:
        self._lock, self.asked = threading.Lock(), threading.Semaphore(0)

    def __enter__(self) -> None:
        self.asked.release()
        self._lock.acquire()

    def __exit__(self, *_: object) -> None:
        self._lock.release()


def test_concurrent_readers_share_one_sync(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    gate, calls, lock = threading.Event(), [], _CountingLock()

    def slow_sync(*_: object, **__: object) -> None:
        calls.append(1)
        gate.wait(30)

    monkeypatch.setattr(api.context.indexer, "sync", slow_sync)
    monkeypatch.setattr(api.context, "_sync_lock", lock)
    first = threading.Thread(target=api.context.sync)
    first.start()
    assert lock.asked.acquire(timeout=30)
    queued = [threading.Thread(target=api.context.sync) for _ in range(8)]
    for t in queued:
        t.start()
    for _ in queued:  # all eight have arrived and wait behind the first sync (no sleep: a loaded machine is slow)
        assert lock.asked.acquire(timeout=30)
    gate.set()
    for t in (first, *queued):
        t.join(30)
    # The first, and one more for the eight that arrived while it ran (it might have missed their blocks).
    assert len(calls) == 2
    api.context.sync()  # a call arriving later syncs again
    assert len(calls) == 3
