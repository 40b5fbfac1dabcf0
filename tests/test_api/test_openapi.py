"""The OpenAPI schema says what the server does: integer bounds as integers, examples the server accepts,
every refusal's status and body documented, and 405 naming every method a path has."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import TypeAdapter

from api import fields
from tests.test_api.conftest import Api

BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in schema["paths"].items():
        for method, op in item.items():
            yield path, method, op


def test_integer_bounds_are_exact_integers(api: Api) -> None:
    schema = api.client.get("/openapi.json").json()
    bounds = [(k, node[k]) for node in walk(schema) for k in BOUNDS if k in node]
    assert bounds
    assert [b for b in bounds if not isinstance(b[1], int)] == []
    assert ("maximum", fields.MAX_UINT256) in bounds


def test_every_refusal_is_documented_with_the_problem_body(api: Api) -> None:
    schema = api.client.get("/openapi.json").json()
    problem = {"$ref": "#/components/schemas/ProblemPublic"}
    for path, method, op in operations(schema):
        statuses = {"422"} | ({"400", "413"} if "requestBody" in op else set())
        if op.get("security"):
            statuses |= {"401", "403"}
        for status in statuses:
            assert status in op["responses"], (method, path, status)
            assert op["responses"][status]["content"]["application/json"]["schema"] == problem, (path, status)
    assert "HTTPValidationError" not in schema["components"]["schemas"]


@pytest.mark.parametrize(
    ("annotation", "valid"),
    [
        (fields.Address, True),
        (fields.YuanIn, True),
        (fields.PositiveYuanIn, True),
        (fields.Rate, True),
        (fields.TokenId, True),
        (fields.Slot, True),
        (fields.ParentId, True),
        (fields.Nonce, True),
    ],
)
def test_the_schemas_examples_are_accepted(annotation: Any, valid: bool) -> None:
    adapter = TypeAdapter(annotation)
    for example in adapter.json_schema()["examples"]:
        adapter.validate_python(example)


def test_fund_price_zero_is_outside_the_schema(api: Api) -> None:
    schema = api.client.get("/openapi.json").json()
    price = schema["components"]["schemas"]["FundCreate"]["properties"]["price"]
    pattern = next(node["pattern"] for node in walk(price) if "pattern" in node)
    assert re.search(pattern, "0") is None
    assert re.search(pattern, "0.00") is None
    assert re.search(pattern, "0.01") is not None


def test_405_names_every_method_of_the_path(api: Api) -> None:
    r = api.client.put("/financing-requests", headers={"Authorization": f"Bearer {api.bank.api_key}"})
    assert r.status_code == 405
    assert set(r.headers["Allow"].replace(" ", "").split(",")) == {"GET", "POST"}
    assert set(r.json()) == {"error", "fields", "request_id"}
    r = api.client.delete("/fragments/1", headers={"Authorization": f"Bearer {api.bank.api_key}"})
    assert (r.status_code, r.headers["Allow"]) == (405, "GET")
