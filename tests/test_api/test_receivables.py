"""GET /receivables (filters, pages) and GET /receivables/{slot} with its split tree, from the index."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from chain_client.contract_errors import NonexistentReceivable
from chain_client.index import ReceivableRow
from chain_client.index.schema import slot_key
from chain_client.receivables import ReceivableState
from tests.test_api.conftest import Api, refusal


def test_every_receivable_is_listed_soonest_maturity_first(api: Api) -> None:
    r = api.get("/receivables", api.bank)
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 2
    first, second = body["data"]
    assert first["maturity"] < second["maturity"]
    assert [first["face_value"], second["face_value"]] == ["600000.00", "1000000.00"]
    assert first["debtor"] == api.demo.core.address
    assert first["state"] == "active"
    assert first["live_value"] == first["face_value"]


@pytest.mark.parametrize(
    ("query", "count"),
    [
        ({"debtor": "Huazhong Heavy Industry"}, 2),  # a name the index knows
        ({"state": "active"}, 2),
        ({"state": "repaid"}, 0),
        ({"min_value": "700000"}, 1),
        ({"min_value": "1000000.00"}, 1),
        ({"min_value": "1000000.01"}, 0),
        ({"limit": 1}, 2),  # count is of all matches; data is the page
    ],
)
def test_receivables_are_filtered(api: Api, query: dict[str, object], count: int) -> None:
    r = api.get("/receivables", api.bank, params=query)
    assert r.status_code == 200, r.text
    assert r.json()["count"] == count
    if "limit" in query:
        assert len(r.json()["data"]) == query["limit"]


def test_receivables_are_filtered_by_debtor_address_and_maturity_range(api: Api) -> None:
    everything = api.get("/receivables", api.bank).json()["data"]
    soon, later = everything[0]["maturity"], everything[1]["maturity"]
    core = api.demo.core.address
    assert api.get("/receivables", api.bank, params={"debtor": core.lower()}).json()["count"] == 2
    assert api.get("/receivables", api.bank, params={"debtor": api.bank.address}).json()["count"] == 0
    assert api.get("/receivables", api.bank, params={"matures_to": soon}).json()["count"] == 1
    assert api.get("/receivables", api.bank, params={"matures_from": soon + 1}).json()["data"][0]["maturity"] == later
    page = api.get("/receivables", api.bank, params={"skip": 1, "limit": 5}).json()
    assert [d["maturity"] for d in page["data"]] == [later]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"min_value": "1.234"}, "query.min_value"),
        ({"min_value": "abc"}, "query.min_value"),
        ({"min_value": "-5"}, "query.min_value"),
        ({"min_value": "1,000,000.00"}, "query.min_value"),  # exactly the schema's pattern: no separators
        ({"state": "bogus"}, "query.state"),
        ({"limit": 0}, "query.limit"),
        ({"limit": 501}, "query.limit"),
        ({"matures_from": "tomorrow"}, "query.matures_from"),
        ({"debtor": ""}, "query.debtor"),
        ({"colour": "red"}, "query.colour"),
    ],
)
def test_bad_filters_are_422_naming_the_field(api: Api, query: dict[str, object], field: str) -> None:
    r = api.get("/receivables", api.bank, params=query)
    assert r.status_code == 422
    assert r.json()["error"] == "ValidationError"
    assert field in r.json()["fields"]


def test_an_unknown_debtor_is_404(api: Api) -> None:
    # A name or address of the schema's shape that the index does not know: no such debtor, not a bad request.
    r = api.get("/receivables", api.bank, params={"debtor": "Nobody Ltd"})
    assert r.status_code == 404
    assert refusal(r) == {"error": "UnknownDebtor", "fields": {"debtor": "Nobody Ltd"}}


def test_a_receivable_comes_with_its_whole_split_tree(api: Api) -> None:
    slot = api.demo.slots[0]
    r = api.get(f"/receivables/{slot}", api.bank)
    assert r.status_code == 200
    body = r.json()
    assert body["receivable"]["slot"] == str(slot)
    fragments = body["fragments"]
    by_id = {f["token_id"]: f for f in fragments}
    root = fragments[0]
    assert (root["sequence"], root["parent_id"], root["tier"]) == (1, "0", 1)
    assert all(f["parent_id"] in by_id for f in fragments[1:])  # every other fragment hangs off one listed
    assert sorted(f["tier"] for f in fragments) == [1, 2, 2, 3, 3, 3]
    live_fen = sum(int(f["value"].replace(".", "")) for f in fragments if not f["burned"])
    assert live_fen == 1_000_000_00  # live fragments sum to the face value


@pytest.mark.parametrize(("slot", "status"), [(12345, 404), (0, 422), (2**224, 422), ("abc", 422)])
def test_an_unknown_or_impossible_slot_is_404_or_422(api: Api, slot: object, status: int) -> None:
    r = api.get(f"/receivables/{slot}", api.bank)
    assert r.status_code == status
    if status == 404:
        assert refusal(r) == {
            "error": "NonexistentReceivable",
            "message": NonexistentReceivable.notice(),
            "fields": {"slot": str(slot)},
        }


def test_a_page_is_cut_in_sql_and_is_the_slice_of_the_whole_listing(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    # Twenty more receivables beside the demo's two, written into the API's index as another program would; no
    # sync, whose self-check would rebuild away rows that no event made.
    monkeypatch.setattr(api.context, "sync", lambda: None)
    with sqlite3.connect(api.context.index.path, isolation_level=None) as conn:
        conn.executemany(
            """INSERT INTO receivables (slot, debtor, supplier, face_value, maturity, document_hash, state, issued_at,
                                        issued_block, fragments_created, updated_block)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                (
                    slot_key(10**60 + i),
                    api.demo.core.address,
                    api.bank.address,
                    100_00 * (i + 1),
                    2**33 + (i % 3),
                    f"0x{i:064x}",
                    int(ReceivableState.ACTIVE),
                    1,
                    1,
                    1,
                    1,
                )
                for i in range(20)
            ],
        )
    # The operator sees every receivable (api.policy), so its listing is paged in SQL over all of them.
    operator = api.demo.operator
    whole = api.get("/receivables", operator, params={"limit": 500}).json()
    assert whole["count"] == len(whole["data"]) == 22
    built: list[ReceivableRow] = []

    def counted(*args: Any, **kwargs: Any) -> ReceivableRow:
        built.append(ReceivableRow(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr("chain_client.index.store.ReceivableRow", counted)
    for skip, limit in [(0, 1), (3, 4), (20, 5), (22, 5)]:
        built.clear()
        page = api.get("/receivables", operator, params={"skip": skip, "limit": limit}).json()
        assert page == {"data": whole["data"][skip : skip + limit], "count": 22}
        assert len(built) == len(page["data"])  # only the page's rows were read
