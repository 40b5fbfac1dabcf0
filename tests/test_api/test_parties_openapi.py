"""The endpoints of users, actions, the audit trail and the relay, as the OpenAPI page shows them: each has a
summary, a JSON response model with examples, and a request body (where it takes one) with examples; every
example of an action's body is a valid request."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from api.actions import KINDS
from api.routes.actions import ActionCreate
from tests.test_api.conftest import Api

PREFIXES = ("/users", "/actions", "/approval-policy", "/audit", "/transactions")


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    return resolve(schema, schema["components"]["schemas"][ref.rsplit("/", 1)[1]]) if ref else node


def has_examples(schema: dict[str, Any], node: dict[str, Any]) -> bool:
    node = resolve(schema, node)
    if "examples" in node:
        return True
    variants = [v for v in node.get("oneOf") or node.get("anyOf") or [] if v != {"type": "null"}]  # optional body
    return bool(variants) and all(has_examples(schema, v) for v in variants)


def test_every_new_endpoint_has_a_summary_a_response_model_and_examples(api: Api) -> None:
    schema = api.client.get("/openapi.json").json()
    ops = [
        (path, method, op)
        for path, item in schema["paths"].items()
        if path.startswith(PREFIXES)
        for method, op in item.items()
    ]
    assert len(ops) == 15
    for path, method, op in ops:
        assert op.get("summary"), (method, path)
        ok = next(v for k, v in op["responses"].items() if k.startswith("2"))
        assert has_examples(schema, ok["content"]["application/json"]["schema"]), (method, path)
        if "requestBody" in op:
            body = op["requestBody"]["content"]["application/json"]["schema"]
            assert has_examples(schema, body), (method, path)


def test_every_action_example_is_a_valid_body(api: Api) -> None:
    schema = api.client.get("/openapi.json").json()
    body = resolve(schema, schema["paths"]["/actions"]["post"]["requestBody"]["content"]["application/json"]["schema"])
    adapter: TypeAdapter[Any] = TypeAdapter(ActionCreate)
    variants = [resolve(schema, v) for v in body["oneOf"]]
    assert len(variants) == len(KINDS) == 26  # every kind, each with its example
    for variant in variants:
        for example in variant["examples"]:
            adapter.validate_python(example)
