"""Users of a member: created by its admin or the operator, keys shown once and stored hashed, duties, disable
and rotate, and a suspended member's users refused on every write."""

from __future__ import annotations

import sqlite3
from typing import Any

from tests.test_api.conftest import Api, refusal


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def make_user(api: Api, admin: Any, name: str, duty: str, **extra: Any) -> dict[str, Any]:
    r = api.post("/users", admin, json={"name": name, "duty": duty, **extra})
    assert r.status_code == 201, r.text
    body = dict(r.json())
    assert r.headers["Location"] == f"/users/{body['id']}"
    return body


def test_an_admin_creates_a_user_whose_key_says_who_it_is(api: Api) -> None:
    core = api.demo.core
    made = make_user(api, core, "Li Wei", "maker")
    assert (made["duty"], made["member"], made["member_name"], made["active"]) == (
        "maker",
        core.address,
        core.name,
        True,
    )
    me = api.client.get("/me", headers=bearer(made["api_key"])).json()
    assert (me["user"], me["duty"], me["address"], me["role"]) == (made["id"], "maker", core.address, "core_enterprise")
    assert api.get("/me", core).json()["duty"] == "admin"
    listed = api.get("/users", core).json()
    assert listed["count"] == 1
    assert listed["data"][0]["id"] == made["id"]
    assert "api_key" not in listed["data"][0]
    assert "api_key" not in api.get(f"/users/{made['id']}", core).json()


def test_keys_are_stored_only_as_hashes(api: Api) -> None:
    made = make_user(api, api.demo.core, "Li Wei", "checker")
    with sqlite3.connect(api.context.store.path) as conn:
        dump = "\n".join(conn.iterdump())
    assert made["api_key"] not in dump


def test_duties_and_members_bound_what_a_user_may_manage(api: Api) -> None:
    core, supplier = api.demo.core, api.demo.suppliers[0]
    viewer = make_user(api, core, "Auditor's clerk", "viewer")
    r = api.client.post("/users", headers=bearer(viewer["api_key"]), json={"name": "x", "duty": "maker"})
    assert r.status_code == 403
    assert refusal(r) == {"error": "DutyNotAllowed", "fields": {"duty": "viewer", "allowed": ["admin"]}}
    assert api.client.get("/users", headers=bearer(viewer["api_key"])).status_code == 403
    # Another member's admin does not see the user at all.
    r = api.get(f"/users/{viewer['id']}", supplier)
    assert (r.status_code, r.json()["error"]) == (404, "UnknownUser")
    assert api.post(f"/users/{viewer['id']}/disable", supplier).status_code == 404
    assert api.get("/users", supplier).json()["count"] == 0
    # Only the operator names another member.
    r = api.post("/users", supplier, json={"name": "x", "duty": "maker", "member": core.address})
    assert (r.status_code, r.json()["error"]) == (403, "WrongRole")


def test_the_operator_manages_every_members_users(api: Api) -> None:
    core, operator = api.demo.core, api.demo.operator
    made = make_user(api, operator, "Core checker", "checker", member=core.address)
    assert made["member"] == core.address
    assert api.get("/users", operator, params={"member": core.address}).json()["count"] == 1
    assert api.get("/users", core).json()["data"][0]["id"] == made["id"]
    r = api.post("/users", operator, json={"name": "x", "duty": "maker", "member": "0x" + "12" * 20})
    assert (r.status_code, r.json()["error"]) == (404, "UnknownMember")


def test_disable_and_rotate(api: Api) -> None:
    core = api.demo.core
    made = make_user(api, core, "Li Wei", "maker")
    rotated = api.post(f"/users/{made['id']}/rotate-key", core).json()
    assert rotated["api_key"] != made["api_key"]
    assert api.client.get("/me", headers=bearer(made["api_key"])).status_code == 401
    assert api.client.get("/me", headers=bearer(rotated["api_key"])).status_code == 200
    r = api.post(f"/users/{made['id']}/disable", core)
    assert r.json()["active"] is False
    assert api.client.get("/me", headers=bearer(rotated["api_key"])).status_code == 401
    # A disabled key is unknown even to the guard: a body is not read.
    r = api.client.post("/users", headers=bearer(rotated["api_key"]), json={"name": "x", "duty": "maker"})
    assert r.status_code == 401


def test_a_suspended_members_users_are_refused_on_every_write(api: Api) -> None:
    core = api.demo.core
    maker = make_user(api, core, "Li Wei", "maker")
    api.scf.membership.suspend(api.demo.operator.account, core.address)
    for key in (core.api_key, maker["api_key"]):
        r = api.client.post("/users", headers=bearer(key), json={"name": "x", "duty": "maker"})
        assert r.status_code == 403
        assert refusal(r)["error"] == "MemberSuspended"
    assert api.get("/me", core).status_code == 200  # reads still answer


def test_a_viewer_may_not_fund_nor_submit(api: Api) -> None:
    viewer = make_user(api, api.bank, "Risk desk", "viewer")
    request = api.open_request(for_bank=api.bank)
    headers = {**bearer(viewer["api_key"]), "Idempotency-Key": "v1"}
    r = api.client.post(f"/financing-requests/{request.id}/fund", headers=headers)
    assert (r.status_code, refusal(r)["error"]) == (403, "DutyNotAllowed")
    r = api.client.post("/financing-requests", headers=bearer(viewer["api_key"]), json={})
    assert r.status_code in (403, 422)
    assert api.client.get("/portfolio", headers=bearer(viewer["api_key"])).status_code == 200  # reads answer
