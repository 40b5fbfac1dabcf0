"""`EventIndex.receivables_page` cuts the page in SQL: it reads and totals only the page's rows, and each page is
exactly the slice of the full listing (same order: soonest maturity first, the slot breaking ties)."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from chain_client.index import EventIndex, ReceivableRow
from chain_client.index.schema import slot_key
from chain_client.receivables import ReceivableState

DEBTORS = ("0x" + "11" * 20, "0x" + "22" * 20)
NOW = 1_000_000


@pytest.fixture
def index(tmp_path: Path) -> EventIndex:
    """An index holding 60 receivables of two debtors, many sharing a maturity (so the slot must break ties)."""
    index = EventIndex(tmp_path / "index.sqlite")
    rng = random.Random(16)
    rows = [
        (
            slot_key(rng.randrange(1, 2**224)),
            DEBTORS[i % 2],
            "0x" + "33" * 20,
            rng.choice((100_00, 5_000_00, 1_000_000_00)),
            NOW + rng.choice((-1, 1, 2)) * 86_400,  # three maturities: one passed, two to come
            "0x" + f"{i:064x}",
            int(rng.choice((ReceivableState.PENDING, ReceivableState.ACTIVE, ReceivableState.REPAID))),
            NOW - 86_400,
            1,
            1,
            1,
        )
        for i in range(60)
    ]
    with sqlite3.connect(index.path, isolation_level=None) as conn:  # another program writing the projection
        conn.executemany(
            """INSERT INTO receivables (slot, debtor, supplier, face_value, maturity, document_hash, state, issued_at,
                                        issued_block, fragments_created, updated_block)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            rows,
        )
    return index


FILTERS: list[dict[str, Any]] = [
    {},
    {"debtor": DEBTORS[0]},
    {"state": ReceivableState.ACTIVE},
    {"state": ReceivableState.MATURED},
    {"min_value": 5_000_00, "matures_from": NOW},
    {"matures_to": NOW + 86_400, "debtor": DEBTORS[1]},
]


@pytest.mark.parametrize("filters", FILTERS)
def test_every_page_is_the_slice_of_the_full_listing(index: EventIndex, filters: dict[str, Any]) -> None:
    full = index.receivables(at=NOW, **filters)
    if not filters:
        assert len({r.maturity for r in full}) < len(full)  # maturities repeat: only the slot orders them
    for offset, limit in [(0, 1), (0, 7), (5, 7), (7, 100), (59, 3), (60, 5), (1000, 10), (0, 500)]:
        page, count = index.receivables_page(offset=offset, limit=limit, at=NOW, **filters)
        assert page == full[offset : offset + limit]
        assert count == len(full)


def test_a_page_reads_only_its_rows(index: EventIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[ReceivableRow] = []

    def counted(*args: Any, **kwargs: Any) -> ReceivableRow:
        built.append(ReceivableRow(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr("chain_client.index.store.ReceivableRow", counted)
    statements: list[str] = []
    index._conn.set_trace_callback(statements.append)  # the index keeps its connection private; a test looks
    page, count = index.receivables_page(offset=10, limit=5, at=NOW)
    index._conn.set_trace_callback(None)
    assert count == 60
    assert len(page) == len(built) == 5
    listing = next(s for s in statements if "ORDER BY r.maturity, r.slot" in s)
    assert "LIMIT 5 OFFSET 10" in listing
