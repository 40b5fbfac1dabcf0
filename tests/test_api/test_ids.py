"""Ids on the wire are decimal strings: token ids, slots and nonces reach 2^256 - 1, and JavaScript's
`JSON.parse` rounds every number past 2^53 - 1, so as JSON numbers two fragments of one receivable came out
as one id in a bank's JavaScript. Responses send them as strings; requests accept strings (and, from older
clients, JSON integers); the schema says so."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from api import fields
from api.errors import problem
from chain_client.contract_errors import ERRORS_BY_SELECTOR, NonexistentToken
from chain_client.ids import slot_of, token_id_of
from tests.test_api.conftest import Api, refusal

ID_NAMES = ("token_id", "slot", "parent_id", "financed_token_id", "nonce")
# What a JavaScript client does with the body: JSON.parse, then use each id as it came (a key, a URL part).
JS_TOKEN_IDS = "const b = JSON.parse(require('fs').readFileSync(0, 'utf8')); "
JS_TOKEN_IDS += "console.log(JSON.stringify(b.fragments.map(f => String(f.token_id))));"


def js_token_ids(body: str) -> list[str]:
    node = shutil.which("node")
    assert node is not None, "node is on the PATH in this project (hardhat)"
    run = subprocess.run([node, "-e", JS_TOKEN_IDS], input=body, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    ids: list[str] = json.loads(run.stdout)
    return ids


def walk(node: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def test_javascript_json_parse_keeps_the_fragments_of_one_receivable_apart(api: Api) -> None:
    slot = api.demo.slots[0]
    r = api.get(f"/receivables/{slot}", api.bank)
    assert r.status_code == 200
    expected = [str(f["token_id"]) for f in r.json()["fragments"]]
    assert len(expected) == 6
    in_js = js_token_ids(r.text)
    assert len(set(in_js)) == len(in_js)  # as JSON numbers, all six parsed to the same double
    assert in_js == expected
    assert [slot_of(int(t)) for t in in_js] == [slot] * 6


def test_every_id_in_a_response_is_a_decimal_string(api: Api) -> None:
    request = api.submitted[2]
    funded = api.fund(request.id, api.bank, "ids-1")
    assert funded.status_code == 200, funded.text
    bodies = [
        api.get("/receivables", api.bank).json(),
        api.get(f"/receivables/{api.demo.slots[0]}", api.bank).json(),
        api.get(f"/fragments/{request.token_id}", api.bank).json(),
        api.get("/financing-requests", api.bank).json(),
        funded.json(),
        api.get("/portfolio", api.bank).json(),
        api.post(
            "/quotes", api.bank, json={"token_id": str(request.token_id), "value": "1.00", "annual_rate": "0.03"}
        ).json(),
    ]
    seen = {name: 0 for name in ID_NAMES}
    for body in bodies:
        for name, value in walk(body):
            if name in seen:
                assert isinstance(value, str), (name, value)
                assert value.isdigit(), (name, value)
                seen[name] += 1
    assert all(seen.values()), seen


def test_ids_in_refusals_are_strings_too(api: Api) -> None:
    missing = token_id_of(api.demo.slots[0], 999)
    r = api.get(f"/fragments/{missing}", api.bank)
    assert refusal(r) == {
        "error": "NonexistentToken",
        "message": NonexistentToken.notice(),
        "fields": {"token_id": str(missing)},
    }


def test_every_id_a_contract_error_carries_is_sent_as_a_string() -> None:
    names = {f for error in ERRORS_BY_SELECTOR.values() for f in error.fields}
    ids = {f for f in names if f.endswith("token_id") or f in ("slot", "nonce")}
    assert ids <= fields.ID_FIELDS
    assert problem("X", {"from_token_id": 2**255, "value": 5, "flag": True})["fields"] == {
        "from_token_id": str(2**255),
        "value": 5,
        "flag": True,
    }


def test_a_request_may_send_an_id_as_a_string_or_as_an_older_clients_json_integer(api: Api) -> None:
    token_id = api.submitted[0].token_id
    for sent in (str(token_id), token_id):
        r = api.post("/quotes", api.bank, json={"token_id": sent, "value": "100.00", "annual_rate": "0.03"})
        assert (r.status_code, r.json()["token_id"]) == (200, str(token_id))


@pytest.mark.parametrize(
    "sent", ["0", "007", " 5", "5 ", "+5", "1e3", "0x10", "", str(fields.MAX_UINT256 + 1), 5.0, True]
)
def test_an_id_that_is_not_a_canonical_decimal_in_range_is_422(api: Api, sent: object) -> None:
    r = api.post("/quotes", api.bank, json={"token_id": sent, "value": "100.00", "annual_rate": "0.03"})
    assert r.status_code == 422, r.text
    assert "body.token_id" in r.json()["fields"]


def test_the_schema_states_every_id_as_a_string_with_its_exact_pattern(api: Api) -> None:
    schema = api.client.get("/openapi.json").json()
    found = 0
    for name, model in schema["components"]["schemas"].items():
        for field, prop in model.get("properties", {}).items():
            if field in ID_NAMES:
                prop = next((p for p in prop.get("anyOf", [prop]) if p.get("type") != "null"), prop)
                assert prop["type"] == "string", (name, field)
                assert "JavaScript" in prop["description"], (name, field)
                assert re.fullmatch(prop["pattern"], "4294967297"), (name, field)
                assert re.fullmatch(prop["pattern"], "1" + "0" * 78) is None, (name, field)  # over 2^256 - 1
                found += 1
    assert found >= 10
    params = [p for item in schema["paths"].values() for op in item.values() for p in op.get("parameters", [])]
    ids = [p for p in params if p["name"] in ("token_id", "slot")]
    assert ids
    assert all(p["schema"]["type"] == "string" for p in ids)


@pytest.mark.parametrize(
    ("maximum", "minimum"), [(fields.MAX_UINT256, 1), (fields.MAX_SLOT, 1), (fields.MAX_UINT256, 0), (10, 0), (9, 1)]
)
def test_the_id_pattern_accepts_exactly_the_canonical_decimals_in_range(maximum: int, minimum: int) -> None:
    pattern = re.compile(fields.decimal_pattern(maximum, minimum))
    edges = {
        0,
        1,
        9,
        10,
        11,
        99,
        100,
        maximum - 1,
        maximum,
        maximum + 1,
        maximum * 10,
        2**53,
        10 ** (len(str(maximum)) - 1),
    }
    edges |= {maximum - 10**k for k in range(len(str(maximum))) if maximum - 10**k > 0}
    edges |= {maximum + 10**k for k in range(len(str(maximum)))}
    for n in sorted(edges):
        assert (pattern.fullmatch(str(n)) is not None) == (minimum <= n <= maximum), n
    assert pattern.fullmatch("0" + str(maximum)) is None
