"""The OpenAPI document as the server behaves: FastAPI's own, with four corrections made in this one place.

- FastAPI's OpenAPI model holds `minimum`/`maximum` as floats, so 2**256 - 1 came out as
  `1.157920892373162e+77`: the bounds are put back as the exact integers the models declare.
- Every refusal has the `{"error", "fields"}` body: 422 says so (not FastAPI's `HTTPValidationError`), and
  operations with a body document 400 (not JSON) and 413 (over the size cap), which the guard sends.
- Every response documents its `X-Request-ID` header (`api.request_ids`), which no route declares.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api import fields
from api.request_ids import HEADER, MAX_LENGTH, PATTERN

_PROBLEM = {"$ref": "#/components/schemas/ProblemPublic"}
_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
# The integers too large for a float to hold exactly that the models use as bounds.
_EXACT = {float(v): v for v in (fields.MAX_UINT256, fields.MAX_SLOT, fields.MAX_FEN, fields.MAX_TIME, 2**63 - 1)}
_REFUSALS = {
    "400": "the body is not JSON",
    "413": "the body is larger than the API accepts",
    "422": "the request does not match the schema (ValidationError, naming each field)",
}


def _exact_bounds(node: Any) -> None:
    if isinstance(node, dict):
        for key in _BOUNDS:
            value = node.get(key)
            if isinstance(value, float) and value.is_integer():
                exact = _EXACT.get(value)
                if exact is None and abs(value) > 2**53:
                    raise ValueError(f"OpenAPI bound {value!r} is not exact: add it to api.openapi._EXACT")
                node[key] = exact if exact is not None else int(value)
        for value in node.values():
            _exact_bounds(value)
    elif isinstance(node, list):
        for value in node:
            _exact_bounds(value)


_REQUEST_ID = {
    "description": f"the request's own {HEADER} if it sent a sane one ({PATTERN}), else a new uuid4; a refusal's "
    "`request_id` is the same",
    "schema": {"type": "string", "pattern": PATTERN, "maxLength": MAX_LENGTH},
}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _PROBLEM}}}


def build(app: FastAPI) -> dict[str, Any]:
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes, tags=app.openapi_tags
    )
    _exact_bounds(schema)
    for item in schema["paths"].values():
        for op in item.values():
            responses = op.setdefault("responses", {})
            responses["422"] = _problem(_REFUSALS["422"])
            if "requestBody" in op:
                responses["400"] = _problem(_REFUSALS["400"])
                responses["413"] = _problem(_REFUSALS["413"])
            for response in responses.values():
                response.setdefault("headers", {})[HEADER] = _REQUEST_ID
    components = schema.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
